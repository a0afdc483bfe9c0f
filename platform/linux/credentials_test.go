package linux

import (
	"testing"

	"github.com/jailrun/jailrun/keyring"
)

func TestSplitHost(t *testing.T) {
	for host, want := range map[string][2]string{
		"git.example":       {"git.example", ""},
		"git.example:8443":  {"git.example", "8443"},
		"git.example:08443": {"git.example", "8443"},
		"git.example:0":     {"git.example:0", ""},
		"git.example:99999": {"git.example:99999", ""},
		"git.example:x":     {"git.example:x", ""},
		"[::1]":             {"[::1]", ""},
		"[::1]:8443":        {"[::1]", "8443"},
	} {
		if server, port := splitHost(host); server != want[0] || port != want[1] {
			t.Errorf("splitHost(%q) = %q, %q; want %q, %q", host, server, port, want[0], want[1])
		}
	}
}

func TestCredentialLabel(t *testing.T) {
	for c, want := range map[keyring.Credential]string{
		{Protocol: "https", Host: "git.example"}:                        "Git: https://git.example/",
		{Protocol: "https", Host: "git.example:08443", Path: "o/r.git"}: "Git: https://git.example:8443/o/r.git",
	} {
		if got := credentialLabel(c); got != want {
			t.Errorf("credentialLabel(%s %s %s) = %q, want %q", c.Protocol, c.Host, c.Path, got, want)
		}
	}
}
