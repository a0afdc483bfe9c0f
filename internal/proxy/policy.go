package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// AllowKey is the configuration key that lists the destinations a refusal
// can be lifted for; a refusal's message names it.
const AllowKey = "JAILRUN_ALLOW_HOSTS"

// DefaultPort is the port of an allow-list entry that names none: the port
// of https, which is what a CONNECT to a GitHub host or an API uses.
const DefaultPort = 443

// Destination is where a client asked to go: the host of the CONNECT
// authority or of the absolute URL, ASCII lower-cased without a trailing
// dot (an IP literal in its canonical form), and the port.
type Destination struct {
	Host string
	Port int
}

// String is host:port, with brackets around an IPv6 literal.
func (d Destination) String() string {
	return net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
}

// ParseDestination reads host:port as a client sends it. defaultPort
// stands in for a missing port (0: the port is required).
func ParseDestination(authority string, defaultPort int) (Destination, error) {
	host, port, err := splitAuthority(authority, defaultPort)
	if err != nil {
		return Destination{}, err
	}
	if port == 0 {
		return Destination{}, fmt.Errorf("destination %q has no port", authority)
	}
	return Destination{Host: host, Port: port}, nil
}

// Policy decides where the jail may connect. Both methods are pure; the
// server calls Admit before it looks the name up (a policy that lists
// names refuses there, so an unlisted name never reaches DNS) and Check
// with every address it will dial (an IP literal's being itself). A
// refusal is a *Refusal.
type Policy interface {
	Admit(d Destination) error
	Check(d Destination, addrs []netip.Addr) error
}

// Refusal says why a destination was refused. Its message is one line
// that names the destination and the configuration that would allow it.
type Refusal struct {
	Dest   Destination
	Reason string // e.g. "it resolves to 127.0.0.1, the host's loopback"
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("jailrun proxy refused %s: %s; to allow it, add %s to %s", r.Dest, r.Reason, r.Dest, AllowKey)
}

// Allowlist is a set of destinations from GH_HOSTS and JAILRUN_ALLOW_HOSTS.
// An entry is "host" or "host:port" ("[v6]:port" or a bare IPv6 literal
// for IPv6); the host compares ASCII case-insensitively and an IP literal
// only with the same literal (127.0.0.1 does not list localhost, nor the
// reverse). An entry without a port lists DefaultPort only, so listing a
// host never opens its other services.
type Allowlist struct {
	entries map[Destination]bool
}

// NewAllowlist parses entries; an empty string is skipped.
func NewAllowlist(entries ...string) (Allowlist, error) {
	l := Allowlist{entries: map[Destination]bool{}}
	for _, e := range entries {
		if e == "" {
			continue
		}
		host, port, err := splitAuthority(e, DefaultPort)
		if err != nil {
			return Allowlist{}, fmt.Errorf("allowed host %q: %v; write host or host:port", e, err)
		}
		l.entries[Destination{Host: host, Port: port}] = true
	}
	return l, nil
}

// Lists reports whether d is one of the entries.
func (l Allowlist) Lists(d Destination) bool {
	return l.entries[d]
}

// Open is the default policy (JAILRUN_EGRESS=open): any destination,
// except that a name or literal whose addresses include the host's
// loopback, a link-local address or the unspecified address is refused
// unless Allow lists it.
type Open struct {
	Allow Allowlist
}

// Admit lets every name through to its lookup.
func (Open) Admit(Destination) error { return nil }

// Check refuses d when any of addrs is local to the host and d is not
// listed.
func (p Open) Check(d Destination, addrs []netip.Addr) error {
	if p.Allow.Lists(d) {
		return nil
	}
	for _, a := range addrs {
		if what := hostLocal(a); what != "" {
			if lit, err := netip.ParseAddr(d.Host); err == nil && lit == a {
				return &Refusal{Dest: d, Reason: "it is " + what}
			}
			return &Refusal{Dest: d, Reason: fmt.Sprintf("it resolves to %s, %s", a, what)}
		}
	}
	return nil
}

// ipv4Compatible is the deprecated ::a.b.c.d form, which no one uses but
// which could be read as the IPv4 address it embeds.
var ipv4Compatible = netip.MustParsePrefix("::/96")

// thisNetwork is 0.0.0.0/8, which Linux treats as this host.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// hostLocal names the kind of a that reaches the host itself or its link
// rather than the network, or returns "". IPv4-mapped and
// IPv4-compatible IPv6 forms are judged by the IPv4 address they carry.
func hostLocal(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() && ipv4Compatible.Contains(a) && !a.IsUnspecified() && a != netip.IPv6Loopback() {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case a.IsLoopback():
		return "the host's loopback"
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return "the unspecified address, which reaches the host"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "a link-local address (such as a cloud metadata service)"
	}
	return ""
}

// splitAuthority splits and normalizes host[:port]; a missing port is
// defaultPort.
func splitAuthority(s string, defaultPort int) (string, int, error) {
	host, portText := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("missing ]")
		}
		host, portText = s[1:end], s[end+1:]
		if portText != "" {
			if portText[0] != ':' {
				return "", 0, fmt.Errorf("unexpected text after ]")
			}
			portText = portText[1:]
		}
		if _, err := netip.ParseAddr(host); err != nil || strings.Contains(host, "%") {
			return "", 0, fmt.Errorf("%q is not an IPv6 address", host)
		}
	case strings.Count(s, ":") == 1:
		i := strings.IndexByte(s, ':')
		host, portText = s[:i], s[i+1:]
	}
	port := defaultPort
	if portText != "" {
		p, err := strconv.Atoi(portText)
		if err != nil || p < 1 || p > 65535 || portText[0] == '+' {
			return "", 0, fmt.Errorf("port %q is not a number from 1 to 65535", portText)
		}
		port = p
	}
	host, err := normalizeHost(host)
	return host, port, err
}

// normalizeHost lower-cases ASCII letters, drops one trailing dot and
// writes an IP literal in its canonical form. Zones are refused: they name
// an interface of the host.
func normalizeHost(host string) (string, error) {
	if strings.Contains(host, "%") {
		return "", fmt.Errorf("host %q names a network interface", host)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String(), nil
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "", fmt.Errorf("no host")
	}
	b := []byte(host)
	for i, c := range b {
		switch {
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_':
		default:
			return "", fmt.Errorf("host %q has a character other than letters, digits, '-', '_' and '.'", host)
		}
	}
	return string(b), nil
}
