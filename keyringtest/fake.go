package keyringtest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jailrun/jailrun/keyring"
)

// Fake is a keyring.Keyring in memory, for tests of what uses a keyring.
// It behaves as TestKeyring requires of every backend and counts the calls
// that read or change it. Its fields may be set directly; it is not safe
// for concurrent use.
type Fake struct {
	Tokens      []keyring.Token
	Credentials []keyring.Credential // the most recently stored first

	Gets, Lists, Puts, Deletes, Stores, Erases int
	Closed                                     bool
}

var _ keyring.Keyring = (*Fake)(nil)

// Get returns the token called name, or an error wrapping keyring.ErrNotFound.
func (f *Fake) Get(name string) (keyring.Token, error) {
	f.Gets++
	if i := f.index(name); i >= 0 {
		return f.Tokens[i], nil
	}
	return keyring.Token{}, fmt.Errorf("token %s: %w", name, keyring.ErrNotFound)
}

// Put stores t, replacing a token of the same name.
func (f *Fake) Put(t keyring.Token) error {
	f.Puts++
	if err := keyring.ValidateName(t.Name); err != nil {
		return err
	}
	if i := f.index(t.Name); i >= 0 {
		f.Tokens[i] = t
		return nil
	}
	f.Tokens = append(f.Tokens, t)
	return nil
}

// Delete removes the token called name, or returns an error wrapping
// keyring.ErrNotFound.
func (f *Fake) Delete(name string) error {
	f.Deletes++
	i := f.index(name)
	if i < 0 {
		return fmt.Errorf("token %s: %w", name, keyring.ErrNotFound)
	}
	f.Tokens = slices.Delete(f.Tokens, i, i+1)
	return nil
}

// List returns every token, sorted by name.
func (f *Fake) List() ([]keyring.Token, error) {
	f.Lists++
	return slices.SortedFunc(slices.Values(f.Tokens), func(a, b keyring.Token) int { return strings.Compare(a.Name, b.Name) }), nil
}

// Close records that the keyring was closed.
func (f *Fake) Close() error { f.Closed = true; return nil }

// FindCredentials returns the stored credentials that match q, the most
// recently stored first.
func (f *Fake) FindCredentials(q keyring.Credential) ([]keyring.Credential, error) {
	var out []keyring.Credential
	for _, c := range f.Credentials {
		if matches(c, q) {
			out = append(out, c)
		}
	}
	return out, nil
}

// StoreCredential keeps c first, replacing a credential with the same
// protocol, host, path and username.
func (f *Fake) StoreCredential(c keyring.Credential) error {
	f.Stores++
	f.Credentials = slices.DeleteFunc(f.Credentials, func(o keyring.Credential) bool {
		return o.Protocol == c.Protocol && o.Host == c.Host && o.Path == c.Path && o.Username == c.Username
	})
	f.Credentials = append([]keyring.Credential{c}, f.Credentials...)
	return nil
}

// EraseCredentials removes the credentials FindCredentials(q) returns,
// except those whose password differs from a q.Password that is set.
func (f *Fake) EraseCredentials(q keyring.Credential) error {
	f.Erases++
	f.Credentials = slices.DeleteFunc(f.Credentials, func(c keyring.Credential) bool {
		return matches(c, q) && (q.Password == "" || c.Password == q.Password)
	})
	return nil
}

func (f *Fake) index(name string) int {
	return slices.IndexFunc(f.Tokens, func(t keyring.Token) bool { return t.Name == name })
}

// matches reports whether c has q's protocol and host and, when set in q,
// its path and username.
func matches(c, q keyring.Credential) bool {
	return c.Protocol == q.Protocol && c.Host == q.Host &&
		(q.Path == "" || c.Path == q.Path) && (q.Username == "" || c.Username == q.Username)
}
