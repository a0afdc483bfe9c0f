package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/jailrun/jailrun/internal/launch"
)

// agentCmd starts the agent its command is named after.
type agentCmd struct {
	Args []string `arg:"" optional:"" help:"Arguments for the agent, passed to it verbatim."`
}

func (c *agentCmd) Run(env *Env, kctx *kong.Context, root *cli) error {
	name := kctx.Selected().Name
	return exitWith(launchProgram(env, root.NoJail, name, name, c.Args))
}

// runCmd starts any other command in a session.
type runCmd struct {
	Command []string `arg:"" optional:"" help:"The command and its arguments, passed verbatim."`
}

func (c *runCmd) Run(env *Env, kctx *kong.Context, root *cli) error {
	if wantsHelp(c.Command) {
		return kctx.PrintUsage(false)
	}
	return exitWith(launchRun(env, root.NoJail, c.Command))
}

// wantsHelp says whether run's arguments ask for its help: -h or --help
// among jailrun's own flags, before the command.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" {
			return true
		}
		if a != "--no-jail" {
			return false
		}
	}
	return false
}

// launchRun starts the command in args, after jailrun's own flags that
// run's help shows (--no-jail) and an optional "--".
func launchRun(env *Env, noJail bool, args []string) (int, error) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		flag := args[0]
		args = args[1:]
		if flag == "--" {
			break
		}
		if flag != "--no-jail" {
			return 0, usageError{fmt.Sprintf("run: unknown flag %s; a command's own flags go after it: jailrun run -- CMD [ARGS…]", flag)}
		}
		noJail = true
	}
	if len(args) == 0 || args[0] == "" {
		return 0, usageError{"run needs a command: jailrun run -- CMD [ARGS…]"}
	}
	return launchProgram(env, noJail, filepath.Base(args[0]), args[0], args[1:])
}

// launchDirect starts an agent or `run` command in args, after an
// optional --no-jail, without building the kong model, which costs more
// than the rest of a launch. It reports false for any other command line,
// and for `run --help`.
func launchDirect(args []string, env *Env) (status int, ok bool) {
	noJail := len(args) > 0 && args[0] == "--no-jail"
	if noJail {
		args = args[1:]
	}
	if len(args) == 0 {
		return 0, false
	}
	var err error
	switch name := args[0]; {
	case launch.IsAgent(name):
		status, err = launchProgram(env, noJail, name, name, args[1:])
	case name == "run" && !wantsHelp(args[1:]):
		status, err = launchRun(env, noJail, args[1:])
	default:
		return 0, false
	}
	if err == nil {
		return status, true
	}
	fmt.Fprintf(env.Stderr, "jailrun: %v\n", err)
	if errors.As(err, new(usageError)) {
		return ExitUsage, true
	}
	return ExitError, true
}

// launchProgram runs program with args in a session, jailed unless noJail
// or JAILRUN_JAIL says otherwise, tag naming it on the start line, and
// returns its exit status.
func launchProgram(env *Env, noJail bool, tag, program string, args []string) (int, error) {
	mode, err := launch.ParseJailMode(env.Getenv(launch.JailVar))
	if err != nil {
		return 0, usageError{err.Error()}
	}
	if noJail {
		mode = launch.JailOff
	}
	return launch.Launch(&env.Env, mode, tag, program, args)
}

// exitWith is a launch's outcome as a command's error: a status other
// than 0 becomes an exitStatus, which Run returns as it is.
func exitWith(status int, err error) error {
	if err == nil && status != ExitOK {
		return exitStatus(status)
	}
	return err
}

// exitStatus is the exit status of a program jailrun ran, for Run to return.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }
