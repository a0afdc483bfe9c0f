//go:build !linux && !darwin

package launch

import (
	"context"
	"errors"
)

// errNoJailHere is why nothing is jailed on this system yet.
var errNoJailHere = errors.New("jailrun's jail runs on Linux and macOS only; run the agent in a VM or container to confine it")

func probeJail(context.Context, JailMode) error { return errNoJailHere }

// RunJailed cannot run anything here: probeJail keeps Launch from calling it.
func (p *Plan) RunJailed(*Env) (int, error) { return 0, errNoJailHere }
