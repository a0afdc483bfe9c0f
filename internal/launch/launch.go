// Package launch starts a program in an agent session: it resolves the
// token, builds the session's environment, writes the start line and finds
// the program (Prepare), then runs it (Plan.Run). The plan is a value a
// test can inspect without starting anything; exec is the unjailed way to
// run it.
package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/platform"
	"github.com/jailrun/jailrun/routing"
	"github.com/jailrun/jailrun/session"
)

// Env is what a launch uses of the world around it.
type Env struct {
	Stderr  io.Writer
	Getenv  func(string) string
	Environ func() []string
	Getwd   func() (string, error)
	Now     func() time.Time
	// OpenKeyring connects to the OS keychain; called at most once a launch.
	OpenKeyring func() (keyring.Keyring, error)
	// OpenKeyringLater is OpenKeyring for a launch that keeps the token
	// outside the jail, and may read only its metadata (see
	// platform.OpenSecretsLater); nil means OpenKeyring.
	OpenKeyringLater func() (keyring.Keyring, error)
	// Exec runs the program at path in place of jailrun, so it returns only
	// when the program could not start; a test's fake starts nothing and
	// returns the exit status the program would have.
	Exec func(path string, argv, env []string) (status int, err error)
}

// OSEnv is the Env of the running process, its messages to stderr.
func OSEnv(stderr io.Writer) Env {
	return Env{
		Stderr:      stderr,
		Getenv:      os.Getenv,
		Environ:     os.Environ,
		Getwd:       os.Getwd,
		Now:         time.Now,
		OpenKeyring: openKeyring,
		OpenKeyringLater: func() (keyring.Keyring, error) {
			if InJail(os.Getenv) {
				return openKeyring()
			}
			return platform.OpenSecretsLater()
		},
		Exec: execve,
	}
}

// openKeyring connects to the OS keychain, which is out of reach inside a
// jail: there the error says so instead of naming a missing bus.
func openKeyring() (keyring.Keyring, error) {
	if InJail(os.Getenv) {
		return nil, errors.New("the keyring is out of reach inside jailrun's jail; run jailrun token and doctor commands outside the agent")
	}
	return platform.Open()
}

// execve replaces the process with the program at path.
func execve(path string, argv, env []string) (int, error) {
	return 0, syscall.Exec(path, argv, env)
}

// Plan is a prepared launch: what runs, with which environment and token.
type Plan struct {
	Tag  string   // names the program on the start lines
	Path string   // the program to run
	Argv []string // its arguments, its name first
	Env  []string // its environment, KEY=VALUE

	Config    config.Config   // the config the token was routed with; zero when it was not read
	TokenHost string          // the GitHub host the token is for
	Token     keyring.Token   // the session's token; zero for none
	Keyring   keyring.Keyring // the open keychain, nil when it did not open; exec closes it

	GHConfigDir string // the session's own GH_CONFIG_DIR, which gh writes to
	Nested      bool   // started inside a session or jail, which the program shares: nothing set up

	// App keeps the session's token fresh when a route names a GitHub
	// App: Token is its first token. A jailed session renews it and
	// revokes it at the end; nil for a PAT.
	App *apptoken.Session

	// SecretLater says Token.Secret is not read yet: the launch keeps it
	// outside the jail, where the proxy reads it when the agent first
	// sends its placeholder (readSecret reads it now).
	SecretLater bool

	// The token lookup, while it runs (see awaitToken), and what Env is
	// made of once it has.
	lookup    *tokenLookup
	awaited   bool
	callerEnv []string
	setup     session.Setup
}

// tokenLookup is the session's token lookup: Prepare waits for it, and a
// jailed launch lets it run while bubblewrap sets the jail up. Its start
// lines wait in out, so that they come out whole and in order.
type tokenLookup struct {
	done  chan struct{}
	out   bytes.Buffer
	host  string
	tok   keyring.Token
	later bool // tok's secret is not read yet
	kr    keyring.Keyring
	app   *apptoken.Session
}

// awaitToken waits for the token lookup, writes its start lines to
// stderr, and completes the plan with its token and the session's
// environment. Calls after the first do nothing.
func (p *Plan) awaitToken(stderr io.Writer) {
	if p.awaited || p.Nested {
		return
	}
	p.awaited = true
	if l := p.lookup; l != nil {
		<-l.done
		l.out.WriteTo(stderr)
		p.TokenHost, p.Token, p.SecretLater, p.Keyring, p.App = l.host, l.tok, l.later, l.kr, l.app
	}
	p.setup.TokenHost = p.TokenHost
	p.Env = p.environWith(p.Token.Secret)
}

// environWith is the session's environment with token as its token; with
// "" (none) it is all that a jail's set-up needs to know of it before the
// lookup ends.
func (p *Plan) environWith(token string) []string {
	setup := p.setup
	setup.Token = token
	return session.Environ(p.callerEnv, setup)
}

// readSecret reads the secret of a token the lookup left unread (see
// SecretLater), for a program that is to hold it after all: a jail that
// did not start. A token that cannot be read is a warning, and none.
func (p *Plan) readSecret(stderr io.Writer) {
	if !p.SecretLater {
		return
	}
	p.SecretLater = false
	secret, err := secretReader(p.Keyring, p.Token.Name)()
	if err != nil {
		(&starter{out: stderr, tag: p.Tag}).warn("GitHub PAT not available: %v", err)
		p.Token = keyring.Token{}
	}
	p.Token.Secret = secret
	p.Env = p.environWith(secret)
}

// secretReader returns a reader of the secret of the token called name in
// kr, for now or for the proxy later.
func secretReader(kr keyring.Keyring, name string) func() (string, error) {
	return func() (string, error) {
		if kr == nil {
			return "", errors.New("the keyring is not open")
		}
		tok, err := kr.Get(name)
		if err != nil {
			return "", err
		}
		if tok.Secret == "" {
			return "", fmt.Errorf("token %s is empty; store it again: jailrun token rotate --name %s", name, name)
		}
		return tok.Secret, nil
	}
}

// Run runs the plan's program with env.Exec and returns its exit status.
func (p *Plan) Run(env *Env) (int, error) {
	status, err := env.Exec(p.Path, p.Argv, p.Env)
	if err != nil {
		return 0, fmt.Errorf("cannot start %s: %v", p.Path, err)
	}
	return status, nil
}

// installHints says how to install each agent jailrun knows by name.
var installHints = map[string]string{
	"claude":        "npm install -g @anthropic-ai/claude-code",
	"codex":         "npm install -g @openai/codex",
	"gemini":        "npm install -g @google/gemini-cli",
	"kiro-cli":      "see the Kiro CLI installer at https://kiro.dev",
	"kiro-cli-chat": "it comes with Kiro CLI: see https://kiro.dev",
}

// IsAgent reports whether jailrun knows the agent called name.
func IsAgent(name string) bool { return installHints[name] != "" }

// Prepare plans to run program (found on PATH, our shim dir skipped) with
// args in a session; tag names it on the start line, which Prepare writes
// to env.Stderr. Inside a session the program runs as it is, without a
// second lookup. Only a program that cannot be found, or no place for
// jailrun's data, is an error; other problems are warnings on the start
// line and the program starts without a token.
func Prepare(env *Env, tag, program string, args []string) (*Plan, error) {
	plan, err := prepare(env, tag, program, args, false)
	if err != nil {
		return nil, err
	}
	plan.awaitToken(env.Stderr)
	return plan, nil
}

// prepare is Prepare with the token lookup still running; see awaitToken.
// With secretLater, for a launch that keeps the token outside the jail,
// the lookup reads the token's metadata where it can, not its secret
// (see Plan.SecretLater).
func prepare(env *Env, tag, program string, args []string, secretLater bool) (*Plan, error) {
	shimDir := session.ShimDir(env.Getenv)
	argv := append([]string{program}, args...)
	if session.InSession(env.Getenv) || InJail(env.Getenv) {
		path, err := findAgent(program, env.Getenv("PATH"), shimDir)
		if err != nil {
			return nil, err
		}
		return &Plan{Tag: tag, Path: viaShim(path, program, shimDir), Argv: argv, Env: env.Environ(), Nested: true}, nil
	}
	// Connecting to the keyring and agreeing on a transfer key take longer
	// than the rest of the setup, so they start first and run meanwhile.
	// The connection is never closed: the exec closes it, and the service
	// then ends the encrypted transfer.
	open := env.OpenKeyring
	if secretLater && env.OpenKeyringLater != nil {
		open = env.OpenKeyringLater
	}
	opened := make(chan openedKeyring, 1)
	go func() {
		kr, err := open()
		opened <- openedKeyring{kr, err}
	}()
	path, err := findAgent(program, env.Getenv("PATH"), shimDir)
	if err != nil {
		return nil, err
	}
	stateDir := session.StateDir(env.Getenv)
	if stateDir == "" || shimDir == "" {
		return nil, errors.New("cannot locate jailrun's data directories: set HOME to an absolute directory")
	}
	ghConfigDir, err := newGHConfigDir(stateDir)
	if err != nil { // never a session with the user's own gh login
		return nil, fmt.Errorf("cannot prepare the session's gh config directory: %v", err)
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

	plan := &Plan{Tag: tag, Argv: argv, GHConfigDir: ghConfigDir}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		w.warn("GitHub PAT not used: %v", err)
	} else {
		for _, msg := range cfg.Warnings {
			w.warn("%s", msg)
		}
		setup.Hosts = cfg.Hosts
		warnNetrc(w, env.Getenv, cfg.Hosts)
		plan.Config = cfg
		l := &tokenLookup{done: make(chan struct{})}
		go func() {
			defer close(l.done)
			l.host, l.tok, l.later, l.kr, l.app = sessionToken(env, opened, &starter{out: &l.out, tag: tag}, cfg, secretLater)
		}()
		plan.lookup = l
	}
	plan.Path = viaShim(path, program, setup.ShimDir)
	plan.callerEnv, plan.setup = env.Environ(), setup
	return plan, nil
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
// start line about it. It returns the token's host, the token (zero for
// none), whether its secret is left unread (with secretLater, where the
// keyring can read a token without it), the open keyring and, when a
// route names a GitHub App, the session that keeps the App's token fresh.
// Problems are warnings: the agent starts without a token.
func sessionToken(env *Env, opened <-chan openedKeyring, w *starter, cfg config.Config, secretLater bool) (string, keyring.Token, bool, keyring.Keyring, *apptoken.Session) {
	host, owner, name := config.DefaultHost, "", ""
	if cwd, err := env.Getwd(); err == nil {
		repo, ok, err := RepoOf(cfg, cwd)
		if err != nil {
			w.warn("%v; using the active token", err)
		}
		if ok {
			host, owner, name = repo.Host, repo.Owner, repo.Name
		}
	}
	o := <-opened
	if o.err != nil {
		w.warn("GitHub PAT not available: %v", o.err)
		return host, keyring.Token{}, false, nil, nil
	}
	var store keyring.Store = o.kr
	meta, later := o.kr.(keyring.MetaGetter)
	later = later && secretLater
	if later {
		store = metaStore{o.kr, meta}
	}
	tok, d, err := routing.Token(store, cfg, "https", host, owner)
	if later {
		switch {
		case err != nil, tok.Name == "", tok.Secret != "": // none, or read by List
			later = false
		case apptoken.Is(tok.Name) || tok.Meta.Kind == "":
			// An App mints with its key; a token another tool stored has
			// its kind, for the start line, only in its secret.
			later = false
			tok, err = o.kr.Get(tok.Name)
		}
	}
	found := tok.Secret != "" || later
	switch {
	case err == nil && !found && owner == "" && cfg.TokenName == config.DefaultTokenName:
		// No GitHub repository here and no token asked for by name: an
		// npm or go run needs none, and a nag would steer toward the
		// broad classic token.
	case err != nil:
		w.warn("GitHub PAT not available: %v", err)
	case !found && d.Warning != "":
		w.warn("GitHub PAT not configured: %s", d.Warning)
	case !found && owner != "":
		w.warn("GitHub PAT not configured: no token for %s/%s; add one: jailrun token add --name %s%s (or route %s in GH_TOKEN_ROUTES)",
			host, owner, routing.ConventionPrefix, owner, host)
	case !found:
		w.warn("GitHub PAT not configured: no token for %s; route it in GH_TOKEN_ROUTES (%s=NAME)", host, host)
	case apptoken.Is(tok.Name):
		app, err := startApp(env, cfg, tok, host, owner, name)
		if err != nil {
			w.warn("GitHub App token not available: %v", err)
			return host, keyring.Token{}, false, o.kr, nil
		}
		w.startedApp(app, env.Now())
		return host, app.Token(), false, o.kr, app
	default:
		w.started(tok, cfg.ExpiryWarnDays, env.Now())
		return host, tok, later, o.kr, nil
	}
	return host, keyring.Token{}, false, o.kr, nil
}

// metaStore is a keyring whose Get reads no secret (keyring.MetaGetter).
type metaStore struct {
	keyring.Store
	meta keyring.MetaGetter
}

func (s metaStore) Get(name string) (keyring.Token, error) { return s.meta.GetMeta(name) }

// startApp mints the session's token from the App tok for OWNER/NAME on
// host, and keeps it fresh.
func startApp(env *Env, cfg config.Config, tok keyring.Token, host, owner, name string) (*apptoken.Session, error) {
	if name == "" {
		return nil, fmt.Errorf("%s mints a token for one repository: start the agent in a clone of one of %s's repositories", tok.Name, owner)
	}
	perms, err := apptoken.Permissions(cfg.AppPermissions)
	if err != nil {
		return nil, err
	}
	m, err := apptoken.NewMinter(tok, perms, apptoken.CacheFile(session.StateDir(env.Getenv)), env.Getenv)
	if err != nil {
		return nil, err
	}
	m.Now = env.Now
	ctx, cancel := context.WithTimeout(context.Background(), apptoken.Timeout)
	defer cancel()
	return apptoken.Start(ctx, m, host, owner, name, nil, func(err error) {
		fmt.Fprintf(env.Stderr, "jailrun: cannot renew the session's App token (the current one lasts until it expires): %v\n", err)
	})
}

// RepoOf returns the GitHub repository of the clone at dir, as a session
// started there sees it: its first remote (origin first) on one of cfg's
// GitHub hosts. Outside a clone it returns false and no error.
func RepoOf(cfg config.Config, dir string) (routing.Repo, bool, error) {
	remotes, err := session.Remotes(dir)
	repo, ok := githubRepo(cfg, remotes)
	return repo, ok, err
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
