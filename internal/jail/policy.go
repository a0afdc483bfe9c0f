// Package jail builds the bubblewrap sandbox an agent runs in. A Policy is
// data, already resolved against the file system (see Resolve); Args turns
// it into bwrap's arguments without any I/O, Build adds the environment and
// the file descriptors bwrap reads (arguments, seccomp filter, info), and
// Probe says whether bwrap can start a sandbox on this machine at all.
package jail

import (
	"path/filepath"
	"strings"
)

// Where jailrun's own sockets appear inside the jail. bwrap cannot create a
// mount point in the read-only root, so they live in a tmpfs of their own
// inside the private /tmp, remounted read-only once they are bound.
const (
	SocketDir    = "/tmp/.jailrun"
	BrokerSocket = SocketDir + "/broker.sock"
	ProxySocket  = SocketDir + "/proxy.sock"
)

// InitFD is the descriptor on which the jail's first process finds the file
// Command.PassToInit hands it, after bwrap's own three.
const InitFD = 6

// Policy is everything the sandbox needs, every path absolute, clean and
// free of symlinks (bwrap resolves a destination inside the jail, where a
// private /tmp may hide the link's target).
type Policy struct {
	Argv     []string // the jail's first process, run as pid 1, and its arguments
	Dir      string   // its working directory; "" leaves bwrap's choice
	Env      []string // its environment before Setenv and Unsetenv, KEY=VALUE
	Setenv   []string // KEY=VALUE entries that replace or extend Env
	Unsetenv []string // names removed from Env
	Write    []string // read-write: repository, git common dir, agent state, caches, JAILRUN_ALLOW_WRITE
	Visible  []string // read-only and shown even where a private directory would hide them: HOME, binaries, PATH dirs, CA files
	ReadOnly []string // read-only inside a write path, their directory pinned: the git config and hooks that run outside
	Private  []string // directories replaced by an empty writable tmpfs, besides /tmp which always is
	Masks    []Mask   // existing paths made empty and read-only: credentials, sockets, JAILRUN_DENY_READ
	Sockets  []Socket // jailrun's sockets, bound into SocketDir
	Files    []File   // files of jailrun's shown read-only: in SocketDir, or over a file of the host's
	Caches   []Cache  // jail-private directories shown, read-write, over the user's caches
	ShareNet bool     // keep the host's network namespace (default: a new, empty one)
}

// Cache is a jail-private directory bound over one of the user's cache
// directories, which exists: programs outside execute what caches hold
// (build outputs, downloaded packages), so what the jail writes there must
// never reach them.
type Cache struct {
	Host string // the jail-private directory, under jailrun's state
	Jail string // the user's cache directory it stands in for
}

// Mask is one existing path to hide: a directory becomes an empty read-only
// tmpfs, anything else reads as /dev/null.
type Mask struct {
	Path string
	Dir  bool
}

// Socket is a unix socket listening outside, shown inside the jail. The
// sockets and the Files shown in SocketDir lie in one directory of
// jailrun's outside, under the names they have in the jail: the jail
// shows that directory, read-only, as SocketDir, so it holds nothing else.
type Socket struct {
	Host string // the listening socket's path outside
	Jail string // its path inside: BrokerSocket or ProxySocket
}

// File is a file jailrun made for the jail, shown read-only at Jail:
// directly in SocketDir, or over an existing file (the system's CA bundle).
type File struct {
	Host string
	Jail string
}

// SystemBundles are where Linux systems keep the CA bundle that TLS
// clients trust by default, as Go's crypto/x509 looks for it.
var SystemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine
}

// DefaultMasks lists the credential stores design.md names, for a user whose
// home is home. Entries may be globs (filepath.Match syntax) and may not
// exist: Resolve expands them and keeps what is there.
func DefaultMasks(home string) []string {
	inHome := []string{
		".ssh", ".gnupg", ".aws", ".azure", ".config/gcloud", ".kube", ".docker",
		".config/gh", ".config/hub", ".config/github-copilot", ".git-credentials", ".config/git/credentials", ".netrc",
		".npmrc", ".pypirc", ".cargo/credentials*", ".password-store",
		".local/share/keyrings",
		// Browser profiles hold session cookies and saved passwords.
		".mozilla", ".librewolf", ".thunderbird", ".config/google-chrome*",
		".config/chromium", ".config/BraveSoftware", ".config/microsoft-edge*",
		".config/vivaldi", ".config/opera", "snap/firefox", "snap/chromium",
		".var/app/org.mozilla.firefox", ".var/app/com.google.Chrome",
		".var/app/org.chromium.Chromium",
		// macOS: the keychain files, and the browsers' profiles and cookies.
		"Library/Keychains", "Library/Cookies", "Library/Safari",
		"Library/Application Support/Google/Chrome", "Library/Application Support/Chromium",
		"Library/Application Support/Firefox", "Library/Application Support/BraveSoftware",
		"Library/Application Support/Microsoft Edge", "Library/Application Support/Vivaldi",
		"Library/Application Support/com.operasoftware.Opera",
	}
	masks := make([]string, 0, len(inHome)+2)
	for _, p := range inHome {
		masks = append(masks, filepath.Join(home, p))
	}
	return append(masks, "/var/run/docker.sock", "/run/docker.sock")
}

// SocketMasks lists what hides the sockets of the caller's session, read
// from its environment by getenv: the session bus's path and the ssh agent's
// socket. Sockets under /run (the system bus's included) or XDG_RUNTIME_DIR
// need no mask: DefaultPrivate replaces those directories, and the private
// /tmp hides the rest of /tmp.
// The gpg agent's sockets lie in ~/.gnupg or XDG_RUNTIME_DIR/gnupg, hidden
// both ways. An abstract socket is cut by the network namespace alone.
// A socket stays reachable through connect(2) on a read-only mount: only a
// mask hides it.
func SocketMasks(getenv func(string) string) []string {
	var masks []string
	if p := dbusPath(getenv("DBUS_SESSION_BUS_ADDRESS")); p != "" {
		masks = append(masks, p)
	}
	if p := getenv("SSH_AUTH_SOCK"); filepath.IsAbs(p) {
		masks = append(masks, p)
	}
	return masks
}

// HiddenVariables are the variables that point at sockets the jail hides;
// the jail unsets them so that clients fail at once instead of retrying.
var HiddenVariables = []string{"DBUS_SESSION_BUS_ADDRESS", "SSH_AUTH_SOCK", "GPG_AGENT_INFO"}

// dbusPath returns the socket path of the first unix:path= transport in a
// D-Bus address list, or "".
func dbusPath(address string) string {
	for _, transport := range strings.Split(address, ";") {
		method, params, ok := strings.Cut(transport, ":")
		if !ok || method != "unix" {
			continue
		}
		for _, kv := range strings.Split(params, ",") {
			if p, ok := strings.CutPrefix(kv, "path="); ok && filepath.IsAbs(p) {
				return p
			}
		}
	}
	return ""
}

// DefaultPrivate lists the directories, besides /tmp, that the jail replaces
// with an empty writable tmpfs: /run, where system and session daemons keep
// their sockets (/var/run links to it), and XDG_RUNTIME_DIR, recreated empty
// so that programs which need a runtime directory still have one.
func DefaultPrivate(getenv func(string) string) []string {
	private := []string{"/run"}
	if dir := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		private = append(private, dir)
	}
	return private
}

// AgentSettings lists the agent's settings files in home that define
// commands for its later runs — hooks, MCP servers, notify commands — which
// the jail keeps read-only inside its writable state, and which must exist
// for that (a missing one could be created).
func AgentSettings(agent, home string) []string {
	if !filepath.IsAbs(home) {
		return nil
	}
	var files []string
	switch agent {
	case "claude":
		files = []string{".claude/settings.json", ".claude/settings.local.json"}
	case "codex":
		files = []string{".codex/config.toml"}
	case "gemini":
		files = []string{".gemini/settings.json"}
	case "kiro-cli", "kiro-cli-chat":
		files = []string{".kiro/settings/cli.json", ".kiro/settings/mcp.json"}
	}
	for i, f := range files {
		files[i] = filepath.Join(home, f)
	}
	return files
}

// SettingsNames are the names of AgentSettings' files.
var SettingsNames = []string{"settings.json", "settings.local.json", "config.toml", "cli.json", "mcp.json"}

// AgentState lists the paths an agent keeps its own state in, which it may
// write, for a user whose home is home: the agent's own directories. "run"
// (jailrun run) and unknown agents get none; caches are the jail's own
// (see Cache). Entries may be globs and may not exist; Resolve expands them
// and keeps what is there.
//
// Claude Code keeps its settings in ~/.claude.json and writes it atomically
// (a temporary ~/.claude.json.tmp.* renamed over it, after a
// ~/.claude.json.lock directory). HOME stays read-only, so the glob binds
// each existing ~/.claude.json* file on its own; Claude Code falls back to
// writing the file in place when the temporary file cannot be created. A
// missing ~/.claude.json cannot be created in the jail: binding HOME's
// parent instead would give away all of HOME.
func AgentState(agent, home string) []string {
	var own []string
	switch agent {
	case "claude":
		own = []string{".claude", ".claude.json*"}
	case "codex":
		own = []string{".codex"}
	case "gemini":
		own = []string{".gemini"}
	case "kiro-cli", "kiro-cli-chat":
		// kiro-cli is a native binary (not an npm or pip package); it keeps
		// settings in ~/.kiro and its database and logs in
		// ~/.local/share/kiro-cli.
		own = []string{".kiro", ".local/share/kiro-cli"}
	}
	paths := make([]string, 0, len(own))
	for _, p := range own {
		paths = append(paths, filepath.Join(home, p))
	}
	return paths
}
