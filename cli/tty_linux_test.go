package cli_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/ptytest"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform"
	"golang.org/x/sys/unix"

	"github.com/jailrun/jailrun/internal/testbin"
)

// echoOn reports whether the terminal echoes what is typed.
func echoOn(t *testing.T, tty *os.File) bool {
	t.Helper()
	st, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("read terminal settings: %v", err)
	}
	return st.Lflag&unix.ECHO != 0
}

// startOnTTY runs jailrun with the terminal as its controlling terminal
// and returns what it writes there, as it comes.
func startOnTTY(t *testing.T, bin string, tty, master *os.File, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "JAILRUN_GITHUB_API=https://127.0.0.1:1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	out := &syncBuffer{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	return cmd, out
}

// waitFor waits until the terminal shows s.
func waitFor(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("terminal never showed %q; it shows %q", s, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTerminal runs token add on a pseudo-terminal, as a person types.
func TestTerminal(t *testing.T) {
	bin := testbin.Dir(t) + "/jailrun"
	t.Run("HiddenInput", func(t *testing.T) { testHiddenInput(t, bin) })
	t.Run("InterruptRestoresTerminal", func(t *testing.T) { testInterruptRestoresTerminal(t, bin) })
}

// testHiddenInput types a token at the prompt: it is stored, and the
// terminal never shows it.
func testHiddenInput(t *testing.T, bin string) {
	keyringtest.Start(t)
	master, tty := ptytest.Open(t)
	cmd, out := startOnTTY(t, bin, tty, master, "token", "add", "--no-verify", "--name", "github:typed")
	waitFor(t, out, "(input hidden): ")
	if echoOn(t, tty) {
		t.Error("echo is on while the token is typed")
	}
	const secret = "ghp_typedSecret0123456789"
	master.WriteString(secret + "\r")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("token add: %v; terminal shows %q", err, out.String())
	}
	waitFor(t, out, "Saved github:typed")
	if strings.Contains(out.String(), secret) {
		t.Errorf("the terminal showed the token: %q", strings.ReplaceAll(out.String(), secret, keyring.Preview(secret)))
	}
	if !echoOn(t, tty) {
		t.Error("echo is still off after the prompt")
	}
	kr, err := platform.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	got, err := kr.Get("github:typed")
	if err != nil || got.Secret != secret {
		t.Errorf("stored token = %q, %v; want the typed one", keyring.Preview(got.Secret), err)
	}
}

// testInterruptRestoresTerminal presses Ctrl-C at the hidden prompt:
// jailrun ends with 130, stores nothing, and the terminal echoes again.
func testInterruptRestoresTerminal(t *testing.T, bin string) {
	keyringtest.Start(t)
	master, tty := ptytest.Open(t)
	cmd, out := startOnTTY(t, bin, tty, master, "token", "add", "--no-verify", "--name", "github:interrupted")
	waitFor(t, out, "(input hidden): ")
	if echoOn(t, tty) {
		t.Fatal("echo is on at the hidden prompt")
	}
	master.Write([]byte{3}) // Ctrl-C
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("after Ctrl-C: %v, want exit status 130", err)
	}
	if !echoOn(t, tty) {
		t.Error("the terminal was left without echo")
	}
	kr, err := platform.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	if _, err := kr.Get("github:interrupted"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("after Ctrl-C, Get = %v, want not found", err)
	}
}

// syncBuffer collects output written by one goroutine and read by another.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) write(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
