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

// Refusal says why a destination was refused, or could not be reached.
// Its message is one line that names the destination and the
// configuration that would allow it, or what to check.
type Refusal struct {
	Dest   Destination
	Reason string // e.g. "it resolves to 127.0.0.1, the host's loopback"
	// Unlisted: refused only for not being listed (JAILRUN_EGRESS=list), so
	// JAILRUN_EGRESS=open would allow it too.
	Unlisted bool
	// Check, when set, says the proxy allowed the destination but could
	// not reach it (Reason is the cause), and what to look at.
	Check string
	// Fix, when set, is what to do instead of allowing the destination:
	// the destination is allowed, the request was not.
	Fix string
}

func (r *Refusal) Error() string {
	if r.Check != "" {
		return "jailrun proxy could not reach " + r.explain()
	}
	return "jailrun proxy refused " + r.explain()
}

// Notice is the supervisor's line on stderr for a destination refused
// or unreachable the first time (Options.Refused).
func (r *Refusal) Notice() string {
	if r.Check != "" {
		return "jailrun: the jail's network could not reach " + r.explain()
	}
	return "jailrun: the jail's network refused " + r.explain()
}

func (r *Refusal) explain() string {
	if r.Fix != "" {
		return fmt.Sprintf("%s: %s; %s", r.Dest, r.Reason, r.Fix)
	}
	if r.Check != "" {
		return fmt.Sprintf("%s: %s; check %s", r.Dest, r.Reason, r.Check)
	}
	fix := fmt.Sprintf("%s=\"… %s\" in the jailrun config", AllowKey, r.Dest.Entry())
	if r.Unlisted {
		fix += ", or " + EgressKey + "=open"
	}
	return fmt.Sprintf("%s: %s; to allow it, set %s", r.Dest, r.Reason, fix)
}

// EgressKey is the configuration key of the egress mode (open or list).
const EgressKey = "JAILRUN_EGRESS"

// Entry is d as an allow-list entry: the host alone for DefaultPort,
// else host:port.
func (d Destination) Entry() string {
	if d.Port == DefaultPort {
		return d.Host
	}
	return d.String()
}

// Allowlist is a set of destinations from GH_HOSTS and JAILRUN_ALLOW_HOSTS.
// An entry is "host" or "host:port" ("[v6]:port" or a bare IPv6 literal
// for IPv6), or "*.domain" or "*.domain:port", which lists every name
// under domain but not domain itself. The host compares ASCII
// case-insensitively and an IP literal only with the same literal
// (127.0.0.1 does not list localhost, nor the reverse). An entry without a
// port lists DefaultPort only, so listing a host never opens its other
// services.
type Allowlist struct {
	entries map[Destination]bool
	domains map[Destination]bool // *.domain entries, by domain and port
}

// NewAllowlist parses entries; an empty string is skipped.
func NewAllowlist(entries ...string) (Allowlist, error) {
	l := Allowlist{entries: map[Destination]bool{}, domains: map[Destination]bool{}}
	for _, e := range entries {
		if e == "" {
			continue
		}
		rest, pattern := strings.CutPrefix(e, "*.")
		host, port, err := splitAuthority(rest, DefaultPort)
		if err == nil && pattern {
			if _, lerr := netip.ParseAddr(host); lerr == nil || !strings.Contains(host, ".") {
				err = fmt.Errorf("a pattern needs a domain with a dot, such as *.example.com")
			}
		}
		if err != nil {
			return Allowlist{}, fmt.Errorf("allowed host %q: %v; write host, host:port or *.domain", e, err)
		}
		d := Destination{Host: host, Port: port}
		if pattern {
			l.domains[d] = true
		} else {
			l.entries[d] = true
		}
	}
	return l, nil
}

// Lists reports whether an entry names d exactly.
func (l Allowlist) Lists(d Destination) bool {
	return l.entries[d]
}

// Matches reports whether an entry names d exactly or a *.domain entry
// covers it.
func (l Allowlist) Matches(d Destination) bool {
	if l.entries[d] {
		return true
	}
	if _, err := netip.ParseAddr(d.Host); err == nil {
		return false // literals match as literals only
	}
	for i := strings.IndexByte(d.Host, '.'); i >= 0; i = nextDot(d.Host, i) {
		if l.domains[Destination{Host: d.Host[i+1:], Port: d.Port}] {
			return true
		}
	}
	return false
}

// nextDot returns the index of the dot after the one at i, or -1.
func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// Open is the default policy (JAILRUN_EGRESS=open): any destination,
// except that a name or literal whose addresses include one that is not
// public (CheckPublic) is refused unless Allow names it exactly. A
// *.domain entry never lifts that: a name under a listed domain must
// still resolve to public addresses.
type Open struct {
	Allow Allowlist
}

// Admit lets every name through to its lookup.
func (Open) Admit(Destination) error { return nil }

// Check refuses d when any of addrs is not public and d is not listed.
func (p Open) Check(d Destination, addrs []netip.Addr) error {
	if p.Allow.Lists(d) {
		return nil
	}
	return CheckPublic(d, addrs)
}

// List is the policy of JAILRUN_EGRESS=list: only the destinations Allow
// matches, refused in Admit before any lookup otherwise. A destination
// matched by a *.domain entry only must resolve to public addresses, as
// under Open.
type List struct {
	Allow Allowlist
}

// Admit refuses a destination Allow does not match.
func (p List) Admit(d Destination) error {
	if !p.Allow.Matches(d) {
		return &Refusal{Dest: d, Reason: "it is not in the egress list (" + EgressKey + "=list)", Unlisted: true}
	}
	return nil
}

// Check lets an exactly listed destination reach any address and holds a
// pattern's names to public ones.
func (p List) Check(d Destination, addrs []netip.Addr) error {
	if p.Allow.Lists(d) {
		return nil
	}
	return CheckPublic(d, addrs)
}

// CheckPublic refuses d when any of addrs reaches the host itself, its
// link, a private network or a multicast group: a public name that
// resolves to 127.0.0.1, 10.0.0.5 or 169.254.169.254 is DNS rebinding or
// a probe of the user's network.
func CheckPublic(d Destination, addrs []netip.Addr) error {
	for _, a := range addrs {
		if what := nonPublic(a); what != "" {
			if lit, err := netip.ParseAddr(d.Host); err == nil && lit == a {
				return &Refusal{Dest: d, Reason: "it is " + what}
			}
			// Go's resolver may hand an IPv4 address in its mapped form;
			// the user knows it as 127.0.0.1, not ::ffff:127.0.0.1.
			return &Refusal{Dest: d, Reason: fmt.Sprintf("it resolves to %s, %s", a.Unmap(), what)}
		}
	}
	return nil
}

// ipv4Compatible is the deprecated ::a.b.c.d form, which no one uses but
// which could be read as the IPv4 address it embeds.
var ipv4Compatible = netip.MustParsePrefix("::/96")

// thisNetwork is 0.0.0.0/8, which Linux treats as this host.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// Ranges that are not the public internet beyond those netip.Addr names:
// carrier-grade NAT (RFC 6598) and the reserved 240/4, which holds the
// limited broadcast address.
var (
	sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")
	reservedIPv4       = netip.MustParsePrefix("240.0.0.0/4")
)

// nonPublic names the kind of a that reaches the host itself, its link,
// a private network or a multicast group rather than the internet, or
// returns "". IPv4-mapped and IPv4-compatible IPv6 forms are judged by the
// IPv4 address they carry.
func nonPublic(a netip.Addr) string {
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
	case a.IsPrivate() || sharedAddressSpace.Contains(a):
		return "a private network address"
	case a.IsMulticast():
		return "a multicast address"
	case reservedIPv4.Contains(a):
		return "a reserved or broadcast address"
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
