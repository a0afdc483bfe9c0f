// Package placeholder keeps a jailed session's tokens out of the jail. The
// broker hands the agent a placeholder for each routed token, random for
// the session and the token's name and host and worthless anywhere else;
// only jailrun's proxy, outside, asks the Vault which real token a
// placeholder stands for, and only on a host that token is made for.
package placeholder

import (
	"crypto/rand"
	"strings"
	"sync"

	"github.com/jailrun/jailrun/config"
)

// Prefix starts every placeholder, so that a person reading one in the
// jail knows what it is.
const Prefix = "jrp_"

// Vault maps the session's placeholders to the tokens they stand for. It
// is safe for concurrent use.
type Vault struct {
	mu     sync.Mutex
	byName map[key]string    // token name and host → placeholder
	tokens map[string]secret // placeholder → what it stands for
}

type key struct{ name, host string }

type secret struct {
	name, host, real string
}

// New returns an empty vault.
func New() *Vault {
	return &Vault{byName: map[key]string{}, tokens: map[string]secret{}}
}

// For returns the placeholder for the token name, whose secret is real,
// routed for host (a GH_HOSTS entry): the same one for the whole session.
// A rotated secret behind the same name replaces the old one.
func (v *Vault) For(name, host, real string) string {
	k := key{name, strings.ToLower(host)}
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.byName[k]
	if !ok {
		p = Prefix + rand.Text() + rand.Text()
		v.byName[k] = p
	}
	v.tokens[p] = secret{name: name, host: k.host, real: real}
	return p
}

// Real returns the secret p stands for and its token's name when p is
// sent to dest (host or host:port, as GH_HOSTS writes it), a host the
// token is made for (see Serves); ok is false for anything else.
func (v *Vault) Real(p, dest string) (real, name string, ok bool) {
	v.mu.Lock()
	s, found := v.tokens[p]
	v.mu.Unlock()
	if !found || !Serves(s.host, dest) {
		return "", "", false
	}
	return s.real, s.name, true
}

// Is reports whether s looks like a placeholder, of this session or not.
func Is(s string) bool { return strings.HasPrefix(s, Prefix) }

// Serves reports whether a token routed for the GitHub host ghHost may be
// sent to dest: ghHost itself, or one of its API and upload hosts.
func Serves(ghHost, dest string) bool {
	for _, h := range TokenHosts(ghHost) {
		if config.EqualFoldASCII(h, dest) {
			return true
		}
	}
	return false
}

// TokenHosts returns the hosts a token for the GitHub host h is sent to:
// github.com with api.github.com and uploads.github.com; a GHE.com tenant
// (SUBDOMAIN.ghe.com) with its api. and uploads. names; any other host
// (GitHub Enterprise Server, whose API is HOST/api/v3) alone.
func TokenHosts(h string) []string {
	h = strings.ToLower(h)
	switch {
	case h == config.DefaultHost:
		return []string{h, "api.github.com", "uploads.github.com"}
	case strings.HasSuffix(h, ".ghe.com") && !strings.Contains(h, ":"):
		return []string{h, "api." + h, "uploads." + h}
	}
	return []string{h}
}

// ContentHosts returns the hosts that serve the GitHub host h's archives,
// raw files and release and LFS objects: for github.com codeload, raw and
// the githubusercontent.com object hosts
// (https://docs.github.com/en/rest/meta/meta, "domains"); none for
// others, which serve them from their own names. They accept h's tokens,
// but jailrun sends them none: the proxy terminates them only to keep
// every other credential out.
func ContentHosts(h string) []string {
	if strings.EqualFold(h, config.DefaultHost) {
		return []string{"codeload.github.com", "raw.githubusercontent.com", "objects.githubusercontent.com",
			"release-assets.githubusercontent.com", "github-releases.githubusercontent.com"}
	}
	return nil
}
