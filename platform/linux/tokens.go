package linux

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/jailrun/jailrun/keyring"
)

// Attributes of token items. service and account are what
// `secret-tool store … service S account A` writes (plus xdg:schema); the
// jailrun.* ones hold the metadata.
const (
	attrService   = "service"
	attrAccount   = "account"
	attrSchema    = "xdg:schema"
	genericSchema = "org.freedesktop.Secret.Generic"
	attrExpires   = "jailrun.expires"
	attrKind      = "jailrun.kind"
	attrLogin     = "jailrun.login"
)

// tokenQuery returns the attributes that identify the item of token name.
func tokenQuery(name string) map[string]string {
	return map[string]string{attrService: keyring.Service(name), attrAccount: keyring.Account()}
}

// notFound reports a token that no item holds.
func notFound(name string) error {
	return fmt.Errorf("token %s: %w; add it with: jailrun token add --name %s", name, keyring.ErrNotFound, name)
}

// Get returns the token called name; if other tools left several items
// for it, the most recently modified one.
func (k *Keyring) Get(name string) (keyring.Token, error) {
	return k.get(name, true)
}

// GetMeta returns the token Get would, without its secret: the service
// needs no encrypted transfer for it.
func (k *Keyring) GetMeta(name string) (keyring.Token, error) {
	return k.get(name, false)
}

func (k *Keyring) get(name string, withSecret bool) (keyring.Token, error) {
	op := "read token " + name
	paths, err := k.search(op, tokenQuery(name))
	if err != nil {
		return keyring.Token{}, err
	}
	items, err := k.readItems(op, paths, withSecret)
	if err == nil && len(items) > 1 {
		items, err = k.loadModified(op, items)
	}
	if err != nil {
		return keyring.Token{}, err
	}
	if len(items) == 0 {
		return keyring.Token{}, notFound(name)
	}
	return tokenOf(name, slices.MinFunc(items, newestFirst)), nil
}

// tokenOf builds the token held by it. A trailing newline, which
// `echo TOKEN | secret-tool store …` leaves, is not part of a token.
func tokenOf(name string, it item) keyring.Token {
	t := keyring.Token{
		Name:   name,
		Secret: strings.TrimRight(string(it.secret), "\r\n"),
		Meta:   keyring.Meta{Kind: it.attrs[attrKind], Login: it.attrs[attrLogin]},
	}
	if exp, err := time.Parse(time.RFC3339, it.attrs[attrExpires]); err == nil {
		t.Meta.Expires = exp.UTC()
	}
	return t
}

// Put stores t. An existing item (the newest, if other tools left
// several) is updated in place and the others are deleted; otherwise the
// item is created with CreateItem's replace, which updates an item a
// concurrent Put created meanwhile. Either way the name is never without a
// token, and exactly one item remains.
func (k *Keyring) Put(t keyring.Token) error {
	if err := keyring.ValidateName(t.Name); err != nil {
		return err
	}
	op := "store token " + t.Name
	if t.Secret == "" {
		return fmt.Errorf("%s: the token is empty", op)
	}
	attrs := tokenQuery(t.Name)
	attrs[attrSchema] = genericSchema
	if !t.Meta.Expires.IsZero() {
		attrs[attrExpires] = t.Meta.Expires.UTC().Format(time.RFC3339)
	}
	if t.Meta.Kind != "" {
		attrs[attrKind] = t.Meta.Kind
	}
	if t.Meta.Login != "" {
		attrs[attrLogin] = t.Meta.Login
	}
	existing, err := k.keepNewest(op, tokenQuery(t.Name))
	if err != nil {
		return err
	}
	if existing != "" {
		return k.updateItem(op, existing, keyring.Service(t.Name), attrs, []byte(t.Secret))
	}
	// The base attributes alone, so that replace matches an item created
	// meanwhile whatever its metadata; the metadata follows.
	path, err := k.createItem(op, keyring.Service(t.Name), tokenQuery(t.Name), []byte(t.Secret), true)
	if err != nil {
		return err
	}
	return k.setAttributes(op, path, attrs)
}

// keepNewest deletes all but the most recently modified item whose
// attributes include query, and returns its path ("" if there is none).
func (k *Keyring) keepNewest(op string, query map[string]string) (dbus.ObjectPath, error) {
	paths, err := k.search(op, query)
	switch {
	case err != nil || len(paths) == 0:
		return "", err
	case len(paths) == 1:
		return paths[0], nil
	}
	items, err := k.readItems(op, paths, false)
	if err == nil {
		items, err = k.loadModified(op, items)
	}
	if err != nil || len(items) == 0 {
		return "", err
	}
	slices.SortFunc(items, newestFirst)
	return items[0].path, k.deleteItems(op, pathsOf(items[1:]))
}

// pathsOf returns the paths of items.
func pathsOf(items []item) []dbus.ObjectPath {
	paths := make([]dbus.ObjectPath, len(items))
	for i, it := range items {
		paths[i] = it.path
	}
	return paths
}

// Delete removes every item of the token called name.
func (k *Keyring) Delete(name string) error {
	op := "delete token " + name
	paths, err := k.search(op, tokenQuery(name))
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return notFound(name)
	}
	return k.deleteItems(op, paths)
}

// List returns every jailrun token of the current user, sorted by name.
// Items of other applications cost no round trip of their own: their
// attributes are read in one pipelined batch and their secrets never.
func (k *Keyring) List() ([]keyring.Token, error) {
	const op = "list tokens"
	paths, err := k.search(op, map[string]string{attrAccount: keyring.Account()})
	if err != nil {
		return nil, err
	}
	items, err := k.readItems(op, paths, false)
	if err != nil {
		return nil, err
	}
	items = slices.DeleteFunc(items, func(it item) bool {
		name, ok := strings.CutPrefix(it.attrs[attrService], keyring.ServicePrefix)
		return !ok || name == ""
	})
	if items, err = k.loadSecrets(op, items); err != nil {
		return nil, err
	}
	// Only items of the same name need ordering.
	count := make(map[string]int)
	for _, it := range items {
		count[it.attrs[attrService]]++
	}
	var single, several []item
	for _, it := range items {
		if count[it.attrs[attrService]] > 1 {
			several = append(several, it)
		} else {
			single = append(single, it)
		}
	}
	if len(several) > 0 {
		if several, err = k.loadModified(op, several); err != nil {
			return nil, err
		}
	}
	items = append(single, several...)
	slices.SortFunc(items, newestFirst)
	seen := make(map[string]bool)
	var tokens []keyring.Token
	for _, it := range items {
		name := strings.TrimPrefix(it.attrs[attrService], keyring.ServicePrefix)
		if !seen[name] {
			seen[name] = true
			tokens = append(tokens, tokenOf(name, it))
		}
	}
	slices.SortFunc(tokens, func(a, b keyring.Token) int { return strings.Compare(a.Name, b.Name) })
	return tokens, nil
}
