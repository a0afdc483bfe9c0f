package linux

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jailrun/jailrun/keyring"
)

// Attributes of credential items, as git-credential-libsecret writes them
// with the org.gnome.keyring.NetworkPassword schema.
const (
	networkSchema = "org.gnome.keyring.NetworkPassword"
	attrProtocol  = "protocol"
	attrServer    = "server"
	attrPort      = "port"
	attrObject    = "object"
	attrUser      = "user"
)

// Keys of the lines git-credential-libsecret appends to the password.
const (
	secretExpiryKey  = "password_expiry_utc="
	secretRefreshKey = "oauth_refresh_token="
)

// splitHost splits git's host ("example.com:8443") into the server and
// the decimal port ("" when none was given), as git-credential-libsecret
// does.
func splitHost(host string) (server, port string) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.Contains(host[i:], "]") {
		return host, ""
	}
	n, err := strconv.ParseUint(host[i+1:], 10, 16)
	if err != nil || n == 0 {
		return host, ""
	}
	return host[:i], strconv.FormatUint(n, 10)
}

// credentialAttrs returns the attributes identifying c: those of its
// fields that are set.
func credentialAttrs(c keyring.Credential) map[string]string {
	server, port := splitHost(c.Host)
	attrs := map[string]string{attrProtocol: c.Protocol, attrServer: server}
	for key, value := range map[string]string{attrPort: port, attrObject: c.Path, attrUser: c.Username} {
		if value != "" {
			attrs[key] = value
		}
	}
	return attrs
}

// credentialLabel is the label git-credential-libsecret gives an item.
func credentialLabel(c keyring.Credential) string {
	host, port := splitHost(c.Host)
	if port != "" {
		host += ":" + port
	}
	return fmt.Sprintf("Git: %s://%s/%s", c.Protocol, host, c.Path)
}

// checkQuery rejects credentials without the protocol and host that every
// match needs.
func checkQuery(op string, c keyring.Credential) error {
	if c.Protocol == "" || c.Host == "" {
		return fmt.Errorf("%s: a protocol and a host are required", op)
	}
	return nil
}

// findCredentialItems returns the items matching q, newest first: the
// search treats absent fields as wildcards, then protocol, server and port
// must be equal (an item with a port never matches a query without one).
func (k *Keyring) findCredentialItems(op string, q keyring.Credential, withSecrets bool) ([]item, error) {
	query := credentialAttrs(q)
	paths, err := k.search(op, query)
	if err != nil {
		return nil, err
	}
	items, err := k.readItems(op, paths, withSecrets)
	if err != nil {
		return nil, err
	}
	items = slices.DeleteFunc(items, func(it item) bool {
		return !sameAttrs(it.attrs, query, attrProtocol, attrServer, attrPort)
	})
	if len(items) > 1 {
		if items, err = k.loadModified(op, items); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(items, newestFirst)
	return items, nil
}

// sameAttrs reports whether a and b agree on keys, an absent key equal to
// an empty value.
func sameAttrs(a, b map[string]string, keys ...string) bool {
	for _, key := range keys {
		if a[key] != b[key] {
			return false
		}
	}
	return true
}

// FindCredentials returns the stored credentials matching q, newest first.
func (k *Keyring) FindCredentials(q keyring.Credential) ([]keyring.Credential, error) {
	const op = "read stored git credentials"
	if err := checkQuery(op, q); err != nil {
		return nil, err
	}
	items, err := k.findCredentialItems(op, q, true)
	if err != nil {
		return nil, err
	}
	creds := make([]keyring.Credential, len(items))
	for i, it := range items {
		creds[i] = credentialOf(it)
	}
	return creds, nil
}

// credentialOf builds the credential held by it.
func credentialOf(it item) keyring.Credential {
	c := keyring.Credential{
		Protocol: it.attrs[attrProtocol],
		Host:     it.attrs[attrServer],
		Path:     it.attrs[attrObject],
		Username: it.attrs[attrUser],
	}
	if port := it.attrs[attrPort]; port != "" {
		c.Host += ":" + port
	}
	lines := strings.Split(string(it.secret), "\n")
	c.Password = lines[0]
	for _, line := range lines[1:] {
		if v, ok := strings.CutPrefix(line, secretExpiryKey); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				c.PasswordExpiry = time.Unix(n, 0).UTC()
			}
		} else if v, ok := strings.CutPrefix(line, secretRefreshKey); ok {
			c.OAuthRefreshToken = v
		}
	}
	return c
}

// credentialSecret is the secret git-credential-libsecret stores: the
// password, then the expiry and refresh token lines when known.
func credentialSecret(c keyring.Credential) []byte {
	var b strings.Builder
	b.WriteString(c.Password)
	if !c.PasswordExpiry.IsZero() {
		fmt.Fprintf(&b, "\n%s%d", secretExpiryKey, c.PasswordExpiry.Unix())
	}
	if c.OAuthRefreshToken != "" {
		fmt.Fprintf(&b, "\n%s%s", secretRefreshKey, c.OAuthRefreshToken)
	}
	return []byte(b.String())
}

// StoreCredential keeps c, updating the secret of an item with the same
// protocol, host, port, path and username in place.
func (k *Keyring) StoreCredential(c keyring.Credential) error {
	const op = "store git credentials"
	if err := checkQuery(op, c); err != nil {
		return err
	}
	if strings.Contains(c.Password, "\n") { // empty is kept: single sign-on sends it
		return fmt.Errorf("%s: the password spans lines", op)
	}
	attrs := credentialAttrs(c)
	items, err := k.findCredentialItems(op, c, false)
	if err != nil {
		return err
	}
	items = slices.DeleteFunc(items, func(it item) bool {
		return !sameAttrs(it.attrs, attrs, attrObject, attrUser)
	})
	if len(items) == 0 {
		attrs[attrSchema] = networkSchema
		_, err := k.createItem(op, credentialLabel(c), attrs, credentialSecret(c), false)
		return err
	}
	if err := k.setSecret(op, items[0].path, credentialSecret(c)); err != nil {
		return err
	}
	if len(items) > 1 {
		return k.deleteItems(op, pathsOf(items[1:]))
	}
	return nil
}

// EraseCredentials removes every credential matching q, except those whose
// password differs from q.Password when it is set.
func (k *Keyring) EraseCredentials(q keyring.Credential) error {
	const op = "erase stored git credentials"
	if err := checkQuery(op, q); err != nil {
		return err
	}
	items, err := k.findCredentialItems(op, q, q.Password != "")
	if err != nil {
		return err
	}
	if q.Password != "" {
		items = slices.DeleteFunc(items, func(it item) bool { return credentialOf(it).Password != q.Password })
	}
	if len(items) == 0 {
		return nil
	}
	return k.deleteItems(op, pathsOf(items))
}
