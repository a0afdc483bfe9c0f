package jail

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// SecurityTool is macOS's keychain command line tool, which the macOS jail
// does not let run.
const SecurityTool = "/usr/bin/security"

// keychainServices are the Mach services through which a process reaches
// the keychain: securityd (file keychains, com.apple.SecurityServer) and
// secd (the data protection keychain). The profile never allows them; it
// also denies them by name, after every allow, so that a later allow of
// mach-lookup cannot let them through.
var keychainServices = []string{
	"com.apple.SecurityServer",
	"com.apple.securityd",
	"com.apple.securityd.xpc",
	"com.apple.secd",
	"com.apple.security.agent",
	"com.apple.security.authhost",
}

// machServices are the Mach services the agent may look up: user and
// group lookups, logging, fonts, notifications, power assertions, the
// temporary directory helper and trustd, which verifies TLS certificates
// for Go programs (gh) and Apple's frameworks. The list is Claude Code's
// sandbox-runtime's without com.apple.securityd.xpc (the keychain) and
// com.apple.coreservices.launchservicesd (it opens applications outside
// the sandbox). trustd fetches OCSP and CRL addresses a certificate names:
// a narrow way out that bypasses the proxy.
var machServices = []string{
	"com.apple.audio.systemsoundserver",
	"com.apple.bsd.dirhelper",
	"com.apple.distributed_notifications@Uv3",
	"com.apple.FontObjectsServer",
	"com.apple.fonts",
	"com.apple.logd",
	"com.apple.lsd.mapdb",
	"com.apple.PowerManagement.control",
	"com.apple.system.logger",
	"com.apple.system.notification_center",
	"com.apple.system.opendirectoryd.libinfo",
	"com.apple.system.opendirectoryd.membership",
	"com.apple.trustd.agent",
}

// sysctls are the kernel values the agent may read: the machine's and the
// system's description and its own processes'. kern.procargs2, which
// holds other processes' arguments and environment, is not among them.
var sysctls = []string{
	"hw.activecpu", "hw.busfrequency_compat", "hw.byteorder", "hw.cacheconfig", "hw.cachelinesize_compat",
	"hw.cpufamily", "hw.cpufrequency", "hw.cpufrequency_compat", "hw.cputype", "hw.l1dcachesize_compat",
	"hw.l1icachesize_compat", "hw.l2cachesize_compat", "hw.l3cachesize_compat", "hw.logicalcpu",
	"hw.logicalcpu_max", "hw.machine", "hw.memsize", "hw.model", "hw.ncpu", "hw.nperflevels", "hw.packages",
	"hw.pagesize", "hw.pagesize_compat", "hw.physicalcpu", "hw.physicalcpu_max", "hw.tbfrequency_compat",
	"hw.vectorunit", "kern.argmax", "kern.bootargs", "kern.hostname", "kern.maxfiles", "kern.maxfilesperproc",
	"kern.maxproc", "kern.ngroups", "kern.osproductversion", "kern.osrelease", "kern.ostype",
	"kern.osvariant_status", "kern.osversion", "kern.secure_kernel", "kern.usrstack64", "kern.version",
	"machdep.cpu.brand_string", "machdep.ptrauth_enabled", "security.mac.lockdown_mode_state",
	"sysctl.proc_cputype", "vm.loadavg",
}

// sysctlPrefixes are the families of kernel values the agent may read.
var sysctlPrefixes = []string{
	"hw.optional.", "hw.perflevel", "kern.proc.all", "kern.proc.pgrp.", "kern.proc.pid.", "machdep.cpu.",
	"net.routetable.",
}

// devices are the device files the agent may write to and control: the
// null devices, its terminal and the standard streams' aliases.
var devices = []string{
	"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx", "/dev/dtracehelper",
	"/dev/stdin", "/dev/stdout", "/dev/stderr",
}

// Seatbelt returns the sandbox profile (SBPL) in which macOS's
// sandbox-exec runs p: the Linux jail's file rules and jailrun's sockets,
// with the proxy on the loopback TCP port proxyPort (0 when p.ShareNet).
// Seatbelt has no mount namespace: nothing is hidden by replacing it, only
// refused, and a path keeps its name (the sockets' Host paths are where
// the agent reaches them; their Jail paths are unused). The launcher gives
// the agent a temporary directory of its own in p.Write and TMPDIR: /tmp
// stays read-only, since making it writable would let the agent change
// what the user's other programs keep there.
//
// In SBPL the last rule that matches an operation decides it, so the
// rules come in this order:
//  1. (deny default): whatever no rule allows is refused.
//  2. Processes: exec and fork; signals and process information only
//     within the sandbox; /usr/bin/security may not run.
//  3. The system: preferences, POSIX shared memory and semaphores, the
//     sysctls and Mach services listed above, terminals; the keychain's
//     services are denied by name.
//  4. Reading: everything; then p.Private refused (Linux replaces those
//     directories with empty ones), except the p.Write and p.Visible paths
//     inside them; then p.Masks refused, a directory with everything in it
//     (subpath), a file alone (literal).
//  5. Writing: the devices above, then p.Write; then p.Masks refused
//     (Linux masks are read-only too), and no directory between a write
//     path and a mask may be renamed or removed, so that a masked path
//     cannot be moved to where it is not masked.
//  6. Network: with p.ShareNet, everything; otherwise only the proxy's
//     port on the loopback and p.Sockets' Host paths.
func Seatbelt(p Policy, proxyPort int) (string, error) {
	if err := validateSeatbelt(p, proxyPort); err != nil {
		return "", err
	}
	var b profile
	b.line("(version 1)")
	b.line("(deny default)")

	b.section("processes")
	b.line("(allow process-exec)")
	b.line("(allow process-fork)")
	b.line("(allow process-info* (target same-sandbox))")
	b.line("(allow signal (target same-sandbox))")
	b.line("(allow mach-priv-task-port (target same-sandbox))")
	b.rule("deny process-exec", "literal", []string{SecurityTool})

	b.section("the system")
	b.line("(allow user-preference-read)")
	b.line("(allow ipc-posix-shm)")
	b.line("(allow ipc-posix-sem)")
	b.line("(allow mach-host*)")
	b.line("(allow iokit-get-properties)")
	b.line("(allow iokit-open (iokit-registry-entry-class \"RootDomainUserClient\"))")
	b.filters("allow sysctl-read", slices.Concat(filters("sysctl-name", sysctls), filters("sysctl-name-prefix", sysctlPrefixes)))
	b.rule("allow mach-lookup", "global-name", machServices)
	b.rule("deny mach-lookup", "global-name", keychainServices)
	b.line("(allow pseudo-tty)")
	b.filters("allow file-ioctl", append(filters("literal", devices), `(regex #"^/dev/ttys[0-9]+$")`))

	b.section("reading")
	b.line("(allow file-read*)")
	b.rule("deny file-read*", "subpath", p.Private)
	var shown []string
	for _, path := range slices.Concat(p.Write, p.Visible) {
		if insideAny(path, p.Private) {
			shown = append(shown, path)
		}
	}
	b.rule("allow file-read*", "subpath", shown)
	masks := maskFilters(p.Masks)
	b.filters("deny file-read*", masks)

	b.section("writing")
	b.filters("allow file-write*", append(filters("literal", devices), `(regex #"^/dev/ttys[0-9]+$")`))
	b.rule("allow file-write*", "subpath", p.Write)
	b.filters("deny file-write*", masks)
	b.rule("deny file-write-unlink", "literal", maskAncestors(p))

	b.section("network")
	if p.ShareNet {
		b.line("(allow network*)")
		return b.String(), nil
	}
	b.line(fmt.Sprintf("(allow network-outbound (remote ip \"localhost:%d\"))", proxyPort))
	if len(p.Sockets) > 0 {
		b.line("(allow system-socket (socket-domain AF_UNIX))")
		for _, s := range p.Sockets {
			b.line("(allow network-outbound (remote unix-socket (path-literal " + sbplString(s.Host) + ")))")
		}
	}
	return b.String(), nil
}

// maskFilters returns the filters of masks in path order: a directory's
// subpath, a file's literal.
func maskFilters(masks []Mask) []string {
	sorted := slices.SortedFunc(slices.Values(masks), func(a, b Mask) int { return strings.Compare(a.Path, b.Path) })
	out := make([]string, 0, len(sorted))
	for _, m := range sorted {
		kind := "literal"
		if m.Dir {
			kind = "subpath"
		}
		out = append(out, "("+kind+" "+sbplString(m.Path)+")")
	}
	return out
}

// maskAncestors returns, sorted, the directories above a mask that lie in
// a write path (the write path included): renaming one would carry the
// mask's path away from its rule.
func maskAncestors(p Policy) []string {
	var out []string
	for _, m := range p.Masks {
		for dir := filepath.Dir(m.Path); dir != "/"; dir = filepath.Dir(dir) {
			if insideAny(dir, p.Write) && !slices.Contains(out, dir) {
				out = append(out, dir)
			}
		}
	}
	slices.Sort(out)
	return out
}

// filters returns (kind "value") for each value.
func filters(kind string, values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, "("+kind+" "+sbplString(v)+")")
	}
	return out
}

// sbplString quotes s as an SBPL (Scheme) string literal: a backslash and
// a double quote are escaped. validateSeatbelt rejects control characters,
// which have no escape every SBPL version reads the same way.
func sbplString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// profile builds an SBPL profile line by line.
type profile struct{ strings.Builder }

func (b *profile) line(s string) {
	b.WriteString(s)
	b.WriteByte('\n')
}

func (b *profile) section(name string) { b.line("\n; " + name) }

// rule writes (action (kind "value")…) for values, nothing when there
// are none.
func (b *profile) rule(action, kind string, values []string) {
	b.filters(action, filters(kind, values))
}

// filters writes (action filter…), one filter a line, nothing when there
// are none.
func (b *profile) filters(action string, fs []string) {
	if len(fs) == 0 {
		return
	}
	b.line("(" + action)
	for _, f := range fs {
		b.line("  " + f)
	}
	b.line(")")
}

// validateSeatbelt rejects a policy the profile would misstate.
func validateSeatbelt(p Policy, proxyPort int) error {
	if len(p.Argv) == 0 || p.Argv[0] == "" {
		return errors.New("jail: no command to run")
	}
	paths := slices.Concat(p.Write, p.Visible, p.Private)
	for _, m := range p.Masks {
		paths = append(paths, m.Path)
	}
	for _, s := range p.Sockets {
		paths = append(paths, s.Host)
	}
	for _, path := range paths {
		if !filepath.IsAbs(path) || filepath.Clean(path) != path {
			return fmt.Errorf("jail: %q is not an absolute clean path; resolve the policy first", path)
		}
		if strings.ContainsFunc(path, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("jail: %q has a control character, which a sandbox profile cannot name; rename it", path)
		}
	}
	if slices.Contains(p.Write, "/") {
		return errors.New("jail: / would make the whole disk writable; list the directories to write instead")
	}
	if !p.ShareNet && (proxyPort <= 0 || proxyPort > 65535) {
		return fmt.Errorf("jail: proxy port %d is not a TCP port", proxyPort)
	}
	return nil
}
