package routing_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/routing"
)

// TestToken checks the one-read shortcut against Resolve's own answer:
// the routed token alone is read when it exists; the keyring is listed
// when it is missing (names stored in another letter case, a route to a
// missing token, an owner without a token of their own), and a missing
// routed token is never replaced by a broader one.
func TestToken(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`GH_TOKEN_ROUTES="alice=personal gone=missing ghe.corp.example=ghe-classic"
GH_HOSTS="github.com ghe.corp.example"
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := []keyring.Token{
		{Name: "github:classic", Secret: "ghp_classicSECRET"},
		{Name: "github:Fine-Grained-MixedCase", Secret: "github_pat_mixedSECRET"},
		{Name: "github:fine-grained-myorg", Secret: "github_pat_myorgSECRET"},
		{Name: "github:personal", Secret: "github_pat_personalSECRET"},
		{Name: "github:ghe-classic", Secret: "ghp_gheSECRET"},
	}
	for _, tc := range []struct {
		protocol, host, owner string
		want, warning         string
		lists                 int
	}{
		{"https", "github.com", "", "github:classic", "", 0},
		{"https", "github.com", "myorg", "github:fine-grained-myorg", "", 0},
		{"https", "github.com", "alice", "github:personal", "", 0},
		{"https", "ghe.corp.example", "", "github:ghe-classic", "", 0},
		{"https", "ghe.corp.example", "team", "github:ghe-classic", "", 0},
		{"https", "github.com", "MYORG", "github:fine-grained-myorg", "", 1},
		{"https", "github.com", "mixedcase", "github:Fine-Grained-MixedCase", "", 1},
		{"https", "github.com", "someone", "github:classic", "", 1},
		{"https", "github.com", "gone", "", "route gone=missing names token github:missing", 1},
		{"https", "github.com.evil.example", "myorg", "", "", 0},
		{"http", "github.com", "myorg", "", "", 0},
	} {
		t.Run(tc.protocol+"://"+tc.host+"/"+tc.owner, func(t *testing.T) {
			kr := &keyringtest.Fake{Tokens: stored}
			tok, d, err := routing.Token(kr, cfg, tc.protocol, tc.host, tc.owner)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Name != tc.want || d.Token != tc.want {
				t.Errorf("token %q (decision %q), want %q", tok.Name, d.Token, tc.want)
			}
			if i := slices.IndexFunc(stored, func(s keyring.Token) bool { return s.Name == tc.want }); i >= 0 && tok.Secret != stored[i].Secret {
				t.Errorf("token %s has secret %s, want %s", tok.Name, keyring.Preview(tok.Secret), keyring.Preview(stored[i].Secret))
			}
			if !strings.Contains(d.Warning, tc.warning) || tc.warning == "" && d.Warning != "" {
				t.Errorf("warning %q, want one containing %q", d.Warning, tc.warning)
			}
			if kr.Lists != tc.lists {
				t.Errorf("List called %d times, want %d", kr.Lists, tc.lists)
			}
		})
	}
}
