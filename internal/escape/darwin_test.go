//go:build darwin

package escape_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/testbin"
)

// The macOS escape cases: a few attacks run in `jailrun run` with
// JAILRUN_JAIL=on, where they must fail, and with it off, where they must
// succeed, so that each case can fail. They use the system's own tools
// (sh, cat, touch, nc, security); the Linux suite's attacker is
// Linux-only.

// runTimeout bounds one run of jailrun.
const runTimeout = 60 * time.Second

const (
	planted = "PLANTED"
	banner  = "jailrun-escape-banner"
)

func TestMain(m *testing.M) { os.Exit(testbin.RemovingAfter(m).Run()) }

// macWorld is a home with planted credentials, a working directory, and
// a loopback listener outside the jail.
type macWorld struct {
	t       *testing.T
	jailrun string
	home    string
	work    string
	tcpAddr string
	env     []string
}

func newMacWorld(t *testing.T) *macWorld {
	t.Helper()
	if _, err := os.Stat("/usr/bin/sandbox-exec"); err != nil {
		t.Fatalf("sandbox-exec is missing: %v", err)
	}
	w := &macWorld{t: t, jailrun: testbin.Path(t, "jailrun"), home: t.TempDir(), work: t.TempDir()}
	for name, content := range map[string]string{
		".netrc":               "machine github.com login x password " + planted + "\n",
		".ssh/id_ed25519":      planted + "\n",
		".config/gh/hosts.yml": "github.com:\n    oauth_token: " + planted + "\n",
	} {
		path := filepath.Join(w.home, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(banner + "\n"))
			c.Close()
		}
	}()
	w.tcpAddr = l.Addr().String()
	w.env = []string{
		"HOME=" + w.home,
		"PATH=/usr/bin:/bin:/usr/sbin:/sbin",
		"USER=" + os.Getenv("USER"),
		"XDG_CONFIG_HOME=" + filepath.Join(w.home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(w.home, ".local/state"),
		"TMPDIR=" + os.Getenv("TMPDIR"),
	}
	return w
}

type macResult struct {
	stdout, stderr string
	code           int
}

// run runs script in `jailrun run` with JAILRUN_JAIL=mode ("on" or "off").
func (w *macWorld) run(mode, script string) macResult {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.jailrun, "run", "--", "/bin/sh", "-c", script)
	cmd.Dir = w.work
	cmd.Env = append(append([]string{}, w.env...), "JAILRUN_JAIL="+mode)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := macResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		w.t.Fatalf("jailrun run (JAILRUN_JAIL=%s): %v", mode, err)
	}
	if mode == "on" && !strings.Contains(r.stderr, "] jailed") {
		w.t.Fatalf("JAILRUN_JAIL=on: the start line does not say jailed (exit %d); stderr:\n%s", r.code, r.stderr)
	}
	return r
}

func TestMacJailStillWorks(t *testing.T) {
	w := newMacWorld(t)
	r := w.run("on", `echo ok && touch "$PWD/written" && touch "$TMPDIR/written" && echo written`)
	if r.code != 0 || r.stdout != "ok\nwritten\n" {
		t.Fatalf("jailed: exit %d, stdout %q, want ok and written; stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(w.work, "written")); err != nil {
		t.Errorf("the jail's write to its working directory is not there: %v", err)
	}
}

func TestMacEscapes(t *testing.T) {
	w := newMacWorld(t)
	for _, tc := range []struct {
		name   string
		script string
		// breached reports whether the attack worked.
		breached func(macResult) bool
	}{
		{"read a masked file", `cat "$HOME/.netrc"`, readPlanted},
		{"read a file in a masked directory", `cat "$HOME/.ssh/id_ed25519"`, readPlanted},
		{"read gh's token", `cat "$HOME/.config/gh/hosts.yml"`, readPlanted},
		{"write HOME", `touch "$HOME/planted-by-agent" && echo written`, func(r macResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "written")
		}},
		{"reach a loopback port", "/usr/bin/nc -w 5 " + strings.Replace(w.tcpAddr, ":", " ", 1) + " </dev/null", func(r macResult) bool {
			return strings.Contains(r.stdout, banner)
		}},
		{"run /usr/bin/security", `/usr/bin/security list-keychains && echo ran`, func(r macResult) bool {
			return r.code == 0 && strings.Contains(r.stdout, "ran")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := w.run("off", tc.script); !tc.breached(r) {
				t.Fatalf("unjailed, the attack did not work, so the jailed run proves nothing: exit %d, stdout %.200q, stderr:\n%s",
					r.code, r.stdout, r.stderr)
			}
			os.Remove(filepath.Join(w.home, "planted-by-agent"))
			if r := w.run("on", tc.script); tc.breached(r) {
				t.Errorf("jailed, the attack worked: exit %d; stderr:\n%s", r.code, r.stderr)
			}
			if _, err := os.Lstat(filepath.Join(w.home, "planted-by-agent")); err == nil {
				t.Errorf("the jailed agent wrote to HOME")
			}
		})
	}
}

// readPlanted reports whether a run printed a planted secret; the test
// never prints what it read.
func readPlanted(r macResult) bool { return strings.Contains(r.stdout, planted) }
