// Package placeholder keeps a jailed session's tokens out of the jail. The
// broker hands the agent a placeholder for each routed token, random for
// the session and the token's name and host and worthless anywhere else;
// only jailrun's proxy, outside, asks the Vault which real token a
// placeholder stands for, and only on a host that token is made for.
package placeholder

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jailrun/jailrun/config"
)

// Prefix starts every placeholder, so that a person reading one in the
// jail knows what it is.
const Prefix = "jrp_"

// Vault maps the session's placeholders to the tokens they stand for. It
// is safe for concurrent use.
type Vault struct {
	mu      sync.Mutex
	byName  map[key]string    // token name and host → placeholder
	tokens  map[string]secret // placeholder → what it stands for
	reading sync.Mutex        // held while a secret is read (see Later)
	retry   time.Duration     // how long a failed read stands (ReadRetry)
}

// ReadRetry is how long a secret that could not be read (see Later) is
// not read again: each read of a locked keyring may show an unlock
// prompt, and a client that retries at once would show one after another.
const ReadRetry = time.Second

type key struct{ name, host string }

type secret struct {
	name, host, real string
	read             func() (string, error) // reads real, until it is known
	failed           time.Time              // when read last failed
	err              error                  // and why
}

// ErrNotServed says a placeholder is not this vault's, or not for the
// host it was sent to.
var ErrNotServed = errors.New("not a placeholder of this session for this host")

// New returns an empty vault.
func New() *Vault {
	return &Vault{byName: map[key]string{}, tokens: map[string]secret{}, retry: ReadRetry}
}

// For returns the placeholder for the token name, whose secret is real,
// routed for host (a GH_HOSTS entry): the same one for the whole session.
// A rotated secret behind the same name replaces the old one.
func (v *Vault) For(name, host, real string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, k := v.placeholder(name, host)
	v.tokens[p] = secret{name: name, host: k.host, real: real}
	return p
}

// placeholder returns the placeholder for the token name and host, made
// on first use, and their key; v.mu is held.
func (v *Vault) placeholder(name, host string) (string, key) {
	k := key{name, strings.ToLower(host)}
	p, ok := v.byName[k]
	if !ok {
		p = Prefix + rand.Text() + rand.Text()
		v.byName[k] = p
	}
	return p, k
}

// Later returns the placeholder For would, for a token whose secret is not
// read yet: read reads it when Real first needs it, so that a session
// that never sends the placeholder never reads the secret. A failed read
// is tried again at a Real ReadRetry later. For replaces read with the
// secret.
func (v *Vault) Later(name, host string, read func() (string, error)) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, k := v.placeholder(name, host)
	if s, known := v.tokens[p]; !known || s.real == "" {
		v.tokens[p] = secret{name: name, host: k.host, read: read}
	}
	return p
}

// Real returns the secret p stands for and its token's name when p is
// sent to dest (host or host:port, as GH_HOSTS writes it), a host the
// token is made for (see Serves). For anything else the error is
// ErrNotServed; a secret that Later left to read and that cannot be read
// is an error that names its token.
func (v *Vault) Real(p, dest string) (real, name string, err error) {
	s, found := v.lookup(p)
	switch {
	case !found || !Serves(s.host, dest):
		return "", "", ErrNotServed
	case s.real != "":
		return s.real, s.name, nil
	}
	v.reading.Lock()
	defer v.reading.Unlock()
	switch s, _ = v.lookup(p); {
	case s.real != "": // read meanwhile
		return s.real, s.name, nil
	case s.read == nil:
		return "", "", ErrNotServed
	case !s.failed.IsZero() && time.Since(s.failed) < v.retry:
		return "", s.name, s.err
	}
	real, err = s.read()
	if err == nil && real == "" {
		err = errors.New("it is empty")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	cur := v.tokens[p]
	if err != nil {
		if cur.real == "" {
			cur.failed, cur.err = time.Now(), fmt.Errorf("cannot read token %s: %w", s.name, err)
			v.tokens[p] = cur
		}
		return "", s.name, cur.err
	}
	if cur.real == "" {
		v.tokens[p] = secret{name: s.name, host: s.host, real: real}
	}
	return v.tokens[p].real, s.name, nil
}

func (v *Vault) lookup(p string) (secret, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.tokens[p]
	return s, ok
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
