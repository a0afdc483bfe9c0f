package cli_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/ptytest"
	"github.com/jailrun/jailrun/internal/testbin"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform"
)

// TestPrompts checks the order of what a person sees and types: echo goes
// off before a hidden prompt shows, and rotate reads the new token before
// it asks anything.
func TestPrompts(t *testing.T) {
	bin := testbin.Dir(t) + "/jailrun"
	t.Run("EchoOffBeforePrompt", func(t *testing.T) { testEchoOffBeforePrompt(t, bin) })
	t.Run("RotateReadsHiddenFirst", func(t *testing.T) { testRotateReadsHiddenFirst(t, bin) })
}

// testEchoOffBeforePrompt runs token add as a background job of a shell
// with job control: the kernel stops it (SIGTTOU) at its first change of
// the terminal's settings. At that moment the hidden prompt must not be on
// the screen yet, or what is typed after it would be echoed.
func testEchoOffBeforePrompt(t *testing.T, bin string) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is needed for a shell with job control")
	}
	keyringtest.Start(t)
	script := `set -m; "$0" token add --no-verify --name github:order & echo "job $!"; read -r _; fg %1 >/dev/null`
	cmd := exec.Command(bash, "-c", script, bin)
	term := ptytest.Start(t, cmd)
	term.WaitFor(t, "job ", 1)
	var pid string
	deadline := time.Now().Add(time.Minute)
	for pid == "" {
		if m := regexp.MustCompile(`job (\d+)\r?\n`).FindStringSubmatch(term.Output()); m != nil {
			pid = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the shell did not say the job's pid; it shows:\n%s", term.Output())
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for !stopped(t, pid) {
		if time.Now().After(deadline) {
			t.Fatalf("token add never touched the terminal's settings; it shows:\n%s", term.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(term.Output(), "(input hidden)") {
		t.Fatalf("the hidden prompt showed before echo was turned off; the screen:\n%s", term.Output())
	}
	term.Type(t, "\r") // the shell brings the job to the foreground
	term.WaitFor(t, "(input hidden): ", 1)
	const secret = "ghp_orderedSecret0123456789"
	term.Type(t, secret+"\r")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("token add: %v; the screen:\n%s", err, term.Output())
	}
	if strings.Contains(term.Output(), secret) {
		t.Errorf("the terminal showed the token: %q", strings.ReplaceAll(term.Output(), secret, keyring.Preview(secret)))
	}
	term.WaitFor(t, "Saved github:order", 1)
}

// stopped reports whether process pid is stopped by a signal.
func stopped(t *testing.T, pid string) bool {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		t.Fatalf("token add ended early: %v", err)
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(after, "T")
}

// testRotateReadsHiddenFirst rotates a token the way a person pastes one:
// the first prompt is the hidden one, the question after it shows both
// previews, and the terminal never shows the new token.
func testRotateReadsHiddenFirst(t *testing.T, bin string) {
	keyringtest.Start(t)
	kr, err := platform.Open()
	if err != nil {
		t.Fatal(err)
	}
	const old, secret = "ghp_oldRotated0123456789", "ghp_newRotated9876543210"
	if err := kr.Put(keyring.Token{Name: "github:r", Secret: old}); err != nil {
		t.Fatal(err)
	}
	kr.Close()
	cmd := exec.Command(bin, "token", "rotate", "--no-verify", "--name", "github:r")
	term := ptytest.Start(t, cmd)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(term.Output(), "(input hidden): ") {
		if strings.Contains(term.Output(), "[y/N]") || time.Now().After(deadline) {
			t.Fatalf("rotate did not ask for the new token first; the screen:\n%s", term.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	term.Type(t, secret+"\r")
	term.WaitFor(t, "Replace ghp_oldR... with ghp_newR...? [y/N] ", 1)
	term.Type(t, "y\r")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("token rotate: %v; the screen:\n%s", err, term.Output())
	}
	term.WaitFor(t, "Updated github:r (ghp_newR...)", 1)
	if strings.Contains(term.Output(), secret) {
		t.Errorf("the terminal showed the token: %q", strings.ReplaceAll(term.Output(), secret, keyring.Preview(secret)))
	}
}
