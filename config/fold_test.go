package config

import (
	"strings"
	"testing"
)

// TestEqualFoldASCII checks that only ASCII letters fold: the Unicode
// letters that strings.EqualFold takes for s and k match nothing.
func TestEqualFoldASCII(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"GHES.example", "ghes.example", true},
		{"MyOrg", "myorg", true},
		{"", "", true},
		{"ghes.example", "ghes.exampl", false},
		{"gheſ.example", "ghes.example", false},      // U+017F long s
		{"\u212Airo.example", "kiro.example", false}, // U+212A Kelvin sign
		{"gheſ.example", "gheſ.example", false},      // non-ASCII matches nothing, not even itself
		{"a@b", "a`b", false},
	}
	for _, tt := range tests {
		if got := EqualFoldASCII(tt.a, tt.b); got != tt.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if got := LowerASCII("GitHub.COM/\u212A"); got != "github.com/\u212A" {
		t.Errorf("LowerASCII = %q, want only ASCII lowered", got)
	}
}

// TestNonASCIIHostIsNoGitHubHost checks GH_HOSTS against hosts that
// Unicode folding would take for a configured one.
func TestNonASCIIHostIsNoGitHubHost(t *testing.T) {
	cfg, err := Parse(strings.NewReader(`GH_HOSTS="github.com ghes.example kiro.example"`+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"gheſ.example", "\u212Airo.example", "GIT\u0130HUB.COM"} {
		if cfg.IsGitHubHost(h) {
			t.Errorf("IsGitHubHost(%q) = true, want false", h)
		}
	}
	if !cfg.IsGitHubHost("GHES.Example") {
		t.Error("IsGitHubHost(GHES.Example) = false, want true")
	}
	if _, err := Parse(strings.NewReader("GH_HOSTS=\"\u212Airo.example\"\n"), nil); err == nil {
		t.Error(`GH_HOSTS="\u212Airo.example" was accepted, want an invalid host`)
	}
}
