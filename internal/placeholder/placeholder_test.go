package placeholder

import (
	"strings"
	"testing"
)

func TestVault(t *testing.T) {
	v := New()
	p := v.For("github:fine-grained-myorg", "github.com", "real-1")
	if !Is(p) || len(p) < len(Prefix)+40 || strings.Contains(p, "real") {
		t.Fatalf("placeholder %q: want jrp_ and random text", p)
	}
	if again := v.For("github:fine-grained-myorg", "GitHub.com", "real-1"); again != p {
		t.Errorf("the same token and host got another placeholder")
	}
	if other := v.For("github:fine-grained-other", "github.com", "real-2"); other == p {
		t.Errorf("another token got the same placeholder")
	}
	ghe := v.For("github:fine-grained-myorg", "ghe.example:8443", "real-3")
	if ghe == p {
		t.Errorf("the same name on another host got the same placeholder")
	}
	if New().For("github:fine-grained-myorg", "github.com", "real-1") == p {
		t.Errorf("another session got the same placeholder")
	}
	for _, tc := range []struct {
		p, dest, want string
	}{
		{p, "github.com", "real-1"},
		{p, "api.github.com", "real-1"},
		{p, "UPLOADS.github.com", "real-1"},
		{p, "raw.githubusercontent.com", ""},
		{p, "github.com:8443", ""},
		{p, "ghe.example:8443", ""},
		{ghe, "ghe.example:8443", "real-3"},
		{ghe, "github.com", ""},
		{p + "x", "github.com", ""},
		{"real-1", "github.com", ""},
	} {
		if got, _, ok := v.Real(tc.p, tc.dest); got != tc.want || ok != (tc.want != "") {
			t.Errorf("Real(…, %s) = %q, %v; want %q", tc.dest, got, ok, tc.want)
		}
	}
	v.For("github:fine-grained-myorg", "github.com", "rotated")
	if got, name, _ := v.Real(p, "github.com"); got != "rotated" || name != "github:fine-grained-myorg" {
		t.Errorf("after a rotation Real = %q %q, want the new secret", got, name)
	}
}

func TestTokenHosts(t *testing.T) {
	for host, want := range map[string]string{
		"github.com":       "github.com api.github.com uploads.github.com",
		"acme.ghe.com":     "acme.ghe.com api.acme.ghe.com uploads.acme.ghe.com",
		"ghe.corp.example": "ghe.corp.example",
		"127.0.0.1:8443":   "127.0.0.1:8443",
	} {
		if got := strings.Join(TokenHosts(host), " "); got != want {
			t.Errorf("TokenHosts(%s) = %q, want %q", host, got, want)
		}
	}
}
