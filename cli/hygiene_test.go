//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/pem"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jailrun/jailrun/keyring"

	"github.com/jailrun/jailrun/internal/testbin"
)

// argvWatch reads the command line of every process on the machine, over
// and over, while jailrun runs: a token in any argv is a leak (ps shows it
// to every user). Markers are argv fragments it counts, to prove that it
// saw the processes it watches while they ran.
type argvWatch struct {
	secrets, markers []string
	stop, done       chan struct{}

	mu     sync.Mutex
	leaks  map[string]bool // "pid N (comm)": never the argv itself
	sights map[string]int  // marker → processes seen with it (one per scan)
	scans  int
}

// watchArgv starts watching; stopped when the test ends, or by finish.
func watchArgv(t *testing.T, secrets []string, markers ...string) *argvWatch {
	w := &argvWatch{
		secrets: secrets, markers: markers,
		stop: make(chan struct{}), done: make(chan struct{}),
		leaks: map[string]bool{}, sights: map[string]int{},
	}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
				w.scan()
			}
		}
	}()
	t.Cleanup(w.finish)
	return w
}

// scan reads /proc/*/cmdline once.
func (w *argvWatch) scan() {
	entries, _ := os.ReadDir("/proc")
	w.mu.Lock()
	defer w.mu.Unlock()
	w.scans++
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		argv, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue // gone already
		}
		for _, s := range w.secrets {
			if bytes.Contains(argv, []byte(s)) {
				comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
				w.leaks["pid "+e.Name()+" ("+strings.TrimSpace(string(comm))+")"] = true
			}
		}
		for _, m := range w.markers {
			if bytes.Contains(argv, []byte(m)) {
				w.sights[m]++
			}
		}
	}
}

// finish stops watching; it may be called more than once.
func (w *argvWatch) finish() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// check stops watching and fails the test on a leak or an unseen marker.
func (w *argvWatch) check(t *testing.T) {
	t.Helper()
	w.finish()
	t.Logf("read every process's argv %d times", w.scans)
	for leak := range w.leaks {
		t.Errorf("a token was in the argv of %s", leak)
	}
	for _, m := range w.markers {
		if w.sights[m] == 0 {
			t.Errorf("never saw a process with %q in its argv while it ran: the watch proves nothing", strings.ReplaceAll(m, "\x00", " "))
		}
	}
}

// secretFiles returns the files under roots that contain one of secrets;
// in roots listed in since, only files modified after it.
func secretFiles(roots []string, since map[string]time.Time, secrets []string) []string {
	var found []string
	searched := map[string]bool{} // roots may nest
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || searched[path] {
				return nil
			}
			searched[path] = true
			info, err := d.Info()
			if t, ok := since[root]; err != nil || info.Size() > 16<<20 || ok && info.ModTime().Before(t) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, s := range secrets {
				if bytes.Contains(data, []byte(s)) {
					found = append(found, path+" holds "+keyring.Preview(s))
				}
			}
			return nil
		})
	}
	return found
}

// slowGitHub is a stand-in of GitHub's GET /user that takes a while to
// answer, so that the process asking it is watched while it holds the
// token. It accepts only token and writes its certificate to caFile.
func slowGitHub(t *testing.T, token, caFile string) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond)
		if r.URL.Path != "/user" || r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"Bad credentials"}`))
			return
		}
		w.Header().Set("GitHub-Authentication-Token-Expiration", "2031-01-02 03:04:05 UTC")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"login":"octocat","id":1}`))
	}))
	t.Cleanup(srv.Close)
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

// TestSecretsHygiene watches `token add`, the helper's get and an agent
// session while they run: no process's argv holds the token, no file
// under HOME, TMPDIR, XDG_RUNTIME_DIR or the other XDG directories holds
// it, and no stderr line does.
func TestSecretsHygiene(t *testing.T) {
	bin := testbin.Dir(t)
	w, _ := newKeyringWorld(t, bin)
	token := "github_pat_" + rand.Text() + rand.Text()
	secrets := []string{token}
	start := time.Now()
	roots := []string{w.home, w.tmp, os.Getenv("XDG_RUNTIME_DIR"), os.Getenv("XDG_DATA_HOME"),
		os.Getenv("XDG_CONFIG_HOME"), os.Getenv("XDG_CACHE_HOME"), os.TempDir(), "/dev/shm"}
	since := map[string]time.Time{os.TempDir(): start, "/dev/shm": start} // shared with other processes
	checkDisk := func(t *testing.T, when string) {
		t.Helper()
		for _, f := range secretFiles(roots, since, secrets) {
			t.Errorf("%s: %s", when, f)
		}
	}
	checkStderr := func(t *testing.T, what, stderr string) {
		t.Helper()
		for line := range strings.Lines(stderr) {
			if strings.Contains(line, token) {
				t.Errorf("%s: a stderr line holds the token", what)
			}
		}
	}

	// The watches catch a leak planted on purpose.
	t.Run("WatchesCatchALeak", func(t *testing.T) {
		watch := watchArgv(t, secrets)
		if out, err := exec.Command("sh", "-c", "sleep 0.3", token).CombinedOutput(); err != nil {
			t.Fatalf("sh: %v: %s", err, out)
		}
		watch.finish()
		if len(watch.leaks) == 0 { // sh, and its child until it execs sleep
			t.Error("the argv watch missed the token planted in the argv of sh")
		}
		planted := filepath.Join(w.tmp, "planted")
		if err := os.WriteFile(planted, []byte("x"+token+"x"), 0o600); err != nil {
			t.Fatal(err)
		}
		found := secretFiles(roots, since, secrets)
		os.Remove(planted)
		if len(found) != 1 || !strings.HasPrefix(found[0], planted+" ") {
			t.Errorf("the disk search found %q, want only the planted file", found)
		}
	})

	t.Run("TokenAdd", func(t *testing.T) {
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		api := slowGitHub(t, token, caFile)
		watch := watchArgv(t, secrets, "token\x00add\x00--name")
		w.env = append(w.env, "JAILRUN_GITHUB_API="+api, "SSL_CERT_FILE="+caFile)
		r := w.runProgram(token+"\n", "jailrun", "token", "add", "--name", "github:fine-grained-myorg")
		watch.check(t)
		if r.code != 0 || !strings.Contains(r.stdout, "verified as octocat") {
			t.Fatalf("token add: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout, token) {
			t.Error("token add printed the token")
		}
		checkStderr(t, "token add", r.stderr)
		checkDisk(t, "after token add")
		if got, err := w.kr.Get("github:fine-grained-myorg"); err != nil || got.Secret != token {
			t.Fatalf("the token was not stored (error %v)", err)
		}
	})

	t.Run("HelperGet", func(t *testing.T) {
		watch := watchArgv(t, secrets, "git-credential-jailrun\x00get", "credential\x00fill")
		request := "protocol=https\nhost=github.com\npath=myorg/repo.git\n\n"
		for range 20 {
			r := w.runProgram(request, "git-credential-jailrun", "get")
			if r.code != 0 || !strings.Contains(r.stdout, "password="+token+"\n") {
				t.Fatalf("get: exit %d, stderr %q, served the token: %v", r.code, r.stderr, strings.Contains(r.stdout, token))
			}
			checkStderr(t, "get", r.stderr)
		}
		// Through git, which starts the helper through the shell.
		for range 5 {
			r := w.runGit(request, "-c", "credential.helper=", "-c", "credential.helper=jailrun", "-c", "credential.useHttpPath=true", "credential", "fill")
			if r.code != 0 || !strings.Contains(r.stdout, "password="+token+"\n") {
				t.Fatalf("git credential fill: exit %d, stderr %q, served the token: %v", r.code, r.stderr, strings.Contains(r.stdout, token))
			}
			checkStderr(t, "git credential fill", r.stderr)
		}
		watch.check(t)
		checkDisk(t, "after get")
	})

	t.Run("Session", func(t *testing.T) {
		w.config(`GH_TOKEN_NAME="fine-grained-myorg"` + "\n")
		const marker = "jailrun-hygiene-session"
		watch := watchArgv(t, secrets, marker)
		// The session asks git for the token (session-mode helper), then
		// lingers while the disk is searched.
		script := `printf 'protocol=https\nhost=github.com\npath=myorg/repo.git\n\n' | git credential fill >/dev/null; ` +
			`test -n "$GH_TOKEN" || echo no GH_TOKEN; sleep 1 # ` + marker
		done := make(chan result, 1)
		go func() { done <- w.runProgram("", "jailrun", "run", "--", "sh", "-c", script) }()
		time.Sleep(700 * time.Millisecond)
		checkDisk(t, "during the session")
		r := <-done
		watch.check(t)
		if r.code != 0 || r.stdout != "" {
			t.Fatalf("session: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "[sh] GitHub: PAT github:fine-grained-myorg") {
			t.Errorf("session start line %q, want the fine-grained token", r.stderr)
		}
		checkStderr(t, "session", r.stderr)
		checkDisk(t, "after the session")
	})
}

// runGit runs git in the world's environment, where the built binaries
// are on PATH.
func (w *world) runGit(stdin string, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env, cmd.Dir, cmd.Stdin = w.env, w.home, strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		w.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}
