//go:build linux

// Package ptytest gives tests a pseudo-terminal: a program started on it
// has it as its controlling terminal, and the test types into and reads
// from the other end.
package ptytest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Open returns the two ends of a new pseudo-terminal, closed when the test
// ends; it skips the test where there are none.
func Open(t testing.TB) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// Terminal is a program running on a pseudo-terminal as a session leader.
type Terminal struct {
	Cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	out    strings.Builder
}

// Start runs cmd on a new pseudo-terminal, as the leader of a new session
// whose controlling terminal it is, and collects what it writes there.
func Start(t testing.TB, cmd *exec.Cmd) *Terminal {
	t.Helper()
	master, tty := Open(t)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	term := &Terminal{Cmd: cmd, master: master}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return term
}

// Type writes s to the terminal as if typed.
func (term *Terminal) Type(t testing.TB, s string) {
	t.Helper()
	if _, err := term.master.WriteString(s); err != nil {
		t.Fatalf("type %q: %v", s, err)
	}
}

// Output returns everything the program wrote so far.
func (term *Terminal) Output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// WaitFor waits up to a minute until the terminal has shown s count times
// in all, and fails the test with the screen otherwise.
func (term *Terminal) WaitFor(t testing.TB, s string, count int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for strings.Count(term.Output(), s) < count {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal did not show %q (%d times); it shows:\n%s", s, count, term.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
