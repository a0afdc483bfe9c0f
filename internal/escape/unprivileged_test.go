//go:build linux

package escape_test

import (
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jailrun/jailrun/internal/jail/jailtest"
	"github.com/jailrun/jailrun/internal/testbin"
)

// unprivilegedUser is the account TestEscapeUnprivileged runs jailrun as,
// created when missing and removed again.
const unprivilegedUser = "jailrun-escape"

// TestEscapeUnprivileged runs the file, socket, process, network and
// seccomp attacks with jailrun started as an ordinary user, whose bwrap
// needs a user namespace; the keyring cases stay root's (the test's bus
// admits root only).
func TestEscapeUnprivileged(t *testing.T) {
	jailtest.Need(t)
	if os.Getuid() != 0 {
		t.Skip("runs as root only: it creates a user and starts jailrun as that user")
	}
	cred := ensureUser(t)
	dir, err := attackDir()
	if err != nil {
		t.Fatal(err)
	}
	bin := testbin.Dir(t)
	for _, d := range []string{dir, bin} { // made 0700 by os.MkdirTemp
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	base, err := os.MkdirTemp("", "jresu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	w := &world{
		t:      t,
		bin:    bin,
		home:   filepath.Join(base, "home"),
		runDir: filepath.Join(base, "run"),
		tokens: map[string]string{},
		repos:  map[string]string{},
		cred:   cred,
	}
	for _, d := range []string{w.home, w.runDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	w.repos["myorg"] = filepath.Join(w.home, "work")
	if err := os.Mkdir(w.repos["myorg"], 0o755); err != nil {
		t.Fatal(err)
	}
	w.env = []string{
		"PATH=" + dir + string(filepath.ListSeparator) + bin + string(filepath.ListSeparator) + os.Getenv("PATH"),
		"HOME=" + w.home,
		"USER=" + unprivilegedUser,
		"XDG_RUNTIME_DIR=" + w.runDir,
		"LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1",
	}
	w.plantFiles()
	w.listen()
	// Everything the user reaches is the user's, the sockets included.
	for _, root := range []string{base, filepath.Dir(w.tmpSock)} {
		err = filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, int(cred.Uid), int(cred.Gid))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	w.probeWiring()

	var attacks []attack
	for _, a := range w.attacks() {
		for _, kind := range []string{"read ", "socket: ", "proc: ", "write ", "tcp: ", "seccomp: "} {
			if strings.HasPrefix(a.name, kind) && !strings.Contains(a.name, "the test's process") {
				attacks = append(attacks, a)
			}
		}
	}
	w.check(t, attacks, nil)
}

// ensureUser returns the credential of unprivilegedUser, creating the
// user (removed when the test ends) if missing.
func ensureUser(t *testing.T) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup(unprivilegedUser)
	if err != nil {
		useradd, lookErr := exec.LookPath("useradd")
		if lookErr != nil {
			t.Skip("useradd not found: cannot create a user to run the suite as")
		}
		out, err := exec.Command(useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", unprivilegedUser).CombinedOutput()
		if err != nil {
			t.Skipf("cannot create the user %s: %v: %s", unprivilegedUser, err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("userdel", unprivilegedUser).CombinedOutput(); err != nil {
				t.Errorf("userdel %s: %v: %s", unprivilegedUser, err, out)
			}
		})
		if u, err = user.Lookup(unprivilegedUser); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}
