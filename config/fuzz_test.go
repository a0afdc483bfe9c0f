package config

import (
	"strings"
	"testing"

	"github.com/jailrun/jailrun/keyring"
)

// FuzzParse checks that Parse never panics and that whatever it accepts is
// a config the rest of jailrun can trust.
func FuzzParse(f *testing.F) {
	f.Add("GH_TOKEN_NAME=\"fine-grained-myorg\"  # or classic\n", "")
	f.Add("export GH_HOSTS='github.com ghe.example:8443'\nGH_TOKEN_ROUTES=\"alice=a ghe.example:8443/t=b ghe.example:8443=c\"\n", "x")
	f.Add("GH_KEYCHAIN_SERVICE=github:old\r\nGH_TOKEN_EXPIRY_WARN_DAYS=3\r\n", "")
	f.Add("$(rm -rf ~)\n`id`\nK=\"\\$x\\\"\" # c\n", "github:e")
	f.Fuzz(func(t *testing.T, input, envName string) {
		c, err := Parse(strings.NewReader(input), env("GH_TOKEN_NAME", envName))
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		if err := keyring.ValidateName(c.ActiveToken()); err != nil || strings.Contains(c.TokenName, ":") {
			t.Errorf("accepted active token %q: %v", c.ActiveToken(), err)
		}
		if len(c.Hosts) == 0 || c.ExpiryWarnDays < 0 {
			t.Errorf("accepted hosts %q, expiry days %d", c.Hosts, c.ExpiryWarnDays)
		}
		for _, h := range c.Hosts {
			if h != strings.ToLower(h) || validateHost(h) != nil {
				t.Errorf("accepted host %q", h)
			}
		}
		for _, r := range c.Routes {
			if !c.IsGitHubHost(r.Host) || r.Owner != strings.ToLower(r.Owner) || (r.Owner != "" && !ValidOwner(r.Owner)) ||
				!strings.HasPrefix(r.Token, Namespace) || keyring.ValidateName(r.Token) != nil {
				t.Errorf("accepted route %+v", r)
			}
		}
		for _, w := range c.Warnings {
			if strings.ContainsAny(w, "\n\r") {
				t.Errorf("warning spans lines: %q", w)
			}
		}
	})
}
