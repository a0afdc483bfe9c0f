package cli

import (
	"errors"
	"fmt"

	"github.com/jailrun/jailrun/internal/launch"
)

// ShimName is the name under which the jailrun executable acts as the gh
// shim: a link called gh in the session's shim directory.
const ShimName = launch.ShimName

// exitNotFound is the status of a command that is not installed, as shells use it.
const exitNotFound = 127

// Shim runs the real gh with args and the token for the repository the
// command is about (see launch.PrepareShim), and returns gh's exit status,
// or jailrun's when gh cannot be started.
func Shim(args []string, env *Env) int {
	plan, err := launch.PrepareShim(&env.Env, args)
	if err == nil {
		var status int
		if status, err = plan.Run(&env.Env); err == nil {
			return status
		}
	}
	fmt.Fprintf(env.Stderr, "jailrun: %v\n", err)
	if errors.Is(err, launch.ErrGHNotInstalled) {
		return exitNotFound
	}
	return ExitError
}
