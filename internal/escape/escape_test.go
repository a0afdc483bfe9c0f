//go:build linux

package escape_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/config/configtest"
	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/internal/jail/jailtest"
	"github.com/jailrun/jailrun/internal/testbin"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform"
)

// runTimeout bounds one run of jailrun.
const runTimeout = 60 * time.Second

// banner is what the suite's TCP listener sends; the attack's own copy is
// attack.Banner.
const banner = "jailrun-escape-banner"

// The two sides of every case, as JAILRUN_JAIL values.
const (
	jailed   = "on"
	unjailed = "off"
)

func TestMain(m *testing.M) {
	testbin.HideInstalled()
	code := testbin.RemovingAfter(m).Run()
	if attackMade.Load() {
		if dir, err := attackDir(); err == nil {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// attackDir builds the attack command once, into a directory of its own
// that goes on PATH (PATH directories stay visible in the jail).
var attackDir = sync.OnceValues(func() (string, error) {
	attackMade.Store(true)
	dir, err := os.MkdirTemp("", "jratk")
	if err != nil {
		return "", err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "build", "-o", filepath.Join(dir, "attack"), "github.com/jailrun/jailrun/internal/escape/attack")
	cmd.Env = startEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the attack command: %v\n%s", err, out)
	}
	return dir, nil
})

// attackMade is set once attackDir has made its directory, for TestMain.
var attackMade atomic.Bool

// startEnv is the environment the test binary started with, for go build:
// tests move HOME and XDG_CACHE_HOME.
var startEnv = os.Environ()

// world is the suite's one setup: a private keyring with tokens in it, the
// HTTPS git server, a home full of planted credentials, two repositories
// and listeners outside the jail for the attacks to reach.
type world struct {
	t      *testing.T
	bin    string // jailrun and git-credential-jailrun
	home   string
	bus    *keyringtest.Bus
	srv    *gittest.Server
	env    []string
	tokens map[string]string   // keyring name → secret
	repos  map[string]string   // owner → work tree pushing to OWNER/r; "gh": one of github.com/myorg
	wired  bool                // jailrun run starts the jail (JAILRUN_JAIL=on says "jailed")
	cred   *syscall.Credential // whom jailrun runs as; nil: this process
	runDir string              // XDG_RUNTIME_DIR

	// outside: what the attacks aim at.
	runtimeSock, tmpSock, sshSock, abstractSock string
	tcpAddr                                     string
	outsidePID                                  int // a process with a planted GITHUB_TOKEN
}

// appID is the id of the suite's GitHub App.
const appID = 77

// planted is the word every planted credential holds.
const planted = "PLANTED"

// maskedFiles and maskedDirs are design.md's credential list under HOME
// (and browser profiles), each planted by the suite: a file with the word,
// or a directory with a file holding it.
var (
	maskedFiles = []string{".git-credentials", ".config/git/credentials", ".netrc", ".npmrc", ".pypirc", ".cargo/credentials.toml"}
	maskedDirs  = []string{".ssh", ".gnupg", ".aws", ".azure", ".config/gcloud", ".kube", ".docker", ".config/gh", ".config/hub", ".config/github-copilot",
		".password-store", ".local/share/keyrings", ".mozilla", ".config/google-chrome", ".config/chromium", "snap/firefox"}
)

func newWorld(t *testing.T) *world {
	t.Helper()
	jailtest.Need(t)
	bus := keyringtest.StartAbstract(t)
	for _, tool := range []string{"git", "secret-tool"} {
		need(t, tool)
	}
	dir, err := attackDir()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{
		t:      t,
		bin:    testbin.Dir(t),
		home:   os.Getenv("HOME"), // keyringtest made it
		bus:    bus,
		srv:    gittest.NewServer(t),
		tokens: map[string]string{},
		repos:  map[string]string{},
		runDir: os.Getenv("XDG_RUNTIME_DIR"),
	}
	// The server's env first: its XDG_CONFIG_HOME gives way to the bus's.
	w.env = append(w.srv.Env(w.home), bus.Env()...)
	w.env = append(w.env,
		"PATH="+dir+string(filepath.ListSeparator)+w.bin+string(filepath.ListSeparator)+os.Getenv("PATH"),
		"USER="+keyring.Account(),
		"GITHUB_TOKEN=ghp_"+planted+"CallersOwnToken0000000000000",
	)

	kr, err := platform.Open()
	if err != nil {
		t.Fatalf("open the test keyring: %v", err)
	}
	defer kr.Close()
	for _, name := range []string{"github:fine-grained-myorg", "github:fine-grained-other", "github:classic", "github:steer"} {
		secret := "github_pat_" + rand.Text() + rand.Text()
		if err := kr.Put(keyring.Token{Name: name, Secret: secret}); err != nil {
			t.Fatalf("store %s: %v", name, err)
		}
		w.tokens[name] = secret
	}
	// A GitHub App installed on appowner, routed: sessions there get
	// tokens it mints for their one repository.
	appKey := w.srv.AddApp(t, appID)
	w.srv.Install("appowner", appID)
	if err := kr.Put(keyring.Token{Name: "app:appowner", Secret: apptoken.Stored{ID: appID, Host: w.srv.Host, Key: string(appKey)}.Encode()}); err != nil {
		t.Fatalf("store the App: %v", err)
	}
	w.srv.RequireToken("myorg", w.tokens["github:fine-grained-myorg"])
	w.srv.RequireToken("other", w.tokens["github:fine-grained-other"])
	w.srv.RequireToken("victim", "github_pat_"+rand.Text()+rand.Text()) // nobody has it
	w.srv.AddRepo(t, "victim", "r")
	// The fine-grained-OWNER convention is github.com's: the test
	// server's owners get their tokens through routes.
	configtest.Write(t, os.Getenv, `GH_HOSTS="github.com `+w.srv.Host+`"`+"\n"+
		`GH_TOKEN_ROUTES="`+w.srv.Host+`/myorg=fine-grained-myorg `+w.srv.Host+`/other=fine-grained-other `+w.srv.Host+`/appowner=app:appowner"`+"\n")
	for _, owner := range []string{"myorg", "other", "appowner"} {
		w.repos[owner] = filepath.Join(w.home, "work-"+owner)
		gittest.InitWorkRepo(t, w.repos[owner], w.srv.AddRepo(t, owner, "r"))
	}
	w.srv.AddRepo(t, "appowner", "r2")
	// A submodule's git directory, as git submodule update leaves it; a
	// linked worktree; husky's hooks directory in the work tree.
	gittest.Git(t, w.repos["myorg"], "init", "--quiet", "--bare", ".git/modules/sub")
	for _, cache := range []string{".cache", ".npm"} { // the user's, to poison
		if err := os.MkdirAll(filepath.Join(w.home, cache), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.repos["worktree"] = filepath.Join(w.home, "work-myorg-wt")
	gittest.Git(t, w.repos["myorg"], "worktree", "add", "--quiet", w.repos["worktree"])
	gittest.Git(t, w.repos["myorg"], "config", "core.hooksPath", ".husky/_")
	if err := os.MkdirAll(filepath.Join(w.repos["myorg"], ".husky", "_"), 0o755); err != nil {
		t.Fatal(err)
	}
	// gh talks to github.com about the repository of the current
	// directory; `gh auth token` needs no network.
	w.repos["gh"] = filepath.Join(w.home, "work-gh")
	gittest.InitWorkRepo(t, w.repos["gh"], "https://github.com/myorg/app.git")
	w.plant()
	w.listen()
	return w
}

// need skips the test without program (fails it when CI=true).
func need(t *testing.T, program string) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		msg := program + " not found: install it to run the escape suite"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// plant writes the credentials the attacks reach for (see plantFiles), with
// a credential for the git server in ~/.git-credentials.
func (w *world) plant() {
	w.t.Helper()
	w.plantFiles()
	w.write(".git-credentials", "https://me:"+plantedCredential+"@"+w.srv.Host+"\n")
}

// plantFiles writes every masked file, planted, and an empty global git
// config for the write attack to change.
func (w *world) plantFiles() {
	w.t.Helper()
	for _, f := range maskedFiles {
		w.write(f, planted+" "+f+"\n")
	}
	for _, d := range maskedDirs {
		w.write(filepath.Join(d, "planted"), planted+" "+d+"\n")
	}
	w.write(".gitconfig", "")
}

// write writes text to the file rel under HOME, making its directories.
func (w *world) write(rel, text string) {
	w.t.Helper()
	{
		path := filepath.Join(w.home, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			w.t.Fatal(err)
		}
	}
}

// plantedCredential is ~/.git-credentials' password; its preview is unique.
const plantedCredential = "ghp_PLANTEDgitCredentialsStore0000000000"

// listen starts what lies outside the jail: unix sockets in
// XDG_RUNTIME_DIR, in /tmp, at SSH_AUTH_SOCK in HOME and in the abstract
// namespace; a TCP port on the host's loopback that no config lists; and a
// process whose environment holds a token.
func (w *world) listen() {
	t := w.t
	tmp, err := os.MkdirTemp("", "jrsock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	agentDir := filepath.Join(w.home, ".agent")
	if err := os.Mkdir(agentDir, 0o700); err != nil {
		t.Fatal(err)
	}
	w.runtimeSock = filepath.Join(w.runDir, "attack.sock")
	w.tmpSock = filepath.Join(tmp, "attack.sock")
	w.sshSock = filepath.Join(agentDir, "ssh.sock")
	w.abstractSock = "jrescape-" + rand.Text()[:12]
	w.env = append(w.env, "SSH_AUTH_SOCK="+w.sshSock)
	for _, addr := range []string{w.runtimeSock, w.tmpSock, w.sshSock, "@" + w.abstractSock} {
		serve(t, "unix", addr)
	}
	w.tcpAddr = serve(t, "tcp", "127.0.0.1:0")

	sleep := exec.Command("sleep", "600")
	sleep.Env = []string{"GITHUB_TOKEN=ghp_" + planted + "InTheEnvironOfAnOutsideProcess"}
	sleep.SysProcAttr = &syscall.SysProcAttr{Credential: w.cred}
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	w.outsidePID = sleep.Process.Pid
}

// serve listens on address, answering every connection with the banner,
// until the test ends, and returns the address it listens on.
func serve(t *testing.T, network, address string) string {
	t.Helper()
	l, err := net.Listen(network, address)
	if err != nil {
		t.Fatalf("listen on %s: %v", address, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(runTimeout))
			fmt.Fprintln(c, banner)
			c.Close()
		}
	}()
	return l.Addr().String()
}

// result is what one run of jailrun left behind.
type result struct {
	stdout, stderr string
	code           int
}

// run runs `jailrun run -- sh -c script` in dir with JAILRUN_JAIL=mode and
// extra variables (see launch). Jailed, the start line must say so: anything else is a
// broken launch, not a blocked attack.
func (w *world) run(mode, dir, script string, extra ...string) result {
	w.t.Helper()
	return w.launch(mode, dir, []string{"run", "--", "sh", "-c", script}, extra...)
}

// launch runs jailrun with args in dir, as run does.
func (w *world) launch(mode, dir string, args []string, extra ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(w.bin, "jailrun"), args...)
	cmd.Dir = dir
	cmd.Env = append(append(slices.Clip(w.env), "JAILRUN_JAIL="+mode), extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A process group of its own: an attack on jailrun's group (kill 0)
	// must not reach the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: w.cred, Setpgid: true}
	err := cmd.Run()
	var exit *exec.ExitError
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		w.t.Fatalf("jailrun %s (JAILRUN_JAIL=%s): %v", args[0], mode, err)
	}
	if mode == jailed && !strings.Contains(r.stderr, "] jailed") {
		w.t.Fatalf("JAILRUN_JAIL=on: the start line does not say jailed (exit %d); stderr:\n%s", r.code, w.redact(r.stderr))
	}
	if mode == unjailed && w.wired && !strings.Contains(r.stderr, "] NOT jailed: ") {
		w.t.Errorf("JAILRUN_JAIL=off: the start line does not say NOT jailed; stderr:\n%s", w.redact(r.stderr))
	}
	return r
}

// redact replaces every secret of the world in s by its preview.
func (w *world) redact(s string) string {
	for _, secret := range w.tokens {
		s = strings.ReplaceAll(s, secret, keyring.Preview(secret))
	}
	return s
}

// probeWiring tells whether `jailrun run` starts the jail: the start line
// says "jailed" with JAILRUN_JAIL=on. A start line saying neither jailed
// nor NOT jailed is a jailrun from before the jail.
func (w *world) probeWiring() {
	w.t.Helper()
	r := w.run(unjailed, w.home, "true", "JAILRUN_JAIL=on")
	switch {
	case strings.Contains(r.stderr, "] jailed"):
		w.wired = true
	case strings.Contains(r.stderr, "] NOT jailed") || r.code != 0:
		w.t.Fatalf("JAILRUN_JAIL=on: jailrun run -- true did not start jailed although bwrap works here (exit %d): %s", r.code, w.redact(r.stderr))
	}
}

// attack is one way out: run jailed it must fail, unjailed it must work.
type attack struct {
	name   string
	script string              // sh -c script, run in myorg's work tree
	extra  []string            // variables for this run only
	worked func(r result) bool // nil: exit status 0
	setup  func(t *testing.T)  // prepares each run; nil: nothing
	undo   func(t *testing.T)  // restores what a run changed on the host
}

// row is one line of the table of cases.
type row struct{ kind, name, jailed, unjailed string }

// TestEscape runs every attack jailed and unjailed, then what must work in
// the jail, and logs the table of cases.
func TestEscape(t *testing.T) {
	w := newWorld(t)
	w.probeWiring()
	w.check(t, w.attacks(), w.works())
	w.noSecretInAudit()
}

// check runs the attacks and the works, and logs the table of cases.
func (w *world) check(t *testing.T, attacks []attack, works []work) {
	var table []row
	t.Cleanup(func() { logTable(t, table, w.wired) })
	if !w.wired {
		msg := "jailrun run does not start a jail yet (JAILRUN_JAIL=on gives no \"jailed\" start line): the jailed halves are not run"
		if os.Getenv("CI") == "true" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	for _, a := range attacks {
		res := row{kind: "attack", name: a.name, jailed: "not run", unjailed: "not run"}
		t.Run(a.name, func(t *testing.T) {
			worked := a.worked
			if worked == nil {
				worked = func(r result) bool { return r.code == 0 }
			}
			if w.wired {
				if a.setup != nil {
					a.setup(t)
				}
				r := w.run(jailed, w.repos["myorg"], a.script, a.extra...)
				res.jailed = "blocked"
				if r.code == 126 || r.code == 127 { // sh: not found, not executable
					res.jailed = "NOT RUN"
					t.Errorf("jailed, the attack could not run (exit %d), which proves nothing: %s\nstderr: %s", r.code, a.script, w.redact(r.stderr))
				} else if worked(r) {
					res.jailed = "BREACH"
					t.Errorf("jailed, the attack worked: %s\nstderr: %s", a.script, w.redact(r.stderr))
				}
				if a.undo != nil {
					a.undo(t)
				}
			}
			if a.setup != nil {
				a.setup(t)
			}
			r := w.run(unjailed, w.repos["myorg"], a.script, a.extra...)
			res.unjailed = "works"
			if !worked(r) {
				res.unjailed = "FAILS"
				t.Errorf("unjailed, the attack fails (exit %d): the case proves nothing; script: %s\nstderr: %s", r.code, a.script, w.redact(r.stderr))
			}
			if a.undo != nil {
				a.undo(t)
			}
		})
		table = append(table, res)
	}
	for _, c := range works {
		res := row{kind: "works", name: c.name, jailed: "not run", unjailed: "not run"}
		t.Run(c.name, func(t *testing.T) {
			for _, mode := range []string{jailed, unjailed} {
				if mode == jailed && !w.wired || mode == unjailed && c.jailedOnly {
					continue
				}
				got := "works"
				if err := c.run(t, mode); err != nil {
					got = "FAILS"
					t.Errorf("JAILRUN_JAIL=%s: %v", mode, err)
				}
				if mode == jailed {
					res.jailed = got
				} else {
					res.unjailed = got
				}
			}
			if c.jailedOnly {
				res.unjailed = "n/a"
			}
		})
		table = append(table, res)
	}
}

// logTable logs the cases, each with its jailed and unjailed result.
func logTable(t *testing.T, table []row, wired bool) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tCASE\tJAILED\tUNJAILED")
	attacks := 0
	for _, r := range table {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.kind, r.name, r.jailed, r.unjailed)
		if r.kind == "attack" {
			attacks++
		}
	}
	tw.Flush()
	t.Logf("escape suite: %d attacks, %d working cases (jail wired: %v)\n%s", attacks, len(table)-attacks, wired, b.String())
}

// attacks lists the ways out.
func (w *world) attacks() []attack {
	gitCredentialsOffered, foundOffered := 0, 0
	// foundToken sends the token "found" in a file of the work tree as
	// the Basic password, with user as the user name; it worked when the
	// server saw it.
	foundToken := func(name, user string) attack {
		return attack{
			name: name,
			script: `curl --silent --fail --cacert "${CURL_CA_BUNDLE:-$SSL_CERT_FILE}" -o /dev/null ` +
				`-u "` + user + `:$(cat .found-token)" "https://` + w.srv.Host + `/myorg/r.git/info/refs?service=git-upload-pack"`,
			worked: func(r result) bool {
				n := len(w.srv.Offered("myorg"))
				offered := n > foundOffered
				foundOffered = n
				return r.code == 0 || offered
			},
			setup: func(t *testing.T) {
				foundOffered = len(w.srv.Offered("myorg"))
				w.write("work-myorg/.found-token", w.tokens["github:fine-grained-myorg"])
			},
			undo: func(t *testing.T) { os.Remove(filepath.Join(w.repos["myorg"], ".found-token")) },
		}
	}
	// helperInput is git's request for host (and path) to a helper.
	helperInput := func(host, path string) string {
		in := `protocol=https\nhost=` + host + `\n`
		if path != "" {
			in += `path=` + path + `\n`
		}
		return `printf '` + in + `\n'`
	}
	served := func(name string) func(r result) bool {
		return func(r result) bool { return r.code == 0 && strings.Contains(r.stdout, "password="+w.tokens[name]+"\n") }
	}
	restore := func(rel, text string) func(t *testing.T) {
		return func(t *testing.T) {
			path := filepath.Join(w.home, rel)
			if text == "" {
				if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				return
			}
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	var attacks []attack
	if w.bus != nil {
		item := "service " + keyring.Service("github:classic") + " account " + keyring.Account()
		attacks = append(attacks,
			attack{name: "keyring: secret-tool, the session's environment", script: "secret-tool lookup " + item + " >/dev/null"},
			attack{name: "keyring: secret-tool, the bus's path socket", script: "DBUS_SESSION_BUS_ADDRESS='" + w.bus.Address + "' secret-tool lookup " + item + " >/dev/null"},
			attack{name: "keyring: secret-tool, the bus's abstract socket", script: "DBUS_SESSION_BUS_ADDRESS='" + w.bus.AbstractAddress + "' secret-tool lookup " + item + " >/dev/null"},
			attack{name: "keyring: raw D-Bus, the bus's path socket", script: "attack dbus '" + w.bus.Address + "'"},
			attack{name: "keyring: raw D-Bus, the bus's abstract socket", script: "attack dbus '" + w.bus.AbstractAddress + "'"},
		)
	}
	for _, f := range maskedFiles {
		attacks = append(attacks, attack{name: "read ~/" + f, script: `attack read "$HOME/` + f + `" ` + planted})
	}
	for _, d := range maskedDirs {
		attacks = append(attacks, attack{name: "read ~/" + d + "/", script: `attack read "$HOME/` + d + `/planted" ` + planted})
	}
	attacks = append(attacks,
		attack{name: "socket: a path socket in XDG_RUNTIME_DIR", script: "attack connect-unix " + w.runtimeSock},
		attack{name: "socket: a path socket in /tmp", script: "attack connect-unix " + w.tmpSock},
		attack{name: "socket: SSH_AUTH_SOCK in HOME", script: "attack connect-unix " + w.sshSock},
		attack{name: "socket: an abstract socket", script: "attack connect-abstract " + w.abstractSock},
		attack{name: "proc: the environ of the test's process", script: "attack proc-environ " + strconv.Itoa(os.Getpid())},
		attack{name: "proc: a token in an outside process's environ", script: "attack proc-environ " + strconv.Itoa(w.outsidePID) + " " + planted},
		attack{name: "write ~/.bashrc", script: `attack write "$HOME/.bashrc"`, undo: restore(".bashrc", "")},
		attack{name: "write ~/.gitconfig", script: `attack write "$HOME/.gitconfig"`, undo: restore(".gitconfig", "\n")},
		// What git runs from the repository's git directory runs outside
		// the jail on the user's next git command there.
		attack{name: "git dir: core.fsmonitor in the repository's config", script: `git config core.fsmonitor 'echo escaped'`,
			undo: w.undoInRepo("git", "config", "--unset-all", "core.fsmonitor")},
		attack{name: "git dir: core.fsmonitor in a submodule's config", script: `git --git-dir=.git/modules/sub config core.fsmonitor 'echo escaped'`,
			undo: w.undoInRepo("git", "--git-dir=.git/modules/sub", "config", "--unset-all", "core.fsmonitor")},
		attack{name: "git dir: a hook", script: `attack write .git/hooks/post-checkout`,
			undo: w.undoInRepo("rm", "-f", ".git/hooks/post-checkout")},
		attack{name: "git dir: rename .git, to put another in its place", script: `mv .git .git-moved && mv .git-moved .git`,
			undo: w.undoInRepo("sh", "-c", "test ! -d .git-moved || mv .git-moved .git")},
		// A commondir moves git's config (and its core.fsmonitor) to a
		// directory of the agent's: the user's next git status outside
		// runs it. Git outside decides whether it worked.
		attack{name: "git dir: a commondir planted in .git", script: evilCommonDir + ` && echo "$PWD/.evil" > .git/commondir`,
			worked: w.gitOutside(w.repos["myorg"]), undo: w.undoInRepo("rm", "-rf", ".evil", ".escaped", ".git/commondir")},
		attack{name: "git dir: a linked worktree's commondir", script: evilCommonDir + ` && echo "$PWD/.evil" > .git/worktrees/work-myorg-wt/commondir`,
			worked: w.gitOutside(w.repos["worktree"]),
			undo:   w.undoInRepo("sh", "-c", "rm -rf .evil .escaped && echo ../.. > .git/worktrees/work-myorg-wt/commondir")},
		// A repository of its own in the work tree: git outside, run in
		// that directory (a prompt's git status), obeys its config.
		attack{name: "git dir: a nested repository in the work tree", script: `git init -q nested && git -C nested config core.fsmonitor "touch $PWD/.escaped"`,
			worked: w.gitOutside(filepath.Join(w.repos["myorg"], "nested")), undo: w.undoInRepo("rm", "-rf", "nested", ".escaped")},
		attack{name: "git dir: a nested repository's config.worktree", script: `git init -q nested && git -C nested config extensions.worktreeConfig true && ` +
			`git -C nested config core.repositoryformatversion 1 && git -C nested config --worktree core.fsmonitor "touch $PWD/.escaped"`,
			worked: w.gitOutside(filepath.Join(w.repos["myorg"], "nested")), undo: w.undoInRepo("rm", "-rf", "nested", ".escaped")},
		attack{name: "git dir: a nested .git that is a link", script: `git init -q nested && git -C nested config core.fsmonitor "touch $PWD/.escaped" && ` +
			`mv nested/.git .evil && ln -s ../.evil nested/.git`,
			worked: w.gitOutside(filepath.Join(w.repos["myorg"], "nested")), undo: w.undoInRepo("rm", "-rf", "nested", ".evil", ".escaped")},
		attack{name: "git dir: a submodule's commondir", script: `echo "$PWD/.evil" > .git/modules/sub/commondir`,
			undo: w.undoInRepo("rm", "-f", ".git/modules/sub/commondir")},
		attack{name: "git dir: .git/info/exclude hides a file from git status", script: `echo agent-hidden >> .git/info/exclude`,
			undo: w.undoInRepo("sed", "-i", "/^agent-hidden$/d", ".git/info/exclude")},
		attack{name: "git dir: a hook in core.hooksPath's directory in the work tree", script: `attack write .husky/_/post-checkout`,
			undo: w.undoInRepo("rm", "-f", ".husky/_/post-checkout")},
		// Programs outside run what caches hold: a build output, a package.
		attack{name: "write ~/.cache/go-build (poison the user's build cache)", script: `mkdir -p "$HOME/.cache/go-build" && attack write "$HOME/.cache/go-build/poisoned"`,
			worked: w.hostHas(".cache/go-build/poisoned"), undo: w.undoInHome(".cache/go-build")},
		attack{name: "write ~/.npm/_cacache (poison the user's npm cache)", script: `mkdir -p "$HOME/.npm/_cacache" && attack write "$HOME/.npm/_cacache/poisoned"`,
			worked: w.hostHas(".npm/_cacache/poisoned"), undo: w.undoInHome(".npm/_cacache")},
		attack{name: "tcp: a host loopback port no config lists", script: "attack tcp " + w.tcpAddr},
		attack{name: "seccomp: TIOCSTI", script: "attack tiocsti"},
		attack{name: "seccomp: keyctl", script: "attack keyctl"},
		// kill(0) signals the caller's process group, jailrun's supervisor
		// included: killed, it writes no summary and no egress audit.
		attack{name: "seccomp: kill 0 ends jailrun's supervisor", script: "kill -KILL 0; exit 3",
			worked: func(r result) bool { return r.code == -1 }},
	)
	if os.Geteuid() == 0 && w.cred == nil {
		// Root is nobody special: as root, bwrap keeps every capability
		// unless told otherwise, and with them a mask comes off.
		attacks = append(attacks,
			attack{name: "root: a capability left in the jail", script: `! grep -qE '^CapEff:[[:space:]]+0+$' /proc/self/status`},
			attack{name: "root: unmount the ~/.ssh mask, then read it", script: `umount "$HOME/.ssh" 2>/dev/null; attack read "$HOME/.ssh/planted" ` + planted},
			attack{name: "root: a mount namespace of its own", script: "unshare -m true"},
		)
	}
	if w.srv == nil {
		return attacks
	}
	attacks = append(attacks,
		attack{
			name: "git -c credential.helper=store offers ~/.git-credentials",
			// Without the session's GIT_CONFIG_COUNT entries, only the store helper answers.
			script: "GIT_CONFIG_COUNT=0 git -c credential.helper=store push --quiet " + w.srv.URL + "/victim/r.git HEAD:refs/heads/stolen",
			worked: func(result) bool {
				n := 0
				for _, p := range w.srv.Offered("victim") {
					if p == keyring.Preview(plantedCredential) {
						n++
					}
				}
				offered := n > gitCredentialsOffered
				gitCredentialsOffered = n
				return offered
			},
		},
		// The push policy: the default branch and tags are protected.
		// In this order, each unjailed run leaves what the next needs
		// (main exists once pushed); jailed, the server's refs stay.
		attack{
			name:   "push: the default branch",
			script: "git push --quiet origin HEAD:refs/heads/main",
			worked: func(r result) bool { return r.code == 0 && w.srv.Ref(w.t, "myorg", "r", "refs/heads/main") != "" },
		},
		attack{
			name:   "push: force over the default branch",
			script: "c=$(git commit-tree -m forced 'HEAD^{tree}') && git push --quiet --force origin $c:refs/heads/main",
			worked: func(r result) bool {
				main := w.srv.Ref(w.t, "myorg", "r", "refs/heads/main")
				return r.code == 0 && main != "" && main != gittest.Git(w.t, w.repos["myorg"], "rev-parse", "HEAD")
			},
		},
		attack{
			name:   "push: a tag",
			script: "git push --quiet origin HEAD:refs/tags/v1",
			worked: func(r result) bool { return r.code == 0 && w.srv.Ref(w.t, "myorg", "r", "refs/tags/v1") != "" },
		},
		attack{
			name:   "push: delete the default branch",
			script: "git push --quiet origin :refs/heads/main",
			worked: func(r result) bool { return r.code == 0 && w.srv.Ref(w.t, "myorg", "r", "refs/heads/main") == "" },
		},
		// The API policy: only everyday work, only in the session's
		// repositories (myorg/r here). Each write carries the routed
		// token of its owner (a placeholder, jailed).
		w.apiAttack("API: merge a pull request", "myorg", "PUT", "/api/v3/repos/myorg/r/pulls/1/merge", `{}`),
		w.apiAttack("API: delete the repository", "myorg", "DELETE", "/api/v3/repos/myorg/r", ""),
		w.apiAttack("API: a contents write to the default branch", "myorg", "PUT", "/api/v3/repos/myorg/r/contents/README.md", `{"message":"m","content":"eA=="}`),
		w.apiAttack("API: a webhook", "myorg", "POST", "/api/v3/repos/myorg/r/hooks", `{"config":{"url":"https://evil.example"}}`),
		w.apiAttack("API: a write to a repository outside the session", "other", "POST", "/api/v3/repos/other/r/issues", `{"title":"t"}`),
		w.apiAttack("API: a GraphQL mergePullRequest", "myorg", "POST", "/api/graphql", `{"query":"mutation { mergePullRequest(input:{pullRequestId:\"1\"}) { clientMutationId } }"}`),
		// A token the agent found elsewhere (here in a file of the work
		// tree) goes nowhere through jailrun: the proxy refuses any
		// credential that is not one of the session's placeholders.
		foundToken("a token found elsewhere, sent to the GitHub host", "x-access-token"),
		foundToken("a token found elsewhere as the password, the session's placeholder as the user name", `$(printf 'url=https://`+w.srv.Host+`/myorg/r.git\n\n' | git credential fill | sed -n 's/^password=//p')`),
		attack{
			name:   "the plain helper (no --session) reads the keyring",
			script: helperInput(w.srv.Host, "myorg/r.git") + " | git-credential-jailrun get",
			worked: served("github:fine-grained-myorg"),
		},
		// GH_TOKEN_NAME picks github.com's default token, which serves an
		// owner without a token of its own: the frozen configuration's is
		// github:classic.
		attack{
			name:   "GH_TOKEN_NAME steers the helper",
			script: helperInput("github.com", "nobody/r.git") + " | GH_TOKEN_NAME=steer git-credential-jailrun --session get",
			worked: served("github:steer"),
		},
		attack{
			name: "XDG_CONFIG_HOME steers the helper",
			script: `mkdir -p .steer/jailrun && echo GH_TOKEN_NAME=steer > .steer/jailrun/config && ` +
				helperInput("github.com", "nobody/r.git") + ` | XDG_CONFIG_HOME="$PWD/.steer" git-credential-jailrun --session get`,
			worked: served("github:steer"),
			undo: func(t *testing.T) {
				if err := os.RemoveAll(filepath.Join(w.repos["myorg"], ".steer")); err != nil {
					t.Fatal(err)
				}
			},
		},
	)
	return attacks
}

// evilCommonDir makes .evil in the work tree a git common directory whose
// config runs a program (touching .escaped) on git status.
const evilCommonDir = `mkdir -p .evil && cp -r .git/objects .git/refs .evil/ && cp .git/config .evil/config && ` +
	`git config -f .evil/config core.fsmonitor "touch $PWD/.escaped"`

// gitOutside returns a check that runs git status in dir outside the jail,
// as the user's next command there would, and reports whether the
// planted program ran: whether myorg's work tree has .escaped.
func (w *world) gitOutside(dir string) func(result) bool {
	return func(result) bool {
		cmd := exec.Command("git", "status", "--short")
		cmd.Dir, cmd.Env = dir, w.env
		_ = cmd.Run() // a broken repository is no escape; the marker says
		_, err := os.Stat(filepath.Join(w.repos["myorg"], ".escaped"))
		return err == nil
	}
}

// hostHas returns a check that the file rel in HOME exists outside.
func (w *world) hostHas(rel string) func(result) bool {
	return func(result) bool {
		_, err := os.Lstat(filepath.Join(w.home, rel))
		return err == nil
	}
}

// undoInHome returns an undo that removes rel in HOME.
func (w *world) undoInHome(rel string) func(t *testing.T) {
	return func(t *testing.T) {
		if err := os.RemoveAll(filepath.Join(w.home, rel)); err != nil {
			t.Fatal(err)
		}
	}
}

// undoInRepo returns an undo that runs a command in myorg's work tree; a
// failure leaves the world broken for the next cases, so it is fatal.
func (w *world) undoInRepo(name string, args ...string) func(t *testing.T) {
	return func(t *testing.T) {
		cmd := exec.Command(name, args...)
		cmd.Dir = w.repos["myorg"]
		cmd.Env = w.env
		if out, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() != 5 { // 5: git config --unset of nothing
			t.Fatalf("undo %s %q: %v\n%s", name, args, err, out)
		}
	}
}

// work is what must keep working in the jail; unjailed too unless jailedOnly.
type work struct {
	name       string
	jailedOnly bool
	run        func(t *testing.T, mode string) error
}

// works lists what the jail must not break.
func (w *world) works() []work {
	push := func(owner string) work {
		return work{name: "git push of " + owner + "'s repository", run: func(t *testing.T, mode string) error {
			ref := "refs/heads/pushed-" + mode
			r := w.run(mode, w.repos[owner], "git push --quiet origin HEAD:"+ref)
			head := gittest.Git(t, w.repos[owner], "rev-parse", "HEAD")
			if got := w.srv.Ref(t, owner, "r", ref); got != head || r.code != 0 {
				return fmt.Errorf("push: exit %d, %s/r %s = %q, want %s; stderr: %s", r.code, owner, ref, got, head, w.redact(r.stderr))
			}
			if n := w.srv.Rejected(owner); n != 0 {
				return fmt.Errorf("%d wrong credentials were offered for %s: %q", n, owner, w.srv.Offered(owner))
			}
			return nil
		}}
	}
	return []work{
		{name: "the jail's own caches take writes (go mod download, npm install)", jailedOnly: true, run: func(t *testing.T, mode string) error {
			r := w.run(mode, w.repos["myorg"], `mkdir -p "$GOMODCACHE/cache" "$npm_config_cache" && touch "$GOMODCACHE/cache/ok" "$HOME/.cache/ok" "$HOME/.npm/ok" && `+
				`case "$GOMODCACHE$XDG_CACHE_HOME" in "$HOME"/.local/state/jailrun/cache/*) ;; *) exit 3;; esac`)
			if r.code != 0 {
				return fmt.Errorf("exit %d; stderr: %s", r.code, w.redact(r.stderr))
			}
			if _, err := os.Lstat(filepath.Join(w.home, ".cache", "ok")); err == nil {
				return errors.New("a write to ~/.cache in the jail reached the user's ~/.cache")
			}
			return nil
		}},
		push("myorg"),
		push("other"),
		{name: "gh auth token through the shim", run: func(t *testing.T, mode string) error {
			if _, err := exec.LookPath("gh"); err != nil {
				if os.Getenv("CI") == "true" {
					return errors.New("gh not found: install it")
				}
				t.Skip("gh not found: install it to test the shim")
			}
			r := w.run(mode, w.repos["gh"], "gh auth token")
			got := strings.TrimSpace(r.stdout)
			if mode == unjailed {
				if want := w.tokens["github:fine-grained-myorg"]; got != want || r.code != 0 {
					return fmt.Errorf("gh auth token in github.com/myorg/app: exit %d, printed %s, want %s; stderr: %s",
						r.code, keyring.Preview(got), keyring.Preview(want), w.redact(r.stderr))
				}
				return nil
			}
			// Jailed, gh holds the session's placeholder, which is
			// worthless outside: the server refuses it for myorg.
			if !strings.HasPrefix(got, "jrp_") || r.code != 0 {
				return fmt.Errorf("gh auth token in github.com/myorg/app: exit %d, printed %s, want a placeholder; stderr: %s",
					r.code, keyring.Preview(w.redact(got)), w.redact(r.stderr))
			}
			if code := w.offerOutside("myorg", got); code != http.StatusUnauthorized {
				return fmt.Errorf("the jail's placeholder, offered outside for myorg's repository: %d, want 401", code)
			}
			return nil
		}},
		{name: "no real token in the jail: environment, helper, gh, /proc, HOME, /tmp", run: func(t *testing.T, mode string) error {
			// Everything a process in the jail could find: its
			// variables (one of them a copy of the routed token that the
			// caller exported), what the helper and gh answer, every
			// process's environ, the jail's init's included, and any
			// token-shaped string in the files it can read.
			script := `env; ` +
				`printf 'protocol=https\nhost=` + w.srv.Host + `\npath=myorg/r.git\n\n' | git-credential-jailrun --session get; ` +
				`gh auth token; cat /proc/[0-9]*/environ | tr '\0' '\n'; ` +
				`grep -rhoa 'github_pat_[A-Za-z0-9_]*' "$HOME" /tmp 2>/dev/null; true`
			r := w.run(mode, w.repos["gh"], script, "MYORG_TOKEN_COPY="+w.tokens["github:fine-grained-myorg"])
			found := w.secretsIn(r.stdout + r.stderr)
			switch {
			case mode == jailed && len(found) > 0:
				return fmt.Errorf("the jail holds the real %v", found)
			case mode == unjailed && len(found) == 0:
				return errors.New("unjailed, the search found no real token: the case proves nothing")
			}
			return nil
		}},
		// The API with the session's token (a placeholder, jailed) in
		// gh's "token" scheme. curl sends it: Go programs such as gh
		// never use a proxy for a loopback address, where the test's
		// server is, and gh takes no port in --hostname.
		{name: "the API with the helper's token, through the proxy: the server gets the real one", run: func(t *testing.T, mode string) error {
			before := w.srv.Rejected("myorg")
			r := w.run(mode, w.repos["myorg"], `token=$(printf 'url=https://`+w.srv.Host+`/myorg/r.git\n\n' | git credential fill | sed -n 's/^password=//p') && `+
				`curl --silent --show-error --fail --cacert "${CURL_CA_BUNDLE:-$SSL_CERT_FILE}" `+
				`-H "Authorization: token $token" https://`+w.srv.Host+`/api/v3/repos/myorg/r`)
			if !strings.Contains(r.stdout, `"default_branch":"main"`) || r.code != 0 {
				return fmt.Errorf("GET /api/v3/repos/myorg/r: exit %d, printed %q; stderr: %s", r.code, w.redact(r.stdout), w.redact(r.stderr))
			}
			if n := w.srv.Rejected("myorg") - before; n != 0 {
				return fmt.Errorf("the server got %d wrong credentials for myorg", n)
			}
			return nil
		}},
		{name: "a push to the default branch: git's own rejection line, an audit line, the refs unchanged", jailedOnly: true, run: func(t *testing.T, mode string) error {
			before := w.srv.Ref(t, "other", "r", "refs/heads/main")
			r := w.run(mode, w.repos["other"], "git push origin HEAD:refs/heads/main HEAD:refs/heads/alongside")
			want := "(jailrun: main is protected; push a branch and open a pull request)"
			if r.code == 0 || !strings.Contains(r.stderr, "! [remote rejected] HEAD -> main "+want) {
				return fmt.Errorf("exit %d, want git's rejection %q; stderr: %s", r.code, want, w.redact(r.stderr))
			}
			if got := w.srv.Ref(t, "other", "r", "refs/heads/main"); got != before || w.srv.Ref(t, "other", "r", "refs/heads/alongside") != "" {
				return fmt.Errorf("the server's refs changed: a push is refused whole")
			}
			if !strings.Contains(r.stderr, "] policy: 1 push, 1 refused; 0 API writes, 0 refused") {
				return fmt.Errorf("no summary line \"policy: 1 push, 1 refused…\": %s", w.redact(r.stderr))
			}
			for _, line := range w.auditLines() {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && rec["op"] == "push" && rec["ref"] == "refs/heads/main" &&
					rec["result"] == "refused" && rec["path"] == "other/r" && rec["reason"] != "" {
					return nil
				}
			}
			return errors.New("no audit line for the refused push of refs/heads/main")
		}},
		{name: "everyday API work: an issue comment (REST) and a pull request (GraphQL)", run: func(t *testing.T, mode string) error {
			w.srv.ForgetAPIWrites()
			r := w.run(mode, w.repos["myorg"], w.apiScript("myorg", "POST", "/api/v3/repos/myorg/r/issues/1/comments", `{"body":"b"}`)+" && "+
				w.apiScript("myorg", "POST", "/api/graphql", `{"query":"mutation { createPullRequest(input:{}) { pullRequest { url } } }"}`))
			want := []string{"POST /api/v3/repos/myorg/r/issues/1/comments", "POST /api/graphql"}
			if got := w.srv.APIWrites(); r.code != 0 || !slices.Equal(got, want) {
				return fmt.Errorf("exit %d, the server got %q, want %q; stderr: %s", r.code, got, want, w.redact(r.stderr))
			}
			if mode == jailed && !strings.Contains(r.stderr, "; 2 API writes, 0 refused") {
				return fmt.Errorf("no summary of 2 API writes: %s", w.redact(r.stderr))
			}
			return nil
		}},
		{name: "an App's token: a push lands, no other repository, renewed across its expiry, revoked at exit", run: func(t *testing.T, mode string) error {
			w.srv.AppTokenLife = 3 * time.Second
			defer func() { w.srv.AppTokenLife = 0 }()
			before := len(w.srv.AppTokens("appowner"))
			ref := "refs/heads/app-" + mode
			// The second push comes after the first token expired. Only
			// the jail holds the session to its repository: unjailed,
			// the helper mints for whatever repository git names.
			script := "git push --quiet origin HEAD:" + ref + " && sleep 4 && git push --quiet origin HEAD:" + ref + "-later"
			if mode == jailed {
				script += " && ! git push --quiet https://" + w.srv.Host + "/appowner/r2.git HEAD:refs/heads/elsewhere"
			}
			r := w.run(mode, w.repos["appowner"], script)
			head := gittest.Git(t, w.repos["appowner"], "rev-parse", "HEAD")
			switch {
			case r.code != 0 || w.srv.Ref(t, "appowner", "r", ref) != head || w.srv.Ref(t, "appowner", "r", ref+"-later") != head:
				return fmt.Errorf("pushes with the App's token: exit %d; stderr: %s", r.code, w.redact(r.stderr))
			case w.srv.Ref(t, "appowner", "r2", "refs/heads/elsewhere") != "":
				return errors.New("the token minted for appowner/r pushed to appowner/r2")
			}
			if mode == unjailed {
				return nil // the helper mints per request; jailrun is gone, no one revokes
			}
			if !strings.Contains(r.stderr, "GitHub: app appowner → token for appowner/r (contents, issues, pull requests; 3 min)") &&
				!strings.Contains(r.stderr, "GitHub: app appowner → token for appowner/r (contents, issues, pull requests; 0 min)") {
				return fmt.Errorf("no start line naming the App and the repository: %s", w.redact(r.stderr))
			}
			minted := w.srv.AppTokens("appowner")[before:]
			if len(minted) < 2 {
				return fmt.Errorf("%d tokens minted, want a renewal too", len(minted))
			}
			for _, tok := range minted {
				if !tok.Revoked {
					return fmt.Errorf("token %s was not revoked when the session ended", tok.Preview)
				}
			}
			return nil
		}},
		{name: "a commit in the repository", run: func(t *testing.T, mode string) error {
			message := "committed " + mode
			r := w.run(mode, w.repos["other"], "git commit --quiet --allow-empty -m '"+message+"'")
			if got := gittest.Git(t, w.repos["other"], "log", "-1", "--format=%s"); got != message || r.code != 0 {
				return fmt.Errorf("commit: exit %d, last commit %q, want %q; stderr: %s", r.code, got, message, w.redact(r.stderr))
			}
			return nil
		}},
		{name: "the audit log: one line per helper request, and the summary", jailedOnly: true, run: func(t *testing.T, mode string) error {
			before := w.auditLines()
			script := `printf 'protocol=https\nhost=` + w.srv.Host + `\npath=myorg/r.git\n\n' | git-credential-jailrun --session get`
			r := w.run(mode, w.repos["myorg"], script)
			if !strings.Contains(r.stdout, "password=jrp_") {
				return fmt.Errorf("the helper did not serve myorg's placeholder (exit %d); stderr: %s", r.code, w.redact(r.stderr))
			}
			if !strings.Contains(r.stderr, "] broker: 1 request") {
				return fmt.Errorf("no summary line \"[sh] broker: 1 request…\" on stderr: %s", w.redact(r.stderr))
			}
			after := w.auditLines()
			if len(after) != len(before)+1 {
				return fmt.Errorf("audit.log grew by %d lines for one request, want 1", len(after)-len(before))
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(after[len(after)-1]), &rec); err != nil {
				return fmt.Errorf("audit.log's last line is not JSON: %v", err)
			}
			want := map[string]string{"host": w.srv.Host, "owner": "myorg", "token": "github:fine-grained-myorg"}
			for k, v := range want {
				if rec[k] != v {
					return fmt.Errorf("audit.log's line has %s=%v, want %s; line: %s", k, rec[k], v, w.redact(after[len(after)-1]))
				}
			}
			for _, k := range []string{"time", "op", "result"} {
				if rec[k] == nil || rec[k] == "" {
					return fmt.Errorf("audit.log's line lacks %s: %s", k, w.redact(after[len(after)-1]))
				}
			}
			return nil
		}},
	}
}

// apiScript is a shell script that sends METHOD PATH with body to the
// server's API with the token the session routes for owner's repository,
// in gh's "token" scheme.
func (w *world) apiScript(owner, method, path, body string) string {
	return `t=$(printf 'url=https://` + w.srv.Host + `/` + owner + `/r.git\n\n' | git credential fill | sed -n 's/^password=//p') && ` +
		`curl --silent --show-error --fail --cacert "${CURL_CA_BUNDLE:-$SSL_CERT_FILE}" -o /dev/null -H "Authorization: token $t" ` +
		`-X ` + method + ` --data '` + body + `' https://` + w.srv.Host + path
}

// apiAttack is an API write that the policy refuses: unjailed it reaches
// the server, jailed it must not.
func (w *world) apiAttack(name, owner, method, path, body string) attack {
	return attack{name: name, script: w.apiScript(owner, method, path, body), worked: func(r result) bool {
		return r.code == 0 || slices.Contains(w.srv.APIWrites(), method+" "+path)
	}, undo: func(*testing.T) { w.srv.ForgetAPIWrites() }}
}

// offerOutside sends password for owner's repository straight to the git
// server, as a program outside the jail would, and returns the status.
func (w *world) offerOutside(owner, password string) int {
	w.t.Helper()
	pem, err := os.ReadFile(w.srv.CAFile)
	if err != nil {
		w.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: runTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/"+owner+"/r.git/info/refs?service=git-upload-pack", nil)
	req.SetBasicAuth("x-access-token", password)
	resp, err := client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// secretsIn returns the names of the world's tokens whose secrets s holds.
func (w *world) secretsIn(s string) []string {
	var names []string
	for name, secret := range w.tokens {
		if strings.Contains(s, secret) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// auditPath is the broker's audit log for the world's HOME.
func (w *world) auditPath() string {
	return filepath.Join(w.home, ".local", "state", "jailrun", "audit.log")
}

// auditLines returns the audit log's lines; none when it does not exist.
func (w *world) auditLines() []string {
	w.t.Helper()
	f, err := os.Open(w.auditPath())
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	if err := s.Err(); err != nil {
		w.t.Fatal(err)
	}
	return lines
}

// noSecretInAudit fails the test if the audit log holds a secret or a
// preview of one.
func (w *world) noSecretInAudit() {
	w.t.Helper()
	data, err := os.ReadFile(w.auditPath())
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		w.t.Fatal(err)
	}
	for name, secret := range w.tokens {
		if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte(keyring.Preview(secret))) {
			w.t.Errorf("audit.log holds %s's secret or its preview", name)
		}
	}
}
