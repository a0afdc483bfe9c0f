//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	mathrand "math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"

	"github.com/jailrun/jailrun/internal/testbin"
)

// TestFaults runs the built binaries while the keyring misbehaves: its
// daemon killed between two processes, a rotation killed at random
// points, many processes racing each other.
func TestFaults(t *testing.T) {
	bin := testbin.Dir(t)
	t.Run("DaemonKilledBetweenProcesses", func(t *testing.T) { testDaemonKilledBetweenProcesses(t, bin) })
	t.Run("RotateKilled", func(t *testing.T) { testRotateKilled(t, bin) })
	t.Run("GetsRaceRotates", func(t *testing.T) { testGetsRaceRotates(t, bin) })
}

// newKeyringWorld is a world with a private keyring whose session the
// test keeps, to count items and to kill its daemon.
func newKeyringWorld(t *testing.T, bin string) (*world, *keyringtest.Bus) {
	t.Helper()
	ks := keyringtest.Start(t)
	t.Cleanup(func() { // before the daemons stop
		if t.Failed() {
			t.Logf("gnome-keyring's log:\n%s", ks.ProviderLog())
		}
	})
	return worldOn(t, bin, ks, true), ks
}

// command returns the built program (jailrun or git-credential-jailrun)
// with args, in the world's environment, reading stdin.
func (w *world) command(ctx context.Context, stdin, program string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(w.bin, program), args...)
	cmd.Env = w.env
	cmd.Dir = w.home
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

// runProgram runs the built program to its end and returns what it left.
func (w *world) runProgram(stdin, program string, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := w.command(ctx, stdin, program, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		w.t.Fatalf("%s %s: %v", program, strings.Join(args, " "), err)
	}
	return result{stdout.String(), sessionLines(stderr.String()), cmd.ProcessState.ExitCode()}
}

// getRequest is what git sends for a push to github.com without a path.
const getRequest = "protocol=https\nhost=github.com\n\n"

// answer is the helper's answer carrying token.
func answer(token string) string { return "username=x-access-token\npassword=" + token + "\n" }

func testDaemonKilledBetweenProcesses(t *testing.T, bin string) {
	w, ks := newKeyringWorld(t, bin)
	token := w.put("github:classic", "ghp_", time.Time{})
	if r := w.runProgram(getRequest, "git-credential-jailrun", "get"); r.code != 0 || r.stdout != answer(token) {
		t.Fatalf("get before the kill: exit %d, stderr %q, served the token: %v", r.code, r.stderr, strings.Contains(r.stdout, token))
	}
	ks.KillProvider(t)

	for _, tc := range []struct {
		program string
		args    []string
		stdin   string
		code    int
		prefix  string
	}{
		{"git-credential-jailrun", []string{"get"}, getRequest, 1, "git-credential-jailrun: "},
		{"git-credential-jailrun", []string{"--session", "get"}, getRequest, 1, "git-credential-jailrun: "},
		{"jailrun", []string{"token", "list"}, "", 1, "jailrun: "},
		{"jailrun", []string{"token", "rotate", "--yes", "--no-verify", "--name", "github:classic"}, "ghp_new\n", 1, "jailrun: "},
		// A session still starts, without a token, and says why.
		{"jailrun", []string{"run", "--", "true"}, "", 0, "[true] WARN: "},
	} {
		start := time.Now()
		r := w.runProgram(tc.stdin, tc.program, tc.args...)
		what := tc.program + " " + strings.Join(tc.args, " ")
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("%s: took %s with the daemon dead, want under 2s", what, elapsed)
		}
		if r.code != tc.code || r.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q; want exit %d and no output", what, r.code, r.stdout, tc.code)
		}
		if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, tc.prefix) ||
			!strings.Contains(r.stderr, "no Secret Service provider") || !strings.Contains(r.stderr, "gnome-keyring-daemon --start") {
			t.Errorf("%s: stderr %q; want one line %q… naming the missing provider and how to start one", what, r.stderr, tc.prefix)
		}
		if strings.Contains(r.stderr, token) {
			t.Errorf("%s: stderr contains the token", what)
		}
	}
}

// testRotateKilled kills `jailrun token rotate` with SIGKILL at random
// points of its run, 50 times: the name always holds the old or the new
// token in exactly one item.
func testRotateKilled(t *testing.T, bin string) {
	w, ks := newKeyringWorld(t, bin)
	const name = "github:rotated"
	current := w.put(name, "ghp_", time.Time{})
	rotate := []string{"token", "rotate", "--yes", "--no-verify", "--name", name}
	query := map[string]string{"service": keyring.Service(name), "account": keyring.Account()}

	// How long an undisturbed rotation takes sets the range of the kills.
	var span time.Duration
	for range 3 {
		next := "ghp_" + rand.Text()
		start := time.Now()
		if r := w.runProgram(next+"\n", "jailrun", rotate...); r.code != 0 {
			t.Fatalf("rotate: exit %d: %s", r.code, r.stderr)
		}
		span = max(span, time.Since(start))
		current = next
	}
	t.Logf("an undisturbed rotation takes up to %s", span)

	seed := uint64(time.Now().UnixNano())
	rng := mathrand.New(mathrand.NewPCG(seed, seed))
	var kept, replaced int
	for run := range 50 {
		next := "ghp_" + rand.Text()
		delay := time.Duration(rng.Int64N(int64(span + span/5)))
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		cmd := w.command(ctx, next+"\n", "jailrun", rotate...)
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cancel()

		if n := ks.Count(t, query); n != 1 {
			t.Fatalf("run %d (seed %d), killed after %s: %d items hold %s, want 1", run, seed, delay, n, name)
		}
		got, err := w.kr.Get(name)
		switch {
		case err != nil:
			t.Fatalf("run %d (seed %d), killed after %s: %v", run, seed, delay, err)
		case got.Secret == current:
			kept++
		case got.Secret == next:
			replaced++
			current = next
		default:
			t.Fatalf("run %d (seed %d), killed after %s: %s holds %s, neither the old %s nor the new %s",
				run, seed, delay, name, keyring.Preview(got.Secret), keyring.Preview(current), keyring.Preview(next))
		}
	}
	t.Logf("50 killed rotations: %d kept the old token, %d stored the new one", kept, replaced)
}

// testGetsRaceRotates runs 40 `git-credential-jailrun get` against 5
// `jailrun token rotate` of the token they are served, all at once.
func testGetsRaceRotates(t *testing.T, bin string) {
	w, ks := newKeyringWorld(t, bin)
	const name = "github:classic"
	old := w.put(name, "ghp_", time.Time{})
	const getters, rotators = 40, 5
	var rotated []string
	for range rotators {
		rotated = append(rotated, "ghp_"+rand.Text())
	}
	served := append([]string{old}, rotated...)

	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, getters+rotators)
	launch := func(stdin, program string, check func(result) string, args ...string) {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			defer cancel()
			cmd := w.command(ctx, stdin, program, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			<-start
			err := cmd.Run()
			if cmd.ProcessState == nil {
				errs <- fmt.Sprintf("%s: %v", program, err)
				return
			}
			if msg := check(result{stdout.String(), sessionLines(stderr.String()), cmd.ProcessState.ExitCode()}); msg != "" {
				errs <- program + " " + args[len(args)-1] + ": " + msg
			}
		})
	}
	for _, secret := range rotated {
		launch(secret+"\n", "jailrun", func(r result) string {
			if r.code != 0 {
				return fmt.Sprintf("exit %d: %s", r.code, r.stderr)
			}
			return ""
		}, "token", "rotate", "--yes", "--no-verify", "--name", name)
	}
	for range getters {
		launch(getRequest, "git-credential-jailrun", func(r result) string {
			if r.code != 0 || r.stderr != "" {
				return fmt.Sprintf("exit %d: %s", r.code, r.stderr)
			}
			if !slices.ContainsFunc(served, func(s string) bool { return r.stdout == answer(s) }) {
				return fmt.Sprintf("served %d bytes, not the old or a new token", len(r.stdout))
			}
			return ""
		}, "get")
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d gets and %d rotations took %s", getters, rotators, time.Since(began))
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if n := ks.Count(t, map[string]string{"service": keyring.Service(name), "account": keyring.Account()}); n != 1 {
		t.Fatalf("after the race: %d items hold %s, want 1", n, name)
	}
	if got, err := w.kr.Get(name); err != nil || !slices.Contains(rotated, got.Secret) {
		t.Fatalf("after the race: %s holds %s (error %v), want one of the rotated tokens", name, keyring.Preview(got.Secret), err)
	}
}
