package jail

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"time"
)

// SandboxExec is macOS's command that runs a program under a Seatbelt
// profile (see Seatbelt): sandbox-exec -p PROFILE PROGRAM ARGS…
const SandboxExec = "/usr/bin/sandbox-exec"

// Probe runs sandbox-exec for real on /usr/bin/true and returns nil when
// it works or an *Unavailable that names the fix. It fails inside another
// sandbox, where a process may not apply a profile of its own.
func Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, SandboxExec, "-p", "(version 1)\n(allow default)\n", "/usr/bin/true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	line, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return &Unavailable{Why: "sandbox-exec did not finish a trial run within " + probeTimeout.String(), Fix: "run `sandbox-exec -p '(version 1)(allow default)' /usr/bin/true` to see why it hangs"}
	case errors.Is(err, exec.ErrNotFound):
		return &Unavailable{Why: SandboxExec + " is missing", Fix: "run the agent on a macOS that has it, or in a VM"}
	case strings.Contains(line, "Operation not permitted"):
		return &Unavailable{Why: "sandbox-exec cannot apply a profile here (already inside a sandbox?): " + line, Fix: "start jailrun outside any other sandbox"}
	}
	return &Unavailable{Why: "sandbox-exec cannot start a sandbox: " + line, Fix: "run `sandbox-exec -p '(version 1)(allow default)' /usr/bin/true` to see why"}
}
