package launch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/jailinit"
	"github.com/jailrun/jailrun/internal/supervise"
	"github.com/jailrun/jailrun/session"
)

// jailOffered reports why a launch must not try the jail here: never, on
// Linux, where a jail that fails to start is explained by probeJail.
func jailOffered(JailMode) error { return nil }

// tokensStayOutside says the jail holds placeholders, not tokens: the
// proxy swaps them for the real ones outside.
const tokensStayOutside = true

// probeJail says whether bubblewrap can start a jail here, whatever the
// mode.
func probeJail(ctx context.Context, _ JailMode) error { return jail.Probe(ctx) }

// RunJailed runs the plan's program in the jail: jailrun's own binary as
// the jail's first process (see Init), the broker and the proxy serving it
// from here, and returns the program's exit status once it has ended. An
// error wrapping supervise.ErrNotStarted means the program never ran.
func (p *Plan) RunJailed(env *Env) (status int, err error) {
	w := &starter{out: env.Stderr, tag: p.Tag}
	notStarted := func(err error) (int, error) { return 0, fmt.Errorf("%w: %v", supervise.ErrNotStarted, err) }
	defer p.awaitToken(env.Stderr) // a jail that did not start has Launch run the program unjailed
	self, err := executable()
	if err != nil {
		return notStarted(fmt.Errorf("cannot locate the jailrun executable for the jail: %v", err))
	}
	// The session CA is made while the rest is set up.
	pending := secretsMeanwhile(p.Config, env.Now())
	cwd, loc, write, homeInside, err := jailWrites(env)
	if err != nil {
		// Not a jail that cannot start but a repository that a jail may
		// have tampered with: running the program unjailed there instead
		// would hand the tamperer what it wanted.
		return 0, err
	}
	home := env.Getenv("HOME")
	if err := makeAgentState(agentOf(p.Tag), home); err != nil {
		w.warn("%v", err)
	}
	// What programs outside read and act on stays read-only, and present:
	// the git directories' deciding files, the hooks directory
	// core.hooksPath names in the work tree, the agent's settings.
	readOnly := jail.AgentSettings(agentOf(p.Tag), home)
	var hooksDirs []string
	if loc.Toplevel != "" {
		readOnly = append(readOnly, jail.GitProtected(loc.Toplevel, loc.GitDir, loc.CommonDir)...)
		if hooks := hooksPathInside(loc, home); hooks != "" {
			hooksDirs = append(hooksDirs, hooks)
			readOnly = append(readOnly, hooks)
		}
	}
	ph, err := makePlaceholders(session.StateDir(env.Getenv), readOnly, hooksDirs)
	if err != nil {
		return notStarted(err)
	}
	defer ph.remove()
	caches, cacheEnv, cacheDir, moved, err := prepareCaches(session.StateDir(env.Getenv), home, p.Config.AllowWrite)
	if err != nil {
		// An earlier jail could write there: its doing must never
		// have the program run unjailed.
		return 0, fmt.Errorf("cannot prepare the jail's caches: %v", err)
	}
	for _, m := range moved {
		w.warn("a jail's cache was not a directory; it is now %s: look at it before you remove it", m)
	}
	var proxySocket string
	o, err := p.serveOutside(env, func(dir string) (net.Listener, error) {
		proxySocket = filepath.Join(dir, "proxy.sock")
		return net.Listen("unix", proxySocket)
	}, "", pending)
	if err != nil {
		return notStarted(err)
	}
	defer func() { o.close(env, !errors.Is(err, supervise.ErrNotStarted)) }()

	// The tokens stay outside: the jail trusts the session CA the proxy
	// terminates GitHub's TLS with, and holds placeholders.
	trustFiles, trustEnv, err := o.secrets.trust(o.dir, env.Getenv)
	if err != nil {
		// Not bubblewrap's failure: running unjailed instead would hand
		// the agent the real token for a fixable setting.
		return 0, err
	}
	// The token lookup may still run: the jail is set up without it, and
	// the agent's environment goes to the init once it is done.
	policy, err := jail.Resolve(jail.Request{
		Agent:    agentOf(p.Tag),
		Home:     home,
		Argv:     append(initArgv(self), append([]string{p.Path}, p.Argv...)...),
		Dir:      cwd,
		Env:      session.JailEnviron(p.environWith(""), jail.BrokerSocket, loc.Toplevel),
		Setenv:   append(cacheEnv, trustEnv...),
		Files:    trustFiles,
		Caches:   caches,
		Write:    append(append(write, p.GHConfigDir, cacheDir), p.Config.AllowWrite...),
		Visible:  []string{self, filepath.Dir(self), p.Path},
		ReadOnly: readOnly,
		// Masked besides: the caller's ssh agent, whose socket the
		// session's environment no longer names, and what disarming
		// moved aside, the user's to read and not the next agent's.
		DenyRead: append(append(p.Config.DenyRead, jail.SocketMasks(env.Getenv)...), filepath.Join(session.StateDir(env.Getenv), "disarmed")),
		Sockets:  []jail.Socket{{Host: o.brokerSocket, Jail: jail.BrokerSocket}, {Host: proxySocket, Jail: jail.ProxySocket}},
	})
	if err != nil {
		return notStarted(err)
	}
	cmd, err := jail.Build(policy)
	if err != nil {
		return notStarted(err)
	}
	defer cmd.Close()
	gate, initGate, err := gatePair()
	if err != nil {
		return notStarted(err)
	}
	defer gate.Close()
	cmd.PassToInit(initGate)
	c := cmd.Cmd(context.Background())
	c.Env = []string{} // the init's; the agent's comes through the gate
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	defer saveTerminal(os.Stdin)()
	since := env.Now()
	status, err = supervise.Outside(c, func() (int, error) {
		p.awaitToken(env.Stderr)
		o.keepTokensOutside(p)
		agentEnv := p.Env
		if p.SecretLater {
			agentEnv = p.environWith(o.secrets.vault.Later(p.Token.Name, p.TokenHost, secretReader(p.Keyring, p.Token.Name)))
		}
		policy.Env = session.JailEnviron(agentEnv, jail.BrokerSocket, loc.Toplevel)
		if p.Token.Secret != "" {
			policy.Env = withPlaceholder(policy.Env, p.Token.Secret, o.secrets.vault.For(p.Token.Name, p.TokenHost, p.Token.Secret))
		}
		policy.Env = withoutFoundTokens(policy.Env)
		encoded, err := jailinit.EncodeEnv(jail.Environ(policy))
		if err != nil {
			return 0, err
		}
		pid, err := cmd.ChildPID(startTimeout)
		if err != nil {
			return 0, err
		}
		// The jail is set up and its init runs: only now is it true to
		// say so, and the agent starts once it has been said.
		if err := awaitInit(gate); err != nil {
			return 0, err
		}
		o.ran = true
		w.jailed(write, homeInside, true)
		if agentOf(p.Tag) == "claude" {
			if note := claudeSandboxNote(home); note != "" {
				w.note("%s", note)
			}
		}
		return pid, releaseInit(gate, encoded)
	})
	if o.ran && loc.Toplevel != "" {
		for _, d := range disarmNewGitDirs(loc, since, session.StateDir(env.Getenv)) {
			w.warn("%s", d.line())
			o.record(env, d.record())
		}
	}
	return status, err
}

// initArgv is how the jail starts its first process: jailrun-init next
// to jailrun (self), a small program that starts fast, else jailrun
// itself in that role.
func initArgv(self string) []string {
	if p := filepath.Join(filepath.Dir(self), jailinit.Binary); isExecutable(p) {
		return []string{p}
	}
	return []string{self, jailinit.Command}
}

// startTimeout bounds how long bubblewrap may take to set the jail up.
const startTimeout = 30 * time.Second

// gatePair returns the two ends of the gate between the supervisor and the
// jail's init: the init says on it that it runs, and waits there until the
// start lines are written.
func gatePair() (supervisor net.Conn, init *os.File, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot make the jail's start gate: %v", err)
	}
	f := os.NewFile(uintptr(fds[0]), "jailrun-gate")
	defer f.Close()
	if supervisor, err = net.FileConn(f); err != nil {
		syscall.Close(fds[1])
		return nil, nil, fmt.Errorf("cannot make the jail's start gate: %v", err)
	}
	return supervisor, os.NewFile(uintptr(fds[1]), "jailrun-init-gate"), nil
}

// awaitInit waits for the init to say on gate that it runs, in the gate's
// version; bubblewrap failing to set the jail up closes the gate instead.
func awaitInit(gate net.Conn) error {
	if err := gate.SetReadDeadline(time.Now().Add(startTimeout)); err != nil {
		return err
	}
	b := make([]byte, 1)
	if _, err := gate.Read(b); err != nil {
		return fmt.Errorf("the jail's init did not start: %v", err)
	}
	if b[0] != jailinit.GateVersion {
		return fmt.Errorf("%s next to jailrun is from another release of jailrun; install both again with ./install.sh", jailinit.Binary)
	}
	return nil
}

// releaseInit lets the init start the agent, with agentEnv (see
// jailinit.EncodeEnv).
func releaseInit(gate net.Conn, agentEnv []byte) error {
	if err := gate.SetWriteDeadline(time.Now().Add(startTimeout)); err != nil {
		return err
	}
	_, err := gate.Write(agentEnv)
	return err
}
