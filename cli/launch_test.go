package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/internal/launch"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform"

	"github.com/jailrun/jailrun/config/configtest"
	"github.com/jailrun/jailrun/internal/testbin"
)

// runTimeout bounds every command a session test runs.
const runTimeout = 60 * time.Second

// world is one session test: the built binaries, a private keyring (or a
// bus without one), a home of its own and fake agents on PATH.
type world struct {
	t      *testing.T
	bin    string // jailrun and git-credential-jailrun
	agents string // fake agent scripts, on PATH before the system's
	home   string
	tmp    string // TMPDIR of every command
	env    []string
	kr     keyring.Keyring // nil without a Secret Service
}

// callerToken is the caller's own GITHUB_TOKEN, which no session may see.
const callerToken = "ghp_CallersOwnBroadToken000000000000000"

// newWorld is a session test's world, with the caller's own GitHub token,
// SSH agent and askpass program set, which no session may pass on.
func newWorld(t *testing.T, bin string, withKeyring bool) *world {
	t.Helper()
	var ks *keyringtest.Bus
	if withKeyring {
		ks = keyringtest.Start(t)
	} else {
		ks = keyringtest.StartBusOnly(t)
	}
	w := worldOn(t, bin, ks, withKeyring)
	w.env = append(w.env,
		"GITHUB_TOKEN="+callerToken,
		"SSH_AUTH_SOCK=/run/user/caller/ssh-agent.sock",
		"GIT_ASKPASS=/usr/bin/callers-askpass",
	)
	return w
}

// worldOn sets up a world on the bus of ks, with the keyring opened when
// withKeyring.
func worldOn(t *testing.T, bin string, ks *keyringtest.Bus, withKeyring bool) *world {
	t.Helper()
	home := os.Getenv("HOME") // keyringtest made it and points the test at it
	w := &world{t: t, bin: bin, home: home, agents: filepath.Join(home, "agents"), tmp: filepath.Join(home, "tmp")}
	for _, d := range []string{w.agents, w.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.env = append(ks.Env(),
		"PATH="+w.agents+string(filepath.ListSeparator)+bin+string(filepath.ListSeparator)+os.Getenv("PATH"),
		"USER="+keyringUser(),
		"TMPDIR="+w.tmp,
		"LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+filepath.Join(home, ".gitconfig"),
		// These tests are the session's; the jail has its own suite
		// (internal/escape), which runs jailed and unjailed side by side.
		launch.JailVar+"=off",
	)
	if withKeyring {
		kr, err := platform.Open()
		if err != nil {
			t.Fatalf("open the test keyring: %v", err)
		}
		t.Cleanup(func() { kr.Close() })
		w.kr = kr
	}
	return w
}

// keyringUser is the account the test keyring's items are stored under.
func keyringUser() string { return keyring.Account() }

// put stores a token in the test keyring and returns its secret.
func (w *world) put(name, prefix string, expires time.Time) string {
	w.t.Helper()
	secret := prefix + rand.Text() + rand.Text()
	if err := w.kr.Put(keyring.Token{Name: name, Secret: secret, Meta: keyring.Meta{Expires: expires}}); err != nil {
		w.t.Fatalf("store %s: %v", name, err)
	}
	return secret
}

// config writes the jailrun config file.
func (w *world) config(text string) {
	w.t.Helper()
	configtest.Write(w.t, os.Getenv, text)
}

// agent installs a fake agent: a shell script on PATH.
func (w *world) agent(name, script string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.agents, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		w.t.Fatal(err)
	}
}

// result is what a command left behind.
type result struct {
	stdout, stderr string
	code           int
}

// run runs jailrun with args in dir, with extra variables appended.
func (w *world) run(dir string, extra []string, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(w.bin, "jailrun"), args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), w.env...), extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		w.t.Fatalf("jailrun %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout.String(), sessionLines(stderr.String()), code}
}

// sessionLines returns a launch's stderr without the line that ends the
// start lines when the jail is turned off, as the world has it, so that
// the session's tests see their own lines; TestSession/JailOff checks that
// the line is there.
func sessionLines(stderr string) string { return jailOffLine.ReplaceAllString(stderr, "") }

var jailOffLine = regexp.MustCompile(`(?m)^\[[^]\n]*\] NOT jailed: turned off \(JAILRUN_JAIL=off or --no-jail\)(; real token in the session)?\n`)

// mustRun runs jailrun and fails the test unless it exits 0.
func (w *world) mustRun(dir string, args ...string) result {
	w.t.Helper()
	r := w.run(dir, nil, args...)
	if r.code != 0 {
		w.t.Fatalf("jailrun %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// noSecretOnDisk fails the test if a file under the test's home, TMPDIR
// or XDG_RUNTIME_DIR, or a file in the system temp directory changed since
// start, contains one of the secrets.
func (w *world) noSecretOnDisk(start time.Time, secrets ...string) {
	w.t.Helper()
	roots := []string{w.home, os.Getenv("XDG_RUNTIME_DIR"), os.TempDir()} // TMPDIR is inside home
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil || info.Size() > 16<<20 || root == os.TempDir() && info.ModTime().Before(start) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, s := range secrets {
				if bytes.Contains(data, []byte(s)) {
					w.t.Errorf("%s contains the token %s", path, keyring.Preview(s))
				}
			}
			return nil
		})
	}
}

// TestSession runs the session end to end with the built binaries.
func TestSession(t *testing.T) {
	bin := testbin.Dir(t)
	t.Run("ArgsVerbatimAndExitStatus", func(t *testing.T) { testArgsVerbatim(t, bin) })
	t.Run("Environment", func(t *testing.T) { testEnvironment(t, bin) })
	t.Run("StartLines", func(t *testing.T) { testStartLines(t, bin) })
	t.Run("Nested", func(t *testing.T) { testNested(t, bin) })
	t.Run("JailOff", func(t *testing.T) { testJailOff(t, bin) })
	t.Run("MissingAgent", func(t *testing.T) { testMissingAgent(t, bin) })
	t.Run("NoSecretService", func(t *testing.T) { testNoSecretService(t, bin) })
	t.Run("GitPush", func(t *testing.T) { testGitPush(t, bin) })
	t.Run("GHAuthToken", func(t *testing.T) { testGHAuthToken(t, bin) })
	t.Run("ShimRepoFlagAndGHE", func(t *testing.T) { testShimRepoFlag(t, bin) })
	t.Run("ExtraHeaderReset", func(t *testing.T) { testExtraHeaderReset(t, bin) })
	t.Run("NetrcWarning", func(t *testing.T) { testNetrcWarning(t, bin) })
	t.Run("GHEnterpriseTokenStaysHome", func(t *testing.T) { testGHEnterpriseTokenStaysHome(t, bin) })
	t.Run("StateDirLink", func(t *testing.T) { testStateDirLink(t, bin) })
}

func testArgsVerbatim(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	w.put("github:classic", "ghp_", time.Time{})
	out := filepath.Join(w.tmp, "args")
	w.agent("claude", `for a; do printf '<%s>' "$a"; done > "`+out+`"; exit 7`+"\n")
	args := []string{"--help", "two words", "a\nb", "-x"}
	r := w.run(w.home, nil, append([]string{"claude"}, args...)...)
	if r.code != 7 {
		t.Errorf("exit status %d, want the agent's 7; stderr: %s", r.code, r.stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the agent did not run: %v; stderr: %s", err, r.stderr)
	}
	if want := "<--help><two words><a\nb><-x>"; string(got) != want {
		t.Errorf("the agent got %q, want %q", got, want)
	}

	// run: the same for any command, with or without "--", and flags for kong
	// (--version, --help) reach the command.
	for _, prefix := range [][]string{{"run", "--"}, {"run"}} {
		w.agent("aider", `for a; do printf '<%s>' "$a"; done > "`+out+`"; exit 3`+"\n")
		r := w.run(w.home, nil, append(prefix, "aider", "--version", "--help", "", "-- x")...)
		got, _ := os.ReadFile(out)
		if r.code != 3 || string(got) != "<--version><--help><><-- x>" {
			t.Errorf("jailrun %s aider: exit %d, args %q; stderr: %s", strings.Join(prefix, " "), r.code, got, r.stderr)
		}
	}
}

func testEnvironment(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	token := w.put("github:fine-grained-myorg", "github_pat_", time.Now().Add(12*24*time.Hour+time.Hour))
	w.config(`GH_TOKEN_NAME="fine-grained-myorg"` + "\n")
	out := filepath.Join(w.tmp, "env")
	script := `{
echo "GH_TOKEN=$GH_TOKEN"
echo "GITHUB_TOKEN=${GITHUB_TOKEN-unset}"
echo "GIT_TERMINAL_PROMPT=$GIT_TERMINAL_PROMPT"
echo "SSH_AUTH_SOCK=${SSH_AUTH_SOCK-unset}"
echo "GIT_ASKPASS=${GIT_ASKPASS-unset}"
echo "GH_CONFIG_DIR=$GH_CONFIG_DIR"
echo "MARKER=$_CREDENTIAL_GUARD_SANDBOXED"
echo "GH=$(command -v gh)"
git config --get-regexp 'url\..*insteadof'
} > "` + out + `"`
	r := w.mustRun(w.home, "run", "--", "sh", "-c", script)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if lines[0] != "GH_TOKEN="+token {
		t.Errorf("GH_TOKEN in the session is %s, want %s", keyring.Preview(strings.TrimPrefix(lines[0], "GH_TOKEN=")), keyring.Preview(token))
	}
	got := strings.Join(lines[1:], "\n")
	ghConfig := filepath.Join(w.home, ".local", "state", "jailrun", "gh-")
	shim := filepath.Join(os.Getenv("XDG_DATA_HOME"), "jailrun", "bin", "gh")
	for _, want := range []string{
		"GITHUB_TOKEN=unset\n",
		"GIT_TERMINAL_PROMPT=0\n",
		"SSH_AUTH_SOCK=\n",
		"GIT_ASKPASS=\n",
		"GH_CONFIG_DIR=" + ghConfig,
		"MARKER=1\n",
		"GH=" + shim + "\n",
		"url.https://github.com/.insteadof git@github.com:\n",
		"url.https://github.com/.insteadof ssh://git@github.com/\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("session lacks %q; it has:\n%s", want, got)
		}
	}
	if ghConfig == filepath.Join(w.home, ".config", "gh") {
		t.Error("GH_CONFIG_DIR is the user's gh config")
	}
	if target, err := filepath.EvalSymlinks(shim); err != nil || target != filepath.Join(bin, "jailrun") {
		t.Errorf("the gh shim links to %q (%v), want the jailrun executable", target, err)
	}
	if want := "[sh] GitHub: PAT github:fine-grained-myorg (fine-grained, expires in 12 days)\n"; r.stderr != want {
		t.Errorf("start line:\n%s\nwant\n%s", r.stderr, want)
	}
	if strings.Contains(r.stderr+r.stdout, token) {
		t.Error("the token was printed")
	}
}

func testStartLines(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	w.agent("codex", "exit 0\n")
	tests := []struct {
		name, config string
		setup        func()
		inRepo       bool
		want         []string
	}{{
		name: "not configured, outside a repository: nothing to say",
		want: nil,
	}, {
		name:   "not configured, in a repository: the owner's fine-grained token first",
		setup:  func() { gittest.InitWorkRepo(t, filepath.Join(w.home, "app"), "https://github.com/myorg/app.git") },
		inRepo: true,
		want:   []string{"[codex] WARN: GitHub PAT not configured: no token for myorg's repositories (the default token, github:classic, is not in the keyring either); add one: jailrun token add --name github:fine-grained-myorg"},
	}, {
		name:   "a named active token that is missing is still said",
		config: `GH_TOKEN_NAME=mine` + "\n",
		want:   []string{"[codex] WARN: GitHub PAT not configured: token github:mine, the default for github.com, is not in the keyring; add it: jailrun token add --name github:mine"},
	}, {
		name:  "classic, no expiry known",
		setup: func() { w.put("github:classic", "ghp_", time.Time{}) },
		want: []string{"[codex] GitHub: PAT github:classic (classic)",
			"[codex] NOTE: github:classic is a classic PAT, good for every repository you can reach; a fine-grained PAT per owner is safer: jailrun token add --name github:fine-grained-OWNER"},
	}, {
		name:   "expires soon",
		config: `GH_TOKEN_NAME=soon` + "\nGH_TOKEN_EXPIRY_WARN_DAYS=5\n",
		setup:  func() { w.put("github:soon", "github_pat_", time.Now().Add(3*24*time.Hour+time.Hour)) },
		want: []string{"[codex] GitHub: PAT github:soon (fine-grained, expires in 3 days)",
			"[codex] WARN: github:soon expires in 3 days; create a new token, then: jailrun token rotate --name github:soon"},
	}, {
		name:   "not yet within the warning days",
		config: `GH_TOKEN_NAME=soon` + "\nGH_TOKEN_EXPIRY_WARN_DAYS=2\n",
		want:   []string{"[codex] GitHub: PAT github:soon (fine-grained, expires in 3 days)"},
	}, {
		name:   "expired",
		config: `GH_TOKEN_NAME=old` + "\n",
		setup:  func() { w.put("github:old", "gho_", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)) },
		want: []string{"[codex] GitHub: PAT github:old (oauth)",
			"[codex] WARN: github:old expired on 2024-03-01; GitHub will refuse it: create a new token, then: jailrun token rotate --name github:old"},
	}, {
		name:   "a route to a missing token: warned, nothing served",
		config: `GH_TOKEN_ROUTES="myorg=gone"` + "\n",
		inRepo: true, // the clone of myorg/app made above
		want:   []string{"[codex] WARN: GitHub PAT not configured: route myorg=gone names token github:gone, which is not in the keyring; add it: jailrun token add --name github:gone"},
	}, {
		name:   "bad config: warned, nothing served",
		config: "GH_TOKEN_NAME=\"unterminated\n",
		want:   []string{"[codex] WARN: GitHub PAT not used: "},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.config(tt.config)
			if tt.setup != nil {
				tt.setup()
			}
			dir := w.home
			if tt.inRepo {
				dir = filepath.Join(w.home, "app")
			}
			r := w.run(dir, []string{"TZ=UTC"}, "codex")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var got []string
			if r.stderr != "" {
				got = strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("start lines:\n%s\nwant\n%s", r.stderr, strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) || !strings.HasSuffix(tt.want[i], ": ") && got[i] != tt.want[i] {
					t.Errorf("line %d:\n%s\nwant\n%s", i+1, got[i], tt.want[i])
				}
			}
		})
	}
}

// testJailOff checks the start line of a launch without the jail, turned
// off by the variable or by --no-jail, and the refusal of a bad value.
func testJailOff(t *testing.T, bin string) {
	w := newWorld(t, bin, false)
	for _, tc := range []struct {
		extra []string
		args  []string
	}{
		{nil, []string{"run", "--", "true"}},
		{[]string{launch.JailVar + "=on"}, []string{"--no-jail", "run", "--", "true"}},
		// Where run's help shows it, after run, with or without "--".
		{[]string{launch.JailVar + "=on"}, []string{"run", "--no-jail", "--", "true"}},
		{[]string{launch.JailVar + "=on"}, []string{"run", "--no-jail", "true"}},
	} {
		cmd := exec.Command(filepath.Join(w.bin, "jailrun"), tc.args...)
		cmd.Env = append(append([]string(nil), w.env...), tc.extra...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasSuffix(string(out), "[true] NOT jailed: turned off (JAILRUN_JAIL=off or --no-jail)\n") {
			t.Errorf("jailrun %s with %v: %v; output:\n%s", strings.Join(tc.args, " "), tc.extra, err, out)
		}
	}
	r := w.run(w.home, nil, "run", "--bogus", "--", "true")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "jailrun: run: unknown flag --bogus;") {
		t.Errorf("run --bogus: exit %d, stderr %q", r.code, r.stderr)
	}
	r = w.run(w.home, []string{launch.JailVar + "=maybe"}, "run", "--", "true")
	if r.code != 2 || r.stderr != "jailrun: JAILRUN_JAIL=\"maybe\" is not auto, on or off\n" {
		t.Errorf("JAILRUN_JAIL=maybe: exit %d, stderr %q", r.code, r.stderr)
	}
}

func testNested(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	token := w.put("github:classic", "ghp_", time.Time{})
	out := filepath.Join(w.tmp, "nested")
	w.agent("claude", `printf '%s|%s|%s' "$GH_TOKEN" "$GIT_CONFIG_COUNT" "$*" > "`+out+`"`+"\n")
	// The inner launch cannot reach any keyring: it must not try.
	r := w.mustRun(w.home, "run", "--", "sh", "-c", `DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent jailrun claude inner 'a b'`)
	if lines := strings.Count(r.stderr, "\n"); lines != 2 || !strings.HasPrefix(r.stderr, "[sh] GitHub: PAT github:classic (classic)\n") {
		t.Errorf("a nested launch wrote start lines; stderr:\n%s", r.stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the nested agent did not run: %v", err)
	}
	parts := strings.Split(string(got), "|")
	if len(parts) != 3 || parts[0] != token || parts[2] != "inner a b" {
		t.Errorf("nested agent saw token %s, args %q", keyring.Preview(parts[0]), parts[1:])
	}
	if len(parts) == 3 && parts[1] != "7" {
		t.Errorf("GIT_CONFIG_COUNT in the nested agent = %q, want the outer session's 7 entries", parts[1])
	}
}

func testMissingAgent(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	for agent, hint := range map[string]string{
		"claude":   "npm install -g @anthropic-ai/claude-code",
		"codex":    "npm install -g @openai/codex",
		"gemini":   "npm install -g @google/gemini-cli",
		"kiro-cli": "kiro.dev",
	} {
		r := w.run(w.home, []string{"PATH=" + w.bin + ":/nonexistent"}, agent, "--version")
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, agent+" is not installed") || !strings.Contains(r.stderr, hint) {
			t.Errorf("jailrun %s without %s: exit %d, stderr %q", agent, agent, r.code, r.stderr)
		}
	}
	r := w.run(w.home, nil, "run", "--", "no-such-command-jr")
	if r.code != 1 || r.stderr != "jailrun: no-such-command-jr: command not found on PATH\n" {
		t.Errorf("run of a missing command: exit %d, stderr %q", r.code, r.stderr)
	}
	r = w.run(w.home, nil, "run")
	if r.code != 2 || !strings.Contains(r.stderr, "jailrun run -- CMD") {
		t.Errorf("run without a command: exit %d, stderr %q", r.code, r.stderr)
	}
	r = w.run(w.home, nil, "run", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage: jailrun run") {
		t.Errorf("run --help: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func testNoSecretService(t *testing.T, bin string) {
	w := newWorld(t, bin, false)
	r := w.run(w.home, nil, "run", "--", "sh", "-c", "echo ran")
	if r.code != 0 || r.stdout != "ran\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "[sh] WARN: GitHub PAT not available: ") ||
		!strings.Contains(r.stderr, "Secret Service") || !strings.Contains(r.stderr, "gnome-keyring") {
		t.Errorf("stderr %q, want one WARN line naming the missing Secret Service and how to get one", r.stderr)
	}
	r = w.run(w.home, []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus"}, "run", "--", "sh", "-c", "echo ran")
	if r.code != 0 || r.stdout != "ran\n" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "[sh] WARN: ") || !strings.Contains(r.stderr, "D-Bus") {
		t.Errorf("without a bus: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func testGitPush(t *testing.T, bin string) {
	start := time.Now()
	w := newWorld(t, bin, true)
	srv := gittest.NewServer(t)
	myorg := w.put("github:fine-grained-myorg", "github_pat_", time.Time{})
	other := w.put("github:fine-grained-other", "github_pat_", time.Time{})
	active := w.put("github:classic", "ghp_", time.Time{})
	srv.RequireToken("myorg", myorg)
	srv.RequireToken("other", other)
	w.config(`GH_HOSTS="github.com ` + srv.Host + `"` + "\n" +
		`GH_TOKEN_ROUTES="` + srv.Host + `/myorg=fine-grained-myorg ` + srv.Host + `/other=fine-grained-other"` + "\n")
	// The user's own git setup offers a different credential for the host.
	gitconfig := "[credential]\n\thelper = store\n[credential \"" + srv.URL + "\"]\n\thelper = store\n"
	if err := os.WriteFile(filepath.Join(w.home, ".gitconfig"), []byte(gitconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	userCred := "ghp_UsersOwnStoredCredential0000000000"
	if err := os.WriteFile(filepath.Join(w.home, ".git-credentials"), []byte("https://me:"+userCred+"@"+srv.Host+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = append(w.env, "GIT_SSL_CAINFO="+srv.CAFile)

	for _, owner := range []string{"myorg", "other"} {
		url := srv.AddRepo(t, owner, "r")
		work := filepath.Join(w.home, "work-"+owner)
		head := gittest.InitWorkRepo(t, work, url)
		r := w.mustRun(work, "run", "--", "git", "push", "--quiet", url, "main")
		if got := srv.Ref(t, owner, "r", "refs/heads/main"); got != head {
			t.Errorf("%s/r main = %q after the push, want %s; stderr: %s", owner, got, head, r.stderr)
		}
		if n := srv.Rejected(owner); n != 0 {
			t.Errorf("%d wrong credentials were offered for %s: %q", n, owner, srv.Offered(owner))
		}
	}
	// ssh remotes are pushed over https with the same token.
	url := srv.AddRepo(t, "myorg", "ssh")
	work := filepath.Join(w.home, "work-ssh")
	head := gittest.InitWorkRepo(t, work, "ssh://git@"+strings.Split(srv.Host, ":")[0]+"/myorg/ssh.git")
	w.mustRun(work, "run", "--", "git", "push", "--quiet", "origin", "main")
	if got := srv.Ref(t, "myorg", "ssh", "refs/heads/main"); got != head {
		t.Errorf("push to the ssh remote %s: main = %q, want %s", url, got, head)
	}
	if n := srv.Rejected("myorg"); n != 0 {
		t.Errorf("%d wrong credentials were offered for myorg", n)
	}
	if cred, err := os.ReadFile(filepath.Join(w.home, ".git-credentials")); err != nil || string(cred) != "https://me:"+userCred+"@"+srv.Host+"\n" {
		t.Errorf("the user's ~/.git-credentials changed (%v)", err)
	}
	w.noSecretOnDisk(start, myorg, other, active)
}

// BenchmarkLaunch times `jailrun run -- true` against `secret-tool lookup`
// of the same token, alternating the two in one private keyring so that
// both see the same load, and reports each one's mean and their ratio.
func BenchmarkLaunch(b *testing.B) {
	secretTool, err := exec.LookPath("secret-tool")
	if err != nil {
		b.Skip("secret-tool not installed (sudo apt install libsecret-tools)")
	}
	bin := testbin.Dir(b)
	ks := keyringtest.Start(b)
	kr, err := platform.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer kr.Close()
	if err := kr.Put(keyring.Token{Name: "github:classic", Secret: "ghp_" + rand.Text()}); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), ks.Env()...)
	commands := []*exec.Cmd{
		exec.Command(filepath.Join(bin, "jailrun"), "run", "--", "true"),
		exec.Command(secretTool, "lookup", "service", keyring.Service("github:classic"), "account", keyring.Account()),
	}
	var spent [2]time.Duration
	b.ResetTimer()
	for b.Loop() {
		for i, c := range commands {
			cmd := exec.Command(c.Path, c.Args[1:]...)
			cmd.Env, cmd.Dir = env, os.Getenv("HOME")
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%s: %v: %s", c.Args[0], err, bytes.TrimSpace(out))
			}
			spent[i] += time.Since(start)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(spent[0].Microseconds())/n/1000, "jailrun-ms/op")
	b.ReportMetric(float64(spent[1].Microseconds())/n/1000, "secret-tool-ms/op")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "ratio")
}
