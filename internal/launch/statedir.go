package launch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/jailrun/jailrun/internal/safedir"
)

// ghConfigPrefix starts the name of a session's gh config directory,
// followed by the session's process id, "-" and random letters.
const ghConfigPrefix = "gh-"

// newGHConfigDir creates the GH_CONFIG_DIR of a new session: a private
// directory of its own in jailrun's state directory, so that nothing a
// session's gh writes reaches the user's gh or the next session. The
// directories of sessions that ended are removed first. No link is ever
// followed below stateDir.
func newGHConfigDir(stateDir string) (string, error) {
	d, err := safedir.Open(stateDir, 0o700)
	if err != nil {
		return "", err
	}
	defer d.Close()
	removeEndedSessions(d)
	return d.MkdirPrivate(ghConfigPrefix + strconv.Itoa(os.Getpid()) + "-")
}

// removeEndedSessions removes the gh config directories in d whose
// session's process is gone. A directory it cannot remove stays.
func removeEndedSessions(d *safedir.Dir) {
	names, err := d.Names()
	if err != nil {
		return
	}
	for _, name := range names {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(name, ghConfigPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !strings.HasPrefix(name, ghConfigPrefix) || !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = d.RemoveDir(name)
		}
	}
}

// ensureShim makes dir/gh a symbolic link to self, creating or repairing
// it; the link is replaced atomically, so a running session never misses
// it. dir and its parent are jailrun's: neither may be a link.
func ensureShim(dir, self string) error {
	parent, err := safedir.Open(filepath.Dir(dir), 0o755)
	if err != nil {
		return fmt.Errorf("cannot install the gh shim: %v", err)
	}
	defer parent.Close()
	d, err := parent.Sub(filepath.Base(dir), 0o755)
	if err != nil {
		return fmt.Errorf("cannot install the gh shim: %v", err)
	}
	defer d.Close()
	if err := d.ReplaceLink(ShimName, self); err != nil {
		return fmt.Errorf("cannot install the gh shim: %v", err)
	}
	return nil
}
