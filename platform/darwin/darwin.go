//go:build darwin && cgo

// Package darwin keeps jailrun's tokens and git's credentials in the macOS
// login keychain through github.com/keybase/go-keychain.
//
// Tokens are generic passwords with service "jailrun:NAME", account $USER
// and label "jailrun:NAME", exactly as the bash jailrun stored them with
// `security add-generic-password`; their metadata lives in the item comment.
// Git's own credentials are internet passwords, as git-credential-osxkeychain
// keeps them.
package darwin

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jailrun/jailrun/keyring"
	"github.com/keybase/go-keychain"
)

// Timeout bounds every keychain call, including the access dialog macOS may
// show; a call still waiting then returns an error.
const Timeout = 2 * time.Minute

// ErrLocked reports a locked keychain that macOS may not unlock by asking.
var ErrLocked = errors.New("macOS keychain is locked; unlock it: security unlock-keychain ~/Library/Keychains/login.keychain-db")

// Keyring is the macOS keychain backend.
type Keyring struct {
	account string
}

// Open returns the backend for the current user's default keychain.
func Open() (*Keyring, error) {
	return &Keyring{account: keyring.Account()}, nil
}

// Close does nothing: the keychain needs no connection.
func (k *Keyring) Close() error { return nil }

// Get returns the token called name.
func (k *Keyring) Get(name string) (keyring.Token, error) {
	q := k.tokenQuery(name)
	q.SetMatchLimit(keychain.MatchLimitOne)
	q.SetReturnAttributes(true)
	q.SetReturnData(true)
	results, err := query(q)
	if err != nil {
		return keyring.Token{}, err
	}
	if len(results) == 0 {
		return keyring.Token{}, fmt.Errorf("token %s: %w", name, keyring.ErrNotFound)
	}
	return tokenFrom(name, results[0]), nil
}

// Put stores t, updating an existing item in place.
func (k *Keyring) Put(t keyring.Token) error {
	update := keychain.NewItem()
	update.SetData([]byte(t.Secret))
	update.SetLabel(keyring.Service(t.Name))
	update.SetComment(encodeFields(t.Meta.Fields()))
	err := call(func() error { return keychain.UpdateItem(k.tokenQuery(t.Name), update) })
	if !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	item := k.tokenQuery(t.Name)
	item.SetLabel(keyring.Service(t.Name))
	item.SetData([]byte(t.Secret))
	item.SetComment(encodeFields(t.Meta.Fields()))
	item.SetSynchronizable(keychain.SynchronizableNo)
	item.SetAccessible(keychain.AccessibleWhenUnlocked)
	err = call(func() error { return keychain.AddItem(item) })
	if errors.Is(err, keychain.ErrorDuplicateItem) { // another process added it meanwhile
		err = call(func() error { return keychain.UpdateItem(k.tokenQuery(t.Name), update) })
	}
	return err
}

// Delete removes the token called name.
func (k *Keyring) Delete(name string) error {
	err := call(func() error { return keychain.DeleteItem(k.tokenQuery(name)) })
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("token %s: %w", name, keyring.ErrNotFound)
	}
	return err
}

// List returns every jailrun token of the current user, sorted by name.
// macOS refuses to return data for many items at once, so the secrets are
// read one item at a time after a search of the attributes.
func (k *Keyring) List() ([]keyring.Token, error) {
	q := keychain.NewItem()
	q.SetSecClass(keychain.SecClassGenericPassword)
	q.SetAccount(k.account)
	q.SetMatchLimit(keychain.MatchLimitAll)
	q.SetReturnAttributes(true)
	results, err := query(q)
	if err != nil {
		return nil, err
	}
	var tokens []keyring.Token
	for _, r := range results {
		name, ok := strings.CutPrefix(r.Service, keyring.ServicePrefix)
		if !ok {
			continue
		}
		t, err := k.Get(name)
		if errors.Is(err, keyring.ErrNotFound) { // deleted meanwhile
			continue
		}
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, t)
	}
	sort.Slice(tokens, func(i, j int) bool { return tokens[i].Name < tokens[j].Name })
	return tokens, nil
}

// FindCredentials returns git's stored credentials that match q, newest first.
func (k *Keyring) FindCredentials(q keyring.Credential) ([]keyring.Credential, error) {
	search := credentialQuery(q)
	search.SetMatchLimit(keychain.MatchLimitAll)
	search.SetReturnAttributes(true)
	results, err := query(search)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(results, func(i, j int) bool {
		return results[i].ModificationDate.After(results[j].ModificationDate)
	})
	var found []keyring.Credential
	for _, r := range results {
		if hostPort(r.Server, r.Port) != strings.ToLower(q.Host) {
			continue // a port given on one side only is a different credential
		}
		one := credentialQuery(keyring.Credential{Protocol: q.Protocol, Host: q.Host, Path: r.Path, Username: r.Account})
		one.SetMatchLimit(keychain.MatchLimitOne)
		one.SetReturnAttributes(true)
		one.SetReturnData(true)
		data, err := query(one)
		if err != nil {
			return nil, err
		}
		if len(data) == 1 {
			found = append(found, credentialFrom(q, data[0]))
		}
	}
	return found, nil
}

// StoreCredential keeps c, replacing the one with the same key.
func (k *Keyring) StoreCredential(c keyring.Credential) error {
	fields := map[string]string{}
	if !c.PasswordExpiry.IsZero() {
		fields["password_expiry_utc"] = strconv.FormatInt(c.PasswordExpiry.Unix(), 10)
	}
	if c.OAuthRefreshToken != "" {
		fields["oauth_refresh_token"] = c.OAuthRefreshToken
	}
	update := keychain.NewItem()
	update.SetData([]byte(c.Password))
	update.SetComment(encodeFields(fields))
	key := credentialQuery(c)
	key.SetPath(c.Path) // an empty path is part of the key too
	err := call(func() error { return keychain.UpdateItem(key, update) })
	if !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	item := credentialQuery(c)
	item.SetPath(c.Path)
	item.SetLabel(c.Host)
	item.SetData([]byte(c.Password))
	item.SetComment(encodeFields(fields))
	item.SetSynchronizable(keychain.SynchronizableNo)
	return call(func() error { return keychain.AddItem(item) })
}

// EraseCredentials removes what FindCredentials(q) returns, keeping those
// whose password differs from q.Password when it is set.
func (k *Keyring) EraseCredentials(q keyring.Credential) error {
	found, err := k.FindCredentials(q)
	if err != nil {
		return err
	}
	for _, c := range found {
		if q.Password != "" && c.Password != q.Password {
			continue
		}
		item := credentialQuery(c)
		item.SetPath(c.Path)
		if err := call(func() error { return keychain.DeleteItem(item) }); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return err
		}
	}
	return nil
}

func (k *Keyring) tokenQuery(name string) keychain.Item {
	q := keychain.NewItem()
	q.SetSecClass(keychain.SecClassGenericPassword)
	q.SetService(keyring.Service(name))
	q.SetAccount(k.account)
	return q
}

func tokenFrom(name string, r keychain.QueryResult) keyring.Token {
	return keyring.Token{Name: name, Secret: string(r.Data), Meta: keyring.MetaFromFields(decodeFields(r.Comment))}
}

// credentialQuery selects internet passwords by what c sets; Path is left to
// the caller because an empty path is a wildcard in a search but a key in a store.
func credentialQuery(c keyring.Credential) keychain.Item {
	q := keychain.NewItem()
	q.SetSecClass(keychain.SecClassInternetPassword)
	q.SetProtocol(protocolCode(c.Protocol))
	host, port := splitHostPort(c.Host)
	q.SetServer(host)
	if port != 0 {
		q.SetPort(port)
	}
	if c.Path != "" {
		q.SetPath(c.Path)
	}
	if c.Username != "" {
		q.SetAccount(c.Username)
	}
	return q
}

func credentialFrom(q keyring.Credential, r keychain.QueryResult) keyring.Credential {
	fields := decodeFields(r.Comment)
	c := keyring.Credential{
		Protocol:          q.Protocol,
		Host:              q.Host,
		Path:              r.Path,
		Username:          r.Account,
		Password:          string(r.Data),
		OAuthRefreshToken: fields["oauth_refresh_token"],
	}
	if s, err := strconv.ParseInt(fields["password_expiry_utc"], 10, 64); err == nil {
		c.PasswordExpiry = time.Unix(s, 0).UTC()
	}
	return c
}

// protocolCode maps git's protocol names to the keychain's four-letter codes,
// as git-credential-osxkeychain does.
func protocolCode(p string) string {
	switch p {
	case "https":
		return "htps"
	case "http":
		return "http"
	case "smtp":
		return "smtp"
	case "imap":
		return "imap"
	case "ftp":
		return "ftp "
	}
	return p
}

func splitHostPort(h string) (string, int32) {
	host, port, ok := strings.Cut(strings.ToLower(h), ":")
	if !ok {
		return host, 0
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		return h, 0
	}
	return host, int32(n)
}

func hostPort(host string, port int32) string {
	if port == 0 {
		return strings.ToLower(host)
	}
	return strings.ToLower(host) + ":" + strconv.Itoa(int(port))
}

func encodeFields(f map[string]string) string {
	v := url.Values{}
	for k, s := range f {
		v.Set(k, s)
	}
	return v.Encode()
}

func decodeFields(s string) map[string]string {
	v, _ := url.ParseQuery(s)
	f := map[string]string{}
	for k := range v {
		f[k] = v.Get(k)
	}
	return f
}

func query(q keychain.Item) ([]keychain.QueryResult, error) {
	var results []keychain.QueryResult
	err := call(func() (err error) {
		results, err = keychain.QueryItem(q)
		return err
	})
	return results, err
}

// call runs one keychain operation under Timeout and turns the keychain's
// status codes into jailrun's errors.
func call(op func() error) error {
	done := make(chan error, 1)
	go func() { done <- op() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(Timeout):
		return fmt.Errorf("macOS keychain did not answer within %v; is an access dialog waiting?", Timeout)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keychain.ErrorItemNotFound):
		return keyring.ErrNotFound
	case errors.Is(err, keychain.ErrorInteractionNotAllowed):
		return ErrLocked
	case errors.Is(err, keychain.ErrorUserCanceled), errors.Is(err, keychain.ErrorAuthFailed):
		return fmt.Errorf("macOS keychain access was refused (%v); allow jailrun when macOS asks", err)
	}
	return fmt.Errorf("macOS keychain: %w", err)
}
