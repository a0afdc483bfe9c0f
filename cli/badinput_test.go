//go:build linux

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/keyring"

	"github.com/jailrun/jailrun/internal/testbin"
)

// TestBadInput feeds the built binaries bad token names, bad config
// lines and config files that cannot be read: each is refused with
// exactly one line on stderr that says what is wrong, and nothing is
// stored or served.
func TestBadInput(t *testing.T) {
	bin := testbin.Dir(t)
	t.Run("Names", func(t *testing.T) { testBadNames(t, bin) })
	t.Run("ConfigLines", func(t *testing.T) { testBadConfigLines(t, bin) })
	t.Run("UnreadableConfig", func(t *testing.T) { testUnreadableConfig(t, bin) })
}

// oneLine fails the test unless stderr is exactly one line starting with
// prefix and containing want.
func oneLine(t *testing.T, what, stderr, prefix, want string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, prefix) || !strings.Contains(stderr, want) {
		t.Errorf("%s: stderr %q; want one line %q… containing %q", what, stderr, prefix, want)
	}
}

func testBadNames(t *testing.T, bin string) {
	w, ks := newKeyringWorld(t, bin)
	names := map[string]string{
		"":                                   "token name is empty",
		"nocolon":                            "not of the form namespace:key",
		":key":                               "not of the form namespace:key",
		"github:":                            "not of the form namespace:key",
		"has space:x":                        "space or control character",
		"github:a\tb":                        "space or control character",
		"github:a\nb":                        "space or control character",
		"github:a\r":                         "space or control character",
		"github:\x1b[31mred":                 "space or control character",
		"github:\u2028":                      "space or control character",
		"github:\xff\xfe":                    "not valid UTF-8",
		"github:" + strings.Repeat("x", 200): "keep it under 129",
	}
	commands := [][]string{
		{"token", "add", "--no-verify"},
		{"token", "rotate", "--yes", "--no-verify"},
		{"token", "delete", "--yes"},
		{"token", "verify"},
	}
	for name, want := range names {
		for _, command := range commands {
			args := append(append([]string(nil), command...), "--name", name)
			what := strings.Join(command, " ") + " --name " + strings.ReplaceAll(name, "\n", `\n`)
			r := w.runProgram("ghp_"+strings.Repeat("0", 36)+"\n", "jailrun", args...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("%s: exit %d, stdout %q; want 2 and nothing", what, r.code, r.stdout)
			}
			oneLine(t, what, r.stderr, "jailrun: ", want)
		}
	}
	if n := ks.Count(t, map[string]string{"account": keyring.Account()}); n != 0 {
		t.Errorf("after the bad names: %d items in the keyring, want 0", n)
	}
}

// configCommands are the commands that read the config, with the one line
// each says about a config it cannot use.
var configCommands = []struct {
	program string
	args    []string
	stdin   string
	code    int
	prefix  string
}{
	{"jailrun", []string{"config", "show"}, "", 1, "jailrun: "},
	{"git-credential-jailrun", []string{"get"}, "protocol=https\nhost=github.com\npath=myorg/repo.git\n\n", 1, "git-credential-jailrun: "},
	// A session starts without a token and says why.
	{"jailrun", []string{"run", "--", "sh", "-c", "echo ${GH_TOKEN-none}"}, "", 0, "[sh] WARN: GitHub PAT not used: "},
}

// checkRefused runs every command that reads the config and checks that
// each refuses it in one line containing want and serves no token.
func checkRefused(t *testing.T, w *world, want string, secrets ...string) {
	t.Helper()
	for _, c := range configCommands {
		what := c.program + " " + strings.Join(c.args, " ")
		r := w.runProgram(c.stdin, c.program, c.args...)
		wantOut := ""
		if c.args[0] == "run" {
			wantOut = "none\n"
		}
		if r.code != c.code || r.stdout != wantOut {
			t.Errorf("%s: exit %d, %d bytes on stdout; want exit %d and %q", what, r.code, len(r.stdout), c.code, wantOut)
		}
		oneLine(t, what, r.stderr, c.prefix, want)
		t.Logf("%s: %s", what, strings.TrimSuffix(r.stderr, "\n"))
		for _, s := range secrets {
			if strings.Contains(r.stdout+r.stderr, s) {
				t.Errorf("%s: printed a token", what)
			}
		}
	}
}

func testBadConfigLines(t *testing.T, bin string) {
	w, _ := newKeyringWorld(t, bin)
	classic := w.put("github:classic", "ghp_", time.Time{})
	myorg := w.put("github:fine-grained-myorg", "github_pat_", time.Time{})
	tests := []struct{ name, config, want string }{
		{"unterminated quote", "GH_TOKEN_NAME=\"classic\n", "line 1: unterminated double quote"},
		{"unterminated single quote", "# ok\nGH_TOKEN_NAME='classic\n", "line 2: unterminated single quote"},
		{"command substitution", "GH_HOSTS=$(touch " + filepath.Join(w.home, "pwned") + ")\n", "line 1: '(' outside quotes"},
		{"pipe", "GH_TOKEN_NAME=classic | sh\n", "line 1: unexpected text after the value"},
		{"semicolon", "GH_TOKEN_NAME=classic;rm -rf /\n", "line 1: ';' outside quotes"},
		{"no =", "GH_TOKEN_NAME classic\n", "line 1: expected KEY=\"value\""},
		{"bad key", "GH-TOKEN=classic\n", "line 1: expected KEY=\"value\""},
		{"trailing backslash", "GH_TOKEN_NAME=classic\\\n", "line 1: ends with a backslash"},
		{"text after the value", "GH_TOKEN_NAME=fine grained\n", "line 1: unexpected text after the value"},
		{"NUL in the name", "GH_TOKEN_NAME=\"fine-grained-myorg\x00\"\n", "line 1: GH_TOKEN_NAME"},
		{"invalid UTF-8 in the name", "GH_TOKEN_NAME=\"my\xfforg\"\n", "line 1: GH_TOKEN_NAME"},
		{"a name with a space", "GH_TOKEN_NAME=\"fine grained\"\n", "line 1: GH_TOKEN_NAME"},
		{"a 20000-byte line", "GH_TOKEN_NAME=\"" + strings.Repeat("x", 20000) + "\"\n", "line 1: longer than"},
		{"a 2 MB file", strings.Repeat("# padding\n", 200000), "larger than"},
		{"a route without a token", "GH_TOKEN_ROUTES=\"alice\"\n", "line 1: GH_TOKEN_ROUTES"},
		{"a route to another namespace", "GH_TOKEN_ROUTES=\"myorg=a:b:c d\"\n", "line 1: GH_TOKEN_ROUTES entry \"myorg=a:b:c\" names a token that is outside the github: namespace"},
		{"a host with a scheme", "GH_HOSTS=\"https://github.com\"\n", "line 1: GH_HOSTS"},
		{"a host with a path", "GH_HOSTS=\"github.com/evil\"\n", "line 1: GH_HOSTS"},
		{"warning days not a number", "GH_TOKEN_EXPIRY_WARN_DAYS=soon\n", "line 1: GH_TOKEN_EXPIRY_WARN_DAYS"},
		{"negative warning days", "GH_TOKEN_EXPIRY_WARN_DAYS=-1\n", "line 1: GH_TOKEN_EXPIRY_WARN_DAYS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.config(tc.config)
			checkRefused(t, w, tc.want, classic, myorg)
		})
	}
	if _, err := os.Stat(filepath.Join(w.home, "pwned")); err == nil {
		t.Error("the config was executed")
	}
	t.Run("bad GH_TOKEN_NAME in the environment", func(t *testing.T) {
		w.config("")
		w.env = append(w.env, "GH_TOKEN_NAME=fine grained")
		checkRefused(t, w, "GH_TOKEN_NAME", classic, myorg)
	})
}

func testUnreadableConfig(t *testing.T, bin string) {
	w, _ := newKeyringWorld(t, bin)
	classic := w.put("github:classic", "ghp_", time.Time{})
	dir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "jailrun")
	path := filepath.Join(dir, "config")
	reset := func(t *testing.T) {
		t.Helper()
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T)
		want  string
	}{
		{"a directory", func(t *testing.T) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is a directory"},
		{"a symlink loop", func(t *testing.T) {
			if err := os.Symlink("config.loop", path); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("config", filepath.Join(dir, "config.loop")); err != nil {
				t.Fatal(err)
			}
		}, "too many levels of symbolic links; fix or remove it"},
		{"its directory a file", func(t *testing.T) {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("GH_TOKEN_NAME=classic\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "cannot read the jailrun config"},
		{"no read permission", func(t *testing.T) {
			if os.Geteuid() == 0 {
				t.Skip("root reads any file; the directory and symlink loop cases cover root")
			}
			if err := os.WriteFile(path, []byte("GH_TOKEN_NAME=classic\n"), 0o000); err != nil {
				t.Fatal(err)
			}
		}, "cannot read the jailrun config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reset(t)
			tc.setup(t)
			checkRefused(t, w, tc.want, classic)
		})
	}
}
