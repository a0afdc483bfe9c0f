//go:build !linux && !darwin

package launch

import (
	"context"
	"errors"
	"fmt"

	"github.com/jailrun/jailrun/internal/supervise"
)

// errNoJailHere is why nothing is jailed on this system yet.
var errNoJailHere = errors.New("jailrun's jail runs on Linux and macOS only; run the agent in a VM or container to confine it")

func probeJail(context.Context, JailMode) error { return errNoJailHere }

// jailOffered reports why a launch must not try the jail here: there is none.
func jailOffered(JailMode) error { return errNoJailHere }

// tokensStayOutside is false: there is no jail here.
const tokensStayOutside = false

// RunJailed cannot run anything here; Launch then asks probeJail why.
func (p *Plan) RunJailed(*Env) (int, error) {
	return 0, fmt.Errorf("%w: %v", supervise.ErrNotStarted, errNoJailHere)
}
