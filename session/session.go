// Package session computes what an agent session is given: its environment,
// as a pure function of the caller's, and the repository it starts in, read
// from the git files directly.
package session

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/jailrun/jailrun/config"
)

// Marker is the variable that tells a process it runs inside a session. The
// bash jailrun set it too, and users' hooks test it.
const Marker = "_CREDENTIAL_GUARD_SANDBOXED"

// InSession reports whether the environment read by getenv is a session's.
func InSession(getenv func(string) string) bool { return getenv(Marker) != "" }

// Setup is what a session adds to the caller's environment.
type Setup struct {
	Token       string   // the token for TokenHost, put in GH_TOKEN for github.com only; "" for none
	TokenHost   string   // the GitHub host of Token; "" means github.com
	Helper      string   // absolute path of git-credential-jailrun; "" for no helper at all
	ShimDir     string   // directory holding the gh shim, put first on PATH; "" for none
	GHConfigDir string   // GH_CONFIG_DIR: jailrun's own, without credentials
	Hosts       []string // GitHub hosts, "host" or "host:port"
}

// removed are the token variables gh and other tools read; a session and
// each gh command get only the one jailrun sets.
var removed = []string{"GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GH_TOKEN"}

// Environ returns the session environment built from caller's ("KEY=VALUE"
// entries, as os.Environ returns them): a github.com token in GH_TOKEN and
// no other token variable nor GH_HOST, git configured for jailrun's helper
// only, no prompts, no ssh agent, and the gh shim first on PATH. Variables
// it sets replace the caller's in place; new ones are appended. Its git
// configuration follows any GIT_CONFIG_COUNT entries the caller had, so it
// overrides them.
func Environ(caller []string, s Setup) []string {
	env := newEnvList(caller)
	// gh sends GH_ENTERPRISE_TOKEN to whatever host other than github.com
	// it is pointed at, so a GHE token and GH_HOST stay out of the session;
	// the gh shim sets them per command, for the routed host only.
	token := s.Token
	if s.TokenHost != "" && !config.EqualFoldASCII(s.TokenHost, config.DefaultHost) {
		token = ""
	}
	env.setGHToken(config.DefaultHost, token)
	env.unset("GH_HOST")
	env.set("GIT_TERMINAL_PROMPT", "0")
	env.set("GIT_ASKPASS", "")
	env.set("SSH_ASKPASS", "")
	env.set("SSH_AUTH_SOCK", "")
	env.set("GH_CONFIG_DIR", s.GHConfigDir)
	env.set("PATH", prependPath(s.ShimDir, env.get("PATH")))
	env.set(Marker, "1")
	if params := env.get("GIT_CONFIG_PARAMETERS"); strings.Contains(strings.ToLower(params), "credential.") ||
		strings.Contains(strings.ToLower(params), "askpass") {
		// `git -c` settings of the caller are read after GIT_CONFIG_COUNT
		// and could bring back a helper or askpass program.
		env.unset("GIT_CONFIG_PARAMETERS")
	}

	env.addGitConfig(gitConfig(s.Helper, s.Hosts))
	return env.list
}

// BrokerVar names the token broker's socket in a jailed session; the
// helper and the gh shim ask the broker when it is set.
const BrokerVar = "JAILRUN_BROKER"

// JailEnviron returns a session's environment as the jail's first process
// gets it: the broker's socket announced, and repo (the repository, "" for
// none) a safe.directory, since in a user namespace its owner may show as
// another user.
func JailEnviron(sessionEnv []string, brokerSocket, repo string) []string {
	env := newEnvList(sessionEnv)
	env.set(BrokerVar, brokerSocket)
	if repo != "" {
		env.addGitConfig([][2]string{{"safe.directory", repo}})
	}
	return env.list
}

// proxyVars are the variables through which programs find an HTTP proxy:
// curl and git read the lower-case ones (and HTTPS_PROXY, ALL_PROXY), Go
// and Python either, Node 24 and later with NODE_USE_ENV_PROXY=1.
var proxyVars = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"}

// ProxyEnviron returns env with every proxy variable in use pointing at
// proxyURL and no host exempted, so that every connection goes through it.
func ProxyEnviron(sessionEnv []string, proxyURL string) []string {
	env := newEnvList(sessionEnv)
	for _, k := range proxyVars {
		env.set(k, proxyURL)
	}
	env.set("NO_PROXY", "")
	env.set("no_proxy", "")
	env.set("NODE_USE_ENV_PROXY", "1")
	return env.list
}

// addGitConfig appends settings to the GIT_CONFIG_COUNT entries, after
// those already there.
func (e *envList) addGitConfig(settings [][2]string) {
	n, err := strconv.Atoi(e.get("GIT_CONFIG_COUNT"))
	if err != nil || n < 0 {
		n = 0 // git would refuse the caller's invalid count; start afresh
	}
	for _, kv := range settings {
		idx := strconv.Itoa(n)
		e.set("GIT_CONFIG_KEY_"+idx, kv[0])
		e.set("GIT_CONFIG_VALUE_"+idx, kv[1])
		n++
	}
	e.set("GIT_CONFIG_COUNT", strconv.Itoa(n))
}

// GHEnviron returns the environment for one gh command run by the shim:
// caller's, with every token variable gh reads replaced by token for host
// (GH_TOKEN for github.com; GH_ENTERPRISE_TOKEN and GH_HOST for another
// host), or removed when token is "".
func GHEnviron(caller []string, host, token string) []string {
	env := newEnvList(caller)
	env.setGHToken(host, token)
	return env.list
}

// setGHToken replaces every token variable with token for host, the way
// gh reads them: GH_TOKEN for github.com (also host ""), else
// GH_ENTERPRISE_TOKEN and GH_HOST. A token "" leaves none.
func (e *envList) setGHToken(host, token string) {
	for _, k := range removed {
		e.unset(k)
	}
	switch {
	case token == "":
	case host == "" || config.EqualFoldASCII(host, config.DefaultHost):
		e.set("GH_TOKEN", token)
	default:
		e.set("GH_ENTERPRISE_TOKEN", token)
		e.set("GH_HOST", host)
	}
}

// gitConfig returns the git settings of a session, in order: every other
// credential helper reset, ours in token-only mode (none when helper is ""), no askpass program, the
// repository path sent to the helper for each GitHub host, no extra
// headers for them, and the ssh
// forms of each host's URLs rewritten to https. It also drops every
// extra HTTP header the user's config sends to a GitHub host (a Basic
// authorization header would travel before any helper is asked).
func gitConfig(helper string, hosts []string) [][2]string {
	cfg := [][2]string{{"credential.helper", ""}}
	if helper != "" {
		cfg = append(cfg, [2]string{"credential.helper", helperCommand(helper)})
	}
	cfg = append(cfg, [2]string{"core.askPass", ""})
	for _, h := range hosts {
		cfg = append(cfg, [2]string{"credential.https://" + h + ".useHttpPath", "true"})
	}
	for _, h := range hosts {
		// An empty value empties the list of headers, including a global
		// http.extraHeader and one for the same URL; the bare
		// http.extraHeader= is less specific than a URL's and would not.
		cfg = append(cfg, [2]string{"http.https://" + h + "/.extraHeader", ""})
	}
	for _, h := range hosts {
		name, _, _ := strings.Cut(h, ":") // ssh URLs do not carry the https port
		cfg = append(cfg,
			[2]string{"url.https://" + h + "/.insteadOf", "git@" + name + ":"},
			[2]string{"url.https://" + h + "/.insteadOf", "ssh://git@" + name + "/"})
	}
	return cfg
}

// helperCommand returns the credential.helper value that runs the helper
// at path in token-only mode. Git runs an absolute path through the shell with
// its arguments appended, so a path with characters the shell would
// interpret is given in the "!'quoted path'" form instead.
func helperCommand(path string) string {
	if strings.IndexFunc(path, func(r rune) bool { return !shellSafe(r) }) < 0 {
		return path + " --session"
	}
	return "!'" + strings.ReplaceAll(path, "'", `'\''`) + "' --session"
}

func shellSafe(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("/._-+,:@%", r)
}

// prependPath puts dir first on the PATH list, dropping its other entries;
// an empty dir leaves path as it is.
func prependPath(dir, path string) string {
	if dir == "" {
		return path
	}
	entries := []string{dir}
	for e := range strings.SplitSeq(path, string(filepath.ListSeparator)) {
		if e != "" && filepath.Clean(e) != filepath.Clean(dir) {
			entries = append(entries, e)
		}
	}
	return strings.Join(entries, string(filepath.ListSeparator))
}

// envList edits a list of KEY=VALUE entries, keeping their order.
type envList struct{ list []string }

func newEnvList(caller []string) *envList {
	return &envList{list: slices.Clone(caller)}
}

// get returns the value of the last entry for key, as exec would use it.
func (e *envList) get(key string) string {
	for i := len(e.list) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(e.list[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// set gives key the value: the first entry for key is replaced, later
// duplicates dropped, and a missing key appended.
func (e *envList) set(key, value string) {
	i := e.index(key)
	if i < 0 {
		e.list = append(e.list, key+"="+value)
		return
	}
	e.list[i] = key + "=" + value
	e.list = append(e.list[:i+1], deleteKey(e.list[i+1:], key)...)
}

// unset drops every entry for key.
func (e *envList) unset(key string) { e.list = deleteKey(e.list, key) }

func (e *envList) index(key string) int {
	return slices.IndexFunc(e.list, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
}

func deleteKey(list []string, key string) []string {
	return slices.DeleteFunc(list, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
}

// ShimDir returns the directory of the gh shim,
// ${XDG_DATA_HOME:-$HOME/.local/share}/jailrun/bin, or "" when neither
// variable gives an absolute directory.
func ShimDir(getenv func(string) string) string {
	return xdgDir(getenv, "XDG_DATA_HOME", ".local/share", "bin")
}

// StateDir returns jailrun's state directory, which holds each session's
// GH_CONFIG_DIR: ${XDG_STATE_HOME:-$HOME/.local/state}/jailrun, or "" when
// neither variable gives an absolute directory.
func StateDir(getenv func(string) string) string {
	return xdgDir(getenv, "XDG_STATE_HOME", ".local/state", "")
}

func xdgDir(getenv func(string) string, xdgVar, homeSub, leaf string) string {
	if dir := getenv(xdgVar); filepath.IsAbs(dir) {
		return filepath.Join(dir, "jailrun", leaf)
	}
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, homeSub, "jailrun", leaf)
	}
	return ""
}
