package keyring

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name, wantErr string
	}{
		{"github:classic", ""},
		{"github:fine-grained-myorg", ""},
		{"aws:prod:readonly", ""},
		{"github:" + strings.Repeat("x", MaxNameLen-len("github:")), ""},
		{"", "empty"},
		{"github:" + strings.Repeat("x", MaxNameLen), "bytes long"},
		{"github:my org", "space or control"},
		{"github:tab\there", "space or control"},
		{"github:nul\x00", "space or control"},
		{"github:bell\a", "space or control"},
		{"github:\xff", "UTF-8"},
		{"classic", "namespace:key"},
		{":classic", "namespace:key"},
		{"github:", "namespace:key"},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ValidateName(%q) = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ValidateName(%q) = %v, want an error containing %q", tt.name, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Errorf("ValidateName(%q) error spans lines: %q", tt.name, err)
		}
	}
}

func TestPreview(t *testing.T) {
	tests := []struct{ secret, want string }{
		{"ghp_0123456789abcdefghij0123456789abcdef", "ghp_01234567..."},
		{"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_1..."},
		{"ghp_first-secret-0123", "ghp_fir..."},
		{"tok", "t..."},
		{"ab", "..."},
		{"", "..."},
		{"äöüäöüäöü", "äöü..."},
	}
	for _, tt := range tests {
		got := Preview(tt.secret)
		if got != tt.want {
			t.Errorf("Preview(%d-char secret) = %q, want %q", len(tt.secret), got, tt.want)
		}
		shown := strings.TrimSuffix(got, "...")
		if n := utf8.RuneCountInString(shown); n > 12 || (tt.secret != "" && n*3 > utf8.RuneCountInString(tt.secret)) {
			t.Errorf("Preview shows %d characters of a %d-character secret", n, utf8.RuneCountInString(tt.secret))
		}
	}
}

func TestMetaFieldsRoundTrip(t *testing.T) {
	full := Meta{Expires: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Kind: "fine-grained", Login: "octocat"}
	for _, m := range []Meta{full, {}, {Kind: "classic"}, {Expires: full.Expires.In(time.FixedZone("x", 3600))}} {
		f := m.Fields()
		got := MetaFromFields(f)
		if !got.Expires.Equal(m.Expires) || got.Kind != m.Kind || got.Login != m.Login {
			t.Errorf("MetaFromFields(%v) = %+v, want %+v", f, got, m)
		}
	}
	if f := (Meta{}).Fields(); len(f) != 0 {
		t.Errorf("empty Meta has fields %v", f)
	}
	if f := full.Fields(); f[FieldExpires] != "2026-12-01T00:00:00Z" {
		t.Errorf("expiry field = %q, want RFC 3339 UTC", f[FieldExpires])
	}
	if m := MetaFromFields(map[string]string{FieldExpires: "soon"}); !m.Expires.IsZero() {
		t.Errorf("unparsable expiry read as %v", m.Expires)
	}
}

func TestServiceAndAccount(t *testing.T) {
	if got := Service("github:x"); got != "jailrun:github:x" {
		t.Errorf("Service = %q", got)
	}
	t.Setenv("USER", "alice")
	if got := Account(); got != "alice" {
		t.Errorf("Account with USER=alice = %q", got)
	}
	t.Setenv("USER", "")
	if got := Account(); got == "" {
		t.Error("Account without USER is empty; want the login name of the current user")
	}
}
