// Package cli is the jailrun command line: its commands, their words and
// exit statuses. The main package only hands it the process's world.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/alecthomas/kong"
	"github.com/jailrun/jailrun/helper"
	"github.com/jailrun/jailrun/internal/jailinit"
	"github.com/jailrun/jailrun/internal/launch"
	"github.com/jailrun/jailrun/internal/version"
	"github.com/willabides/kongplete"
)

// Exit statuses of jailrun's own commands (launched agents return their own).
const (
	ExitOK    = 0
	ExitError = 1 // the command failed; stderr says why and what to do
	ExitUsage = 2 // the command line itself is wrong
)

// Env is what a command may use of the world around it: standard input
// and output, and what a launch uses (stderr, the environment, the
// working directory, the clock, the keychain and exec).
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	launch.Env
}

// OSEnv is the Env of the running process.
func OSEnv() *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Env: launch.OSEnv(os.Stderr)}
}

// Main runs jailrun with the process's arguments and world and returns its
// exit status. Called as gh (the session's shim links to jailrun), it is
// the gh shim; called as git-credential-jailrun (install.sh links it on
// macOS, so the keychain trusts one program), it is the credential helper.
func Main() int {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case jailinit.Command:
			return jailinit.Main(os.Args[2:], os.Stderr)
		case helper.MintCommand:
			return mintForHelper(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
		}
	}
	switch filepath.Base(os.Args[0]) {
	case ShimName:
		return Shim(os.Args[1:], OSEnv())
	case helper.Program:
		return helper.MainWith(mintInProcess)
	}
	if status, ok := launchDirect(os.Args[1:], OSEnv()); ok {
		return status
	}
	return Run(os.Args[1:], OSEnv())
}

type cli struct {
	Version kong.VersionFlag `help:"Print the version and exit."`
	NoJail  bool             `name:"no-jail" help:"Start the agent without the jail (as ${jailvar}=off does)."`

	Token      tokenCmd      `cmd:"" help:"Add, rotate, delete and list the tokens in the OS keychain."`
	App        appCmd        `cmd:"" help:"Add, list and delete GitHub Apps, which mint a token per session for its one repository."`
	Config     configCmd     `cmd:"" help:"Show the configuration file and what jailrun reads from it."`
	VersionCmd versionCmd    `cmd:"" name:"version" help:"Print the version."`
	Completion completionCmd `cmd:"" help:"Print a shell completion script: eval \"$(jailrun completion bash)\"."`
	Status     statusCmd     `cmd:"" help:"Say which token git and gh get here, and why; whether agents start jailed."`
	Doctor     doctorCmd     `cmd:"" help:"Check git, gh, the keychain, the config and the tokens; say what to fix."`
	Ruleset    rulesetCmd    `cmd:"" help:"Protect a repository's default branch and tags with GitHub rulesets (run outside agent sessions)."`
	Audit      auditCmd      `cmd:"" help:"Show the last jailed sessions from the audit log: token requests and network destinations."`
	Man        manCmd        `cmd:"" hidden:"" help:"Print a manual page in roff (install.sh installs them)."`

	Claude      agentCmd `cmd:"" passthrough:"all" group:"Agents" help:"Start Claude Code with narrow GitHub tokens; arguments pass to it verbatim."`
	Codex       agentCmd `cmd:"" passthrough:"all" group:"Agents" help:"Start Codex with narrow GitHub tokens; arguments pass to it verbatim."`
	Gemini      agentCmd `cmd:"" passthrough:"all" group:"Agents" help:"Start Gemini CLI with narrow GitHub tokens; arguments pass to it verbatim."`
	KiroCli     agentCmd `cmd:"" name:"kiro-cli" passthrough:"all" group:"Agents" help:"Start Kiro CLI with narrow GitHub tokens; arguments pass to it verbatim."`
	KiroCliChat agentCmd `cmd:"" name:"kiro-cli-chat" passthrough:"all" group:"Agents" help:"Start Kiro CLI chat with narrow GitHub tokens; arguments pass to it verbatim."`
	RunCmd      runCmd   `cmd:"" name:"run" passthrough:"all" group:"Agents" help:"Run any command (aider, opencode, a shell) the same way: jailrun run -- CMD ARGS…"`
}

// exitCode is how kong's Exit reaches Run without ending the process.
type exitCode int

// Run parses args and runs the command they name in env, returning the exit
// status. Errors are printed to env.Stderr as one line each.
func Run(args []string, env *Env) (status int) {
	// kong turns invalid UTF-8 into U+FFFD, which would store a token
	// under a name other than the one typed.
	for _, arg := range args {
		if !utf8.ValidString(arg) {
			fmt.Fprintf(env.Stderr, "jailrun: argument %q is not valid UTF-8; type it again\n", arg)
			return ExitUsage
		}
	}
	var c cli
	parser, err := kong.New(&c,
		kong.Name("jailrun"),
		kong.Description("Give AI coding agents narrow GitHub tokens from the OS keychain."),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
		kong.Vars{"version": "jailrun " + version.String(), "jailvar": launch.JailVar},
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Help(helpPrinter),
		kong.Bind(env),
	)
	if err != nil {
		panic(err) // the command structs above are wrong: a bug, not a user error
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		code, ok := r.(exitCode)
		if !ok {
			panic(r)
		}
		status = int(code)
	}()
	kongplete.Complete(parser,
		kongplete.WithPredictor("token", storedTokenNames(env)),
		kongplete.WithErrorHandler(func(err error) {
			fmt.Fprintf(env.Stderr, "jailrun: completion: %v\n", err)
		}))
	if path, ok := helpArgs(parser, args); ok {
		if err := printHelp(parser, path); err != nil {
			fmt.Fprintf(env.Stderr, "jailrun: %v\n", err)
			return ExitUsage
		}
		return ExitOK
	}
	ctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "jailrun: %v (see %s --help)\n", err, failedCommand(err))
		return ExitUsage
	}
	if err := ctx.Run(env, &c); err != nil {
		var status exitStatus
		if errors.As(err, &status) {
			return int(status)
		}
		fmt.Fprintf(env.Stderr, "jailrun: %v\n", err)
		if errors.As(err, new(usageError)) {
			return ExitUsage
		}
		return ExitError
	}
	return ExitOK
}

// failedCommand names the command whose command line err is about, as
// "jailrun token add", for a pointer at its --help.
func failedCommand(err error) string {
	var parseErr *kong.ParseError
	if errors.As(err, &parseErr) && parseErr.Context != nil {
		if node := parseErr.Context.Selected(); node != nil {
			return node.FullPath()
		}
	}
	return "jailrun"
}

// usageError is a mistake in how a command was called, reported with ExitUsage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

type versionCmd struct{}

func (versionCmd) Run(env *Env) error {
	fmt.Fprintln(env.Stdout, "jailrun", version.String())
	return nil
}
