package proxy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseDestination(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // Destination.String(), or "" for an error
	}{
		{"GitHub.COM:443", "github.com:443"},
		{"github.com.:443", "github.com:443"},
		{"127.0.0.1:8443", "127.0.0.1:8443"},
		{"[::1]:22", "[::1]:22"},
		{"[0:0::0001]:22", "[::1]:22"},
		{"[::FFFF:127.0.0.1]:80", "[::ffff:127.0.0.1]:80"},
		{"github.com", ""},       // CONNECT needs a port
		{"github.com:0", ""},     // out of range
		{"github.com:65536", ""}, // out of range
		{"github.com:+1", ""},
		{"github.com:https", ""},
		{"[fe80::1%eth0]:80", ""}, // a zone names a host interface
		{"fe80::1%eth0", ""},
		{"exa mple.com:443", ""},
		{"ünicode.example:443", ""}, // clients send IDNs as punycode
		{":443", ""},
		{"[::1:443", ""},
	} {
		d, err := ParseDestination(tc.in, 0)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseDestination(%q) = %s, want an error", tc.in, d)
		case tc.want != "" && err != nil:
			t.Errorf("ParseDestination(%q): %v", tc.in, err)
		case tc.want != "" && d.String() != tc.want:
			t.Errorf("ParseDestination(%q) = %s, want %s", tc.in, d, tc.want)
		}
	}
}

func TestNewAllowlistRejectsBadEntries(t *testing.T) {
	for _, e := range []string{"host:port", "host:0", "[::1", "a b", "fe80::1%lo"} {
		_, err := NewAllowlist(e)
		if err == nil || !strings.Contains(err.Error(), "write host, host:port or *.domain") {
			t.Errorf("NewAllowlist(%q) error = %v, want one that says what to write", e, err)
		}
	}
}

func TestOpenCheck(t *testing.T) {
	allow, err := NewAllowlist("LocalHost:8443", "127.0.0.1:9000", "ghe.internal", "[::1]:7000", "", "169.254.169.254:80")
	if err != nil {
		t.Fatal(err)
	}
	policy := Open{Allow: allow}
	addrs := func(list ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range list {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	for _, tc := range []struct {
		dest    string
		addrs   []netip.Addr
		refused string // part of the reason, or "" when allowed
	}{
		// Public destinations pass unlisted.
		{"github.com:443", addrs("140.82.121.4"), ""},
		{"example.net:80", addrs("2606:2800:220:1::1", "93.184.215.14"), ""},
		{"8.8.8.8:53", addrs("8.8.8.8"), ""},
		// Listed destinations pass whatever they resolve to; the port counts,
		// and an entry without a port lists 443 only.
		{"localhost:8443", addrs("127.0.0.1", "::1"), ""},
		{"LOCALHOST.:8443", addrs("127.0.0.1"), ""},
		{"127.0.0.1:9000", addrs("127.0.0.1"), ""},
		{"[::1]:7000", addrs("::1"), ""},
		{"ghe.internal:443", addrs("127.0.0.1"), ""},
		{"169.254.169.254:80", addrs("169.254.169.254"), ""},
		{"ghe.internal:22", addrs("127.0.0.1"), "the host's loopback"},
		{"localhost:8444", addrs("127.0.0.1"), "the host's loopback"},
		// Literals match as literals: listing 127.0.0.1 does not list
		// localhost or ::ffff:127.0.0.1, nor localhost 127.0.0.1.
		{"localhost:9000", addrs("127.0.0.1"), "resolves to 127.0.0.1, the host's loopback"},
		{"127.0.0.1:8443", addrs("127.0.0.1"), "it is the host's loopback"},
		{"[::ffff:127.0.0.1]:9000", addrs("::ffff:127.0.0.1"), "it is the host's loopback"},
		// Every address counts, not only the first.
		{"rebind.example:443", addrs("140.82.121.4", "127.0.0.53"), "resolves to 127.0.0.53"},
		{"rebind.example:443", addrs("::ffff:127.0.0.1"), "resolves to 127.0.0.1, the host's loopback"}, // as Go's resolver may return IPv4
		{"[::1]:22", addrs("::1"), "the host's loopback"},
		{"[::127.0.0.1]:22", addrs("::127.0.0.1"), "the host's loopback"},
		{"127.1.2.3:22", addrs("127.1.2.3"), "the host's loopback"},
		{"0.0.0.0:22", addrs("0.0.0.0"), "unspecified"},
		{"0.1.2.3:22", addrs("0.1.2.3"), "unspecified"},
		{"[::]:22", addrs("::"), "unspecified"},
		{"169.254.169.254:443", addrs("169.254.169.254"), "link-local"},
		{"metadata.google.internal:80", addrs("169.254.169.254"), "link-local"},
		{"[fe80::1]:80", addrs("fe80::1"), "link-local"},
		{"[::ffff:169.254.169.254]:80", addrs("::ffff:169.254.169.254"), "link-local"},
		// Private networks, multicast and broadcast are not the internet.
		{"intranet.example:443", addrs("10.0.0.5"), "resolves to 10.0.0.5, a private network address"},
		{"172.16.0.1:443", addrs("172.16.0.1"), "it is a private network address"},
		{"172.31.255.255:443", addrs("172.31.255.255"), "private"},
		{"192.168.1.1:80", addrs("192.168.1.1"), "private"},
		{"100.64.0.1:443", addrs("100.64.0.1"), "private"},
		{"[fd00::1]:443", addrs("fd00::1"), "private"},
		{"[::ffff:10.0.0.1]:443", addrs("::ffff:10.0.0.1"), "private"},
		{"239.255.255.250:1900", addrs("239.255.255.250"), "multicast"},
		{"[ff02::1]:443", addrs("ff02::1"), "link-local"},
		{"[ff05::1]:443", addrs("ff05::1"), "multicast"},
		{"255.255.255.255:443", addrs("255.255.255.255"), "broadcast"},
		// Just outside the private ranges is public.
		{"172.32.0.1:443", addrs("172.32.0.1"), ""},
		{"100.128.0.1:443", addrs("100.128.0.1"), ""},
	} {
		d, err := ParseDestination(tc.dest, 0)
		if err != nil {
			t.Fatalf("ParseDestination(%q): %v", tc.dest, err)
		}
		if err := policy.Admit(d); err != nil {
			t.Errorf("Admit(%s) = %v, want nil: open admits every name", d, err)
		}
		err = policy.Check(d, tc.addrs)
		if tc.refused == "" {
			if err != nil {
				t.Errorf("Check(%s, %v) = %v, want allowed", d, tc.addrs, err)
			}
			continue
		}
		var r *Refusal
		if !errors.As(err, &r) {
			t.Errorf("Check(%s, %v) = %v, want a refusal", d, tc.addrs, err)
			continue
		}
		if !strings.Contains(r.Reason, tc.refused) {
			t.Errorf("Check(%s, %v) reason %q, want it to contain %q", d, tc.addrs, r.Reason, tc.refused)
		}
	}
}

func TestRefusalMessage(t *testing.T) {
	for _, tc := range []struct {
		r    Refusal
		want string
	}{
		{
			Refusal{Dest: Destination{Host: "localhost", Port: 8443}, Reason: "it resolves to 127.0.0.1, the host's loopback"},
			`jailrun proxy refused localhost:8443: it resolves to 127.0.0.1, the host's loopback; to allow it, set JAILRUN_ALLOW_HOSTS="… localhost:8443" in the jailrun config`,
		},
		{
			Refusal{Dest: Destination{Host: "paste.example", Port: 443}, Reason: "it is not in the egress list (JAILRUN_EGRESS=list)", Unlisted: true},
			`jailrun proxy refused paste.example:443: it is not in the egress list (JAILRUN_EGRESS=list); to allow it, set JAILRUN_ALLOW_HOSTS="… paste.example" in the jailrun config, or JAILRUN_EGRESS=open`,
		},
		{
			Refusal{Dest: Destination{Host: "::1", Port: 443}, Reason: "it is the host's loopback"},
			`jailrun proxy refused [::1]:443: it is the host's loopback; to allow it, set JAILRUN_ALLOW_HOSTS="… ::1" in the jailrun config`,
		},
	} {
		if got := tc.r.Error(); got != tc.want {
			t.Errorf("Error() =\n%s\nwant\n%s", got, tc.want)
		}
		if got, want := tc.r.Notice(), strings.Replace(tc.want, "jailrun proxy refused", "jailrun: the jail's network refused", 1); got != want {
			t.Errorf("Notice() =\n%s\nwant\n%s", got, want)
		}
	}
}

func TestAllowlistPatterns(t *testing.T) {
	allow, err := NewAllowlist("*.Example.COM", "*.internal.test:8443", "api.other.test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dest           string
		matches, lists bool
	}{
		{"api.example.com:443", true, false},
		{"A.B.EXAMPLE.COM.:443", true, false},
		{"example.com:443", false, false}, // the apex is not a subdomain
		{"api.example.com:80", false, false},
		{"evilexample.com:443", false, false},
		{"example.com.evil.test:443", false, false},
		{"svc.internal.test:8443", true, false},
		{"svc.internal.test:443", false, false},
		{"api.other.test:443", true, true},
		{"x.api.other.test:443", false, false}, // an exact entry covers no subdomain
		{"[::1]:443", false, false},
	} {
		d, err := ParseDestination(tc.dest, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := allow.Matches(d); got != tc.matches {
			t.Errorf("Matches(%s) = %v, want %v", d, got, tc.matches)
		}
		if got := allow.Lists(d); got != tc.lists {
			t.Errorf("Lists(%s) = %v, want %v", d, got, tc.lists)
		}
	}
	for _, bad := range []string{"*.com", "*.", "*.*.example.com", "*.10.0.0.1", "x.*.example.com"} {
		if _, err := NewAllowlist(bad); err == nil || !strings.Contains(err.Error(), "*.domain") {
			t.Errorf("NewAllowlist(%q) error = %v, want one that says what to write", bad, err)
		}
	}
}

func TestListPolicy(t *testing.T) {
	allow, err := NewAllowlist("github.com", "ghe.corp.test", "*.githubusercontent.com", "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	policy := List{Allow: allow}
	public, private := []netip.Addr{netip.MustParseAddr("140.82.121.4")}, []netip.Addr{netip.MustParseAddr("10.1.2.3")}
	for _, tc := range []struct {
		dest     string
		addrs    []netip.Addr
		admitted bool
		refused  string // part of Check's reason, or "" when allowed
	}{
		{"github.com:443", public, true, ""},
		{"GitHub.com:443", private, true, ""}, // listed exactly: any address
		{"ghe.corp.test:443", private, true, ""},
		{"raw.githubusercontent.com:443", public, true, ""},
		{"raw.githubusercontent.com:443", private, true, "resolves to 10.1.2.3, a private network address"},
		{"127.0.0.1:8080", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, true, ""},
		{"githubusercontent.com:443", public, false, ""},
		{"github.com:22", public, false, ""},
		{"localhost:8080", nil, false, ""},
		{"api.anthropic.com:443", public, false, ""},
	} {
		d, err := ParseDestination(tc.dest, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = policy.Admit(d)
		if !tc.admitted {
			var r *Refusal
			if !errors.As(err, &r) || !r.Unlisted || !strings.Contains(r.Error(), "JAILRUN_EGRESS=open") {
				t.Errorf("Admit(%s) = %v, want a refusal for not being listed", d, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Admit(%s) = %v, want admitted", d, err)
			continue
		}
		err = policy.Check(d, tc.addrs)
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("Check(%s, %v) = %v, want allowed", d, tc.addrs, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("Check(%s, %v) = %v, want a refusal saying %q", d, tc.addrs, err, tc.refused)
		}
	}
}
