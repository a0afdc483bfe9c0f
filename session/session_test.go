package session

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var setup = Setup{
	Token:       "github_pat_session_token_0123456789",
	Helper:      "/opt/jailrun/bin/git-credential-jailrun",
	ShimDir:     "/home/u/.local/share/jailrun/bin",
	GHConfigDir: "/home/u/.local/state/jailrun/gh",
	Hosts:       []string{"github.com", "ghe.corp.example:8443"},
}

// wantGitConfig is what setup's session appends to git's configuration.
var wantGitConfig = [][2]string{
	{"credential.helper", ""},
	{"credential.helper", "/opt/jailrun/bin/git-credential-jailrun --session"},
	{"core.askPass", ""},
	{"credential.https://github.com.useHttpPath", "true"},
	{"credential.https://ghe.corp.example:8443.useHttpPath", "true"},
	{"http.https://github.com/.extraHeader", ""},
	{"http.https://ghe.corp.example:8443/.extraHeader", ""},
	{"url.https://github.com/.insteadOf", "git@github.com:"},
	{"url.https://github.com/.insteadOf", "ssh://git@github.com/"},
	{"url.https://ghe.corp.example:8443/.insteadOf", "git@ghe.corp.example:"},
	{"url.https://ghe.corp.example:8443/.insteadOf", "ssh://git@ghe.corp.example/"},
}

// lookup returns the value exec would give key in env (the last entry),
// and whether there is one.
func lookup(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

func count(env []string, key string) int {
	n := 0
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			n++
		}
	}
	return n
}

// gitConfigEntries reads the GIT_CONFIG_COUNT entries of env from index from.
func gitConfigEntries(t *testing.T, env []string, from int) [][2]string {
	t.Helper()
	n, _ := lookup(env, "GIT_CONFIG_COUNT")
	var entries [][2]string
	for i := from; ; i++ {
		idx := strconv.Itoa(i)
		if idx == n {
			return entries
		}
		k, okK := lookup(env, "GIT_CONFIG_KEY_"+idx)
		v, okV := lookup(env, "GIT_CONFIG_VALUE_"+idx)
		if !okK || !okV {
			t.Fatalf("GIT_CONFIG_COUNT=%s but entry %d is missing", n, i)
		}
		entries = append(entries, [2]string{k, v})
		if i > 100 {
			t.Fatalf("GIT_CONFIG_COUNT=%q does not end the entries", n)
		}
	}
}

func TestEnviron(t *testing.T) {
	tests := []struct {
		name   string
		caller []string
		setup  Setup
		check  func(t *testing.T, env []string)
	}{{
		name:   "sets every session variable",
		caller: []string{"HOME=/home/u", "PATH=/usr/bin:/bin", "TERM=xterm"},
		setup:  setup,
		check: func(t *testing.T, env []string) {
			want := map[string]string{
				"HOME":                "/home/u",
				"TERM":                "xterm",
				"GH_TOKEN":            setup.Token,
				"GIT_TERMINAL_PROMPT": "0",
				"GIT_ASKPASS":         "",
				"SSH_ASKPASS":         "",
				"SSH_AUTH_SOCK":       "",
				"GH_CONFIG_DIR":       setup.GHConfigDir,
				"PATH":                setup.ShimDir + ":/usr/bin:/bin",
				Marker:                "1",
				"GIT_CONFIG_COUNT":    strconv.Itoa(len(wantGitConfig)),
			}
			for k, v := range want {
				if got, ok := lookup(env, k); !ok || got != v {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
				}
			}
			if got := gitConfigEntries(t, env, 0); !slices.Equal(got, wantGitConfig) {
				t.Errorf("git config entries:\n got %q\nwant %q", got, wantGitConfig)
			}
		},
	}, {
		name: "removes the caller's tokens and askpass programs",
		caller: []string{"GITHUB_TOKEN=ghp_callers", "GH_ENTERPRISE_TOKEN=ghp_ent", "GITHUB_ENTERPRISE_TOKEN=ghp_ent2",
			"GH_TOKEN=ghp_old", "GIT_ASKPASS=/usr/bin/ksshaskpass", "SSH_ASKPASS=/usr/bin/ssh-askpass",
			"SSH_AUTH_SOCK=/run/user/1/ssh", "GH_CONFIG_DIR=/home/u/.config/gh", "GIT_TERMINAL_PROMPT=1"},
		setup: setup,
		check: func(t *testing.T, env []string) {
			for _, k := range []string{"GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"} {
				if v, ok := lookup(env, k); ok {
					t.Errorf("%s still set (%s)", k, v)
				}
			}
			for k, v := range map[string]string{"GH_TOKEN": setup.Token, "GIT_ASKPASS": "", "SSH_ASKPASS": "",
				"SSH_AUTH_SOCK": "", "GH_CONFIG_DIR": setup.GHConfigDir, "GIT_TERMINAL_PROMPT": "0"} {
				if got, _ := lookup(env, k); got != v || count(env, k) != 1 {
					t.Errorf("%s = %q in %d entries, want %q in one", k, got, count(env, k), v)
				}
			}
			if strings.Contains(strings.Join(env, "\n"), "ghp_") {
				t.Error("a caller's token survived in the environment")
			}
		},
	}, {
		name:   "a GHE token stays out of the session: gh would send GH_ENTERPRISE_TOKEN to any host",
		caller: []string{"GH_TOKEN=ghp_callers", "GH_HOST=ghe.corp.example:8443", "GH_ENTERPRISE_TOKEN=ghp_callers_ent"},
		setup: Setup{Token: "ghe_token_value", TokenHost: "ghe.corp.example:8443", Helper: setup.Helper, ShimDir: setup.ShimDir,
			GHConfigDir: setup.GHConfigDir, Hosts: setup.Hosts},
		check: func(t *testing.T, env []string) {
			for _, k := range []string{"GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GH_HOST"} {
				if v, ok := lookup(env, k); ok {
					t.Errorf("%s = %q, want it unset", k, v)
				}
			}
			if strings.Contains(strings.Join(env, "\n"), "ghe_token_value") {
				t.Error("the GHE token is in the session's environment")
			}
		},
	}, {
		name:   "no token: GH_TOKEN absent, not empty",
		caller: []string{"GH_TOKEN=ghp_callers_broad_token"},
		setup:  Setup{Helper: setup.Helper, ShimDir: setup.ShimDir, GHConfigDir: setup.GHConfigDir, Hosts: []string{"github.com"}},
		check: func(t *testing.T, env []string) {
			if v, ok := lookup(env, "GH_TOKEN"); ok {
				t.Errorf("GH_TOKEN = %s, want it unset", v)
			}
		},
	}, {
		name: "appends after the caller's git config entries",
		caller: []string{"GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=user.name", "GIT_CONFIG_VALUE_0=U",
			"GIT_CONFIG_KEY_1=credential.helper", "GIT_CONFIG_VALUE_1=store"},
		setup: setup,
		check: func(t *testing.T, env []string) {
			if got := gitConfigEntries(t, env, 0)[:2]; !slices.Equal(got, [][2]string{{"user.name", "U"}, {"credential.helper", "store"}}) {
				t.Errorf("caller's entries changed: %q", got)
			}
			if got := gitConfigEntries(t, env, 2); !slices.Equal(got, wantGitConfig) {
				t.Errorf("session entries:\n got %q\nwant %q", got, wantGitConfig)
			}
		},
	}, {
		name:   "an invalid caller count is replaced",
		caller: []string{"GIT_CONFIG_COUNT=many"},
		setup:  setup,
		check: func(t *testing.T, env []string) {
			if got := gitConfigEntries(t, env, 0); !slices.Equal(got, wantGitConfig) {
				t.Errorf("entries = %q", got)
			}
		},
	}, {
		name:   "caller's git -c helper is dropped, other -c settings kept",
		caller: []string{"GIT_CONFIG_PARAMETERS='Credential.Helper'='store'"},
		setup:  setup,
		check: func(t *testing.T, env []string) {
			if v, ok := lookup(env, "GIT_CONFIG_PARAMETERS"); ok {
				t.Errorf("GIT_CONFIG_PARAMETERS kept: %s", v)
			}
		},
	}, {
		name:   "harmless git -c settings are kept",
		caller: []string{"GIT_CONFIG_PARAMETERS='core.editor'='vi'"},
		setup:  setup,
		check: func(t *testing.T, env []string) {
			if v, _ := lookup(env, "GIT_CONFIG_PARAMETERS"); v != "'core.editor'='vi'" {
				t.Errorf("GIT_CONFIG_PARAMETERS = %q", v)
			}
		},
	}, {
		name:   "shim dir moved to the front, duplicates dropped",
		caller: []string{"PATH=/usr/bin:" + setup.ShimDir + "/:/bin::", "PATH=/ignored/earlier/entry"},
		setup:  setup,
		check: func(t *testing.T, env []string) {
			if count(env, "PATH") != 1 {
				t.Errorf("%d PATH entries", count(env, "PATH"))
			}
			if got, _ := lookup(env, "PATH"); got != setup.ShimDir+":/ignored/earlier/entry" {
				t.Errorf("PATH = %q", got)
			}
		},
	}, {
		name:   "no PATH: only the shim dir",
		caller: nil,
		setup:  setup,
		check: func(t *testing.T, env []string) {
			if got, _ := lookup(env, "PATH"); got != setup.ShimDir {
				t.Errorf("PATH = %q", got)
			}
		},
	}, {
		name:   "a nested launch keeps one marker",
		caller: []string{Marker + "=1", "GIT_CONFIG_COUNT=0"},
		setup:  setup,
		check: func(t *testing.T, env []string) {
			if count(env, Marker) != 1 {
				t.Errorf("%d markers", count(env, Marker))
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller := slices.Clone(tt.caller)
			env := Environ(tt.caller, tt.setup)
			if !slices.Equal(caller, tt.caller) {
				t.Errorf("Environ changed its input: %q", tt.caller)
			}
			for _, kv := range env {
				if !strings.Contains(kv, "=") {
					t.Errorf("entry without '=': %q", kv)
				}
			}
			tt.check(t, env)
		})
	}
}

func TestEnvironNoHelperNoShim(t *testing.T) {
	env := Environ([]string{"PATH=/usr/bin"}, Setup{GHConfigDir: "/g", Hosts: []string{"github.com"}})
	if got, _ := lookup(env, "PATH"); got != "/usr/bin" {
		t.Errorf("PATH = %q without a shim dir", got)
	}
	got := gitConfigEntries(t, env, 0)
	if len(got) == 0 || got[0] != [2]string{"credential.helper", ""} {
		t.Fatalf("entries = %q, want the helper reset first", got)
	}
	for _, kv := range got {
		if kv[0] == "credential.helper" && kv[1] != "" {
			t.Errorf("a helper is set without one: %q", kv)
		}
	}
}

func TestGHEnviron(t *testing.T) {
	caller := []string{"HOME=/h", "GH_TOKEN=session", "GITHUB_TOKEN=g", "GH_ENTERPRISE_TOKEN=e", "GITHUB_ENTERPRISE_TOKEN=e2", "GH_HOST=old.example"}
	tests := []struct {
		host, token string
		want        map[string]string // "" value: must be absent
	}{
		{"github.com", "tok", map[string]string{"GH_TOKEN": "tok", "GH_ENTERPRISE_TOKEN": "", "GITHUB_TOKEN": "", "GITHUB_ENTERPRISE_TOKEN": "", "GH_HOST": "old.example", "HOME": "/h"}},
		{"GitHub.com", "tok", map[string]string{"GH_TOKEN": "tok", "GH_ENTERPRISE_TOKEN": ""}},
		{"ghe.corp.example", "ent", map[string]string{"GH_TOKEN": "", "GH_ENTERPRISE_TOKEN": "ent", "GH_HOST": "ghe.corp.example", "GITHUB_ENTERPRISE_TOKEN": ""}},
		{"github.com", "", map[string]string{"GH_TOKEN": "", "GH_ENTERPRISE_TOKEN": "", "GITHUB_TOKEN": "", "GH_HOST": "old.example"}},
	}
	for _, tt := range tests {
		env := GHEnviron(caller, tt.host, tt.token)
		for k, want := range tt.want {
			got, ok := lookup(env, k)
			if want == "" && ok || want != "" && got != want || count(env, k) > 1 {
				t.Errorf("GHEnviron(%s, %q): %s = %q (set %v, %d entries), want %q", tt.host, tt.token, k, got, ok, count(env, k), want)
			}
		}
	}
}

// TestEnvironGit checks the environment with git itself: it reads the
// entries, asks only our helper although the user's config names others,
// and rewrites ssh URLs to https.
func TestEnvironGit(t *testing.T) {
	home := t.TempDir()
	gitconfig := filepath.Join(home, ".gitconfig")
	userConfig := "[credential]\n\thelper = store\n[credential \"https://github.com\"]\n\thelper = store\n"
	if err := os.WriteFile(gitconfig, []byte(userConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".git-credentials"), []byte("https://user:users-own-password@github.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(home, "bin dir", "git-credential-jailrun")
	if err := os.MkdirAll(filepath.Dir(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\ncat > \"$0.in\"\necho \"args=$*\" >> \"$0.in\"\n[ \"$2\" = get ] && printf 'username=x-access-token\\npassword=from-jailrun\\n'\nexit 0\n"
	if err := os.WriteFile(helper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := setup
	s.Helper = helper
	caller := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + gitconfig,
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=user.name", "GIT_CONFIG_VALUE_0=Caller"}
	env := Environ(caller, s)
	git := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Env, cmd.Dir, cmd.Stdin = env, home, strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	got := git("protocol=https\nhost=github.com\npath=myorg/app.git\n\n", "credential", "fill")
	if want := "protocol=https\nhost=github.com\npath=myorg/app.git\nusername=x-access-token\npassword=from-jailrun"; got != want {
		t.Errorf("git credential fill:\n%s\nwant\n%s", got, want)
	}
	asked, err := os.ReadFile(helper + ".in")
	if err != nil {
		t.Fatalf("our helper was not run: %v", err)
	}
	if !strings.Contains(string(asked), "path=myorg/app.git\n") || !strings.HasSuffix(string(asked), "args=--session get\n") {
		t.Errorf("our helper was asked without the path or token-only mode:\n%s", asked)
	}
	if got := git("", "config", "user.name"); got != "Caller" {
		t.Errorf("caller's user.name = %q", got)
	}
	for _, remote := range []string{"git@github.com:myorg/app.git", "ssh://git@github.com/myorg/app.git", "https://github.com/myorg/app.git"} {
		if got := git("", "ls-remote", "--get-url", remote); got != "https://github.com/myorg/app.git" {
			t.Errorf("git resolves %s to %s", remote, got)
		}
	}
	if got := git("", "ls-remote", "--get-url", "git@ghe.corp.example:team/x"); got != "https://ghe.corp.example:8443/team/x" {
		t.Errorf("GHE ssh URL resolves to %s", got)
	}
	if got := git("", "config", "--get-regexp", `url\..*insteadof`); !strings.Contains(got, "url.https://github.com/.insteadof git@github.com:") {
		t.Errorf("insteadOf entries:\n%s", got)
	}
}

// TestHelperCommand runs the helper command through the shell as git does
// and checks that the program at the path gets exactly --session and get.
func TestHelperCommand(t *testing.T) {
	for _, dirName := range []string{"plain", "with space", "it's $HOME `x` \"q\" ;&|*?"} {
		t.Run(dirName, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), dirName)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			helper := filepath.Join(dir, "git-credential-jailrun")
			script := "#!/bin/sh\nfor a; do printf '<%s>' \"$a\"; done\n"
			if err := os.WriteFile(helper, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := helperCommand(helper)
			if dirName == "plain" && strings.HasPrefix(cmd, "!") {
				t.Errorf("a plain path is quoted: %s", cmd)
			}
			// git: "!cmd" runs cmd; an absolute path runs as is; both via sh -c with " get" appended.
			line := strings.TrimPrefix(cmd, "!") + " get"
			out, err := exec.Command("/bin/sh", "-c", line).CombinedOutput()
			if err != nil || string(out) != "<--session><get>" {
				t.Errorf("sh -c %q: %v: %q", line, err, out)
			}
		})
	}
}

func TestInSession(t *testing.T) {
	if InSession(func(string) string { return "" }) {
		t.Error("empty environment is a session")
	}
	if !InSession(func(k string) string { return map[string]string{Marker: "1"}[k] }) {
		t.Error("marker not recognised")
	}
}

func TestDirs(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		env         map[string]string
		shim, state string
	}{
		{map[string]string{"HOME": "/h"}, "/h/.local/share/jailrun/bin", "/h/.local/state/jailrun"},
		{map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/d", "XDG_STATE_HOME": "/s"}, "/d/jailrun/bin", "/s/jailrun"},
		{map[string]string{"HOME": "/h", "XDG_DATA_HOME": "rel", "XDG_STATE_HOME": "rel"}, "/h/.local/share/jailrun/bin", "/h/.local/state/jailrun"},
		{map[string]string{"HOME": "relative"}, "", ""},
	}
	for _, tt := range tests {
		if got := ShimDir(env(tt.env)); got != tt.shim {
			t.Errorf("ShimDir(%v) = %q, want %q", tt.env, got, tt.shim)
		}
		if got := StateDir(env(tt.env)); got != tt.state {
			t.Errorf("StateDir(%v) = %q, want %q", tt.env, got, tt.state)
		}
	}
}

func BenchmarkEnviron(b *testing.B) {
	caller := os.Environ()
	for b.Loop() {
		Environ(caller, setup)
	}
}
