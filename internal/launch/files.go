package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
