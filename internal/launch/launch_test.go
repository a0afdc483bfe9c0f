package launch_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/config/configtest"
	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/internal/launch"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/session"
)

const (
	myorgSecret   = "github_pat_myorgSECRET0000000000000000"
	classicSecret = "ghp_classicSECRET000000000000000000000"
)

// started is what the fake exec was asked to run.
type started struct {
	path       string
	argv, env  []string
	calls      int
	exitStatus int
}

// testEnv is a launch's world in a temporary home: a fake agent and a fake
// gh on PATH, the working directory in a clone of github.com/myorg/app,
// an in-memory keyring and an exec that starts nothing.
func testEnv(t *testing.T, vars map[string]string) (*launch.Env, *started, *keyringtest.Fake, *bytes.Buffer) {
	t.Helper()
	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"claude", "gh", "git-credential-jailrun"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\nexit 99\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	vars["HOME"] = home
	vars["PATH"] = bin
	getenv := func(k string) string { return vars[k] }
	configtest.Write(t, getenv, "")
	repo := filepath.Join(home, "app")
	gittest.InitWorkRepo(t, repo, "https://github.com/myorg/app.git")

	kr := &keyringtest.Fake{Tokens: []keyring.Token{
		{Name: "github:classic", Secret: classicSecret},
		{Name: "github:fine-grained-myorg", Secret: myorgSecret},
	}}
	run := &started{exitStatus: 3}
	var stderr bytes.Buffer
	env := &launch.Env{
		Stderr:      &stderr,
		Getenv:      getenv,
		Environ:     func() []string { return []string{"CALLER=kept", "GITHUB_TOKEN=ghp_callersOWN"} },
		Getwd:       func() (string, error) { return repo, nil },
		Now:         func() time.Time { return time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC) },
		OpenKeyring: func() (keyring.Keyring, error) { return kr, nil },
		Exec: func(path string, argv, env []string) (int, error) {
			run.path, run.argv, run.env = path, argv, env
			run.calls++
			return run.exitStatus, nil
		},
	}
	return env, run, kr, &stderr
}

// TestPrepareAndRun plans a launch in a clone of myorg's repository
// without starting anything, then runs the plan with the fake exec.
func TestPrepareAndRun(t *testing.T) {
	env, run, _, stderr := testEnv(t, map[string]string{})
	plan, err := launch.Prepare(env, "claude", "claude", []string{"--resume"})
	if err != nil {
		t.Fatal(err)
	}
	if run.calls != 0 {
		t.Fatal("Prepare started the program")
	}
	if want := filepath.Join(env.Getenv("PATH"), "claude"); plan.Path != want {
		t.Errorf("Path = %q, want %q", plan.Path, want)
	}
	if want := []string{"claude", "--resume"}; !slices.Equal(plan.Argv, want) {
		t.Errorf("Argv = %q, want %q", plan.Argv, want)
	}
	if plan.Token.Name != "github:fine-grained-myorg" || plan.TokenHost != "github.com" {
		t.Errorf("token %q for %q, want github:fine-grained-myorg for github.com", plan.Token.Name, plan.TokenHost)
	}
	for _, want := range []string{"CALLER=kept", "GH_TOKEN=" + myorgSecret, session.Marker + "=1"} {
		if !slices.Contains(plan.Env, want) {
			t.Errorf("Env lacks %s", keyring.Preview(want))
		}
	}
	if slices.ContainsFunc(plan.Env, func(kv string) bool { return strings.HasPrefix(kv, "GITHUB_TOKEN=") }) {
		t.Error("Env keeps the caller's GITHUB_TOKEN")
	}
	if got := stderr.String(); !strings.Contains(got, "[claude] GitHub: PAT github:fine-grained-myorg") || strings.Contains(got, myorgSecret) {
		t.Errorf("start line = %q, want the token's name and never its secret", strings.ReplaceAll(got, myorgSecret, keyring.Preview(myorgSecret)))
	}

	status, err := plan.Run(env)
	if err != nil || status != run.exitStatus {
		t.Fatalf("Run = %d, %v; want %d", status, err, run.exitStatus)
	}
	if run.path != plan.Path || !slices.Equal(run.argv, plan.Argv) || !slices.Equal(run.env, plan.Env) {
		t.Error("Run executed something other than the plan")
	}
}

// TestPrepareInSession runs the program as it is inside a session: no
// keyring, the caller's environment unchanged.
func TestPrepareInSession(t *testing.T) {
	env, _, _, stderr := testEnv(t, map[string]string{session.Marker: "1"})
	env.OpenKeyring = func() (keyring.Keyring, error) {
		t.Error("a launch inside a session opened the keyring")
		return nil, errors.New("not in this test")
	}
	plan, err := launch.Prepare(env, "claude", "claude", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plan.Env, env.Environ()) || plan.Token.Secret != "" || stderr.Len() != 0 {
		t.Errorf("in a session: Env %q, token %q, start line %q; want the caller's environment, no token, no line",
			plan.Env, plan.Token.Name, stderr.String())
	}
}

// TestPrepareMissingAgent says how to install a known agent.
func TestPrepareMissingAgent(t *testing.T) {
	env, _, _, _ := testEnv(t, map[string]string{})
	_, err := launch.Prepare(env, "codex", "codex", nil)
	if err == nil || !strings.Contains(err.Error(), "npm install -g @openai/codex") {
		t.Errorf("Prepare(codex) = %v, want the install hint", err)
	}
}

// TestPrepareShim routes gh's token by its -R flag and closes the keyring.
func TestPrepareShim(t *testing.T) {
	env, run, kr, _ := testEnv(t, map[string]string{})
	plan, err := launch.PrepareShim(env, []string{"pr", "list", "-R", "someone/else"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Token.Name != "github:classic" || !slices.Contains(plan.Env, "GH_TOKEN="+classicSecret) {
		t.Errorf("gh -R someone/else: token %q, want github:classic in GH_TOKEN", plan.Token.Name)
	}
	if !kr.Closed {
		t.Error("the shim left the keyring open")
	}
	if status, err := plan.Run(env); err != nil || status != run.exitStatus || run.argv[0] != "gh" {
		t.Errorf("Run = %d, %v (argv %q); want %d from gh", status, err, run.argv, run.exitStatus)
	}
}

// TestPrepareShimWithoutGH is ErrGHNotInstalled.
func TestPrepareShimWithoutGH(t *testing.T) {
	env, _, _, _ := testEnv(t, map[string]string{})
	if err := os.Remove(filepath.Join(env.Getenv("PATH"), "gh")); err != nil {
		t.Fatal(err)
	}
	if _, err := launch.PrepareShim(env, nil); !errors.Is(err, launch.ErrGHNotInstalled) {
		t.Errorf("PrepareShim without gh = %v, want ErrGHNotInstalled", err)
	}
}

// metaKeyring is a Fake that also reads tokens without their secrets, as
// the Secret Service does (keyring.MetaGetter), counting those reads.
type metaKeyring struct {
	*keyringtest.Fake
	metas int
}

func (k *metaKeyring) GetMeta(name string) (keyring.Token, error) {
	k.metas++
	for _, t := range k.Tokens {
		if t.Name == name {
			t.Secret = ""
			t.Meta.Kind = "fine-grained"
			return t, nil
		}
	}
	return keyring.Token{}, keyring.ErrNotFound
}

// TestJailFallbackReadsTheSecret: a launch that would jail reads its
// token without the secret, which stays for the proxy outside to read;
// when the jail does not start (no bubblewrap here), the program runs
// unjailed, and the secret is read for it first.
func TestJailFallbackReadsTheSecret(t *testing.T) {
	env, run, kr, stderr := testEnv(t, map[string]string{})
	counted := &metaKeyring{Fake: kr}
	env.OpenKeyring = func() (keyring.Keyring, error) { return counted, nil }
	bin := t.TempDir() // git, and no bwrap
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	if err := os.Symlink(git, filepath.Join(bin, "git")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	status, err := launch.Launch(env, launch.JailAuto, "claude", "claude", nil)
	if err != nil || status != run.exitStatus {
		t.Fatalf("Launch = %d, %v; want the fake's %d; stderr:\n%s", status, err, run.exitStatus, stderr)
	}
	if counted.metas != 1 || kr.Gets != 1 {
		t.Errorf("the launch read the token %d times without its secret and %d with it; want once each", counted.metas, kr.Gets)
	}
	if !slices.Contains(run.env, "GH_TOKEN="+myorgSecret) {
		t.Error("the program that ran unjailed did not get the token")
	}
	if got := stderr.String(); !strings.Contains(got, "NOT jailed") || !strings.Contains(got, "real token in the session") {
		t.Errorf("stderr = %q, want a NOT jailed line that says the real token is in the session", got)
	}
}
