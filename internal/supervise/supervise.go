// Package supervise keeps a jailed agent's process behaviour that of an
// unjailed one. Outside the jail, jailrun waits for bubblewrap and passes on
// the signals meant for the agent; inside, jailrun's init (pid 1 of the
// jail's pid namespace) starts the agent, passes them on again, reaps every
// process that ends and returns the agent's exit status.
//
// Nobody calls setsid or setpgid, so the supervisor, bubblewrap, the init
// and the agent share the caller's process group: the terminal sends Ctrl-C,
// Ctrl-Z, SIGCONT and SIGWINCH to the agent itself, and the shell sees the
// job stop and resume as it would without the jail. bubblewrap and the init
// ignore the terminal's SIGINT and SIGQUIT, which the agent got already (a
// second Ctrl-C makes some agents quit). A signal sent to the supervisor
// alone (kill PID) is passed on: SIGINT and SIGQUIT as real-time signals
// that the init turns back into them, so that it can tell them from the
// terminal's.
package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Status returns the exit status a shell reports for a process that ended
// with ws: its exit code, or 128+n after a death by signal n.
func Status(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// forwarded are the signals passed on to the agent. SIGTSTP, SIGCONT and
// SIGWINCH reach it from the terminal directly and are left alone.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP,
	syscall.SIGUSR1, syscall.SIGUSR2}

// terminalSignals are the forwarded signals a terminal sends by itself.
var terminalSignals = []os.Signal{syscall.SIGINT, syscall.SIGQUIT}

// relayed maps SIGINT and SIGQUIT to the real-time signals (no libc or Go
// runtime uses these) that carry them from the supervisor to the init.
var relayed = map[os.Signal]syscall.Signal{syscall.SIGINT: 40, syscall.SIGQUIT: 41}

// fromTerminal reports whether sig is one the terminal sends to its
// foreground process group, and this process is in that group: then the
// agent, in the same group, was sent it too. Only the supervisor can tell:
// inside the jail's pid namespace the caller's process group has no number.
func fromTerminal(sig os.Signal) bool {
	if _, ok := relayed[sig]; !ok {
		return false
	}
	for fd := range 3 {
		if fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil {
			return fg == unix.Getpgrp()
		}
	}
	return false
}

// ErrNotStarted reports that the jail's first process never started:
// bubblewrap could not set the jail up, and said why on stderr.
var ErrNotStarted = errors.New("the jail did not start")

// Outside starts cmd, which runs bubblewrap, and waits for it. Signals are
// passed on to the jail's init, whose host pid initPid returns once it has
// started (until then, to bubblewrap itself). It returns the jail's exit
// status, or an error wrapping ErrNotStarted when initPid failed.
func Outside(cmd *exec.Cmd, initPid func() (int, error)) (int, error) {
	signal.Ignore(terminalSignals...) // bubblewrap inherits this
	err := cmd.Start()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err != nil {
		return 0, fmt.Errorf("%w: cannot start bubblewrap: %v", ErrNotStarted, err)
	}
	target := cmd.Process.Pid
	type started struct {
		pid int
		err error
	}
	pids := make(chan started, 1)
	go func() {
		pid, err := initPid()
		pids <- started{pid, err}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var startErr error
	for known := false; ; {
		select {
		case s := <-pids:
			known = true
			if startErr = s.err; s.err != nil {
				_ = cmd.Process.Kill() // whatever bubblewrap set up never runs the agent
			} else {
				target = s.pid
			}
		case sig := <-sigs:
			if fromTerminal(sig) {
				continue
			}
			if r, ok := relayed[sig]; ok && target != cmd.Process.Pid {
				sig = r
			}
			_ = syscall.Kill(target, sig.(syscall.Signal))
		case err := <-done:
			if !known { // bubblewrap has ended: initPid is about to say how
				s := <-pids
				startErr = s.err
			}
			if startErr != nil {
				return 0, fmt.Errorf("%w: %v", ErrNotStarted, startErr)
			}
			return exitStatus(err)
		}
	}
}

// Direct starts cmd, whose process becomes the agent itself (macOS's
// sandbox-exec applies its profile and execs the agent in place), and
// waits for it. There is no init: the terminal's signals reach the agent
// in the shared process group, and a forwarded signal sent to the
// supervisor alone is passed on. The signals are handled, not ignored,
// from before the start: a Ctrl-C does not end the supervisor, and the
// agent starts with their default disposition. It returns the agent's
// exit status.
func Direct(cmd *exec.Cmd) (int, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("cannot start %s: %v", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			if !fromTerminal(sig) {
				_ = cmd.Process.Signal(sig)
			}
		case err := <-done:
			return exitStatus(err)
		}
	}
}

// exitStatus turns cmd.Wait's error into the exit status a shell reports.
func exitStatus(err error) (int, error) {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		return Status(exit.Sys().(syscall.WaitStatus)), nil
	default:
		return 0, err
	}
}

// Init runs the agent as the child of the jail's first process: it starts
// path with argv and env on the standard streams, passes signals on, reaps
// every process that ends (orphans are pid 1's) and returns the agent's
// exit status once the agent has ended. Whatever the agent left running
// ends with the jail when the caller exits.
func Init(path string, argv, env []string) (int, error) {
	// Handled, not ignored, while the agent starts: it gets the default
	// disposition, not the ignoring bubblewrap passed down.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	for _, r := range relayed {
		signal.Notify(sigs, r)
	}
	defer signal.Stop(sigs)
	// syscall's start, not os's: the agent is reaped by pid below, and
	// os's pidfd set-up would only delay its start.
	agent, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: env, Files: []uintptr{0, 1, 2}})
	if err != nil {
		return 0, fmt.Errorf("cannot start %s: %v", path, err)
	}
	signal.Ignore(terminalSignals...)
	ended := make(chan syscall.WaitStatus, 1)
	go func() { ended <- reap(agent) }()
	for {
		select {
		case sig := <-sigs:
			for orig, r := range relayed {
				if sig == r {
					sig = orig
				}
			}
			_ = syscall.Kill(agent, sig.(syscall.Signal))
		case ws := <-ended:
			return Status(ws), nil
		}
	}
}

// reap waits for every child that ends until pid has, and returns pid's
// wait status.
func reap(pid int) syscall.WaitStatus {
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, 0, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
		case err != nil:
			return syscall.WaitStatus(127 << 8) // no child left: pid is gone
		case got == pid:
			return ws
		}
	}
}
