package egress

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/proxy"
)

func TestDefaultHosts(t *testing.T) {
	got := DefaultHosts([]string{"GitHub.com", "ghe.corp.example:8443", "acme.ghe.com"}, "codex")
	for _, want := range []string{
		"github.com", "api.github.com", "uploads.github.com", "codeload.github.com",
		"raw.githubusercontent.com", "objects.githubusercontent.com",
		"ghe.corp.example:8443", // a GHE server is itself: its API is HOST/api/v3
		"acme.ghe.com", "api.acme.ghe.com", "uploads.acme.ghe.com",
		"api.openai.com", "auth.openai.com", "chatgpt.com",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("DefaultHosts lacks %s: %v", want, got)
		}
	}
	for _, unwanted := range []string{"api.anthropic.com", "registry.npmjs.org", "api.ghe.corp.example"} {
		if slices.Contains(got, unwanted) {
			t.Errorf("DefaultHosts has %s: %v", unwanted, got)
		}
	}
	if got := DefaultHosts([]string{"github.com"}, "run"); len(got) != 8 { // github.com, its api., uploads. and five content hosts
		t.Errorf("an agent not in the table adds hosts: %v", got)
	}
	for agent, hosts := range agentHosts {
		if _, err := proxy.NewAllowlist(hosts...); err != nil || len(hosts) == 0 {
			t.Errorf("agent %s: hosts %v: %v", agent, hosts, err)
		}
	}
}

func TestPolicy(t *testing.T) {
	public := []netip.Addr{netip.MustParseAddr("203.0.113.7")}
	loopback := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	private := []netip.Addr{netip.MustParseAddr("192.168.1.20")}
	gh := []string{"github.com", "ghe.corp.example"}
	allow := []string{"registry.npmjs.org", "*.pages.example", "localhost:3000"}
	for _, tc := range []struct {
		mode, agent, dest string
		addrs             []netip.Addr
		refused           string // part of the refusal, "" when allowed
	}{
		{config.EgressOpen, "claude", "example.org:443", public, ""},
		{config.EgressOpen, "claude", "example.org:443", loopback, "the host's loopback"},
		{config.EgressOpen, "claude", "example.org:443", private, "private network"},
		{config.EgressOpen, "claude", "ghe.corp.example:443", private, ""}, // GH_HOSTS lists it
		{config.EgressOpen, "claude", "localhost:3000", loopback, ""},
		{config.EgressOpen, "claude", "localhost:3001", loopback, "the host's loopback"},
		{config.EgressOpen, "claude", "docs.pages.example:443", loopback, "the host's loopback"}, // a pattern lifts no address refusal
		{config.EgressList, "claude", "api.anthropic.com:443", public, ""},
		{config.EgressList, "claude", "api.github.com:443", public, ""},
		{config.EgressList, "claude", "ghe.corp.example:443", private, ""},
		{config.EgressList, "claude", "registry.npmjs.org:443", public, ""},
		{config.EgressList, "claude", "docs.pages.example:443", public, ""},
		{config.EgressList, "claude", "pages.example:443", public, "not in the egress list"},
		{config.EgressList, "claude", "docs.pages.example:443", private, "private network"},
		{config.EgressList, "claude", "api.openai.com:443", public, "not in the egress list"}, // codex's, not claude's
		{config.EgressList, "codex", "api.openai.com:443", public, ""},
		{config.EgressList, "gemini", "generativelanguage.googleapis.com:443", public, ""},
		{config.EgressList, "kiro-cli", "q.us-east-1.amazonaws.com:443", public, ""},
		{config.EgressList, "run", "api.anthropic.com:443", public, "not in the egress list"},
		{config.EgressList, "claude", "paste.example:443", public, "JAILRUN_EGRESS=open"},
		{config.EgressList, "claude", "api.github.com:80", public, "not in the egress list"},
	} {
		policy, err := Policy(tc.mode, gh, allow, tc.agent)
		if err != nil {
			t.Fatal(err)
		}
		d, err := proxy.ParseDestination(tc.dest, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = policy.Admit(d)
		if err == nil {
			err = policy.Check(d, tc.addrs)
		}
		var r *proxy.Refusal
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s %s %s: %v, want allowed", tc.mode, tc.agent, d, err)
		case tc.refused != "" && (!errors.As(err, &r) || !strings.Contains(r.Error(), tc.refused)):
			t.Errorf("%s %s %s: %v, want a refusal saying %q", tc.mode, tc.agent, d, err, tc.refused)
		}
	}
}

func TestPolicyErrors(t *testing.T) {
	if _, err := Policy("closed", nil, nil, "claude"); err == nil || !strings.Contains(err.Error(), "JAILRUN_EGRESS") {
		t.Errorf("unknown mode: %v, want an error naming JAILRUN_EGRESS", err)
	}
	if _, err := Policy(config.EgressList, nil, []string{"*.com"}, "claude"); err == nil {
		t.Error("a bad allowed host gave no error")
	}
}
