package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jailrun/jailrun/internal/fserr"
)

// helperName is the git credential helper's executable, installed next to jailrun.
const helperName = "git-credential-jailrun"

// viaShim returns the gh shim in shimDir for program gh, so that
// `jailrun run -- gh …` is routed per command like gh inside the session;
// else path.
func viaShim(path, program, shimDir string) string {
	if program == ShimName && shimDir != "" {
		if shim := filepath.Join(shimDir, ShimName); isExecutable(shim) {
			return shim
		}
	}
	return path
}

// executable returns the absolute path of the running jailrun, symbolic
// links resolved, so that the gh shim and git find it after a PATH change.
func executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

// lookPath finds program as a shell would: a name with a slash as it is,
// else the first executable file of that name on path, skipping the
// directory skipDir and links to the file avoid ("" for none).
func lookPath(program, path, skipDir, avoid string) (string, error) {
	if strings.Contains(program, "/") {
		if isExecutable(program) {
			return program, nil
		}
		return "", fmt.Errorf("%s: no such executable file", program)
	}
	for dir := range strings.SplitSeq(path, string(filepath.ListSeparator)) {
		if dir == "" {
			dir = "."
		}
		if skipDir != "" && filepath.Clean(dir) == filepath.Clean(skipDir) {
			continue
		}
		if p := filepath.Join(dir, program); isExecutable(p) && !isFile(p, avoid) {
			if !filepath.IsAbs(p) {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
			}
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found on PATH", program)
}

// isFile reports whether path is the file target, through any links.
func isFile(path, target string) bool {
	if target == "" {
		return false
	}
	a, errA := os.Stat(path)
	b, errB := os.Stat(target)
	return errA == nil && errB == nil && os.SameFile(a, b)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// helperPath returns the git credential helper installed next to the
// jailrun executable self, else the one on PATH.
func helperPath(self, path, shimDir string) (string, error) {
	if p := filepath.Join(filepath.Dir(self), helperName); isExecutable(p) {
		return p, nil
	}
	if p, err := lookPath(helperName, path, shimDir, ""); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s is not installed next to %s nor on PATH, so git in the session gets no token; run install.sh", helperName, self)
}

// ensureShim makes dir/gh a symbolic link to self, creating or repairing
// it; the link is replaced atomically, so a running session never misses it.
func ensureShim(dir, self string) error {
	link := filepath.Join(dir, "gh")
	if target, err := os.Readlink(link); err == nil && target == self {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the gh shim directory %s: %w", dir, fserr.WithoutPath(err))
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".gh.%d", os.Getpid()))
	_ = os.Remove(tmp)
	if err := os.Symlink(self, tmp); err != nil {
		return fmt.Errorf("cannot create the gh shim in %s: %w", dir, fserr.WithoutPath(err))
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cannot install the gh shim %s: %w", link, fserr.WithoutPath(err))
	}
	return nil
}

// prepareGHConfigDir creates the sessions' GH_CONFIG_DIR and removes any
// gh login a session left in it: sessions use jailrun's tokens only.
func prepareGHConfigDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the gh config directory %s: %w", dir, fserr.WithoutPath(err))
	}
	hosts := filepath.Join(dir, "hosts.yml")
	if err := os.Remove(hosts); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove the gh login in %s: %w; remove it yourself", hosts, fserr.WithoutPath(err))
	}
	return nil
}
