package safedir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// userFiles makes a directory standing for the user's ~/.config/gh, with a
// hosts.yml that jailrun must never touch, and returns it.
func userFiles(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "gh")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts.yml"), []byte("github.com:\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("%s is gone: %v", path, err)
	}
}

func TestOpenRefusesLinks(t *testing.T) {
	user := userFiles(t)
	state := filepath.Join(t.TempDir(), "jailrun")
	if err := os.Symlink(user, state); err != nil {
		t.Fatal(err)
	}
	if d, err := Open(state, 0o700); err == nil || !strings.Contains(err.Error(), "is a link") {
		t.Errorf("Open of a link: %v, want an error that it is a link", err)
		if d != nil {
			d.Close()
		}
	}
	mustExist(t, filepath.Join(user, "hosts.yml"))

	// A link one level down, to the user's directory, is refused too.
	parent, err := Open(filepath.Join(t.TempDir(), "share", "jailrun"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	if err := os.Symlink(user, filepath.Join(parent.Path, "bin")); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.Sub("bin", 0o755); err == nil {
		t.Error("Sub of a link succeeded, want an error")
	}
}

func TestOpenChecksOwnerAndMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "jailrun")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, 0o700); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Errorf("Open of a 0777 directory: %v, want an error about its mode", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, 12345, 12345); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, 0o700); err == nil || !strings.Contains(err.Error(), "another user") {
			t.Errorf("Open of another user's directory: %v, want an error about its owner", err)
		}
	}
}

func TestMkdirPrivateAndRemoveDir(t *testing.T) {
	user := userFiles(t)
	d, err := Open(filepath.Join(t.TempDir(), "jailrun"), 0o700)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	path, err := d.MkdirPrivate("gh-1-")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || filepath.Dir(path) != d.Path {
		t.Fatalf("MkdirPrivate made %s (%v, %v), want a 0700 directory in %s", path, fi, err, d.Path)
	}
	// A session that put links to the user's files in its directory: the
	// links go, the files stay.
	if err := os.Symlink(user, filepath.Join(path, "config")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(user, "hosts.yml"), filepath.Join(path, "hosts.yml")); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveDir(filepath.Base(path)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("%s still exists (%v)", path, err)
	}
	mustExist(t, filepath.Join(user, "hosts.yml"))
	// A link in place of a session's directory is not removed through.
	if err := os.Symlink(user, filepath.Join(d.Path, "gh-2-x")); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveDir("gh-2-x"); err == nil {
		t.Error("RemoveDir of a link succeeded, want an error")
	}
	mustExist(t, filepath.Join(user, "hosts.yml"))
}

func TestReplaceLink(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "bin"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, target := range []string{"/opt/a/jailrun", "/opt/a/jailrun", "/opt/b/jailrun"} {
		if err := d.ReplaceLink("gh", target); err != nil {
			t.Fatal(err)
		}
		if got, err := os.Readlink(filepath.Join(d.Path, "gh")); err != nil || got != target {
			t.Errorf("gh links to %q (%v), want %s", got, err, target)
		}
	}
	if err := os.Remove(filepath.Join(d.Path, "gh")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path, "gh"), []byte("someone's file"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := d.ReplaceLink("gh", "/opt/a/jailrun"); err == nil {
		t.Error("ReplaceLink over a regular file succeeded, want an error")
	}
	if data, err := os.ReadFile(filepath.Join(d.Path, "gh")); err != nil || string(data) != "someone's file" {
		t.Errorf("the file gh changed (%v)", err)
	}
}
