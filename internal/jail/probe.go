package jail

import (
	"strings"
	"time"
)

// probeTimeout bounds the probe's run of the sandbox, which takes
// milliseconds.
const probeTimeout = 5 * time.Second

// installAdvice says how to install bubblewrap on the usual distributions.
const installAdvice = "install bubblewrap (sudo apt install bubblewrap, or sudo dnf install bubblewrap)"

// Unavailable says why the jail cannot start here and what fixes it; the
// start line shows it as "NOT jailed: <Why>; <Fix>".
type Unavailable struct {
	Why string
	Fix string
}

func (u *Unavailable) Error() string { return u.Why + "; " + u.Fix }

// Sysctls are the kernel settings that decide whether an unprivileged user
// may create a user namespace, as read from /proc/sys ("" when absent).
type Sysctls struct {
	AppArmorRestrictUserns  string // kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10 and later)
	UnprivilegedUsernsClone string // kernel.unprivileged_userns_clone (Debian's patch)
	MaxUserNamespaces       string // user.max_user_namespaces
}

// sysctlFiles maps each setting to its file under /proc/sys.
var sysctlFiles = map[string]func(*Sysctls) *string{
	"kernel/apparmor_restrict_unprivileged_userns": func(s *Sysctls) *string { return &s.AppArmorRestrictUserns },
	"kernel/unprivileged_userns_clone":             func(s *Sysctls) *string { return &s.UnprivilegedUsernsClone },
	"user/max_user_namespaces":                     func(s *Sysctls) *string { return &s.MaxUserNamespaces },
}

// classify turns a failed probe, bwrap's stderr and the kernel's settings,
// into what failed and its fix.
func classify(stderr string, s Sysctls) *Unavailable {
	line, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	namespaceTrouble := strings.Contains(line, "namespace") || strings.Contains(line, "uid map") ||
		strings.Contains(line, "Permission denied") || strings.Contains(line, "Operation not permitted") ||
		strings.Contains(line, "No space left on device")
	switch {
	case namespaceTrouble && s.MaxUserNamespaces == "0":
		return &Unavailable{
			Why: "user namespaces are disabled (user.max_user_namespaces=0)",
			Fix: "run `sudo sysctl -w user.max_user_namespaces=15000` and set it in /etc/sysctl.d to keep it",
		}
	case namespaceTrouble && s.UnprivilegedUsernsClone == "0":
		return &Unavailable{
			Why: "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)",
			Fix: "run `sudo sysctl -w kernel.unprivileged_userns_clone=1` and set it in /etc/sysctl.d to keep it",
		}
	case namespaceTrouble && s.AppArmorRestrictUserns == "1":
		return &Unavailable{
			Why: "AppArmor forbids bwrap a user namespace (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 24.04's default)",
			Fix: "allow it with a profile: put `abi <abi/4.0>, include <tunables/global> profile bwrap /usr/bin/bwrap flags=(unconfined) { userns, }` in /etc/apparmor.d/bwrap and run `sudo systemctl reload apparmor` (or, for every program, `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`)",
		}
	case line == "":
		return &Unavailable{Why: "bwrap failed without a message", Fix: "run `bwrap --ro-bind / / --unshare-net --unshare-pid --proc /proc true` to see why"}
	}
	return &Unavailable{Why: "bwrap cannot start a sandbox: " + line, Fix: "run `bwrap --ro-bind / / --unshare-net --unshare-pid --proc /proc true` to see why"}
}
