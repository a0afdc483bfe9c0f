//go:build darwin && cgo

// Package darwin keeps jailrun's tokens and git's credentials in the macOS
// login keychain through github.com/keybase/go-keychain.
//
// Tokens are generic passwords with service "jailrun:NAME", account $USER
// and label "jailrun:NAME", exactly as the bash jailrun stored them with
// `security add-generic-password`; their metadata lives in the item comment.
// Git's own credentials are internet passwords, as git-credential-osxkeychain
// keeps them.
//
// go-keychain leaves an attribute set to "" or 0 out of a query, where it
// matches any value, and the file keychain updates or deletes only the first
// item a query matches. So credentials are compared exactly on the results
// (see found and sameKey), and an item is changed only by a query that
// selects it alone (see selectsOnly).
package darwin

import (
	"errors"
	"fmt"
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

// Keyring is the macOS keychain backend.
type Keyring struct {
	account string
}

// Open returns the backend for the current user's default keychain.
func Open() (*Keyring, error) {
	account := keyring.Account()
	if account == "" {
		return nil, errors.New("cannot tell whose tokens to use: the user name is unknown; set USER and retry")
	}
	return &Keyring{account: account}, nil
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
	if len(results) == 0 || results[0].Service != keyring.Service(name) || results[0].Account != k.account {
		return keyring.Token{}, fmt.Errorf("token %s: %w", name, keyring.ErrNotFound)
	}
	return tokenFrom(name, results[0]), nil
}

// Put stores t, updating an existing item in place. Service and account,
// both set, are the whole key of a generic password: the query selects
// one item at most.
func (k *Keyring) Put(t keyring.Token) error {
	if err := keyring.ValidateName(t.Name); err != nil {
		return err
	}
	update := keychain.NewItem()
	update.SetData([]byte(t.Secret))
	update.SetLabel(keyring.Service(t.Name))
	update.SetComment(encodeFields(t.Meta.Fields()))
	err := write(func() error { return keychain.UpdateItem(k.tokenQuery(t.Name), update) })
	if !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	add := k.tokenQuery(t.Name)
	add.SetLabel(keyring.Service(t.Name))
	add.SetData([]byte(t.Secret))
	add.SetComment(encodeFields(t.Meta.Fields()))
	add.SetSynchronizable(keychain.SynchronizableNo)
	add.SetAccessible(keychain.AccessibleWhenUnlocked)
	err = write(func() error { return keychain.AddItem(add) })
	if errors.Is(err, ErrDuplicate) { // another process added it meanwhile
		err = write(func() error { return keychain.UpdateItem(k.tokenQuery(t.Name), update) })
	}
	return err
}

// Delete removes the token called name.
func (k *Keyring) Delete(name string) error {
	err := write(func() error { return keychain.DeleteItem(k.tokenQuery(name)) })
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
		if !ok || r.Account != k.account {
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
	matches, all, err := matching(q)
	if err != nil {
		return nil, err
	}
	var creds []keyring.Credential
	for _, m := range matches {
		c, ok, err := readCredential(q, m, all)
		if err != nil {
			return nil, err
		}
		if ok {
			creds = append(creds, c)
		}
	}
	return creds, nil
}

// StoreCredential keeps c, replacing the item with the same key. An item
// another process adds meanwhile is updated, as Put does.
func (k *Keyring) StoreCredential(c keyring.Credential) error {
	err := storeCredential(c)
	if errors.Is(err, ErrDuplicate) {
		err = storeCredential(c)
	}
	return err
}

func storeCredential(c keyring.Credential) error {
	fields := map[string]string{}
	if !c.PasswordExpiry.IsZero() {
		fields["password_expiry_utc"] = strconv.FormatInt(c.PasswordExpiry.Unix(), 10)
	}
	if c.OAuthRefreshToken != "" {
		fields["oauth_refresh_token"] = c.OAuthRefreshToken
	}
	results, err := query(searchQuery(c))
	if err != nil {
		return err
	}
	all := items(results)
	key := credentialKey(c)
	update := keychain.NewItem()
	update.SetData([]byte(c.Password))
	update.SetComment(encodeFields(fields))
	updated := false
	for _, i := range all {
		if !i.sameKey(key) {
			continue
		}
		if !selectsOnly(i, all) {
			return ambiguous(c)
		}
		if err := write(func() error { return keychain.UpdateItem(itemQuery(i), update) }); err != nil {
			return err
		}
		updated = true
	}
	if updated {
		return nil
	}
	key.Label = credentialLabel(c)
	add := itemQuery(key)
	add.SetData([]byte(c.Password))
	add.SetComment(encodeFields(fields))
	add.SetSynchronizable(keychain.SynchronizableNo)
	return write(func() error { return keychain.AddItem(add) })
}

// EraseCredentials removes what FindCredentials(q) returns, keeping those
// whose password differs from q.Password when it is set. Without a
// password no secret is read.
func (k *Keyring) EraseCredentials(q keyring.Credential) error {
	matches, all, err := matching(q)
	if err != nil {
		return err
	}
	for _, m := range matches {
		i := itemOf(m)
		if q.Password != "" {
			c, ok, err := readCredential(q, m, all)
			if err != nil {
				return err
			}
			if !ok || c.Password != q.Password {
				continue
			}
		}
		if !selectsOnly(i, all) {
			return ambiguous(q)
		}
		err := write(func() error { return keychain.DeleteItem(itemQuery(i)) })
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return err
		}
	}
	return nil
}

// matching returns the attributes of the items FindCredentials(q) returns,
// newest first, and of every item the keychain's search for them matched.
func matching(q keyring.Credential) (matches []keychain.QueryResult, all []item, err error) {
	results, err := query(searchQuery(q))
	if err != nil {
		return nil, nil, err
	}
	sort.SliceStable(results, func(i, j int) bool {
		return results[i].ModificationDate.After(results[j].ModificationDate)
	})
	for _, r := range results {
		if found(q, itemOf(r)) {
			matches = append(matches, r)
		}
	}
	return matches, items(results), nil
}

// readCredential reads the secret of the item m, found for q, by a query
// that selects m alone among all; ok is false when m was deleted meanwhile.
func readCredential(q keyring.Credential, m keychain.QueryResult, all []item) (c keyring.Credential, ok bool, err error) {
	i := itemOf(m)
	if !selectsOnly(i, all) {
		return keyring.Credential{}, false, ambiguous(q)
	}
	one := itemQuery(i)
	one.SetMatchLimit(keychain.MatchLimitOne)
	one.SetReturnAttributes(true)
	one.SetReturnData(true)
	results, err := query(one)
	if err != nil || len(results) == 0 {
		return keyring.Credential{}, false, err
	}
	if !itemOf(results[0]).sameKey(i) {
		return keyring.Credential{}, false, ambiguous(q)
	}
	return credentialFrom(q, results[0]), true, nil
}

func ambiguous(c keyring.Credential) error {
	return fmt.Errorf("several macOS keychain items match %s://%s and jailrun cannot tell them apart; remove the duplicates in Keychain Access", c.Protocol, c.Host)
}

// searchQuery asks for the attributes of every internet password that
// may match q: path and account are left out when q has none.
func searchQuery(q keyring.Credential) keychain.Item {
	key := credentialKey(q)
	s := itemQuery(item{Protocol: key.Protocol, Server: key.Server, Port: key.Port, Path: q.Path, Account: q.Username})
	s.SetMatchLimit(keychain.MatchLimitAll)
	s.SetReturnAttributes(true)
	return s
}

// itemQuery selects internet passwords by the attributes i sets.
func itemQuery(i item) keychain.Item {
	q := keychain.NewItem()
	q.SetSecClass(keychain.SecClassInternetPassword)
	q.SetProtocol(i.Protocol)
	q.SetServer(i.Server)
	q.SetPort(i.Port)
	q.SetPath(i.Path)
	q.SetAccount(i.Account)
	q.SetLabel(i.Label)
	return q
}

func itemOf(r keychain.QueryResult) item {
	return item{Protocol: r.Protocol, Server: r.Server, Port: r.Port, Path: r.Path, Account: r.Account, Label: r.Label}
}

func items(results []keychain.QueryResult) []item {
	all := make([]item, len(results))
	for n, r := range results {
		all[n] = itemOf(r)
	}
	return all
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

func query(q keychain.Item) ([]keychain.QueryResult, error) {
	var results []keychain.QueryResult
	err := call(false, func() (err error) {
		results, err = keychain.QueryItem(q)
		return err
	})
	return results, err
}

// write runs one keychain change under Timeout.
func write(op func() error) error { return call(true, op) }

// call runs one keychain operation under Timeout and turns the keychain's
// status codes into jailrun's errors.
func call(write bool, op func() error) error {
	done := make(chan error, 1)
	go func() { done <- op() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(Timeout):
		return timeoutError(Timeout, write)
	}
	var status keychain.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &status):
		return statusError(int(status))
	}
	return fmt.Errorf("macOS keychain: %v; retry, and report it if it persists", err)
}
