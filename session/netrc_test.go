package session

import (
	"slices"
	"testing"
)

func TestNetrcHosts(t *testing.T) {
	hosts := []string{"github.com", "ghe.corp.example:8443"}
	tests := []struct {
		name, netrc string
		want        []string
	}{
		{"github.com entry", "machine github.com login me password ghp_secret\n", []string{"github.com"}},
		{"one line per token, other letter case", "machine\nGitHub.COM\nlogin me\npassword x\n", []string{"GitHub.COM"}},
		{"GHE host without its port", "machine ghe.corp.example login a password b", []string{"ghe.corp.example"}},
		{"default entry", "machine example.org login a password b\ndefault login me password x\n", []string{"default"}},
		{"other hosts only", "machine example.org login a password b\nmachine github.com.evil.example password c\n", nil},
		{"a password that reads machine", "machine example.org login a password machine\n", nil},
		{"quoted password with blanks", `machine example.org password "a b \" machine github.com" login x` + "\n", nil},
		{"comment", "# machine github.com password x\nmachine example.org\n", nil},
		{"macro", "macdef init\nmachine github.com\nmore\n\nmachine ghe.corp.example password y\n", []string{"ghe.corp.example"}},
		{"Unicode look-alike", "machine gıthub.com password x\n", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		if got := NetrcHosts([]byte(tt.netrc), hosts); !slices.Equal(got, tt.want) {
			t.Errorf("%s: NetrcHosts = %q, want %q", tt.name, got, tt.want)
		}
	}
}
