//go:build linux

package supervise

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/ptytest"
)

// The test binary plays both sides: with roleVar=outside it runs Outside
// on bubblewrap, which runs the test binary again with roleVar=init inside
// the jail, which runs Init on `sh -c $agentVar`.
const (
	roleVar  = "SUPERVISE_TEST_ROLE"
	agentVar = "SUPERVISE_TEST_AGENT"
)

func TestMain(m *testing.M) {
	switch os.Getenv(roleVar) {
	case "outside":
		os.Exit(runOutside())
	case "init":
		status, err := Init("/bin/sh", []string{"sh", "-c", os.Getenv(agentVar)}, os.Environ())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(125)
		}
		os.Exit(status)
	}
	os.Exit(m.Run())
}

// runOutside jails the test binary as init, as jailrun jails its own.
func runOutside() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	cmd := exec.Command("bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
		"--unshare-pid", "--as-pid-1", "--die-with-parent", "--info-fd", "3",
		"--setenv", roleVar, "init", "--", self)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{w}
	status, err := Outside(cmd, func() (int, error) {
		w.Close()
		var info struct {
			ChildPid int `json:"child-pid"`
		}
		err := json.NewDecoder(r).Decode(&info)
		return info.ChildPid, err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	return status
}

func needBwrap(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bwrap is not installed (CI=true): apt-get install bubblewrap")
		}
		t.Skip("bwrap is not installed: apt-get install bubblewrap")
	}
}

// jailed returns a command that runs script as the agent in a jail.
func jailed(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	needBwrap(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), roleVar+"=outside", agentVar+"="+script)
	return cmd
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		ws   syscall.WaitStatus
		want int
	}{
		{0, 0},
		{7 << 8, 7},
		{syscall.WaitStatus(syscall.SIGTERM), 143},
		{syscall.WaitStatus(syscall.SIGKILL), 137},
	} {
		if got := Status(tc.ws); got != tc.want {
			t.Errorf("Status(%#x) = %d, want %d", int(tc.ws), got, tc.want)
		}
	}
}

func TestExitStatusComesThrough(t *testing.T) {
	for script, want := range map[string]int{
		"exit 0":        0,
		"exit 7":        7,
		"kill -KILL $$": 137,
		"kill -TERM $$": 143,
	} {
		err := jailed(t, script).Run()
		got := 0
		if exit, ok := err.(*exec.ExitError); ok {
			got = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%q: exit status %d, want %d", script, got, want)
		}
	}
}

// started runs cmd and waits until its output shows "ready".
func started(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), "ready") {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not start; it wrote %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignalsReachTheAgent(t *testing.T) {
	for sig, name := range map[syscall.Signal]string{syscall.SIGTERM: "TERM", syscall.SIGHUP: "HUP",
		syscall.SIGINT: "INT", syscall.SIGUSR1: "USR1"} {
		t.Run(name, func(t *testing.T) {
			cmd := jailed(t, "trap 'exit 42' "+name+"; echo ready; while :; do sleep 0.05; done")
			started(t, cmd)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 42 {
				t.Fatalf("after %v the jail ended with %v, want the agent's trap status 42", sig, err)
			}
		})
	}
}

// running reports whether a process whose command line contains marker is
// running on the host.
func running(marker string) bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), marker) {
			return true
		}
	}
	return false
}

// waitGone waits a few seconds for processes with marker to end.
func waitGone(marker string) bool {
	for range 200 {
		if !running(marker) {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

func TestNothingOutlivesTheAgent(t *testing.T) {
	const marker = "1234.5"
	// Without the jail the orphan lives on, so the check below can fail.
	if err := exec.Command("sh", "-c", "sleep "+marker+" & exit 0").Run(); err != nil {
		t.Fatal(err)
	}
	if !running(marker) {
		t.Fatal("the unjailed orphan is not running: this test cannot see orphans")
	}
	exec.Command("pkill", "-f", "sleep "+marker).Run()
	waitGone(marker)

	if err := jailed(t, "sleep "+marker+" & exit 0").Run(); err != nil {
		t.Fatal(err)
	}
	if !waitGone(marker) {
		exec.Command("pkill", "-f", "sleep "+marker).Run()
		t.Fatal("a process the agent left running outlived the jail")
	}
}

func TestKilledSupervisorEndsTheJail(t *testing.T) {
	const marker = "2345.5"
	cmd := jailed(t, "echo ready; sleep "+marker)
	started(t, cmd)
	if !running(marker) {
		t.Fatal("the agent is not running")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !waitGone(marker) {
		exec.Command("pkill", "-f", "sleep "+marker).Run()
		t.Fatal("the agent outlived its killed supervisor")
	}
}

// TestJobControl runs the jail from an interactive shell on a terminal:
// Ctrl-Z stops it and the shell says so, fg resumes it, and Ctrl-C reaches
// the agent once.
func TestJobControl(t *testing.T) {
	needBwrap(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	cmd := exec.Command("bash", "--norc", "--noprofile", "-i")
	cmd.Env = append(os.Environ(), "PS1=$ ", "TERM=dumb", roleVar+"=",
		agentVar+"=n=0; trap 'n=$((n+1))' INT; echo ready; while [ $n = 0 ]; do sleep 0.05; done; sleep 0.5; echo ints=$n; exit 3")
	term := ptytest.Start(t, cmd)
	term.WaitFor(t, "$ ", 1)
	term.Type(t, roleVar+"=outside "+os.Args[0]+"\n")
	term.WaitFor(t, "ready", 1)
	term.Type(t, "\x1a") // Ctrl-Z
	term.WaitFor(t, "Stopped", 1)
	term.Type(t, "fg\n")
	time.Sleep(200 * time.Millisecond)
	term.Type(t, "\x03") // Ctrl-C
	term.WaitFor(t, "ints=", 1)
	term.Type(t, "echo sta\"\"tus=$?\n") // the echo of what is typed must not match
	term.WaitFor(t, "status=", 1)
	out := term.Output()
	if !strings.Contains(out, "ints=1") || !strings.Contains(out, "status=3") {
		t.Fatalf("want the agent to get one SIGINT and end with its own status 3; the terminal shows:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer that a process writes to while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
