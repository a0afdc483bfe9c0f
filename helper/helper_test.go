package helper

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/config/configtest"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
)

// now is the fixed time of the table tests.
var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// Secrets of the table tests; stderr must never contain any of them.
const (
	classic   = "ghp_classicSECRET000000000000000000000"
	myorg     = "github_pat_myorgSECRET0000000000000000"
	personal  = "github_pat_personalSECRET0000000000000"
	ghe       = "ghp_gheSECRET0000000000000000000000000"
	expired   = "github_pat_expiredSECRET00000000000000"
	plainPass = "plain-password-SECRET"
	refresh   = "refresh-token-SECRET"
)

var secrets = []string{classic, myorg, personal, ghe, expired, plainPass, refresh}

var (
	myorgExpiry  = time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC)
	newestExpiry = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
)

// unix is t as password_expiry_utc spells it.
func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// redact replaces the test secrets in s by their previews, for messages.
func redact(s string) string {
	for _, secret := range secrets {
		s = strings.ReplaceAll(s, secret, keyring.Preview(secret))
	}
	return s
}

// newFake returns the keyring the routing cases use.
func newFake() *keyringtest.Fake {
	return &keyringtest.Fake{
		Tokens: []keyring.Token{
			{Name: "github:classic", Secret: classic},
			{Name: "github:fine-grained-expiredorg", Secret: expired, Meta: keyring.Meta{Expires: now.Add(-time.Hour)}},
			{Name: "github:fine-grained-myorg", Secret: myorg, Meta: keyring.Meta{Expires: myorgExpiry}},
			{Name: "github:fine-grained-personal", Secret: personal},
			{Name: "github:ghe-classic", Secret: ghe},
		},
		Credentials: []keyring.Credential{
			{Protocol: "https", Host: "example.com", Username: "newest", Password: plainPass, OAuthRefreshToken: refresh,
				PasswordExpiry: newestExpiry},
			{Protocol: "https", Host: "example.com", Username: "older", Password: "older-pass"},
			{Protocol: "https", Host: "stale.example", Username: "u", Password: "stale-pass", PasswordExpiry: now.Add(-time.Second)},
			{Protocol: "https", Host: "stale.example", Username: "v", Password: "fresh-pass"},
			{Protocol: "https", Host: "sso.example"},
			{Protocol: "https", Host: "github.com", Username: "me", Password: "typed-github-pass"},
			{Protocol: "https", Host: "gitlab.example", Username: "gl", Password: "gitlab-pass"},
		},
	}
}

// configHome writes a jailrun config file and returns XDG_CONFIG_HOME.
func configHome(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	configtest.Write(t, func(key string) string { return map[string]string{"XDG_CONFIG_HOME": dir}[key] }, content)
	return dir
}

const testConfig = `GH_TOKEN_ROUTES="alice=fine-grained-personal ghe.corp.example=ghe-classic ghostorg=fine-grained-missing"
GH_HOSTS="github.com ghe.corp.example gitlab.example:8443"
`

// result is what one run of the helper did.
type result struct {
	code           int
	stdout, stderr string
	opened         bool
}

// run runs the helper on input with args against kr.
func run(t *testing.T, kr *keyringtest.Fake, env map[string]string, input string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	opened := false
	code := Run(Env{
		Args:   args,
		Stdin:  strings.NewReader(input),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
		OpenKeyring: func() (keyring.Keyring, error) {
			if opened {
				t.Errorf("keyring opened twice")
			}
			opened = true
			return kr, nil
		},
		Now: func() time.Time { return now },
	})
	if opened && !kr.Closed {
		t.Errorf("keyring not closed")
	}
	for _, s := range secrets {
		if strings.Contains(stderr.String(), s) {
			t.Errorf("stderr contains the secret %s", keyring.Preview(s))
		}
	}
	if n := strings.Count(stderr.String(), "\n"); n > 1 || n == 0 && stderr.Len() > 0 {
		t.Errorf("stderr is not at most one line: %d line breaks", n)
	}
	return result{code, stdout.String(), stderr.String(), opened}
}

func TestGet(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": configHome(t, testConfig)}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		input   string
		want    string // stdout
		stderr  string // a substring of stderr; "" means empty
		noOpen  bool   // the keyring must not be opened
		wantErr bool   // exit status 1
	}{
		{name: "owner by convention", input: "protocol=https\nhost=github.com\npath=myorg/repo.git\n",
			want: "username=x-access-token\npassword=" + myorg + "\npassword_expiry_utc=" + unix(myorgExpiry) + "\n"},
		{name: "owner case-insensitive", input: "protocol=https\nhost=GitHub.com\npath=MyOrg/repo.git\n",
			want: "username=x-access-token\npassword=" + myorg + "\npassword_expiry_utc=" + unix(myorgExpiry) + "\n"},
		{name: "explicit route", input: "protocol=https\nhost=github.com\npath=alice/dots\n",
			want: "username=x-access-token\npassword=" + personal + "\n"},
		{name: "default token", input: "protocol=https\nhost=github.com\npath=someoneelse/x.git\n",
			want: "username=x-access-token\npassword=" + classic + "\n"},
		{name: "no path: host default", input: "protocol=https\nhost=github.com\n",
			want: "username=x-access-token\npassword=" + classic + "\n"},
		{name: "url expanded", input: "url=https://github.com/myorg/repo.git\n",
			want: "username=x-access-token\npassword=" + myorg + "\npassword_expiry_utc=" + unix(myorgExpiry) + "\n"},
		{name: "username echoed", input: "protocol=https\nhost=github.com\nusername=octocat\npath=alice/dots\n",
			want: "username=octocat\npassword=" + personal + "\n"},
		{name: "token-only mode serves tokens", args: []string{"--session", "get"},
			input: "protocol=https\nhost=github.com\npath=alice/dots\n",
			want:  "username=x-access-token\npassword=" + personal + "\n"},
		{name: "enterprise host default", input: "protocol=https\nhost=ghe.corp.example\npath=team/repo\n",
			want: "username=x-access-token\npassword=" + ghe + "\n"},
		{name: "GH_TOKEN_NAME from the environment", env: map[string]string{"GH_TOKEN_NAME": "fine-grained-personal"},
			input: "protocol=https\nhost=github.com\npath=someoneelse/x.git\n",
			want:  "username=x-access-token\npassword=" + personal + "\n"},
		{name: "plain http", input: "protocol=http\nhost=github.com\npath=myorg/repo.git\n", noOpen: true},
		{name: "look-alike host", args: []string{"--session", "get"},
			input: "protocol=https\nhost=github.com.evil.example\npath=myorg/repo.git\n", noOpen: true},
		{name: "look-alike host, plain mode, nothing stored", input: "protocol=https\nhost=github.com.evil.example\npath=myorg/repo.git\n"},
		{name: "other port", input: "protocol=https\nhost=github.com:8443\npath=myorg/repo.git\n"},
		{name: "missing host", input: "protocol=https\npath=myorg/repo.git\n", noOpen: true},
		{name: "missing protocol", input: "host=github.com\npath=myorg/repo.git\n", noOpen: true},
		{name: "explicit route to a missing token", input: "protocol=https\nhost=github.com\npath=ghostorg/repo\n",
			stderr: "github:fine-grained-missing"},
		{name: "missing default token", env: map[string]string{"GH_TOKEN_NAME": "nope"},
			input: "protocol=https\nhost=github.com\npath=someoneelse/x\n", stderr: "github:nope"},
		{name: "expired token", input: "protocol=https\nhost=github.com\npath=expiredorg/repo\n",
			stderr: "token github:fine-grained-expiredorg expired on 2030-06-01; rotate it"},
		{name: "github host without a route: stored credential", input: "protocol=https\nhost=gitlab.example:8443\n"},
		{name: "stored credential, newest first", input: "protocol=https\nhost=example.com\n",
			want: "username=newest\npassword=" + plainPass + "\npassword_expiry_utc=" + unix(newestExpiry) + "\noauth_refresh_token=" + refresh + "\n"},
		{name: "stored credential by user", input: "protocol=https\nhost=example.com\nusername=older\n",
			want: "username=older\npassword=older-pass\n"},
		{name: "stored credential, expired skipped", input: "protocol=https\nhost=stale.example\n",
			want: "username=v\npassword=fresh-pass\n"},
		{name: "stored empty user name and password", input: "protocol=https\nhost=sso.example\n",
			want: "username=\npassword=\n"},
		{name: "stored credential needs the protocol", input: "protocol=http\nhost=example.com\n"},
		{name: "stored credential, token-only mode", args: []string{"--session", "get"},
			input: "protocol=https\nhost=example.com\n", noOpen: true},
		{name: "unknown action", args: []string{"frobnicate"}, input: "\x00garbage", noOpen: true},
		{name: "parse error", input: "protocol=https\nhost=github.com\x00\n", noOpen: true, wantErr: true,
			stderr: "NUL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			for k, v := range tc.env {
				e[k] = v
			}
			args := tc.args
			if args == nil {
				args = []string{"get"}
			}
			kr := newFake()
			r := run(t, kr, e, tc.input+"\n", args...)
			if r.stdout != tc.want {
				t.Errorf("stdout = %q, want %q", redact(r.stdout), redact(tc.want))
			}
			if tc.stderr == "" && r.stderr != "" || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tc.stderr)
			}
			if tc.noOpen && r.opened {
				t.Errorf("the keyring was opened")
			}
			if wantCode := map[bool]int{false: 0, true: 1}[tc.wantErr]; r.code != wantCode {
				t.Errorf("exit status %d, want %d", r.code, wantCode)
			}
			if kr.Lists > 1 {
				t.Errorf("List called %d times, want at most once", kr.Lists)
			}
			if kr.Stores+kr.Erases > 0 {
				t.Errorf("get changed the keyring")
			}
		})
	}
}

func TestGetGitHubFallsBackToStoredCredentialOnlyWithoutAnyRoute(t *testing.T) {
	// gitlab.example:8443 is a GitHub host without a default route: nothing
	// is routed, so plain mode serves what git stored for it.
	env := map[string]string{"XDG_CONFIG_HOME": configHome(t, testConfig)}
	kr := newFake()
	kr.Credentials = append(kr.Credentials, keyring.Credential{Protocol: "https", Host: "gitlab.example:8443", Username: "gl", Password: "gl-pass"})
	if r := run(t, kr, env, "protocol=https\nhost=gitlab.example:8443\n\n", "get"); r.stdout != "username=gl\npassword=gl-pass\n" {
		t.Errorf("plain mode: stdout = %q", redact(r.stdout))
	}
	if r := run(t, newFakeWith(kr.Credentials), env, "protocol=https\nhost=gitlab.example:8443\n\n", "--session", "get"); r.stdout != "" {
		t.Errorf("token-only mode: stdout = %q, want nothing", redact(r.stdout))
	}
	// A missing routed token never falls back to a stored credential.
	kr = newFake()
	r := run(t, kr, map[string]string{"XDG_CONFIG_HOME": env["XDG_CONFIG_HOME"], "GH_TOKEN_NAME": "nope"},
		"protocol=https\nhost=github.com\n\n", "get")
	if r.stdout != "" {
		t.Errorf("missing default token: stdout = %q, want nothing", redact(r.stdout))
	}
}

func newFakeWith(creds []keyring.Credential) *keyringtest.Fake {
	f := newFake()
	f.Credentials = slices.Clone(creds)
	return f
}

func TestStore(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": configHome(t, testConfig)}
	future, past := "1924916645", "1000000000"
	tests := []struct {
		name   string
		args   []string
		input  string
		stored *keyring.Credential
	}{
		{name: "stores", input: "protocol=https\nhost=new.example\npath=a/b.git\nusername=u\npassword=p\n",
			stored: &keyring.Credential{Protocol: "https", Host: "new.example", Path: "a/b.git", Username: "u", Password: "p"}},
		{name: "expiry and refresh token", input: "protocol=https\nhost=new.example\nusername=u\npassword=p\npassword_expiry_utc=" + future + "\noauth_refresh_token=r\n",
			stored: &keyring.Credential{Protocol: "https", Host: "new.example", Username: "u", Password: "p",
				PasswordExpiry: time.Unix(1924916645, 0), OAuthRefreshToken: "r"}},
		{name: "empty user name and password", input: "protocol=https\nhost=new.example\nusername=\npassword=\n",
			stored: &keyring.Credential{Protocol: "https", Host: "new.example"}},
		{name: "stored typed password for a GitHub host", input: "protocol=https\nhost=github.com\nusername=me\npassword=typed\n",
			stored: &keyring.Credential{Protocol: "https", Host: "github.com", Username: "me", Password: "typed"}},
		{name: "expired", input: "protocol=https\nhost=new.example\nusername=u\npassword=p\npassword_expiry_utc=" + past + "\n"},
		{name: "ephemeral", input: "capability[]=authtype\nprotocol=https\nhost=new.example\nusername=u\npassword=p\nephemeral=1\n"},
		{name: "no user name", input: "protocol=https\nhost=new.example\npassword=p\n"},
		{name: "no password", input: "protocol=https\nhost=new.example\nusername=u\n"},
		{name: "empty user name before url= does not count", input: "username=\nurl=https://new.example\npassword=p\n"},
		{name: "no host", input: "protocol=https\nusername=u\npassword=p\n"},
		{name: "token-only mode", args: []string{"--session", "store"}, input: "protocol=https\nhost=new.example\nusername=u\npassword=p\n"},
		{name: "served token not stored twice", input: "protocol=https\nhost=github.com\npath=myorg/repo\nusername=x-access-token\npassword=" + myorg + "\n"},
		{name: "any jailrun token not stored", input: "protocol=https\nhost=elsewhere.example\nusername=u\npassword=" + classic + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"store"}
			}
			kr := newFake()
			before := len(kr.Credentials)
			r := run(t, kr, env, tc.input+"\n", args...)
			if r.code != 0 || r.stdout != "" || r.stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and no output", r.code, redact(r.stdout), redact(r.stderr))
			}
			if tc.stored == nil {
				if kr.Stores != 0 || len(kr.Credentials) != before {
					t.Errorf("stored %d credentials, want none", kr.Stores)
				}
				return
			}
			if kr.Stores != 1 {
				t.Fatalf("stored %d credentials, want 1", kr.Stores)
			}
			got := kr.Credentials[0]
			if got.Protocol != tc.stored.Protocol || got.Host != tc.stored.Host || got.Path != tc.stored.Path ||
				got.Username != tc.stored.Username || !got.PasswordExpiry.Equal(tc.stored.PasswordExpiry) {
				t.Errorf("stored %+v, want %+v", got, *tc.stored)
			}
			if got.Password != tc.stored.Password || got.OAuthRefreshToken != tc.stored.OAuthRefreshToken {
				t.Errorf("stored secrets differ from what git sent")
			}
		})
	}
}

func TestErase(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": configHome(t, testConfig)}
	tests := []struct {
		name    string
		args    []string
		input   string
		removed []string // user names of the credentials erased
		stderr  string
	}{
		{name: "by host", input: "protocol=https\nhost=example.com\n", removed: []string{"newest", "older"}},
		{name: "by user", input: "protocol=https\nhost=example.com\nusername=older\n", removed: []string{"older"}},
		{name: "same password", input: "protocol=https\nhost=example.com\nusername=older\npassword=older-pass\n", removed: []string{"older"}},
		{name: "distinct password kept", input: "protocol=https\nhost=example.com\nusername=older\npassword=other\n"},
		{name: "token-only mode", args: []string{"--session", "erase"}, input: "protocol=https\nhost=example.com\n"},
		{name: "jailrun token rejected", input: "protocol=https\nhost=github.com\nusername=x-access-token\npassword=" + myorg + "\n",
			stderr: Program + ": token github:fine-grained-myorg was rejected by github.com; rotate it: jailrun token rotate --name github:fine-grained-myorg\n"},
		{name: "jailrun token rejected, token-only mode", args: []string{"--session", "erase"},
			input:  "protocol=https\nhost=github.com\nusername=x-access-token\npassword=" + classic + "\n",
			stderr: Program + ": token github:classic was rejected by github.com; rotate it: jailrun token rotate --name github:classic\n"},
		{name: "typed GitHub password erased", input: "protocol=https\nhost=github.com\nusername=me\npassword=typed-github-pass\n", removed: []string{"me"}},
		{name: "no host", input: "protocol=https\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"erase"}
			}
			kr := newFake()
			before := newFake().Credentials
			r := run(t, kr, env, tc.input+"\n", args...)
			if r.code != 0 || r.stdout != "" || r.stderr != tc.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0, no output and stderr %q", r.code, redact(r.stdout), redact(r.stderr), tc.stderr)
			}
			var removed []string
			for _, c := range before {
				if !slices.ContainsFunc(kr.Credentials, func(o keyring.Credential) bool { return o == c }) {
					removed = append(removed, c.Username)
				}
			}
			if !slices.Equal(removed, tc.removed) {
				t.Errorf("erased %q, want %q", removed, tc.removed)
			}
			if len(kr.Tokens) != len(newFake().Tokens) {
				t.Errorf("a token was deleted")
			}
		})
	}
}

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"--session"}, 2},
		{[]string{"--verbose", "get"}, 2},
		{[]string{"get", "--session", "get"}, 2},
		{[]string{"--session", "--session", "capabilities"}, 0},
		{[]string{"list"}, 0},
	} {
		kr := newFake()
		r := run(t, kr, nil, "protocol=https\nhost=github.com\n\n", tc.args...)
		if r.code != tc.code || r.stdout != "" || r.opened {
			t.Errorf("%q: exit %d, stdout %q, keyring opened %v; want exit %d, nothing else", tc.args, r.code, redact(r.stdout), r.opened, tc.code)
		}
		if tc.code == 2 && !strings.Contains(r.stderr, "usage: "+Program) {
			t.Errorf("%q: stderr %q lacks the usage", tc.args, r.stderr)
		}
	}
}

func TestKeyringUnavailable(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": configHome(t, "")}
	for _, action := range []string{"get", "store", "erase"} {
		var stdout, stderr bytes.Buffer
		code := Run(Env{
			Args:   []string{action},
			Stdin:  strings.NewReader("protocol=https\nhost=github.com\nusername=u\npassword=p\n\n"),
			Stdout: &stdout,
			Stderr: &stderr,
			Getenv: func(k string) string { return env[k] },
			OpenKeyring: func() (keyring.Keyring, error) {
				return nil, errors.New("no Secret Service provider on the session bus; install one")
			},
			Now: time.Now,
		})
		want := Program + ": no Secret Service provider on the session bus; install one\n"
		if code != 1 || stdout.Len() != 0 || stderr.String() != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 1, nothing, %q", action, code, stdout.String(), stderr.String(), want)
		}
	}
}

func TestBrokenConfig(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": configHome(t, "GH_HOSTS=\"https://x\"\n")}
	r := run(t, newFake(), env, "protocol=https\nhost=github.com\n\n", "get")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "GH_HOSTS") || r.opened {
		t.Errorf("exit %d, stdout %q, stderr %q, opened %v; want 1, nothing, a GH_HOSTS error, keyring untouched", r.code, redact(r.stdout), r.stderr, r.opened)
	}
}

// TestVersionAndHelp: --version and --help answer people, not git, and
// never touch the keyring.
func TestVersionAndHelp(t *testing.T) {
	for arg, want := range map[string]string{
		"--version": Program + " ",
		"--help":    usage + "\n",
		"-h":        "git config --global credential.helper jailrun",
	} {
		r := run(t, newFake(), nil, "", arg)
		if r.code != 0 || !strings.Contains(r.stdout, want) || r.stderr != "" || r.opened {
			t.Errorf("%s: exit %d, stdout %q, stderr %q, keyring opened %v; want exit 0 and %q", arg, r.code, r.stdout, r.stderr, r.opened, want)
		}
	}
}
