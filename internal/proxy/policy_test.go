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
		if err == nil || !strings.Contains(err.Error(), "host or host:port") {
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
		{"rebind.example:443", addrs("::ffff:127.0.0.1"), "the host's loopback"}, // as Go's resolver may return IPv4
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
	r := &Refusal{Dest: Destination{Host: "localhost", Port: 8443}, Reason: "it resolves to 127.0.0.1, the host's loopback"}
	want := "jailrun proxy refused localhost:8443: it resolves to 127.0.0.1, the host's loopback; to allow it, add localhost:8443 to JAILRUN_ALLOW_HOSTS"
	if got := r.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
}
