package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
	"github.com/jailrun/jailrun/session"
)

// agentCmd starts the agent its command is named after.
type agentCmd struct {
	Args []string `arg:"" optional:"" help:"Arguments for the agent, passed to it verbatim."`
}

func (c *agentCmd) Run(env *Env, kctx *kong.Context) error {
	name := kctx.Selected().Name
	return launch(env, name, name, c.Args)
}

// runCmd starts any other command in a session.
type runCmd struct {
	Command []string `arg:"" optional:"" help:"The command and its arguments, passed verbatim."`
}

func (c *runCmd) Run(env *Env, kctx *kong.Context) error {
	if len(c.Command) > 0 && (c.Command[0] == "-h" || c.Command[0] == "--help") {
		return kctx.PrintUsage(false)
	}
	return launchRun(env, c.Command)
}

// launchRun starts the command in args, after an optional "--".
func launchRun(env *Env, args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 || args[0] == "" {
		return usageError{"run needs a command: jailrun run -- CMD [ARGS…]"}
	}
	return launch(env, filepath.Base(args[0]), args[0], args[1:])
}

// launchDirect starts an agent or `run` command in args without building
// the kong model, which costs more than the rest of a launch. It reports
// false for any other command line, and for `run --help`.
func launchDirect(args []string, env *Env) (status int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	var err error
	switch name := args[0]; {
	case installHints[name] != "":
		err = launch(env, name, name, args[1:])
	case name == "run" && (len(args) == 1 || args[1] != "-h" && args[1] != "--help"):
		err = launchRun(env, args[1:])
	default:
		return 0, false
	}
	fmt.Fprintf(env.Stderr, "jailrun: %v\n", err) // launch returns only when it failed
	if errors.As(err, new(usageError)) {
		return ExitUsage, true
	}
	return ExitError, true
}

// installHints says how to install each agent jailrun knows by name.
var installHints = map[string]string{
	"claude":        "npm install -g @anthropic-ai/claude-code",
	"codex":         "npm install -g @openai/codex",
	"gemini":        "npm install -g @google/gemini-cli",
	"kiro-cli":      "see the Kiro CLI installer at https://kiro.dev",
	"kiro-cli-chat": "it comes with Kiro CLI: see https://kiro.dev",
}

// helperName is the git credential helper's executable, installed next to jailrun.
const helperName = "git-credential-jailrun"

// launch replaces jailrun with program (found on PATH, our shim dir
// skipped) in a session; tag names it on the start line. Inside a session
// the program runs as it is, without a second lookup.
func launch(env *Env, tag, program string, args []string) error {
	shimDir := session.ShimDir(env.Getenv)
	if session.InSession(env.Getenv) {
		path, err := findAgent(program, env.Getenv("PATH"), shimDir)
		if err != nil {
			return err
		}
		return execve(viaShim(path, program, shimDir), append([]string{program}, args...), os.Environ())
	}
	// Connecting to the keyring and agreeing on a session key take longer
	// than the rest of the setup, so they start first and run meanwhile.
	// The connection is never closed: the exec closes it, and the service
	// then ends the session.
	opened := make(chan openedKeyring, 1)
	go func() {
		kr, err := env.OpenKeyring()
		opened <- openedKeyring{kr, err}
	}()
	path, err := findAgent(program, env.Getenv("PATH"), shimDir)
	if err != nil {
		return err
	}
	stateDir := session.StateDir(env.Getenv)
	if stateDir == "" || shimDir == "" {
		return errors.New("cannot locate jailrun's data directories: set HOME to an absolute directory")
	}
	ghConfigDir, err := newGHConfigDir(stateDir)
	if err != nil { // never a session with the user's own gh login
		return fmt.Errorf("cannot prepare the session's gh config directory: %v", err)
	}
	w := &starter{out: env.Stderr, tag: tag}
	setup := session.Setup{ShimDir: shimDir, GHConfigDir: ghConfigDir}
	self, err := executable()
	if err != nil {
		w.warn("cannot locate the jailrun executable (%v); gh in the session is not routed and git gets no token", err)
		setup.ShimDir = ""
	} else {
		if setup.Helper, err = helperPath(self, env.Getenv("PATH"), shimDir); err != nil {
			w.warn("%v", err)
		}
		if err := ensureShim(shimDir, self); err != nil {
			w.warn("%v; gh in the session is not routed", err)
			setup.ShimDir = ""
		}
	}

	cfg, err := config.Load(env.Getenv)
	if err != nil {
		w.warn("GitHub PAT not used: %v", err)
	} else {
		for _, msg := range cfg.Warnings {
			w.warn("%s", msg)
		}
		setup.Hosts = cfg.Hosts
		warnNetrc(w, env.Getenv, cfg.Hosts)
		setup.TokenHost, setup.Token = sessionToken(opened, w, cfg)
	}
	return execve(viaShim(path, program, setup.ShimDir), append([]string{program}, args...), session.Environ(os.Environ(), setup))
}

// findAgent finds program on PATH, our shim dir skipped; a known agent
// that is missing is an error saying how to install it.
func findAgent(program, path, shimDir string) (string, error) {
	found, err := lookPath(program, path, shimDir, "")
	if err != nil {
		if hint, ok := installHints[program]; ok {
			return "", fmt.Errorf("%s is not installed (not found on PATH); install it: %s", program, hint)
		}
		return "", err
	}
	return found, nil
}

// openedKeyring is the outcome of Env.OpenKeyring.
type openedKeyring struct {
	kr  keyring.Keyring
	err error
}

// sessionToken finds the token for the current repository's owner, else
// the active one, in the keyring that opened delivers, and writes the
// start line about it. It returns the token's host with it. Problems are
// warnings: the agent starts without a token.
func sessionToken(opened <-chan openedKeyring, w *starter, cfg config.Config) (host, token string) {
	host = config.DefaultHost
	owner := ""
	if cwd, err := os.Getwd(); err == nil {
		remotes, err := session.Remotes(cwd)
		if err != nil {
			w.warn("%v; using the active token", err)
		}
		if repo, ok := githubRepo(cfg, remotes); ok {
			host, owner = repo.Host, repo.Owner
		}
	}
	o := <-opened
	if o.err != nil {
		w.warn("GitHub PAT not available: %v", o.err)
		return host, ""
	}
	tok, warning, err := routedToken(o.kr, cfg, host, owner)
	switch {
	case err != nil:
		w.warn("GitHub PAT not available: %v", err)
	case tok.Secret == "" && warning != "":
		w.warn("GitHub PAT not configured: %s", warning)
	case tok.Secret == "" && owner != "":
		w.warn("GitHub PAT not configured: no token for %s/%s; add one: jailrun token add --name %s%s (or route %s in GH_TOKEN_ROUTES)",
			host, owner, routing.ConventionPrefix, owner, host)
	case tok.Secret == "":
		w.warn("GitHub PAT not configured: no token for %s; route it in GH_TOKEN_ROUTES (%s=NAME)", host, host)
	default:
		w.started(tok, cfg.ExpiryWarnDays, time.Now())
	}
	return host, tok.Secret
}

// githubRepo returns the repository of the first remote (origin first)
// on one of cfg's GitHub hosts.
func githubRepo(cfg config.Config, remotes []session.Remote) (routing.Repo, bool) {
	for _, r := range remotes {
		if repo, ok := remoteRepo(cfg, r.URL); ok && cfg.IsGitHubHost(repo.Host) {
			return repo, true
		}
	}
	return routing.Repo{}, false
}

// remoteRepo reads a remote URL. An ssh URL's host gets the port of the
// GitHub host of that name, as the session's insteadOf rewrites it.
func remoteRepo(cfg config.Config, url string) (routing.Repo, bool) {
	repo, ok := routing.ParseRemote(url)
	if ok && !cfg.IsGitHubHost(repo.Host) && !strings.HasPrefix(strings.ToLower(url), "http") {
		if h := hostWithPort(cfg, repo.Host); h != "" {
			repo.Host = h
		}
	}
	return repo, ok
}

// hostWithPort returns the GitHub host "name:port" of cfg whose name is
// name, or "".
func hostWithPort(cfg config.Config, name string) string {
	for _, h := range cfg.Hosts {
		if n, _, ok := strings.Cut(h, ":"); ok && config.EqualFoldASCII(n, name) {
			return h
		}
	}
	return ""
}

// routedToken returns the token routing picks for owner's repository on
// host (owner "" for the host's default), or a warning when it picks one
// that is missing. The common case costs one keyring lookup: the name
// routing would pick if every candidate existed. Only when that one is
// missing is the keyring listed.
func routedToken(kr keyring.Store, cfg config.Config, host, owner string) (keyring.Token, string, error) {
	candidates := []string{cfg.ActiveToken()}
	if owner != "" {
		candidates = append(candidates, routing.ConventionPrefix+owner)
	}
	for _, r := range cfg.Routes {
		candidates = append(candidates, r.Token)
	}
	guess := routing.Resolve(cfg, "https", host, owner, candidates)
	if guess.Token == "" {
		return keyring.Token{}, guess.Warning, nil
	}
	tok, err := kr.Get(guess.Token)
	if !errors.Is(err, keyring.ErrNotFound) {
		return tok, "", err
	}
	tokens, err := kr.List()
	if err != nil {
		return keyring.Token{}, "", err
	}
	names := make([]string, len(tokens))
	for i, t := range tokens {
		names[i] = t.Name
	}
	d := routing.Resolve(cfg, "https", host, owner, names)
	for _, t := range tokens {
		if t.Name == d.Token {
			return t, "", nil
		}
	}
	return keyring.Token{}, d.Warning, nil
}

// starter writes the session's start lines, each tagged with the
// program's name.
type starter struct {
	out io.Writer
	tag string
}

func (s *starter) warn(format string, args ...any) {
	fmt.Fprintf(s.out, "[%s] WARN: %s\n", s.tag, fmt.Sprintf(format, args...))
}

// started writes the line naming the session's token, its kind and days to
// expiry, then a warning when it expires within warnDays or has expired,
// and a nudge away from a classic token.
func (s *starter) started(tok keyring.Token, warnDays int, now time.Time) {
	kind := github.KindOf(tok.Secret)
	if kind == "" {
		kind = tok.Meta.Kind
	}
	var details []string
	if kind != "" {
		details = append(details, kind)
	}
	left := tok.Meta.Expires.Sub(now)
	if !tok.Meta.Expires.IsZero() && left > 0 {
		details = append(details, "expires "+inDays(left))
	}
	line := "GitHub: PAT " + tok.Name
	if len(details) > 0 {
		line += " (" + strings.Join(details, ", ") + ")"
	}
	fmt.Fprintf(s.out, "[%s] %s\n", s.tag, line)
	switch {
	case tok.Meta.Expires.IsZero():
	case left <= 0:
		s.warn("%s expired on %s; GitHub will refuse it: create a new token, then: jailrun token rotate --name %s",
			tok.Name, tok.Meta.Expires.Local().Format("2006-01-02"), tok.Name)
	case left <= time.Duration(warnDays)*24*time.Hour:
		s.warn("%s expires %s; create a new token, then: jailrun token rotate --name %s", tok.Name, inDays(left), tok.Name)
	}
	if kind == github.KindClassic {
		fmt.Fprintf(s.out, "[%s] NOTE: %s is a classic PAT, good for every repository you can reach; "+
			"a fine-grained PAT per owner is safer: jailrun token add --name %sOWNER\n", s.tag, tok.Name, routing.ConventionPrefix)
	}
}

// inDays says how far away d is: "in 12 days", "in 1 day", "within a day".
func inDays(d time.Duration) string {
	switch days := int(d / (24 * time.Hour)); days {
	case 0:
		return "within a day"
	case 1:
		return "in 1 day"
	default:
		return fmt.Sprintf("in %d days", days)
	}
}

// viaShim returns the gh shim in shimDir for program gh, so that
// `jailrun run -- gh …` is routed per command like gh inside the session;
// else path.
func viaShim(path, program, shimDir string) string {
	if program == ShimName && shimDir != "" {
		if shim := filepath.Join(shimDir, ShimName); isExecutable(shim) {
			return shim
		}
	}
	return path
}

// execve replaces the process with the program at path.
func execve(path string, argv, envv []string) error {
	if err := syscall.Exec(path, argv, envv); err != nil {
		return fmt.Errorf("cannot start %s: %v", path, err)
	}
	return nil
}

// executable returns the absolute path of the running jailrun, symbolic
// links resolved, so that the gh shim and git find it after a PATH change.
func executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

// lookPath finds program as a shell would: a name with a slash as it is,
// else the first executable file of that name on path, skipping the
// directory skipDir and links to the file avoid ("" for none).
func lookPath(program, path, skipDir, avoid string) (string, error) {
	if strings.Contains(program, "/") {
		if isExecutable(program) {
			return program, nil
		}
		return "", fmt.Errorf("%s: no such executable file", program)
	}
	for dir := range strings.SplitSeq(path, string(filepath.ListSeparator)) {
		if dir == "" {
			dir = "."
		}
		if skipDir != "" && filepath.Clean(dir) == filepath.Clean(skipDir) {
			continue
		}
		if p := filepath.Join(dir, program); isExecutable(p) && !isFile(p, avoid) {
			if !filepath.IsAbs(p) {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
			}
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found on PATH", program)
}

// isFile reports whether path is the file target, through any links.
func isFile(path, target string) bool {
	if target == "" {
		return false
	}
	a, errA := os.Stat(path)
	b, errB := os.Stat(target)
	return errA == nil && errB == nil && os.SameFile(a, b)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// helperPath returns the git credential helper installed next to the
// jailrun executable self, else the one on PATH.
func helperPath(self, path, shimDir string) (string, error) {
	if p := filepath.Join(filepath.Dir(self), helperName); isExecutable(p) {
		return p, nil
	}
	if p, err := lookPath(helperName, path, shimDir, ""); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s is not installed next to %s nor on PATH, so git in the session gets no token; run install.sh", helperName, self)
}
