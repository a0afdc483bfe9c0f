package helper

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform"

	"github.com/jailrun/jailrun/config/configtest"
	"github.com/jailrun/jailrun/internal/testbin"
)

// commandTimeout bounds every git or helper run of the tests.
const commandTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	testbin.HideInstalled()
	os.Exit(testbin.RemovingAfter(m).Run())
}

// world is a private keyring and a clean environment for git and the helper.
type world struct {
	t      *testing.T
	bus    *keyringtest.Bus
	helper string // the built git-credential-jailrun
	env    []string
	kr     keyring.Keyring
}

// newWorld starts a private gnome-keyring and prepares an environment in
// which git reads no configuration of the developer and asks the askpass
// script of git's own test suite for what no helper provides.
func newWorld(t *testing.T) *world {
	t.Helper()
	s := keyringtest.Start(t)
	dir := t.TempDir()
	askpass := filepath.Join(dir, "askpass")
	err := os.WriteFile(askpass, []byte(`#!/bin/sh
echo >&2 askpass: $*
what=$(echo $1 | cut -d" " -f1 | tr A-Z a-z | tr -cd a-z)
echo "askpass-$what"
`), 0o700)
	if err != nil {
		t.Fatal(err)
	}
	env := append([]string{
		"PATH=" + os.Getenv("PATH"),
		"USER=" + os.Getenv("USER"),
		"LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(dir, "gitconfig"),
		"GIT_ASKPASS=" + askpass,
		"GIT_TERMINAL_PROMPT=0",
	}, s.Env()...)
	kr, err := platform.Open()
	if err != nil {
		t.Fatalf("open the test keyring: %v", err)
	}
	t.Cleanup(func() { kr.Close() })
	return &world{t: t, bus: s, helper: testbin.Path(t, Program), env: env, kr: kr}
}

// writeConfig writes the jailrun config that the helper reads.
func (w *world) writeConfig(content string) {
	w.t.Helper()
	configtest.Write(w.t, os.Getenv, content)
}

// put stores a token in the test keyring.
func (w *world) put(name, secret string) {
	w.t.Helper()
	if err := w.kr.Put(keyring.Token{Name: name, Secret: secret}); err != nil {
		w.t.Fatalf("Put(%s): %v", name, err)
	}
}

// run runs name with args in the world's environment and returns its
// output and exit status.
func (w *world) run(stdin, name string, args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = w.env
	cmd.Dir = w.t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		w.t.Fatalf("%s %s did not finish within %s", name, strings.Join(args, " "), commandTimeout)
	}
	if err != nil && cmd.ProcessState == nil {
		w.t.Fatalf("run %s: %v", name, err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// check runs `git credential ACTION` with the helper configured as
// helperCmd and compares its output, like check() of git's
// t/lib-credential.sh. input and the wanted outputs are lines without
// their final newline. Outputs are test data, never tokens.
func (w *world) check(helperCmd, action, input, wantOut, wantErr string, config ...string) {
	w.t.Helper()
	args := []string{"-c", "credential.helper=" + helperCmd}
	for _, c := range config {
		args = append(args, "-c", c)
	}
	args = append(args, "credential", action)
	out, errOut, code := w.run(lines(input), "git", args...)
	if code != 0 {
		w.t.Fatalf("git credential %s: exit %d: %s", action, code, errOut)
	}
	if out != lines(wantOut) {
		w.t.Errorf("git credential %s of\n%s\nstdout:\n%s\nwant:\n%s", action, input, out, lines(wantOut))
	}
	if errOut != lines(wantErr) {
		w.t.Errorf("git credential %s of\n%s\nstderr:\n%s\nwant:\n%s", action, input, errOut, lines(wantErr))
	}
}

// lines turns "a\nb" into "a\nb\n" and "" into "".
func lines(s string) string {
	if s == "" {
		return ""
	}
	return s + "\n"
}

// askpass is what git's askpass script writes to stderr for url.
func askpass(url string, user bool) string {
	pass := "askpass: Password for '" + strings.Replace(url, "://", "://askpass-username@", 1) + "':"
	if !user {
		return "askpass: Password for '" + url + "':"
	}
	return "askpass: Username for '" + url + "':\n" + pass
}

// TestGitExternalHelperSuite re-creates helper_test of git's
// t/lib-credential.sh (with the tests newer git added) against the helper
// in plain mode and a private gnome-keyring.
func TestGitExternalHelperSuite(t *testing.T) {
	w := newWorld(t)
	h := w.helper

	step := func(name string, f func()) {
		t.Helper()
		if t.Failed() {
			return // each step builds on the state the ones before left
		}
		t.Log(name)
		f()
	}
	step("has no existing data", func() {
		w.check(h, "fill", "protocol=https\nhost=example.com",
			"protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password",
			askpass("https://example.com", true))
	})
	step("stores password", func() {
		w.check(h, "approve", "protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass", "", "")
	})
	step("can retrieve password", func() {
		w.check(h, "fill", "protocol=https\nhost=example.com",
			"protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass", "")
	})
	step("requires matching protocol", func() {
		w.check(h, "fill", "protocol=http\nhost=example.com",
			"protocol=http\nhost=example.com\nusername=askpass-username\npassword=askpass-password",
			askpass("http://example.com", true))
	})
	step("requires matching host", func() {
		w.check(h, "fill", "protocol=https\nhost=other.tld",
			"protocol=https\nhost=other.tld\nusername=askpass-username\npassword=askpass-password",
			askpass("https://other.tld", true))
	})
	step("requires matching username", func() {
		w.check(h, "fill", "protocol=https\nhost=example.com\nusername=other",
			"protocol=https\nhost=example.com\nusername=other\npassword=askpass-password",
			"askpass: Password for 'https://other@example.com':")
	})
	step("requires matching path", func() {
		w.check(h, "approve", "protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass", "", "",
			"credential.usehttppath=true")
		w.check(h, "fill", "protocol=http\nhost=path.tld\npath=bar.git",
			"protocol=http\nhost=path.tld\npath=bar.git\nusername=askpass-username\npassword=askpass-password",
			askpass("http://path.tld/bar.git", true), "credential.usehttppath=true")
		w.check(h, "fill", "protocol=http\nhost=path.tld\npath=foo.git",
			"protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass", "", "credential.usehttppath=true")
	})
	step("overwrites on store", func() {
		w.check(h, "approve", "protocol=https\nhost=overwrite.tld\nusername=overwrite-user\npassword=overwrite-pass", "", "")
		w.check(h, "approve", "protocol=https\nhost=overwrite.tld\nusername=overwrite-user\npassword=overwrite-pass2", "", "")
		w.check(h, "fill", "protocol=https\nhost=overwrite.tld",
			"protocol=https\nhost=overwrite.tld\nusername=overwrite-user\npassword=overwrite-pass2", "")
		w.check(h, "reject", "protocol=https\nhost=overwrite.tld\nusername=overwrite-user\npassword=overwrite-pass2", "", "")
		w.check(h, "fill", "protocol=https\nhost=overwrite.tld",
			"protocol=https\nhost=overwrite.tld\nusername=askpass-username\npassword=askpass-password",
			askpass("https://overwrite.tld", true))
	})
	step("can forget host", func() {
		w.check(h, "reject", "protocol=https\nhost=example.com", "", "")
		w.check(h, "fill", "protocol=https\nhost=example.com",
			"protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password",
			askpass("https://example.com", true))
	})
	step("can store multiple users", func() {
		w.check(h, "approve", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1", "", "")
		time.Sleep(1100 * time.Millisecond) // the keyring dates items to the second
		w.check(h, "approve", "protocol=https\nhost=example.com\nusername=user2\npassword=pass2", "", "")
		w.check(h, "fill", "protocol=https\nhost=example.com\nusername=user1",
			"protocol=https\nhost=example.com\nusername=user1\npassword=pass1", "")
		w.check(h, "fill", "protocol=https\nhost=example.com\nusername=user2",
			"protocol=https\nhost=example.com\nusername=user2\npassword=pass2", "")
		// With several users and none sent: the most recently stored.
		w.check(h, "fill", "protocol=https\nhost=example.com",
			"protocol=https\nhost=example.com\nusername=user2\npassword=pass2", "")
	})
	step("does not erase a password distinct from input", func() {
		w.check(h, "approve", "protocol=https\nhost=distinct.tld\nusername=user-distinct-pass\npassword=pass1", "", "")
		w.check(h, "reject", "protocol=https\nhost=distinct.tld\nusername=user-distinct-pass\npassword=pass2", "", "")
		w.check(h, "fill", "protocol=https\nhost=distinct.tld\nusername=user-distinct-pass",
			"protocol=https\nhost=distinct.tld\nusername=user-distinct-pass\npassword=pass1", "")
	})
	step("can forget user", func() {
		w.check(h, "reject", "protocol=https\nhost=example.com\nusername=user1", "", "")
		w.check(h, "fill", "protocol=https\nhost=example.com\nusername=user1",
			"protocol=https\nhost=example.com\nusername=user1\npassword=askpass-password",
			"askpass: Password for 'https://user1@example.com':")
	})
	step("remembers other user", func() {
		w.check(h, "fill", "protocol=https\nhost=example.com\nusername=user2",
			"protocol=https\nhost=example.com\nusername=user2\npassword=pass2", "")
	})
	step("can store empty username", func() {
		w.check(h, "approve", "protocol=https\nhost=sso.tld\nusername=\npassword=", "", "")
		w.check(h, "fill", "protocol=https\nhost=sso.tld",
			"protocol=https\nhost=sso.tld\nusername=\npassword=", "")
	})
	step("erases all matching credentials", func() {
		w.check(h, "approve", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1", "", "")
		w.check(h, "approve", "protocol=https\nhost=example.com\nusername=user2\npassword=pass2", "", "")
		w.check(h, "reject", "protocol=https\nhost=example.com", "", "")
		w.check(h, "fill", "protocol=https\nhost=example.com",
			"protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password",
			askpass("https://example.com", true))
	})

	// git 2.39 does not pass these attributes on to helpers yet, so the
	// helper is fed what newer git writes.
	direct := func(action, input string) (string, string) {
		t.Helper()
		out, errOut, code := w.run(input+"\n\n", h, action)
		if code != 0 {
			t.Fatalf("%s %s: exit %d: %s", Program, action, code, errOut)
		}
		return out, errOut
	}
	step("password_expiry_utc round trip", func() {
		direct("store", "protocol=https\nhost=expiry.tld\nusername=user-expiry\npassword=pass\npassword_expiry_utc=9999999999")
		out, _ := direct("get", "protocol=https\nhost=expiry.tld\nusername=user-expiry")
		if want := "username=user-expiry\npassword=pass\npassword_expiry_utc=9999999999\n"; out != want {
			t.Errorf("get: %q, want %q", out, want)
		}
		direct("store", "protocol=https\nhost=expired.tld\nusername=user-expiry\npassword=pass\npassword_expiry_utc=1")
		if out, _ := direct("get", "protocol=https\nhost=expired.tld"); out != "" {
			t.Errorf("get of a credential stored expired: %q, want nothing", out)
		}
	})
	step("oauth_refresh_token round trip", func() {
		direct("store", "protocol=https\nhost=oauth.tld\nusername=user4\npassword=pass\noauth_refresh_token=xyzzy")
		out, _ := direct("get", "protocol=https\nhost=oauth.tld\nusername=user4")
		if want := "username=user4\npassword=pass\noauth_refresh_token=xyzzy\n"; out != want {
			t.Errorf("get: %q, want %q", out, want)
		}
	})
	step("long wwwauth[] not confused into host=", func() {
		direct("store", "protocol=https\nhost=victim.example.com\nusername=victim\npassword=victim-pass")
		direct("store", "protocol=https\nhost=attacker.example.com\nusername=attacker\npassword=attacker-pass")
		for _, n := range []int{1023, 1024, 4095, 4096, 65535 - len("wwwauth[]=\n")} {
			long := "wwwauth[]=" + strings.Repeat("a", n-len("host=attacker.example.com")) + "host=attacker.example.com"
			out, _ := direct("get", "protocol=https\nhost=victim.example.com\n"+long)
			if want := "username=victim\npassword=victim-pass\n"; out != want {
				t.Errorf("get with a %d-byte wwwauth[]: %q, want %q", n, out, want)
			}
		}
	})
	step("ephemeral credentials are not stored", func() {
		direct("store", "capability[]=authtype\nprotocol=https\nhost=ephemeral.tld\nusername=u\npassword=p\nephemeral=1")
		if out, _ := direct("get", "protocol=https\nhost=ephemeral.tld"); out != "" {
			t.Errorf("get: %q, want nothing", out)
		}
	})
}

// TestRoutingThroughGit checks which token git credential fill gets.
func TestRoutingThroughGit(t *testing.T) {
	w := newWorld(t)
	tok := struct{ classic, myorg, personal string }{"ghp_" + rand.Text(), "github_pat_" + rand.Text(), "github_pat_" + rand.Text()}
	w.put("github:classic", tok.classic)
	w.put("github:fine-grained-myorg", tok.myorg)
	w.put("github:fine-grained-personal", tok.personal)
	w.writeConfig("GH_TOKEN_ROUTES=\"alice=fine-grained-personal\"\n")
	names := map[string]string{tok.classic: "github:classic", tok.myorg: "github:fine-grained-myorg", tok.personal: "github:fine-grained-personal"}

	for _, tc := range []struct {
		url, want string // want: a token, or "" for the askpass answer
	}{
		{"https://github.com/myorg/repo.git", tok.myorg},
		{"https://github.com/alice/dots", tok.personal},
		{"https://github.com/someoneelse/x", tok.classic},
		{"https://GitHub.com/MyOrg/repo.git", tok.myorg},
		{"http://github.com/myorg/repo.git", ""},
		{"https://github.com.evil.example/myorg/repo.git", ""},
		{"https://github.com:8443/myorg/repo.git", ""},
	} {
		for _, mode := range []string{w.helper, w.helper + " " + SessionFlag} {
			out, errOut, code := w.run("url="+tc.url+"\n\n", "git", "-c", "credential.helper=", "-c", "credential.helper="+mode,
				"-c", "credential.useHttpPath=true", "credential", "fill")
			if code != 0 {
				t.Errorf("%s (%s): git credential fill: exit %d: %s", tc.url, mode, code, errOut)
				continue
			}
			got := attr(out, "password")
			switch {
			case tc.want == "" && got != "askpass-password":
				t.Errorf("%s (%s): got token %s (%s), want none", tc.url, mode, names[got], keyring.Preview(got))
			case tc.want != "" && got != tc.want:
				t.Errorf("%s (%s): got %s (%s), want %s", tc.url, mode, names[got], keyring.Preview(got), names[tc.want])
			case tc.want != "" && attr(out, "username") != DefaultUsername:
				t.Errorf("%s (%s): username %q, want %s", tc.url, mode, attr(out, "username"), DefaultUsername)
			}
			for secret := range names {
				if strings.Contains(errOut, secret) {
					t.Errorf("%s (%s): stderr contains token %s", tc.url, mode, names[secret])
				}
			}
		}
	}

	// Without useHttpPath git sends no path: the host's default only.
	out, _, _ := w.run("url=https://github.com/myorg/repo.git\n\n", "git", "-c", "credential.helper=", "-c", "credential.helper="+w.helper, "credential", "fill")
	if got := attr(out, "password"); got != tok.classic {
		t.Errorf("without useHttpPath: got %s (%s), want github:classic", names[got], keyring.Preview(got))
	}

	// The helper alone, no git, no session.
	out, errOut, code := w.run("protocol=https\nhost=github.com\npath=myorg/repo.git\n\n", w.helper, "get")
	if want := "username=" + DefaultUsername + "\npassword=" + tok.myorg + "\n"; code != 0 || out != want || errOut != "" {
		t.Errorf("helper get: exit %d, token %s, stderr %q; want 0, github:fine-grained-myorg, nothing", code, names[attr(out, "password")], errOut)
	}

	// git rejects a token GitHub refused: the token stays, with a hint.
	_, errOut, _ = w.run("protocol=https\nhost=github.com\nusername=x-access-token\npassword="+tok.myorg+"\n\n",
		"git", "-c", "credential.helper=", "-c", "credential.helper="+w.helper, "credential", "reject")
	if want := Program + ": token github:fine-grained-myorg was rejected by github.com; rotate it: jailrun token rotate --name github:fine-grained-myorg\n"; errOut != want {
		t.Errorf("reject: stderr %q, want %q", errOut, want)
	}
	if got, err := w.kr.Get("github:fine-grained-myorg"); err != nil || got.Secret != tok.myorg {
		t.Errorf("after reject the token is gone or changed (err %v)", err)
	}
	// approve of a served token stores no second copy.
	w.run("protocol=https\nhost=github.com\nusername=x-access-token\npassword="+tok.myorg+"\n\n",
		"git", "-c", "credential.helper=", "-c", "credential.helper="+w.helper, "credential", "approve")
	if creds, err := w.kr.FindCredentials(keyring.Credential{Protocol: "https", Host: "github.com"}); err != nil || len(creds) != 0 {
		t.Errorf("after approve of a served token: %d stored credentials (err %v), want 0", len(creds), err)
	}

	// An explicit route to a missing token: a warning, nothing served.
	w.writeConfig("GH_TOKEN_ROUTES=\"alice=fine-grained-gone\"\n")
	out, errOut, _ = w.run("protocol=https\nhost=github.com\npath=alice/dots\n\n", w.helper, "get")
	if out != "" || !strings.Contains(errOut, "github:fine-grained-gone") {
		t.Errorf("route to a missing token: served %s, stderr %q; want nothing and a warning", names[attr(out, "password")], errOut)
	}
}

// TestSecretToolInterop checks that a credential stored by secret-tool the
// way git-credential-libsecret stores it is served, and that what the
// helper stores is found by secret-tool.
func TestSecretToolInterop(t *testing.T) {
	w := newWorld(t)
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Skip("secret-tool not installed: sudo apt install libsecret-tools")
	}
	password := "interop-" + rand.Text()
	_, errOut, code := w.run(password, "secret-tool", "store", "--label=Git: https://example.com/",
		"xdg:schema", "org.gnome.keyring.NetworkPassword", "protocol", "https", "server", "example.com", "user", "u")
	if code != 0 {
		t.Fatalf("secret-tool store: exit %d: %s", code, errOut)
	}
	out, errOut, code := w.run("protocol=https\nhost=example.com\n\n", w.helper, "get")
	if want := "username=u\npassword=" + password + "\n"; code != 0 || out != want {
		t.Errorf("get of a secret-tool item: exit %d, %d bytes out, stderr %q; want the item", code, len(out), errOut)
	}

	stored := "stored-" + rand.Text()
	w.run("protocol=https\nhost=git.example:8443\npath=team/repo.git\nusername=v\npassword="+stored+"\n\n", w.helper, "store")
	out, errOut, code = w.run("", "secret-tool", "lookup", "protocol", "https", "server", "git.example", "port", "8443", "user", "v")
	if code != 0 || strings.TrimSuffix(out, "\n") != stored {
		t.Errorf("secret-tool lookup of a stored credential: exit %d, stderr %q, found it: %v", code, errOut, strings.Contains(out, stored))
	}
}

// TestPushThroughHelper pushes to two owners of an HTTPS git server, each
// accepting only its own token, with the helper in token-only mode.
func TestPushThroughHelper(t *testing.T) {
	w := newWorld(t)
	srv := gittest.NewServer(t)
	alpha, beta, fallback := "github_pat_alpha"+rand.Text(), "github_pat_beta"+rand.Text(), "ghp_fallback"+rand.Text()
	w.put("github:fine-grained-alpha", alpha)
	w.put("github:fine-grained-beta", beta)
	w.put("github:wrong-default", fallback)
	// The host's default is a token neither owner accepts: served only if
	// the owner were not read from the path.
	w.writeConfig(fmt.Sprintf("GH_HOSTS=\"github.com %[1]s\"\nGH_TOKEN_ROUTES=\"%[1]s=wrong-default %[1]s/alpha=fine-grained-alpha %[1]s/beta=fine-grained-beta\"\n", srv.Host))
	srv.RequireToken("alpha", alpha)
	srv.RequireToken("beta", beta)

	for _, owner := range []string{"alpha", "beta"} {
		url := srv.AddRepo(t, owner, "project")
		dir := t.TempDir()
		commit := gittest.InitWorkRepo(t, dir, url)
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		cmd := exec.CommandContext(ctx, "git",
			"-c", "credential.helper=",
			"-c", "credential.helper="+w.helper+" "+SessionFlag,
			"-c", "credential.https://"+srv.Host+".useHttpPath=true",
			"push", "--quiet", "origin", "main")
		cmd.Dir = dir
		cmd.Env = append(srv.Env(t.TempDir()), w.bus.Env()...)
		cmd.Env = append(cmd.Env, "USER="+os.Getenv("USER"))
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("push to %s: %v: %s", owner, err, out)
		}
		if got := srv.Ref(t, owner, "project", "refs/heads/main"); got != commit {
			t.Errorf("%s/project main = %q, want %s", owner, got, commit)
		}
		if n := srv.Rejected(owner); n != 0 {
			t.Errorf("%s: %d wrong credentials offered (%v), want none", owner, n, srv.Offered(owner))
		}
		if len(srv.Offered(owner)) == 0 {
			t.Errorf("%s: no credential offered", owner)
		}
	}
}

// attr returns the value of key in git credential output.
func attr(out, key string) string {
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), key+"="); ok {
			return v
		}
	}
	return ""
}

// BenchmarkGet measures one get for a GitHub repository in process, from
// reading the request to writing the answer, against a private
// gnome-keyring holding a few tokens: connecting, the encrypted session,
// listing the tokens and routing. Process start is not included.
func BenchmarkGet(b *testing.B) {
	keyringtest.Start(b)
	kr, err := platform.Open()
	if err != nil {
		b.Fatalf("open the test keyring: %v", err)
	}
	for _, name := range []string{"github:classic", "github:fine-grained-myorg", "github:fine-grained-personal"} {
		if err := kr.Put(keyring.Token{Name: name, Secret: "github_pat_" + rand.Text()}); err != nil {
			b.Fatalf("Put(%s): %v", name, err)
		}
	}
	kr.Close()
	env := Env{
		Args:        []string{"get"},
		Stderr:      os.Stderr,
		Getenv:      os.Getenv,
		OpenKeyring: platform.Open,
		Now:         time.Now,
	}
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		env.Stdin, env.Stdout = strings.NewReader("protocol=https\nhost=github.com\npath=myorg/repo.git\n\n"), &out
		if code := Run(env); code != 0 || !strings.Contains(out.String(), "password=github_pat_") {
			b.Fatalf("get: exit %d, %d bytes out", code, out.Len())
		}
	}
}
