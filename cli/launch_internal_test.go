package cli

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform"
)

// TestRoutedToken checks the one-lookup shortcut against routing's own
// answer, in a private keyring: the guess when it exists, the keyring's
// listing when it does not (names stored in another letter case, missing
// routes), and never a broader token instead of a missing routed one.
func TestRoutedToken(t *testing.T) {
	keyringtest.Start(t)
	kr, err := platform.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	secrets := map[string]string{}
	for _, name := range []string{"github:classic", "github:Fine-Grained-MixedCase", "github:fine-grained-myorg", "github:personal"} {
		secrets[name] = "ghp_" + rand.Text()
		if err := kr.Put(keyring.Token{Name: name, Secret: secrets[name]}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse(strings.NewReader(`GH_TOKEN_ROUTES="alice=personal gone=missing"`+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, owner, want, warning string
	}{
		{"github.com", "", "github:classic", ""},
		{"github.com", "myorg", "github:fine-grained-myorg", ""},
		{"github.com", "MYORG", "github:fine-grained-myorg", ""},
		{"github.com", "mixedcase", "github:Fine-Grained-MixedCase", ""},
		{"github.com", "alice", "github:personal", ""},
		{"github.com", "someone", "github:classic", ""},
		{"github.com", "gone", "", "route gone=missing names token github:missing"},
		{"github.com.evil.example", "myorg", "", ""},
	}
	for _, tt := range tests {
		tok, warning, err := routedToken(kr, cfg, tt.host, tt.owner)
		if err != nil {
			t.Errorf("%s/%s: %v", tt.host, tt.owner, err)
			continue
		}
		if tok.Name != tt.want || tok.Secret != secrets[tt.want] {
			t.Errorf("%s/%s: token %q (%s), want %q", tt.host, tt.owner, tok.Name, keyring.Preview(tok.Secret), tt.want)
		}
		if !strings.Contains(warning, tt.warning) || tt.warning == "" && warning != "" {
			t.Errorf("%s/%s: warning %q, want one containing %q", tt.host, tt.owner, warning, tt.warning)
		}
	}
}
