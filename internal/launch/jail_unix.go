//go:build linux || darwin

package launch

import (
	"encoding/json"
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

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/audit"
	"github.com/jailrun/jailrun/internal/broker"
	"github.com/jailrun/jailrun/internal/egress"
	"github.com/jailrun/jailrun/internal/fserr"
	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/proxy"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
	"github.com/jailrun/jailrun/session"
)

// outside is what serves a jail from outside it: the session's directory
// holding the broker's socket, the broker, the proxy and the audit log.
type outside struct {
	dir          string // the session's directory, canonical, made here
	brokerSocket string
	proxy        *proxy.Server
	proxyAddr    net.Addr // where the proxy listens

	w      *starter
	sess   audit.Session
	log    *os.File
	broker *broker.Broker
	ran    bool // the program started: the session has a summary

	secrets *secrets // keeps the tokens outside; nil where the jail holds the real ones
	policy  policyLedger
	plan    *Plan // whose App token, if any, close revokes
}

// serveOutside creates the session's directory and starts the broker and
// the proxy, which listens where listen says (given the directory), and
// asks a request for password when it is not empty. With pending secrets
// the broker hands out placeholders and the proxy puts the tokens back
// (see secrets). Call close when the jail has ended.
func (p *Plan) serveOutside(env *Env, listen func(dir string) (net.Listener, error), password string, pending *pendingSecrets) (*outside, error) {
	dir, err := os.MkdirTemp("", "jailrun-")
	if err != nil {
		return nil, fmt.Errorf("cannot create the jail's socket directory: %v", err)
	}
	o := &outside{w: &starter{out: env.Stderr, tag: p.Tag}}
	o.dir = dir
	// The sandbox names paths as the kernel resolves them (macOS's
	// /var/folders lies in /private/var).
	if o.dir, err = filepath.EvalSymlinks(dir); err != nil {
		os.RemoveAll(dir) // made here, empty
		return nil, fmt.Errorf("cannot resolve the jail's socket directory: %v", err)
	}

	o.plan = p
	kr := p.keyringStore()
	// One id for the session's lines in the audit log, the broker's and
	// the proxy's.
	o.sess = audit.Session{ID: audit.SessionID(os.Getpid(), env.Now()), Agent: p.Tag, PID: os.Getpid()}
	o.log, err = broker.OpenAudit(broker.AuditPath(env.Getenv))
	if err != nil {
		o.w.warn("no audit log for this session: %v", err)
	}
	opts := broker.Options{Keyring: kr, Config: p.Config, Route: p.appRoute, Audit: auditWriter(o.log),
		Agent: p.Tag, Session: o.sess.ID, Now: env.Now}
	if pending != nil {
		opts.Vault = pending.vault
	}
	o.broker = broker.New(opts)
	o.brokerSocket = filepath.Join(o.dir, "broker.sock")
	if err := o.broker.Start(o.brokerSocket); err != nil {
		o.broker = nil
		o.close(env, false)
		return nil, fmt.Errorf("cannot start the token broker: %v", err)
	}
	l, err := listen(o.dir)
	if err != nil {
		o.close(env, false)
		return nil, fmt.Errorf("cannot start the jail's proxy: %v", err)
	}
	var terminate *proxy.Terminate
	if pending != nil {
		if o.secrets, err = pending.made(); err != nil {
			l.Close()
			o.close(env, false)
			return nil, err
		}
		write := func(rec audit.Record) { o.record(env, rec) }
		var repos []string
		if cwd, err := env.Getwd(); err == nil {
			repos = sessionRepos(p.Config, cwd)
		}
		terminate = o.secrets.terminate(
			pushPolicy(p.Config, func(push proxy.Push) { o.policy.record(push, write) }),
			apiPolicy(p.Config, repos, func(a proxy.APIWrite) { o.policy.recordAPI(a, write) }),
			env.Getenv)
	}
	if o.proxy, err = startProxy(env, p.Config, agentOf(p.Tag), l, password, terminate); err != nil {
		l.Close()
		o.close(env, false)
		return nil, err
	}
	o.proxyAddr = l.Addr()
	return o, nil
}

// close stops the proxy (waiting for its tunnels, so that their counts are
// whole) and records its traffic, stops the broker and says its summary,
// revokes the session's App token when revokeApp says (not when the
// program is to run unjailed with it instead), closes the audit log and
// removes the session's directory.
func (o *outside) close(env *Env, revokeApp bool) {
	if o.proxy != nil {
		o.proxy.Close()
		if o.log != nil {
			if err := audit.WriteEgress(o.log, o.sess, env.Now(), o.proxy.Traffic(), o.proxy.Refusals()); err != nil {
				o.w.warn("the audit log misses the session's traffic: %v", err)
			}
		}
	}
	if o.broker != nil {
		o.broker.Close()
		if o.ran {
			o.w.note("%s", o.broker.Summary())
			if line := o.policy.summary(); line != "" {
				o.w.note("%s", line)
			}
		}
	}
	if app := o.plan.sessionApp(); app != nil && revokeApp {
		if err := app.Close(); err != nil {
			o.w.warn("the session's App tokens could not all be revoked (they expire within the hour): %v", err)
		}
	}
	if o.log != nil {
		o.log.Close()
	}
	os.RemoveAll(o.dir) // made here, holding only the sockets and the agent's temporary files
}

// record appends rec to the session's audit log, stamped with the session.
func (o *outside) record(env *Env, rec audit.Record) {
	if o.log == nil {
		return
	}
	rec.Time, rec.Session, rec.Agent, rec.PID = env.Now().UTC().Format(time.RFC3339Nano), o.sess.ID, o.sess.Agent, o.sess.PID
	line, _ := json.Marshal(rec) // strings and numbers only: it cannot fail
	if _, err := o.log.Write(append(line, '\n')); err != nil {
		o.w.warn("the audit log misses a line: %v", err)
	}
}

// appRoute is routing.Token for a jailed session: an App's route for the
// session's repository serves the token minted at launch, any other App's
// route serves nothing, since its tokens are minted for the session's one
// repository.
func (p *Plan) appRoute(kr keyring.Store, cfg config.Config, protocol, host, owner string) (keyring.Token, routing.Decision, error) {
	tok, d, err := routing.Token(kr, cfg, protocol, host, owner)
	if err != nil || !apptoken.Is(d.Token) {
		return tok, d, err
	}
	if app := p.sessionApp(); app != nil && app.Serves(host, owner) && d.Token == app.Token().Name {
		return app.Token(), d, nil
	}
	return keyring.Token{}, routing.Decision{Warning: fmt.Sprintf("%s mints tokens at launch for the session's repository only, not for %s's; start a session in that repository",
		d.Token, owner)}, nil
}

// jailWrites returns the working directory and what the jail lets the
// program write besides its own state: the repository (toplevel, .git and
// a worktree's common dir) or, outside one, the working directory; never
// a directory that is HOME or holds it, which it returns as homeInside.
func jailWrites(env *Env) (cwd string, loc session.Location, write []string, homeInside string, err error) {
	if cwd, err = env.Getwd(); err != nil {
		return "", loc, nil, "", fmt.Errorf("cannot read the current directory: %v", err)
	}
	if loc, err = session.Locate(cwd); err != nil {
		return "", loc, nil, "", err
	}
	write = []string{cwd}
	if loc.Toplevel != "" {
		write = []string{loc.Toplevel, loc.GitDir, loc.CommonDir}
	}
	// Judged as the jail will bind them, with every link resolved: a
	// link to HOME is HOME.
	for i, p := range write {
		write[i] = resolved(p)
	}
	write, homeInside = withoutHome(write, resolved(env.Getenv("HOME")))
	return cwd, loc, write, homeInside, nil
}

// within reports whether path is dir or lies beneath it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && (rel == "." || filepath.IsLocal(rel))
}

// resolved is path with every link resolved, or path itself where that
// fails (a path that does not exist is dropped from the jail anyway).
func resolved(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	return path
}

// withoutHome returns the write paths less any that is home or holds it:
// a writable home would let the agent change what runs outside the jail
// (shell start files, jailrun's own directories). It returns the first
// such path too.
func withoutHome(write []string, home string) (kept []string, dropped string) {
	for _, p := range write {
		if within(home, p) {
			if dropped == "" {
				dropped = p
			}
			continue
		}
		kept = append(kept, p)
	}
	return kept, dropped
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

// startProxy starts jailrun's proxy on l, the jail's only way out, with
// the egress policy of cfg for agent, password (see
// proxy.Options.Password) and terminate (nil: every destination a
// tunnel); it says once per destination what it refused.
func startProxy(env *Env, cfg config.Config, agent string, l net.Listener, password string, terminate *proxy.Terminate) (*proxy.Server, error) {
	mode := cfg.Egress
	if mode == "" {
		mode = config.EgressOpen // the config did not load: its defaults
	}
	policy, err := egress.Policy(mode, cfg.Hosts, cfg.AllowHosts, agent)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	px := proxy.New(policy, proxy.Options{Password: password, Terminate: terminate, Refused: func(r *proxy.Refusal) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(env.Stderr, r.Notice())
	}})
	go px.Serve(l)
	return px, nil
}

// agentOf returns the agent whose state the jail lets the program keep:
// the tag of a known agent, "run" for anything else.
func agentOf(tag string) string {
	if IsAgent(tag) {
		return tag
	}
	return "run"
}

// keepTokensOutside makes the vault's placeholder for the plan's token
// stand for each token its App renews; call it once the lookup is done.
func (o *outside) keepTokensOutside(p *Plan) {
	if p.App != nil && o.secrets != nil {
		vault, host := o.secrets.vault, p.TokenHost
		p.App.OnRenew(func(tok keyring.Token) { vault.For(tok.Name, host, tok.Secret) })
	}
}

// keyringStore is the keyring the broker reads: the lookup's once it has
// opened it, which no request can come before, since the agent starts
// after the lookup.
func (p *Plan) keyringStore() keyring.Store {
	if p.lookup != nil {
		return lookupKeyring{p.lookup}
	}
	if p.Keyring == nil {
		return noKeyring{}
	}
	return p.Keyring
}

// sessionApp is the plan's App session, once the lookup is done; nil for
// none. The broker's goroutines ask it too.
func (p *Plan) sessionApp() *apptoken.Session {
	if p.lookup != nil {
		<-p.lookup.done
		return p.lookup.app
	}
	return p.App
}

// lookupKeyring is the keyring a token lookup opens, waited for.
type lookupKeyring struct{ l *tokenLookup }

func (k lookupKeyring) store() keyring.Store {
	<-k.l.done
	if k.l.kr == nil {
		return noKeyring{}
	}
	return k.l.kr
}

func (k lookupKeyring) Get(name string) (keyring.Token, error) { return k.store().Get(name) }
func (k lookupKeyring) Put(t keyring.Token) error              { return k.store().Put(t) }
func (k lookupKeyring) Delete(name string) error               { return k.store().Delete(name) }
func (k lookupKeyring) List() ([]keyring.Token, error)         { return k.store().List() }
func (k lookupKeyring) Close() error                           { return nil } // the plan's, closed by exec

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
