// Package escape is the jail's escape suite (issue 12, "Tests"): each case
// is an attack run inside `jailrun run` that must fail, run again with
// JAILRUN_JAIL=off where it must succeed, so that every case can fail. The
// attacks reach for the keyring (secret-tool and a raw D-Bus client, over
// the bus's path and abstract sockets), every masked credential file,
// sockets and processes outside, the user's shell and git configuration,
// the repository's git config and hooks (which git runs outside the jail
// later), git's own credential stores, the plain helper, the broker's configuration
// and the host's loopback; the seccomp filter's calls are tried too. Beside
// them, what must keep working in the jail: pushes of two owners through
// the proxy and the broker, gh through the shim, a commit, the audit log.
//
// The attacker is the command in ./attack, built once per run; the package
// has tests only. `go test -v` prints the table of cases.
package escape
