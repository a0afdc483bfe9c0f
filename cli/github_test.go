//go:build linux

package cli_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/github/githubtest"
	"github.com/jailrun/jailrun/helper"
	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform"
	"github.com/rogpeppe/go-internal/testscript"
)

// Tokens the GitHub stand-in knows. Scripts read them from files that
// setupGitHub writes (risky.txt, …), never from their own text.
var standInTokens = map[string]struct {
	secret string
	user   func(now time.Time) githubtest.User
}{
	// A classic token with two scopes an agent must not hold, expiring in 3 days.
	"risky": {"ghp_RiskyClassic0123456789abcdefghijklmn", func(now time.Time) githubtest.User {
		return githubtest.User{Login: "alice", Expiration: now.Add(75 * time.Hour).UTC().Format("2006-01-02 15:04:05 UTC"),
			Scopes: scopes("repo, admin:org, delete_repo")}
	}},
	// A fine-grained token for acme, expiring in 20 days, in the +0000 form.
	"fine": {"github_pat_11FineGrained0123456789_acme", func(now time.Time) githubtest.User {
		return githubtest.User{Login: "bob", Expiration: now.Add(20*24*time.Hour + time.Hour).UTC().Format("2006-01-02 15:04:05 -0700"),
			Repos: []string{"acme/app"}}
	}},
	// The token gh hands out: the user's own login, admin of acme/app.
	"gh": {"gho_UsersOwnLogin0123456789abcdefghijkl", func(now time.Time) githubtest.User {
		return githubtest.User{Login: "carol", Scopes: scopes("repo, workflow"), Repos: []string{"acme/app"}}
	}},
	// A token GitHub no longer accepts.
	"rejected": {"ghp_Revoked0123456789abcdefghijklmnopqr", nil},
}

// scopes is an X-OAuth-Scopes header value.
func scopes(s string) *string { return &s }

// TestGitHubScripts runs testdata/github/*.txtar against the jailrun command
// with a private gnome-keyring and an HTTPS stand-in of the GitHub API.
// Scripts see $API (the stand-in), $UNREACHABLE (an https URL where nothing
// listens), $EXP3 and $EXP20 (the expiry dates of the risky and fine
// tokens), $GHE_HOST (the stand-in as a GitHub Enterprise host), token files risky.txt, fine.txt, rejected.txt, a bin directory
// first on PATH with a gh that prints $FAKE_GH_TOKEN and a stub
// git-credential-jailrun, and the command `created OWNER/REPO N`.
func TestGitHubScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/github/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ks := keyringtest.Start(t)
			api := githubtest.NewServer(t)
			testscript.Run(t, testscript.Params{
				Files: []string{file},
				Setup: func(e *testscript.Env) error {
					e.Vars = append(e.Vars, ks.Env()...)
					return setupGitHub(e, api)
				},
				Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
					"credential-get":       credentialGet,
					"password-expiry-near": passwordExpiryNear,
					"created": func(ts *testscript.TestScript, neg bool, args []string) {
						if len(args) != 2 {
							ts.Fatalf("usage: created OWNER/REPO N")
						}
						want, err := strconv.Atoi(args[1])
						ts.Check(err)
						if got := len(api.Created(args[0])); (got == want) == neg {
							ts.Fatalf("%d rulesets created on %s, want %d", got, args[0], want)
						}
					},
				},
			})
		})
	}
}

// TestDoctorWithoutSecretService runs testdata/doctor-nokeyring where the
// session bus has no Secret Service provider.
func TestDoctorWithoutSecretService(t *testing.T) {
	bus := keyringtest.StartBusOnly(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/doctor-nokeyring",
		Setup: func(e *testscript.Env) error {
			e.Vars = append(e.Vars, bus.Env()...)
			e.Setenv("NOWHERE", "unix:path="+filepath.Join(e.WorkDir, "no-such-socket"))
			return nil
		},
	})
}

// TestDoctorLockedKeyring runs testdata/doctor-locked with a keyring that
// holds a token and is then locked, with no prompter to unlock it.
func TestDoctorLockedKeyring(t *testing.T) {
	ks := keyringtest.Start(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/doctor-locked",
		Setup: func(e *testscript.Env) error {
			e.Vars = append(e.Vars, ks.Env()...)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"lock-keyring": func(ts *testscript.TestScript, neg bool, args []string) { ks.Lock(t) },
		},
	})
}

func setupGitHub(e *testscript.Env, api *githubtest.Server) error {
	now := time.Now()
	for name, tok := range standInTokens {
		if tok.user != nil {
			api.AddToken(tok.secret, tok.user(now))
		}
		if err := os.WriteFile(filepath.Join(e.WorkDir, name+".txt"), []byte(tok.secret+"\n"), 0o600); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	unreachable := "https://" + ln.Addr().String()
	ln.Close() // nothing listens there any more

	bin := filepath.Join(e.WorkDir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return err
	}
	scripts := map[string]string{
		"gh":                     "#!/bin/sh\n[ \"$1 $2\" = 'auth token' ] || exit 2\n[ -n \"$FAKE_GH_TOKEN\" ] || { echo 'no oauth token found for github.com' >&2; exit 1; }\nprintf '%s\\n' \"$FAKE_GH_TOKEN\"\n",
		"git-credential-jailrun": "#!/bin/sh\nexit 0\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			return err
		}
	}
	e.Setenv("PATH", bin+string(filepath.ListSeparator)+e.Getenv("PATH"))
	// Nothing reaches api.github.com unless a script says where the API is.
	e.Setenv("JAILRUN_GITHUB_API", unreachable)
	e.Setenv("API", api.URL)
	e.Setenv("GHE_HOST", api.Host)
	e.Setenv("SSL_CERT_FILE", api.CAFile)
	e.Setenv("UNREACHABLE", unreachable)
	e.Setenv("GH_LOGIN_TOKEN", standInTokens["gh"].secret)
	e.Setenv("EXP3", now.Add(75*time.Hour).Local().Format("2006-01-02"))
	e.Setenv("EXP20", now.Add(20*24*time.Hour+time.Hour).Local().Format("2006-01-02"))
	return nil
}

// credentialGet runs `git-credential-jailrun get` for the https URL in
// args[0], in plain mode, with the script's environment and keyring.
func credentialGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: credential-get https://HOST/OWNER/REPO.git")
	}
	u, err := url.Parse(args[0])
	ts.Check(err)
	var stderr strings.Builder
	status := helper.Run(helper.Env{
		Args:        []string{"get"},
		Stdin:       strings.NewReader(fmt.Sprintf("protocol=%s\nhost=%s\npath=%s\n\n", u.Scheme, u.Host, strings.TrimPrefix(u.Path, "/"))),
		Stdout:      ts.Stdout(),
		Stderr:      &stderr,
		Getenv:      ts.Getenv,
		OpenKeyring: platform.Open,
		Now:         time.Now,
	})
	if (status == 0) == neg {
		ts.Fatalf("git-credential-jailrun get exited %d: %s", status, stderr.String())
	}
}

// passwordExpiryNear checks that the last stdout holds a
// password_expiry_utc within a day of args[0] hours from now.
func passwordExpiryNear(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: password-expiry-near HOURS")
	}
	hours, err := strconv.Atoi(args[0])
	ts.Check(err)
	for line := range strings.SplitSeq(ts.ReadFile("stdout"), "\n") {
		if v, ok := strings.CutPrefix(line, "password_expiry_utc="); ok {
			secs, err := strconv.ParseInt(v, 10, 64)
			ts.Check(err)
			if d := time.Unix(secs, 0).Sub(time.Now().Add(time.Duration(hours) * time.Hour)); d.Abs() > 24*time.Hour {
				ts.Fatalf("password_expiry_utc is %s off %d hours from now", d, hours)
			}
			return
		}
	}
	ts.Fatalf("no password_expiry_utc in stdout")
}

// TestAppScripts runs testdata/app against the in-test git server's App
// API (a GitHub Enterprise host): key.pem is App 4242's key, wrong.pem a
// key of no App.
func TestAppScripts(t *testing.T) {
	ks := keyringtest.Start(t)
	srv := gittest.NewServer(t)
	key := srv.AddApp(t, 4242)
	wrong := srv.AddApp(t, 9999) // a real key, of another App
	testscript.Run(t, testscript.Params{
		Dir: "testdata/app",
		Setup: func(e *testscript.Env) error {
			e.Vars = append(e.Vars, ks.Env()...)
			e.Setenv("APIHOST", srv.Host)
			e.Setenv("SSL_CERT_FILE", srv.CAFile)
			for name, data := range map[string][]byte{"key.pem": key, "wrong.pem": wrong} {
				if err := os.WriteFile(filepath.Join(e.WorkDir, name), data, 0o600); err != nil {
					return err
				}
			}
			return nil
		},
	})
}
