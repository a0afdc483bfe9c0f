package jail_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/jail/jailtest"
)

// world is a user's files laid out under /tmp, as on a CI runner: the
// private /tmp must not hide HOME, the repository or a visible path.
type world struct {
	home, repo, visible, outside string
	policy                       jail.Policy
}

func newWorld(t *testing.T) world {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := world{
		home:    filepath.Join(root, "home"),
		repo:    filepath.Join(root, "home", "repo"),
		visible: filepath.Join(root, "tools"),
		outside: filepath.Join(root, "outside"),
	}
	files := map[string]string{
		filepath.Join(w.home, ".ssh", "id_ed25519"): "PLANTED-KEY",
		filepath.Join(w.home, ".netrc"):             "machine github.com password PLANTED",
		filepath.Join(w.repo, "README"):             "repo",
		filepath.Join(w.visible, "tool"):            "visible",
		filepath.Join(w.outside, "secret"):          "PLANTED-TMP",
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.policy, err = jail.Resolve(jail.Request{
		Agent:   "run",
		Home:    w.home,
		Dir:     w.repo,
		Env:     []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + w.home},
		Write:   []string{w.repo},
		Visible: []string{w.visible},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestJailFiles runs each attack jailed, where it must fail, and unjailed,
// where it must succeed, so that the check itself can fail.
func TestJailFiles(t *testing.T) {
	jailtest.Need(t)
	checkFiles(t, newWorld(t), nil)
}

// TestJailFilesUnprivileged runs the same checks with bwrap started as
// nobody, in a user namespace, on files nobody owns.
func TestJailFilesUnprivileged(t *testing.T) {
	jailtest.Need(t)
	if os.Getuid() != 0 {
		t.Skip("runs as root only: it starts bwrap as nobody")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody to run bwrap as")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	w := newWorld(t)
	// t.TempDir's directories are root's alone: open them for nobody.
	for dir := filepath.Dir(filepath.Dir(w.home)); dir != "/tmp"; dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err = filepath.WalkDir(filepath.Dir(w.home), func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, w, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)})
}

// checkFiles runs the file checks with bwrap started as cred (nil: as this
// process); the unjailed planted positives run as this process.
func checkFiles(t *testing.T, w world, cred *syscall.Credential) {
	attacks := []struct{ name, script string }{
		{"read a masked file", `grep -q PLANTED "$HOME/.netrc"`},
		{"see a file in a masked directory", `test -e "$HOME/.ssh/id_ed25519"`},
		{"write HOME", `echo x > "$HOME/.bashrc"`},
		{"see /tmp outside the visible paths", "cat " + filepath.Join(w.outside, "secret")},
		{"see an outside process", fmt.Sprintf("test -d /proc/%d", os.Getpid())},
		{"create a directory in a masked one", `mkdir "$HOME/.ssh/new"`},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			p := jailtest.Sh(w.policy, a.script)
			if r := jailtest.RunUnjailed(t, p); r.ExitCode != 0 {
				t.Fatalf("unjailed, the attack fails (exit %d: %s): the check proves nothing", r.ExitCode, r.Stderr)
			}
			if r := jailtest.RunAs(t, p, cred); r.ExitCode == 0 {
				t.Errorf("jailed, the attack succeeds: %s", a.script)
			}
		})
	}
	os.Remove(filepath.Join(w.home, ".bashrc"))
	os.Remove(filepath.Join(w.home, ".ssh", "new"))

	works := []struct{ name, script string }{
		{"write the repository", `echo x > new && rm new`},
		{"read a visible path under /tmp", "grep -q visible " + filepath.Join(w.visible, "tool")},
		{"the masked directory is empty", `test -d "$HOME/.ssh" && test -z "$(ls -A "$HOME/.ssh")"`},
		{"the masked file is empty", `test ! -s "$HOME/.netrc"`},
		{"/tmp holds only the visible paths", fmt.Sprintf(`test "$(ls -A /tmp)" = %q`, strings.Split(strings.TrimPrefix(w.home, "/tmp/"), "/")[0])},
		{"the only processes are the jail's", `set -- /proc/[0-9]*; test "$*" = /proc/1`}, // no fork: sh alone, as pid 1
	}
	for _, c := range works {
		t.Run(c.name, func(t *testing.T) {
			if r := jailtest.RunAs(t, jailtest.Sh(w.policy, c.script), cred); r.ExitCode != 0 {
				t.Errorf("jailed, %q fails (exit %d): %s", c.script, r.ExitCode, r.Stderr)
			}
		})
	}
	for _, unjailed := range []string{"the masked directory is empty", "the masked file is empty", "the only processes are the jail's"} {
		for _, c := range works {
			if c.name == unjailed {
				if r := jailtest.RunUnjailed(t, jailtest.Sh(w.policy, c.script)); r.ExitCode == 0 {
					t.Errorf("unjailed, %q holds too: the check proves nothing", c.name)
				}
			}
		}
	}

	for _, missing := range []string{filepath.Join(w.home, ".config", "gh"), filepath.Join(w.home, ".aws"), filepath.Join(w.home, ".cache")} {
		if _, err := os.Lstat(missing); !os.IsNotExist(err) {
			t.Errorf("%s exists on the host after the jail ran (%v): a mask or bind created it", missing, err)
		}
	}
}

func TestJailReportsChildPID(t *testing.T) {
	jailtest.Need(t)
	w := newWorld(t)
	r := jailtest.Run(t, jailtest.Sh(w.policy, "echo $$"))
	if strings.TrimSpace(r.Stdout) != "1" {
		t.Errorf("the command runs as pid %q in the jail, want 1", strings.TrimSpace(r.Stdout))
	}
	if r.ChildPID <= 1 || r.ChildPID == os.Getpid() {
		t.Errorf("ChildPID = %d, want the host pid of the jail's first process", r.ChildPID)
	}
}

// TestJailSockets binds a socket into SocketDir and finds it there,
// read-only, while nothing appears in the host's /tmp.
func TestJailSockets(t *testing.T) {
	jailtest.Need(t)
	w := newWorld(t)
	sock := filepath.Join(t.TempDir(), "broker.sock")
	if err := os.WriteFile(sock, nil, 0o600); err != nil { // a bind needs only an inode
		t.Fatal(err)
	}
	p := w.policy
	p.Sockets = []jail.Socket{{Host: sock, Jail: jail.BrokerSocket}}
	script := fmt.Sprintf("test -e %s && ! touch %s/planted", jail.BrokerSocket, jail.SocketDir)
	if r := jailtest.Run(t, jailtest.Sh(p, script)); r.ExitCode != 0 {
		t.Errorf("jailed, %q fails (exit %d): %s", script, r.ExitCode, r.Stderr)
	}
	if _, err := os.Lstat(jail.SocketDir); !os.IsNotExist(err) {
		t.Errorf("%s exists on the host (%v)", jail.SocketDir, err)
	}
}

// seccompProbe prints the errno of keyctl and of ioctl(TIOCSTI) on a pty.
const seccompProbe = `
import ctypes, errno, fcntl, os, platform, termios
libc = ctypes.CDLL(None, use_errno=True)
nr = {"x86_64": 250, "aarch64": 219}[platform.machine()]
keyctl = 0 if libc.syscall(nr, 0, -3, 0) >= 0 else ctypes.get_errno()
_, pty = os.openpty()
try:
    fcntl.ioctl(pty, termios.TIOCSTI, b"x")
    tiocsti = 0
except OSError as e:
    tiocsti = e.errno
print(errno.errorcode.get(keyctl, keyctl), errno.errorcode.get(tiocsti, tiocsti))
`

func TestSeccompLive(t *testing.T) {
	jailtest.Need(t)
	python, err := lookPath("python3")
	if err != nil {
		t.Skip("python3 not found: it runs the keyctl and TIOCSTI calls")
	}
	w := newWorld(t)
	p := w.policy
	p.Argv = []string{python, "-c", seccompProbe}
	unjailed := jailtest.RunUnjailed(t, p)
	if unjailed.ExitCode != 0 || strings.Contains(unjailed.Stdout, "EPERM") {
		t.Fatalf("unjailed, keyctl and TIOCSTI give %q (exit %d, %s), want no EPERM", unjailed.Stdout, unjailed.ExitCode, unjailed.Stderr)
	}
	jailed := jailtest.Run(t, p)
	if got := strings.TrimSpace(jailed.Stdout); got != "EPERM EPERM" {
		t.Errorf("jailed, keyctl and TIOCSTI give %q (%s), want EPERM EPERM", got, jailed.Stderr)
	}
}

func TestProbe(t *testing.T) {
	jailtest.Need(t) // which runs Probe: here it must also return nil quickly twice
	if err := jail.Probe(context.Background()); err != nil {
		t.Error(err)
	}
}

// lookPath finds a program the way the jail would, resolving links, since
// the jail binds real paths only.
func lookPath(name string) (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", os.ErrNotExist
}
