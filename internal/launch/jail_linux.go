package launch

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/supervise"
	"github.com/jailrun/jailrun/session"
)

// probeJail says whether bubblewrap can start a jail here, whatever the
// mode.
func probeJail(ctx context.Context, _ JailMode) error { return jail.Probe(ctx) }

// RunJailed runs the plan's program in the jail: jailrun's own binary as
// the jail's first process (see Init), the broker and the proxy serving it
// from here, and returns the program's exit status once it has ended.
func (p *Plan) RunJailed(env *Env) (int, error) {
	w := &starter{out: env.Stderr, tag: p.Tag}
	self, err := executable()
	if err != nil {
		return 0, fmt.Errorf("cannot locate the jailrun executable for the jail: %v", err)
	}
	var proxySocket string
	o, err := p.serveOutside(env, func(dir string) (net.Listener, error) {
		proxySocket = filepath.Join(dir, "proxy.sock")
		return net.Listen("unix", proxySocket)
	}, "")
	if err != nil {
		return 0, err
	}
	defer o.close(env)

	cwd, loc, write, err := jailWrites(env)
	if err != nil {
		return 0, err
	}
	home := env.Getenv("HOME")
	if err := makeAgentState(agentOf(p.Tag), home); err != nil {
		w.warn("%v", err)
	}
	policy, err := jail.Resolve(jail.Request{
		Agent:   agentOf(p.Tag),
		Home:    home,
		Argv:    append([]string{self, InitCommand, p.Path}, p.Argv...),
		Dir:     cwd,
		Env:     session.JailEnviron(p.Env, jail.BrokerSocket, loc.Toplevel),
		Write:   append(append(write, p.GHConfigDir), p.Config.AllowWrite...),
		Visible: []string{self, filepath.Dir(self), p.Path},
		// The session's environment no longer names the caller's ssh
		// agent: its socket is found in the caller's.
		DenyRead: append(p.Config.DenyRead, jail.SocketMasks(env.Getenv)...),
		Sockets:  []jail.Socket{{Host: o.brokerSocket, Jail: jail.BrokerSocket}, {Host: proxySocket, Jail: jail.ProxySocket}},
	})
	if err != nil {
		return 0, err
	}
	cmd, err := jail.Build(policy)
	if err != nil {
		return 0, err
	}
	defer cmd.Close()
	w.jailed(write[0])
	c := cmd.Cmd(context.Background())
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	return supervise.Outside(c, func() (int, error) { return cmd.ChildPID(startTimeout) })
}

// startTimeout bounds how long bubblewrap may take to set the jail up.
const startTimeout = 30 * time.Second
