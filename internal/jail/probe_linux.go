package jail

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Probe runs bwrap for real, with the namespaces and mounts a jail uses, on
// `true`, and returns nil when it works or an *Unavailable that names the
// fix.
func Probe(ctx context.Context) error {
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		return &Unavailable{Why: "bwrap is not installed", Fix: installAdvice}
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bwrap, "--die-with-parent", "--unshare-user", "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
		"--unshare-net", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--", "true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return &Unavailable{Why: "bwrap did not finish a trial run within " + probeTimeout.String(), Fix: "run `bwrap --ro-bind / / true` to see why it hangs"}
	case errors.Is(err, exec.ErrNotFound):
		return &Unavailable{Why: "bwrap is not installed", Fix: installAdvice}
	}
	return classify(stderr.String(), readSysctls())
}

// readSysctls reads the settings Sysctls names; a missing file stays "".
func readSysctls() Sysctls {
	var s Sysctls
	for file, field := range sysctlFiles {
		if data, err := os.ReadFile(filepath.Join("/proc/sys", file)); err == nil {
			*field(&s) = strings.TrimSpace(string(data))
		}
	}
	return s
}
