package placeholder

import (
	"errors"
	"strings"
	"testing"
	"time"
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
		if got, _, err := v.Real(tc.p, tc.dest); got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("Real(…, %s) = %q, %v; want %q", tc.dest, got, err, tc.want)
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

// A secret left to read later is read once, at the first Real for a host
// it is made for; a failed read stands for the retry time, then is tried
// again; For replaces it.
func TestLaterReadsOnFirstUse(t *testing.T) {
	v := New()
	v.retry = time.Hour
	reads, fail := 0, true
	read := func() (string, error) {
		reads++
		if fail {
			return "", errors.New("the keyring is locked")
		}
		return "real-later", nil
	}
	p := v.Later("github:fine-grained-myorg", "github.com", read)
	if !Is(p) || reads != 0 {
		t.Fatalf("Later = %q after %d reads; want a placeholder and no read", p, reads)
	}
	if _, _, err := v.Real(p, "example.com"); !errors.Is(err, ErrNotServed) || reads != 0 {
		t.Fatalf("Real for another host: %v after %d reads; want ErrNotServed and no read", err, reads)
	}
	_, name, err := v.Real(p, "api.github.com")
	if err == nil || !strings.Contains(err.Error(), "github:fine-grained-myorg") || name != "github:fine-grained-myorg" {
		t.Fatalf("Real with a failing read: %q, %v; want an error naming the token", name, err)
	}
	fail = false
	if _, _, err := v.Real(p, "github.com"); err == nil || reads != 1 {
		t.Fatalf("Real within the retry time: %v after %d reads; want the failure again, not read", err, reads)
	}
	v.retry = 0
	for range 3 {
		if got, _, err := v.Real(p, "github.com"); got != "real-later" || err != nil {
			t.Fatalf("Real = %q, %v; want the secret read", got, err)
		}
	}
	if reads != 2 {
		t.Errorf("the secret was read %d times; want 2 (the failure, then once)", reads)
	}
	if again := v.Later("github:fine-grained-myorg", "github.com", read); again != p {
		t.Errorf("Later again = %q, want the same placeholder", again)
	}
	v.For("github:fine-grained-myorg", "github.com", "rotated")
	if got, _, _ := v.Real(p, "github.com"); got != "rotated" || reads != 2 {
		t.Errorf("after For, Real = %q after %d reads; want the new secret, not read again", got, reads)
	}
}
