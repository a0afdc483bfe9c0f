package launch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/proxy"
	"github.com/jailrun/jailrun/internal/supervise"
	"github.com/jailrun/jailrun/session"
)

// probeJail says whether the macOS jail may start: only when asked for
// (JAILRUN_JAIL=on) until a Mac has run the jail's tests, and then only
// when sandbox-exec works.
func probeJail(ctx context.Context, mode JailMode) error {
	if err := jailOffered(mode); err != nil {
		return err
	}
	return jail.Probe(ctx)
}

// jailOffered reports why a launch must not try the jail here: the macOS
// jail is tried only when asked for.
func jailOffered(mode JailMode) error {
	if mode != JailOn {
		return &jail.Unavailable{Why: "the macOS jail is opt-in until tested on a Mac", Fix: JailVar + "=on"}
	}
	return nil
}

// tokensStayOutside says the jail holds placeholders, not tokens: not yet
// on macOS, whose jail holds the session's token.
const tokensStayOutside = false

// RunJailed runs the plan's program under sandbox-exec with the profile
// jail.Seatbelt makes of the same policy as Linux's, the broker and the
// proxy serving it from here, and returns its exit status once it has
// ended.
//
// Seatbelt has no network namespace, so there is no relay: the proxy
// listens on a random loopback TCP port, the only address the profile
// lets the agent reach besides the broker's socket, and its URL in the
// agent's HTTPS_PROXY carries a random password that keeps the machine's
// other users and programs off it. Nor is there a private /tmp: the agent
// gets a temporary directory of its own in the session's directory, as
// TMPDIR, and /tmp stays read-only. Nor a pid namespace: sandbox-exec
// execs the agent in place (its argv[0] is its path), and what it leaves
// running is not ended with it.
func (p *Plan) RunJailed(env *Env) (status int, err error) {
	if len(p.Argv) == 0 {
		return 0, errors.New("nothing to run in the jail")
	}
	p.awaitToken(env.Stderr)
	w := &starter{out: env.Stderr, tag: p.Tag}
	password := rand.Text()
	o, err := p.serveOutside(env, func(string) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }, password, nil)
	if err != nil {
		return 0, err
	}
	defer func() { o.close(env, !errors.Is(err, supervise.ErrNotStarted)) }()
	tmp := filepath.Join(o.dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return 0, fmt.Errorf("cannot create the jail's temporary directory: %v", err)
	}

	cwd, loc, write, homeInside, err := jailWrites(env)
	if err != nil {
		return 0, err
	}
	home := env.Getenv("HOME")
	if err := makeAgentState(agentOf(p.Tag), home); err != nil {
		w.warn("%v", err)
	}
	proxyURL := &url.URL{Scheme: "http", User: url.UserPassword(proxy.ProxyUser, password), Host: o.proxyAddr.String()}
	policy, err := jail.Resolve(jail.Request{
		Agent:    agentOf(p.Tag),
		Home:     home,
		Argv:     append([]string{p.Path}, p.Argv[1:]...),
		Dir:      cwd,
		Env:      session.ProxyEnviron(session.JailEnviron(p.Env, o.brokerSocket, loc.Toplevel), proxyURL.String()),
		Setenv:   []string{"TMPDIR=" + tmp},
		Write:    slices.Concat(write, []string{p.GHConfigDir, tmp}, p.Config.AllowWrite),
		Visible:  []string{p.Path},
		DenyRead: append(p.Config.DenyRead, jail.SocketMasks(env.Getenv)...),
		Sockets:  []jail.Socket{{Host: o.brokerSocket, Jail: jail.BrokerSocket}},
	})
	if err != nil {
		return 0, err
	}
	profile, err := jail.Seatbelt(policy, o.proxyAddr.(*net.TCPAddr).Port)
	if err != nil {
		return 0, err
	}
	o.ran = true
	w.jailed(write, homeInside, false)
	// The profile holds paths and rules, no secret: argv is fine.
	c := exec.Command(jail.SandboxExec, append([]string{"-p", profile}, policy.Argv...)...)
	c.Dir = policy.Dir
	c.Env = jail.Environ(policy)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	return supervise.Direct(c)
}
