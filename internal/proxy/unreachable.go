package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// unreachable turns the error of looking dest up or connecting to it into
// a Refusal with its cause in words and what to check, so that a client
// that shows no CONNECT body (git, pip) still leaves the user a reason on
// jailrun's stderr and in the audit log.
func unreachable(dest Destination, err error) *Refusal {
	r := &Refusal{Dest: dest}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		r.Reason = "its name does not resolve"
		r.Check = "the name, and that it resolves outside the jail (getent hosts " + dest.Host + ")"
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		r.Reason = "looking its name up timed out"
		r.Check = "this machine's DNS (/etc/resolv.conf)"
	case errors.As(err, &dnsErr):
		r.Reason = "looking its name up failed (" + dnsErr.Err + ")"
		r.Check = "this machine's DNS (/etc/resolv.conf)"
	case errors.Is(err, syscall.ECONNREFUSED):
		r.Reason = "the connection was refused"
		r.Check = fmt.Sprintf("that a server listens on port %d there", dest.Port)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		r.Reason = "connecting timed out"
		r.Check = "the network, and whether this machine needs a proxy or a firewall rule to reach it"
	case errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH):
		r.Reason = "no route to it"
		r.Check = "this machine's network connection"
	default:
		r.Reason = "connecting failed (" + lastPart(err) + ")"
		r.Check = "the network"
	}
	return r
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// lastPart is the innermost words of err, without the addresses that
// net's errors repeat.
func lastPart(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
