// Package safedir prepares and cleans jailrun's own directories in the
// user's home without ever following a link, so that an agent that
// replaces one of them with a link to the user's files cannot make jailrun
// write or remove there. Everything below an opened Dir goes through
// os.Root, which refuses paths that leave it.
package safedir

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/jailrun/jailrun/internal/fserr"
	"github.com/jailrun/jailrun/internal/saferead"
)

// Dir is a directory of jailrun's, opened without following a link.
type Dir struct {
	Path string
	root *os.Root
}

// Open opens the directory path, creating it with perm when missing. Its
// parent is created as needed and may be reached through links (it is the
// user's); path itself must be a real directory owned by the user and
// writable by no one else, else Open fails saying so.
func Open(path string, perm fs.FileMode) (*Dir, error) {
	parent, name := filepath.Split(filepath.Clean(path))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", parent, fserr.WithoutPath(err))
	}
	up, err := os.OpenRoot(parent)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", parent, fserr.WithoutPath(err))
	}
	defer up.Close()
	return openIn(up, path, name, perm)
}

// Sub opens the directory name in d as Open does, creating it with perm
// when missing.
func (d *Dir) Sub(name string, perm fs.FileMode) (*Dir, error) {
	return openIn(d.root, filepath.Join(d.Path, name), name, perm)
}

// openIn opens the directory name, at path, of up.
func openIn(up *os.Root, path, name string, perm fs.FileMode) (*Dir, error) {
	if err := up.Mkdir(name, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("cannot create %s: %w", path, fserr.WithoutPath(err))
	}
	fi, err := up.Lstat(name)
	if err != nil {
		return nil, fmt.Errorf("cannot inspect %s: %w", path, fserr.WithoutPath(err))
	}
	if err := owned(path, fi); err != nil {
		return nil, err
	}
	root, err := up.OpenRoot(name)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, fserr.WithoutPath(err))
	}
	// The directory opened must be the one inspected, not one swapped in since.
	if opened, err := root.Stat("."); err != nil || !os.SameFile(fi, opened) {
		root.Close()
		return nil, fmt.Errorf("%s changed while jailrun opened it; run the command again", path)
	}
	return &Dir{Path: path, root: root}, nil
}

// owned checks that fi, the Lstat of path, is a directory (not a link)
// that belongs to the user and that no one else can write.
func owned(path string, fi fs.FileInfo) error {
	switch st, ok := fi.Sys().(*syscall.Stat_t); {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a link, which jailrun never follows in its own directories; remove the link and run again", path)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory; move it away and run again", path)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to another user; remove it and run again", path)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by other users (mode %v); run: chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	return nil
}

// Close closes the directory.
func (d *Dir) Close() error { return d.root.Close() }

// MkdirPrivate creates a new directory of mode 0700 in d, named prefix and
// random letters, and returns its path.
func (d *Dir) MkdirPrivate(prefix string) (string, error) {
	for range 10 {
		name := prefix + rand.Text()[:10]
		err := d.root.Mkdir(name, 0o700)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil {
			err = d.root.Chmod(name, 0o700) // the umask may have cleared bits; 0700 it is
		}
		if err != nil {
			return "", fmt.Errorf("cannot create a directory in %s: %w", d.Path, fserr.WithoutPath(err))
		}
		return filepath.Join(d.Path, name), nil
	}
	return "", fmt.Errorf("cannot create a directory in %s: every name tried exists", d.Path)
}

// Names returns the names of the entries in d.
func (d *Dir) Names() ([]string, error) {
	f, err := d.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// RemoveDir removes the directory name in d and all it holds, when it is
// a real directory of the user's; links in it are removed, never followed.
func (d *Dir) RemoveDir(name string) error {
	fi, err := d.root.Lstat(name)
	if err != nil {
		return err
	}
	if err := owned(filepath.Join(d.Path, name), fi); err != nil {
		return err
	}
	return d.root.RemoveAll(name)
}

// ReplaceLink makes name in d a symbolic link to target, atomically: the
// link is made under a temporary name and renamed over name. A link to
// target stays as it is; an existing name that is not a link is left
// alone and reported.
func (d *Dir) ReplaceLink(name, target string) error {
	if current, err := d.root.Readlink(name); err == nil && current == target {
		return nil
	}
	if fi, err := d.root.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%s is not a link that jailrun made; move it away and run again", filepath.Join(d.Path, name))
	}
	tmp := fmt.Sprintf(".%s.%d", name, os.Getpid())
	_ = d.root.Remove(tmp)
	if err := d.root.Symlink(target, tmp); err != nil {
		return fmt.Errorf("cannot create a link in %s: %w", d.Path, fserr.WithoutPath(err))
	}
	if err := d.root.Rename(tmp, name); err != nil {
		_ = d.root.Remove(tmp)
		return fmt.Errorf("cannot install %s: %w", filepath.Join(d.Path, name), fserr.WithoutPath(err))
	}
	return nil
}

// WriteFile writes data to the file name in d, replacing it atomically
// (written under a temporary name, then renamed over it).
func (d *Dir) WriteFile(name string, data []byte, perm fs.FileMode) error {
	tmp := fmt.Sprintf(".%s.%d", name, os.Getpid())
	if err := d.root.WriteFile(tmp, data, perm); err != nil {
		_ = d.root.Remove(tmp)
		return fmt.Errorf("cannot write %s: %w", filepath.Join(d.Path, name), fserr.WithoutPath(err))
	}
	if err := d.root.Rename(tmp, name); err != nil {
		_ = d.root.Remove(tmp)
		return fmt.Errorf("cannot write %s: %w", filepath.Join(d.Path, name), fserr.WithoutPath(err))
	}
	return nil
}

// ReadFile reads the regular file name in d, at most limit bytes, as
// saferead.ReadFile does.
func (d *Dir) ReadFile(name string, limit int64) ([]byte, error) {
	return saferead.ReadFile(filepath.Join(d.Path, name), limit)
}

// Remove removes the file name in d; a link is removed, not followed.
func (d *Dir) Remove(name string) error { return d.root.Remove(name) }

// Reclaim makes name in d, a directory of jailrun's that a jail could
// write in, jailrun's again before Sub opens it: opened up to others, it
// is closed to perm; anything else at the name (a link, a file) is moved
// aside to NAME.moved-aside-RANDOM in d, neither followed nor removed, and
// its new name returned ("" when nothing was moved).
func (d *Dir) Reclaim(name string, perm fs.FileMode) (movedTo string, err error) {
	fi, err := d.root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("cannot inspect %s: %w", filepath.Join(d.Path, name), fserr.WithoutPath(err))
	case fi.IsDir():
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() && fi.Mode().Perm() != perm {
			if err := d.root.Chmod(name, perm); err != nil {
				return "", fmt.Errorf("cannot restore the mode of %s: %w", filepath.Join(d.Path, name), fserr.WithoutPath(err))
			}
		}
		return "", nil
	}
	movedTo = name + ".moved-aside-" + rand.Text()[:10]
	if err := d.root.Rename(name, movedTo); err != nil {
		return "", fmt.Errorf("cannot move %s aside: %w", filepath.Join(d.Path, name), fserr.WithoutPath(err))
	}
	return filepath.Join(d.Path, movedTo), nil
}
