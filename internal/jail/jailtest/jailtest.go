//go:build linux

// Package jailtest runs policies in the real bubblewrap for tests: the
// jail's own, and the escape suite built on it.
package jailtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/jail"
)

// runTimeout bounds one jailed command; they take milliseconds.
const runTimeout = 30 * time.Second

// Need skips the test when bwrap is missing or cannot start a sandbox here,
// saying why and how to fix it; under CI=true it fails instead.
func Need(t testing.TB) {
	t.Helper()
	if err := jail.Probe(context.Background()); err != nil {
		msg := "the jail cannot start here: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// Result is what one run left behind.
type Result struct {
	Stdout, Stderr string
	ExitCode       int // -1 when it did not exit normally
	ChildPID       int // the host pid of the jail's first process, as bwrap reported it
}

// Run runs p in bwrap, as Build makes it, and waits for it. A failure to
// start fails the test; the command's own failure is in ExitCode.
func Run(t testing.TB, p jail.Policy) Result {
	t.Helper()
	return RunAs(t, p, nil)
}

// RunAs is Run with bwrap started as the user cred names (nil: as this
// process), which makes bwrap use a user namespace unless that is root.
func RunAs(t testing.TB, p jail.Policy, cred *syscall.Credential) Result {
	t.Helper()
	c, err := jail.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := c.Cmd(ctx)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bwrap: %v", err)
	}
	pid, pidErr := c.ChildPID(runTimeout)
	err = cmd.Wait()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("bwrap: %v", err)
	}
	if pidErr != nil {
		t.Fatalf("%v (stderr: %s)", pidErr, stderr.String())
	}
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: cmd.ProcessState.ExitCode(), ChildPID: pid}
}

// RunUnjailed runs p's command as it is, without bwrap, in p's directory and
// environment: the planted positive that shows a check can fail.
func RunUnjailed(t testing.TB, p jail.Policy) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Argv[0], p.Argv[1:]...)
	cmd.Dir, cmd.Env = p.Dir, jail.Environ(p)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("run %s: %v", p.Argv[0], err)
	}
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: cmd.ProcessState.ExitCode(), ChildPID: cmd.Process.Pid}
}

// Sh returns p with its command replaced by `sh -c script`.
func Sh(p jail.Policy, script string) jail.Policy {
	p.Argv = []string{"/bin/sh", "-c", script}
	return p
}
