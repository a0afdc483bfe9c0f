package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/audit"
	"github.com/jailrun/jailrun/internal/broker"
	"github.com/jailrun/jailrun/internal/egress"
	"github.com/jailrun/jailrun/internal/fserr"
	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/proxy"
	"github.com/jailrun/jailrun/internal/supervise"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
	"github.com/jailrun/jailrun/session"
)

// probeJail says whether bubblewrap can start a jail here.
var probeJail = jail.Probe

// RunJailed runs the plan's program in the jail: jailrun's own binary as
// the jail's first process (see Init), the broker and the proxy serving it
// from here, and returns the program's exit status once it has ended.
func (p *Plan) RunJailed(env *Env) (int, error) {
	w := &starter{out: env.Stderr, tag: p.Tag}
	self, err := executable()
	if err != nil {
		return 0, fmt.Errorf("cannot locate the jailrun executable for the jail: %v", err)
	}
	runDir, err := os.MkdirTemp("", "jailrun-")
	if err != nil {
		return 0, fmt.Errorf("cannot create the jail's socket directory: %v", err)
	}
	defer os.RemoveAll(runDir) // made here, holding only the two sockets

	kr := keyring.Store(p.Keyring)
	if p.Keyring == nil {
		kr = noKeyring{}
	}
	// One id for the session's lines in the audit log, the broker's and
	// the proxy's.
	sess := audit.Session{ID: audit.SessionID(os.Getpid(), env.Now()), Agent: p.Tag, PID: os.Getpid()}
	log, err := broker.OpenAudit(broker.AuditPath(env.Getenv))
	if err != nil {
		w.warn("no audit log for this session: %v", err)
	} else {
		defer log.Close()
	}
	b := broker.New(broker.Options{Keyring: kr, Config: p.Config, Route: routing.Token, Audit: auditWriter(log),
		Agent: p.Tag, Session: sess.ID, Now: env.Now})
	brokerSocket := filepath.Join(runDir, "broker.sock")
	if err := b.Start(brokerSocket); err != nil {
		return 0, fmt.Errorf("cannot start the token broker: %v", err)
	}
	started := false // the agent ran: its session has a summary
	defer func() {
		b.Close()
		if started {
			fmt.Fprintf(env.Stderr, "[%s] %s\n", p.Tag, b.Summary())
		}
	}()

	px, proxySocket, err := startProxy(env, p.Config, agentOf(p.Tag), runDir)
	if err != nil {
		return 0, err
	}
	defer func() {
		px.Close() // waits for the tunnels, so that their counts are whole
		if log != nil {
			if err := audit.WriteEgress(log, sess, env.Now(), px.Traffic(), px.Refusals()); err != nil {
				w.warn("the audit log misses the session's traffic: %v", err)
			}
		}
	}()

	cwd, err := env.Getwd()
	if err != nil {
		return 0, fmt.Errorf("cannot read the current directory: %v", err)
	}
	loc, err := session.Locate(cwd)
	if err != nil {
		return 0, err
	}
	write := []string{cwd}
	var readOnly []string
	if loc.Toplevel != "" {
		write = []string{loc.Toplevel, loc.GitDir, loc.CommonDir}
		readOnly = jail.GitProtected(loc.Toplevel, loc.GitDir, loc.CommonDir)
		if err := makeHooksDir(loc.CommonDir); err != nil {
			w.warn("%v", err)
		}
	}
	home := env.Getenv("HOME")
	write, homeInside := withoutHome(write, home)
	if err := makeAgentState(agentOf(p.Tag), home); err != nil {
		w.warn("%v", err)
	}
	policy, err := jail.Resolve(jail.Request{
		Agent:    agentOf(p.Tag),
		Home:     home,
		Argv:     append([]string{self, InitCommand, p.Path}, p.Argv...),
		Dir:      cwd,
		Env:      session.JailEnviron(p.Env, jail.BrokerSocket, loc.Toplevel),
		Write:    append(append(write, p.GHConfigDir), p.Config.AllowWrite...),
		Visible:  []string{self, filepath.Dir(self), p.Path},
		ReadOnly: readOnly,
		// The session's environment no longer names the caller's ssh
		// agent: its socket is found in the caller's.
		DenyRead: append(p.Config.DenyRead, jail.SocketMasks(env.Getenv)...),
		Sockets:  []jail.Socket{{Host: brokerSocket, Jail: jail.BrokerSocket}, {Host: proxySocket, Jail: jail.ProxySocket}},
	})
	if err != nil {
		return 0, err
	}
	cmd, err := jail.Build(policy)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", supervise.ErrNotStarted, err)
	}
	defer cmd.Close()
	gate, initGate, err := gatePair()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", supervise.ErrNotStarted, err)
	}
	defer gate.Close()
	cmd.PassToInit(initGate)
	c := cmd.Cmd(context.Background())
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	status, err := supervise.Outside(c, func() (int, error) {
		pid, err := cmd.ChildPID(startTimeout)
		if err != nil {
			return 0, err
		}
		// The jail is set up and its init runs: only now is it true to
		// say so, and the agent starts once it has been said.
		if err := awaitInit(gate); err != nil {
			return 0, err
		}
		started = true
		w.jailed(write)
		if homeInside != "" {
			w.note("NOTE: %s holds your home directory, which stays read-only in the jail; start the agent in a project directory to let it write there", homeInside)
		}
		if agentOf(p.Tag) == "claude" {
			if note := claudeSandboxNote(home); note != "" {
				w.note("%s", note)
			}
		}
		return pid, releaseInit(gate)
	})
	return status, err
}

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

// awaitInit waits for the init to say on gate that it runs; bubblewrap
// failing to set the jail up closes the gate instead.
func awaitInit(gate net.Conn) error {
	if err := gate.SetReadDeadline(time.Now().Add(startTimeout)); err != nil {
		return err
	}
	if _, err := gate.Read(make([]byte, 1)); err != nil {
		return fmt.Errorf("the jail's init did not start: %v", err)
	}
	return nil
}

// releaseInit lets the init start the agent.
func releaseInit(gate net.Conn) error {
	_, err := gate.Write([]byte{1})
	return err
}

// makeAgentState creates the agent's own state directories in home that do
// not exist yet, and Claude Code's settings file: HOME is read-only in the
// jail, where the agent could not create them. A link or anything else
// already there is left as it is.
func makeAgentState(agent, home string) error {
	for _, p := range jail.AgentState(agent, home) {
		if strings.ContainsAny(p, "*?[") {
			continue
		}
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("cannot create %s for the agent's state: %v", p, fserr.WithoutPath(err))
		}
	}
	if agent != "claude" {
		return nil
	}
	settings := filepath.Join(home, ".claude.json")
	f, err := os.OpenFile(settings, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot create %s for Claude Code's settings: %v", settings, fserr.WithoutPath(err))
	}
	_, err = f.WriteString("{}\n")
	return errors.Join(err, f.Close())
}

// withoutHome returns the write paths less any that is home or holds it:
// a writable home would let the agent change what runs outside the jail
// (shell start files, jailrun's own directories). It returns the first
// such path too.
func withoutHome(write []string, home string) (kept []string, dropped string) {
	for _, p := range write {
		if rel, err := filepath.Rel(p, home); err == nil && (rel == "." || filepath.IsLocal(rel)) {
			if dropped == "" {
				dropped = p
			}
			continue
		}
		kept = append(kept, p)
	}
	return kept, dropped
}

// makeHooksDir creates the hooks directory of the git directory dir, as
// git init does, when it is missing: the jail keeps it read-only, which a
// missing directory cannot be, and a hook the agent put there would run
// outside the jail. A link or anything else already there is left as it is.
func makeHooksDir(dir string) error {
	hooks := filepath.Join(dir, "hooks")
	if err := os.Mkdir(hooks, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cannot create %s, so the agent could add git hooks there: %v", hooks, fserr.WithoutPath(err))
	}
	return nil
}

// startProxy starts jailrun's proxy on a socket in dir, the jail's only
// way out, with the egress policy of cfg for agent; it says once per
// destination what it refused.
func startProxy(env *Env, cfg config.Config, agent, dir string) (*proxy.Server, string, error) {
	mode := cfg.Egress
	if mode == "" {
		mode = config.EgressOpen // the config did not load: its defaults
	}
	policy, err := egress.Policy(mode, cfg.Hosts, cfg.AllowHosts, agent)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "proxy.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, "", fmt.Errorf("cannot start the jail's proxy: %v", err)
	}
	var mu sync.Mutex
	px := proxy.New(policy, proxy.Options{Refused: func(r *proxy.Refusal) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(env.Stderr, r.Notice())
	}})
	go px.Serve(l)
	return px, path, nil
}

// startTimeout bounds how long bubblewrap may take to set the jail up.
const startTimeout = 30 * time.Second

// agentOf returns the agent whose state the jail lets the program keep:
// the tag of a known agent, "run" for anything else.
func agentOf(tag string) string {
	if IsAgent(tag) {
		return tag
	}
	return "run"
}

// noKeyring stands for a keyring that did not open: the broker refuses
// every request with the reason.
type noKeyring struct{}

var errNoKeyring = errors.New("the keyring did not open when the session started")

func (noKeyring) Get(string) (keyring.Token, error) { return keyring.Token{}, errNoKeyring }
func (noKeyring) Put(keyring.Token) error           { return errNoKeyring }
func (noKeyring) Delete(string) error               { return errNoKeyring }
func (noKeyring) List() ([]keyring.Token, error)    { return nil, errNoKeyring }
func (noKeyring) Close() error                      { return nil }

// auditWriter returns f as the broker's audit log; nil, not a nil file in
// an interface, when there is none.
func auditWriter(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	return f
}
