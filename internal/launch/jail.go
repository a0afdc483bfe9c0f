package launch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jailrun/jailrun/internal/broker"
	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/supervise"
	"github.com/jailrun/jailrun/session"
)

// JailMode is whether a launch jails its program: JAILRUN_JAIL.
type JailMode int

const (
	JailAuto JailMode = iota // jailed where the jail works, else a NOT jailed warning
	JailOn                   // jailed, or an error
	JailOff                  // never jailed
)

// JailVar is the variable that sets the JailMode.
const JailVar = "JAILRUN_JAIL"

// ParseJailMode reads JAILRUN_JAIL: auto (or empty), on, off.
func ParseJailMode(s string) (JailMode, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return JailAuto, nil
	case "on":
		return JailOn, nil
	case "off":
		return JailOff, nil
	}
	return JailAuto, fmt.Errorf("%s=%q is not auto, on or off", JailVar, s)
}

// Launch prepares program with args (see Prepare) and runs it, jailed as
// mode says. Only a jail that does not start costs a probe: it says why,
// and with JailAuto the program then runs unjailed.
func Launch(env *Env, mode JailMode, tag, program string, args []string) (int, error) {
	why := jailOffered(mode)
	plan, err := prepare(env, tag, program, args, tokensStayOutside && mode != JailOff && why == nil)
	if err != nil {
		return 0, err
	}
	w := &starter{out: env.Stderr, tag: tag}
	switch {
	case plan.Nested:
		return plan.Run(env)
	case mode == JailOff:
		plan.awaitToken(env.Stderr)
		w.notJailed("turned off ("+JailVar+"=off or --no-jail)", plan.Token.Secret != "")
		return plan.Run(env)
	case why != nil:
		plan.awaitToken(env.Stderr)
		w.notJailed(why.Error(), plan.Token.Secret != "")
		return plan.Run(env)
	}
	// The jail's set-up runs while the token lookup does; RunJailed waits
	// for it before the agent starts.
	status, err := plan.RunJailed(env)
	if !errors.Is(err, supervise.ErrNotStarted) {
		return status, err
	}
	plan.awaitToken(env.Stderr)
	plan.readSecret(env.Stderr)
	why = probeJail(context.Background(), mode)
	if why == nil { // bubblewrap works here, but not with this jail
		why = fmt.Errorf("%v; bubblewrap said why above: please report it", err)
	}
	if mode == JailOn {
		return 0, fmt.Errorf("cannot start the jail (%s=on): %v", JailVar, why)
	}
	w.notJailed(why.Error(), plan.Token.Secret != "")
	return plan.Run(env)
}

// WouldJail reports whether a launch in mode, from this process, would run
// its program jailed; when not, the error says why (an *jail.Unavailable
// where bubblewrap cannot start one, with its fix). A launch inside a jail
// stays in it.
func WouldJail(ctx context.Context, mode JailMode, getenv func(string) string) (bool, error) {
	switch {
	case InJail(getenv):
		return true, nil
	case mode == JailOff:
		return false, errors.New("turned off (" + JailVar + "=off or --no-jail)")
	}
	if err := probeJail(ctx, mode); err != nil {
		return false, err
	}
	return true, nil
}

// InJail reports whether this process runs in a jailrun jail: a broker of
// the current user answers at the socket JAILRUN_BROKER names, or at the
// jail's own path. An agent can hide the variable, not the broker.
func InJail(getenv func(string) string) bool {
	_, ok := JailBroker(getenv)
	return ok
}

// JailBroker returns the socket of the broker of the jail this process
// runs in, as InJail finds it, and false outside a jail.
func JailBroker(getenv func(string) string) (string, bool) {
	path := getenv(session.BrokerVar)
	if path == "" {
		path = jail.BrokerSocket
	}
	if !ownSocket(path) {
		return "", false
	}
	c, err := broker.Dial(path)
	if err != nil {
		return "", false
	}
	defer c.Close()
	_, err = c.Hello()
	return path, err == nil
}

// ownSocket reports whether path and its directory belong to the current
// user, so that another user's socket cannot pass for a jail's broker and
// turn the jail off.
func ownSocket(path string) bool {
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Lstat(p)
		if err != nil || !ownedByMe(fi) {
			return false
		}
	}
	return true
}
