// Package keyring defines how jailrun keeps tokens in the OS keychain: the
// item naming shared with the bash jailrun, the token metadata stored with
// each item, and the small interface every platform backend implements.
package keyring

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ServicePrefix starts the service (and label) of every jailrun item:
// the token NAME github:classic lives under service "jailrun:github:classic".
const ServicePrefix = "jailrun:"

// MaxNameLen is the longest token name accepted, in bytes.
const MaxNameLen = 128

// ErrNotFound reports that no item holds the requested token or credential.
var ErrNotFound = errors.New("not found in the keyring")

// Meta is what jailrun learns about a token and stores with its item.
// Zero fields are unknown.
type Meta struct {
	Expires time.Time // when GitHub stops accepting the token
	Kind    string    // "fine-grained", "classic", "oauth", …
	Login   string    // the GitHub login the token acts as
}

// Token is a named secret together with its metadata.
type Token struct {
	Name   string // namespace:key, e.g. github:fine-grained-myorg
	Secret string
	Meta   Meta
}

// Store is the OS keychain as jailrun uses it. Every platform backend
// implements it; every method bounds its own waiting with a timeout.
type Store interface {
	// Get returns the token called name, or an error wrapping ErrNotFound.
	Get(name string) (Token, error)
	// Put stores t, replacing the secret and metadata of an existing item
	// in place, so that the name is never without a token.
	Put(t Token) error
	// Delete removes the token called name, or returns an error wrapping
	// ErrNotFound.
	Delete(name string) error
	// List returns every jailrun token of the current user, sorted by name,
	// including items other tools stored under the same service and account.
	List() ([]Token, error)
	// Close releases the connection to the keychain.
	Close() error
}

// MetaGetter is a Store that reads a token without its secret, which costs
// the keychain less: on Linux the Secret Service then needs no encrypted
// transfer.
type MetaGetter interface {
	// GetMeta returns what Get does, with an empty Secret.
	GetMeta(name string) (Token, error)
}

// Service returns the item service (and label) for a token name.
func Service(name string) string { return ServicePrefix + name }

// Account returns the item account: the login name of the current user,
// as the bash jailrun stored it ($USER).
func Account() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// ValidateName checks that name is a usable token name of the form
// namespace:key and says how to fix it when it is not.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("token name is empty; use namespace:key, e.g. github:fine-grained-myorg")
	case len(name) > MaxNameLen:
		return fmt.Errorf("token name is %d bytes long; keep it under %d", len(name), MaxNameLen+1)
	case !utf8.ValidString(name):
		return errors.New("token name is not valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("token name %q contains a space or control character; use namespace:key, e.g. github:fine-grained-myorg", name)
		}
	}
	ns, key, ok := strings.Cut(name, ":")
	if !ok || ns == "" || key == "" {
		return fmt.Errorf("token name %q is not of the form namespace:key, e.g. github:fine-grained-myorg", name)
	}
	return nil
}

// Preview shows the start of a secret for humans: at most 12 characters,
// and never more than a third of it, followed by "...".
func Preview(secret string) string {
	n := min(12, utf8.RuneCountInString(secret)/3)
	runes := []rune(secret)
	return string(runes[:n]) + "..."
}

// Credential is a password that git handed to the helper for a host that is
// not GitHub (plain mode), kept the way git-credential-libsecret keeps it.
type Credential struct {
	Protocol          string // "https", "http", …
	Host              string // host name, with ":port" when git sent one
	Path              string // repository path; empty unless git sent one
	Username          string
	Password          string
	PasswordExpiry    time.Time // password_expiry_utc; zero when not sent
	OAuthRefreshToken string
}

// CredentialStore keeps git's own credentials (plain mode of the helper).
// Every platform backend implements it next to Store.
type CredentialStore interface {
	// FindCredentials returns the stored credentials whose protocol and host
	// (with port) equal q's and, when set in q, whose path and username do
	// too; the most recently stored first.
	FindCredentials(q Credential) ([]Credential, error)
	// StoreCredential keeps c, replacing a stored credential with the same
	// protocol, host, path and username.
	StoreCredential(c Credential) error
	// EraseCredentials removes every credential FindCredentials(q) would
	// return, except one whose password differs from a q.Password that is set.
	EraseCredentials(q Credential) error
}

// Keyring is what a platform backend provides: named tokens and git's own
// credentials, in the same OS keychain.
type Keyring interface {
	Store
	CredentialStore
}

// Metadata field names, shared by every backend that stores them as
// key/value pairs (Secret Service attributes, a macOS item's comment).
const (
	FieldExpires = "jailrun.expires"
	FieldKind    = "jailrun.kind"
	FieldLogin   = "jailrun.login"
)

// Fields returns the known parts of m as key/value pairs (FieldExpires in
// RFC 3339, UTC); unknown parts are left out.
func (m Meta) Fields() map[string]string {
	f := map[string]string{}
	if !m.Expires.IsZero() {
		f[FieldExpires] = m.Expires.UTC().Format(time.RFC3339)
	}
	if m.Kind != "" {
		f[FieldKind] = m.Kind
	}
	if m.Login != "" {
		f[FieldLogin] = m.Login
	}
	return f
}

// MetaFromFields reads back what Fields wrote; other keys and an
// unparsable expiry are ignored.
func MetaFromFields(f map[string]string) Meta {
	m := Meta{Kind: f[FieldKind], Login: f[FieldLogin]}
	if t, err := time.Parse(time.RFC3339, f[FieldExpires]); err == nil {
		m.Expires = t
	}
	return m
}
