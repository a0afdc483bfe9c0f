package darwin

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/jailrun/jailrun/keyring"
)

// item is what tells an internet password apart: the attributes of its
// key in the keychain, and its label.
type item struct {
	Protocol string // four-letter code: "htps", "http", …
	Server   string
	Port     int32 // 0: none
	Path     string
	Account  string
	Label    string
}

// credentialKey is the item key a git credential is kept under.
func credentialKey(c keyring.Credential) item {
	server, port := splitHostPort(c.Host)
	return item{Protocol: protocolCode(c.Protocol), Server: server, Port: port, Path: c.Path, Account: c.Username}
}

// credentialLabel names the item jailrun stores c in. It spells out the
// whole key, so no two items jailrun stores share one, and an item can be
// updated or deleted by label; Keychain Access shows it.
func credentialLabel(c keyring.Credential) string {
	l := c.Protocol + "://"
	if c.Username != "" {
		l += url.User(c.Username).String() + "@"
	}
	l += strings.ToLower(c.Host)
	if c.Path != "" {
		l += "/" + c.Path
	}
	return l
}

// sameKey reports whether i and o are kept under the same key.
func (i item) sameKey(o item) bool {
	return i.Protocol == o.Protocol && strings.EqualFold(i.Server, o.Server) && i.Port == o.Port &&
		i.Path == o.Path && i.Account == o.Account
}

// found reports whether FindCredentials(q) returns i: protocol, server and
// port equal, and path and account equal where q sets them.
func found(q keyring.Credential, i item) bool {
	k := credentialKey(q)
	return k.Protocol == i.Protocol && strings.EqualFold(k.Server, i.Server) && k.Port == i.Port &&
		(q.Path == "" || q.Path == i.Path) && (q.Username == "" || q.Username == i.Account)
}

// selects reports whether the keychain matches i with a query made of q's
// attributes. go-keychain leaves out an attribute set to "" or 0, so an
// empty attribute of q matches any value.
func (q item) selects(i item) bool {
	eq := func(a, b string) bool { return a == "" || a == b }
	return eq(q.Protocol, i.Protocol) && (q.Server == "" || strings.EqualFold(q.Server, i.Server)) &&
		(q.Port == 0 || q.Port == i.Port) && eq(q.Path, i.Path) && eq(q.Account, i.Account) && eq(q.Label, i.Label)
}

// selectsOnly reports whether a query made of target's attributes selects
// target alone among all, which must hold every item the query can match.
// Only then may the query update or delete target: the file keychain acts
// on the first item a query matches, and the others on every one.
func selectsOnly(target item, all []item) bool {
	n := 0
	for _, i := range all {
		if target.selects(i) {
			n++
		}
	}
	return n == 1
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

// splitHostPort splits git's host, "name" or "name:port", into the
// keychain's server and port; 0 is no port.
func splitHostPort(h string) (string, int32) {
	h = strings.ToLower(h)
	i := strings.LastIndexByte(h, ':')
	if i < 0 || strings.Contains(h[i:], "]") {
		return h, 0
	}
	n, err := strconv.ParseInt(h[i+1:], 10, 32)
	if err != nil || n <= 0 {
		return h, 0
	}
	return h[:i], int32(n)
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
