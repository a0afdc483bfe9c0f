// Package keyringtest helps test keyring backends against real keychains:
// on Linux it starts a private D-Bus session bus with gnome-keyring on it
// (never the developer's own), and TestKeyring checks the behaviour every
// backend must have.
package keyringtest

import (
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/keyring"
)

// TestKeyring runs the behaviours every keyring.Keyring must have against
// the backend open returns. Each subtest uses names and hosts of its own,
// removed at its end, so that a shared keychain is left as it was; open is
// called once per subtest and the keyring is closed at its end.
func TestKeyring(t *testing.T, open func(t *testing.T) keyring.Keyring) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, k keyring.Keyring, ns string)
	}{
		{"RoundTripWithMeta", testRoundTripWithMeta},
		{"RoundTripWithoutMeta", testRoundTripWithoutMeta},
		{"GetMissing", testGetMissing},
		{"PutReplaces", testPutReplaces},
		{"Delete", testDelete},
		{"ListSortedAndComplete", testListSortedAndComplete},
		{"UnusualNames", testUnusualNames},
		{"InvalidNames", testInvalidNames},
		{"CredentialRoundTrip", testCredentialRoundTrip},
		{"CredentialMatching", testCredentialMatching},
		{"CredentialNewestFirst", testCredentialNewestFirst},
		{"CredentialOverwrite", testCredentialOverwrite},
		{"CredentialErase", testCredentialErase},
		{"CredentialStoreExactKey", testCredentialStoreExactKey},
		{"CredentialEraseExactKey", testCredentialEraseExactKey},
		{"TokenNamesExact", testTokenNamesExact},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := open(t)
			t.Cleanup(func() { k.Close() })
			tc.run(t, k, "kt"+rand.Text()[:10])
		})
	}
}

// put stores tok and deletes it when the test ends.
func put(t *testing.T, k keyring.Keyring, tok keyring.Token) {
	t.Helper()
	if err := k.Put(tok); err != nil {
		t.Fatalf("Put(%s): %v", tok.Name, err)
	}
	t.Cleanup(func() { k.Delete(tok.Name) })
}

// get fetches name, failing the test on error.
func get(t *testing.T, k keyring.Keyring, name string) keyring.Token {
	t.Helper()
	got, err := k.Get(name)
	if err != nil {
		t.Fatalf("Get(%s): %v", name, err)
	}
	return got
}

// checkToken compares tokens without printing secrets.
func checkToken(t *testing.T, got, want keyring.Token) {
	t.Helper()
	if got.Name != want.Name {
		t.Errorf("name = %q, want %q", got.Name, want.Name)
	}
	if got.Secret != want.Secret {
		t.Errorf("%s: secret = %s (%d bytes), want %s (%d bytes)", want.Name,
			keyring.Preview(got.Secret), len(got.Secret), keyring.Preview(want.Secret), len(want.Secret))
	}
	if !got.Meta.Expires.Equal(want.Meta.Expires) || got.Meta.Kind != want.Meta.Kind || got.Meta.Login != want.Meta.Login {
		t.Errorf("%s: meta = %+v, want %+v", want.Name, got.Meta, want.Meta)
	}
}

// secret returns a random token-like secret.
func secret(prefix string) string { return prefix + rand.Text() + rand.Text() }

// listed returns the tokens of List whose name starts with ns.
func listed(t *testing.T, k keyring.Keyring, ns string) []keyring.Token {
	t.Helper()
	all, err := k.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if !slices.IsSortedFunc(all, func(a, b keyring.Token) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("List is not sorted by name")
	}
	return slices.DeleteFunc(all, func(tok keyring.Token) bool { return !strings.HasPrefix(tok.Name, ns) })
}

func testRoundTripWithMeta(t *testing.T, k keyring.Keyring, ns string) {
	want := keyring.Token{
		Name:   ns + ":fine-grained-myorg",
		Secret: secret("github_pat_"),
		Meta: keyring.Meta{
			Expires: time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC),
			Kind:    "fine-grained",
			Login:   "octocat",
		},
	}
	put(t, k, want)
	checkToken(t, get(t, k, want.Name), want)
}

func testRoundTripWithoutMeta(t *testing.T, k keyring.Keyring, ns string) {
	want := keyring.Token{Name: ns + ":classic", Secret: secret("ghp_")}
	put(t, k, want)
	checkToken(t, get(t, k, want.Name), want)
}

func testGetMissing(t *testing.T, k keyring.Keyring, ns string) {
	if _, err := k.Get(ns + ":missing"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get of a missing token: error %v, want one wrapping ErrNotFound", err)
	}
}

func testPutReplaces(t *testing.T, k keyring.Keyring, ns string) {
	first := keyring.Token{
		Name:   ns + ":rotated",
		Secret: secret("ghp_"),
		Meta:   keyring.Meta{Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Kind: "classic", Login: "old"},
	}
	put(t, k, first)
	second := keyring.Token{
		Name:   first.Name,
		Secret: secret("github_pat_"),
		Meta:   keyring.Meta{Kind: "fine-grained"},
	}
	put(t, k, second)
	checkToken(t, get(t, k, first.Name), second)
	got := listed(t, k, ns)
	if len(got) != 1 {
		t.Fatalf("List after replacing: %d tokens, want 1", len(got))
	}
	checkToken(t, got[0], second)
}

func testDelete(t *testing.T, k keyring.Keyring, ns string) {
	tok := keyring.Token{Name: ns + ":gone", Secret: secret("ghp_")}
	put(t, k, tok)
	if err := k.Delete(tok.Name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(tok.Name); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get after Delete: error %v, want one wrapping ErrNotFound", err)
	}
	if err := k.Delete(tok.Name); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Delete of a deleted token: error %v, want one wrapping ErrNotFound", err)
	}
	if got := listed(t, k, ns); len(got) != 0 {
		t.Fatalf("List after Delete: %d tokens, want 0", len(got))
	}
}

func testListSortedAndComplete(t *testing.T, k keyring.Keyring, ns string) {
	var want []keyring.Token
	for _, key := range []string{"m", "b", "z-9", "a", "fine-grained-Org"} {
		tok := keyring.Token{
			Name:   ns + ":" + key,
			Secret: secret("ghp_"),
			Meta:   keyring.Meta{Kind: "classic", Login: "user-" + key},
		}
		put(t, k, tok)
		want = append(want, tok)
	}
	slices.SortFunc(want, func(a, b keyring.Token) int { return strings.Compare(a.Name, b.Name) })
	got := listed(t, k, ns)
	if len(got) != len(want) {
		t.Fatalf("List: %d tokens, want %d", len(got), len(want))
	}
	for i := range want {
		checkToken(t, got[i], want[i])
	}
}

func testUnusualNames(t *testing.T, k keyring.Keyring, ns string) {
	names := []string{
		ns + ":fine-grained-my.org_x",
		ns + ":ключ-日本",
		ns + `:a=b&c/d\e'"<x>`,
		ns + "::colon:s",
		ns + ":" + strings.Repeat("x", keyring.MaxNameLen-len(ns)-1),
	}
	for _, name := range names {
		tok := keyring.Token{Name: name, Secret: secret("ghp_")}
		put(t, k, tok)
		checkToken(t, get(t, k, name), tok)
	}
	var got []string
	for _, tok := range listed(t, k, ns) {
		got = append(got, tok.Name)
	}
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Fatalf("List names = %q, want %q", got, names)
	}
}

func testInvalidNames(t *testing.T, k keyring.Keyring, ns string) {
	for _, name := range []string{"", ns, ns + ":", ns + ":a b", ns + ":a\nb", ns + ":" + strings.Repeat("x", keyring.MaxNameLen)} {
		if err := k.Put(keyring.Token{Name: name, Secret: secret("ghp_")}); err == nil {
			k.Delete(name)
			t.Errorf("Put(%q) succeeded, want an error", name)
		}
	}
	if got := listed(t, k, ns); len(got) != 0 {
		t.Fatalf("List after invalid Puts: %d tokens, want 0", len(got))
	}
}

// storeCred stores c and erases it when the test ends.
func storeCred(t *testing.T, k keyring.Keyring, c keyring.Credential) {
	t.Helper()
	if err := k.StoreCredential(c); err != nil {
		t.Fatalf("StoreCredential(%s://%s/%s %s): %v", c.Protocol, c.Host, c.Path, c.Username, err)
	}
	t.Cleanup(func() { k.EraseCredentials(keyring.Credential{Protocol: c.Protocol, Host: c.Host}) })
}

// find queries credentials, failing the test on error.
func find(t *testing.T, k keyring.Keyring, q keyring.Credential) []keyring.Credential {
	t.Helper()
	got, err := k.FindCredentials(q)
	if err != nil {
		t.Fatalf("FindCredentials(%s://%s/%s %s): %v", q.Protocol, q.Host, q.Path, q.Username, err)
	}
	return got
}

// checkCreds compares credentials, in order, without printing passwords.
func checkCreds(t *testing.T, what string, got, want []keyring.Credential) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d credentials %v, want %d %v", what, len(got), describe(got), len(want), describe(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Protocol != w.Protocol || g.Host != w.Host || g.Path != w.Path || g.Username != w.Username ||
			!g.PasswordExpiry.Equal(w.PasswordExpiry) {
			t.Errorf("%s: credential %d = %v, want %v", what, i, describe(got[i:i+1]), describe(want[i:i+1]))
		}
		if g.Password != w.Password || g.OAuthRefreshToken != w.OAuthRefreshToken {
			t.Errorf("%s: credential %d (%s): password %s / refresh token %s, want %s / %s", what, i, w.Username,
				keyring.Preview(g.Password), keyring.Preview(g.OAuthRefreshToken),
				keyring.Preview(w.Password), keyring.Preview(w.OAuthRefreshToken))
		}
	}
}

// describe shows credentials without their secrets.
func describe(creds []keyring.Credential) []string {
	var out []string
	for _, c := range creds {
		out = append(out, c.Protocol+"://"+c.Username+"@"+c.Host+"/"+c.Path+" expires "+c.PasswordExpiry.String())
	}
	return out
}

func testCredentialRoundTrip(t *testing.T, k keyring.Keyring, ns string) {
	c := keyring.Credential{
		Protocol:          "https",
		Host:              ns + ".example",
		Username:          "alice",
		Password:          secret("pw-"),
		PasswordExpiry:    time.Date(2032, 5, 6, 7, 8, 9, 0, time.UTC),
		OAuthRefreshToken: secret("refresh-"),
	}
	storeCred(t, k, c)
	checkCreds(t, "round trip", find(t, k, keyring.Credential{Protocol: "https", Host: c.Host}), []keyring.Credential{c})

	plain := keyring.Credential{Protocol: "https", Host: "plain." + ns + ".example", Username: "bob", Password: secret("pw-")}
	storeCred(t, k, plain)
	checkCreds(t, "without expiry", find(t, k, keyring.Credential{Protocol: "https", Host: plain.Host}), []keyring.Credential{plain})
}

func testCredentialMatching(t *testing.T, k keyring.Keyring, ns string) {
	host := ns + ".example"
	alice := keyring.Credential{Protocol: "https", Host: host, Username: "alice", Password: secret("pw-")}
	ported := keyring.Credential{Protocol: "https", Host: host + ":8443", Username: "alice", Password: secret("pw-")}
	plainHTTP := keyring.Credential{Protocol: "http", Host: host, Username: "alice", Password: secret("pw-")}
	bobRepo := keyring.Credential{Protocol: "https", Host: host, Path: "org/repo.git", Username: "bob", Password: secret("pw-")}
	other := keyring.Credential{Protocol: "https", Host: "other" + host, Username: "alice", Password: secret("pw-")}
	for _, c := range []keyring.Credential{alice, ported, plainHTTP, bobRepo, other} {
		storeCred(t, k, c)
	}
	sortByUser := func(cs []keyring.Credential) []keyring.Credential {
		slices.SortFunc(cs, func(a, b keyring.Credential) int { return strings.Compare(a.Username, b.Username) })
		return cs
	}
	q := func(protocol, host, path, user string) keyring.Credential {
		return keyring.Credential{Protocol: protocol, Host: host, Path: path, Username: user}
	}
	checkCreds(t, "host without port", sortByUser(find(t, k, q("https", host, "", ""))), []keyring.Credential{alice, bobRepo})
	checkCreds(t, "host with port", find(t, k, q("https", host+":8443", "", "")), []keyring.Credential{ported})
	checkCreds(t, "other port", find(t, k, q("https", host+":9999", "", "")), nil)
	checkCreds(t, "http", find(t, k, q("http", host, "", "")), []keyring.Credential{plainHTTP})
	checkCreds(t, "username", find(t, k, q("https", host, "", "alice")), []keyring.Credential{alice})
	checkCreds(t, "path", find(t, k, q("https", host, "org/repo.git", "")), []keyring.Credential{bobRepo})
	checkCreds(t, "path and username", find(t, k, q("https", host, "org/repo.git", "alice")), nil)
	checkCreds(t, "other path", find(t, k, q("https", host, "org/other.git", "")), nil)
	checkCreds(t, "unknown host", find(t, k, q("https", "unknown"+host, "", "")), nil)
	checkCreds(t, "host suffix", find(t, k, q("https", "x"+host, "", "")), nil)
}

func testCredentialNewestFirst(t *testing.T, k keyring.Keyring, ns string) {
	host := ns + ".example"
	alice := keyring.Credential{Protocol: "https", Host: host, Username: "alice", Password: secret("pw-")}
	bob := keyring.Credential{Protocol: "https", Host: host, Username: "bob", Password: secret("pw-")}
	storeCred(t, k, alice)
	time.Sleep(1100 * time.Millisecond) // keychains record modification times in seconds
	storeCred(t, k, bob)
	checkCreds(t, "after storing bob", find(t, k, keyring.Credential{Protocol: "https", Host: host}), []keyring.Credential{bob, alice})
	time.Sleep(1100 * time.Millisecond)
	alice.Password = secret("pw-")
	storeCred(t, k, alice)
	checkCreds(t, "after updating alice", find(t, k, keyring.Credential{Protocol: "https", Host: host}), []keyring.Credential{alice, bob})
}

func testCredentialOverwrite(t *testing.T, k keyring.Keyring, ns string) {
	c := keyring.Credential{
		Protocol: "https", Host: ns + ".example:8443", Path: "team/repo.git", Username: "alice",
		Password: secret("pw-"), OAuthRefreshToken: secret("refresh-"),
	}
	storeCred(t, k, c)
	c.Password = secret("pw-")
	c.OAuthRefreshToken = ""
	c.PasswordExpiry = time.Date(2033, 1, 1, 0, 0, 0, 0, time.UTC)
	storeCred(t, k, c)
	checkCreds(t, "overwritten", find(t, k, keyring.Credential{Protocol: "https", Host: c.Host}), []keyring.Credential{c})
}

func testCredentialErase(t *testing.T, k keyring.Keyring, ns string) {
	host := ns + ".example"
	alice := keyring.Credential{Protocol: "https", Host: host, Username: "alice", Password: secret("pw-")}
	bob := keyring.Credential{Protocol: "https", Host: host, Username: "bob", Password: secret("pw-")}
	ported := keyring.Credential{Protocol: "https", Host: host + ":8443", Username: "alice", Password: secret("pw-")}
	for _, c := range []keyring.Credential{alice, bob, ported} {
		storeCred(t, k, c)
	}
	all := keyring.Credential{Protocol: "https", Host: host}
	wrong := alice
	wrong.Password = secret("pw-")
	if err := k.EraseCredentials(wrong); err != nil {
		t.Fatalf("EraseCredentials with another password: %v", err)
	}
	if got := find(t, k, all); len(got) != 2 {
		t.Fatalf("after erasing with another password: %d credentials, want 2 (alice kept)", len(got))
	}
	if err := k.EraseCredentials(alice); err != nil {
		t.Fatalf("EraseCredentials(alice): %v", err)
	}
	checkCreds(t, "after erasing alice", find(t, k, all), []keyring.Credential{bob})
	if err := k.EraseCredentials(all); err != nil {
		t.Fatalf("EraseCredentials(host): %v", err)
	}
	checkCreds(t, "after erasing the host", find(t, k, all), nil)
	checkCreds(t, "port kept", find(t, k, keyring.Credential{Protocol: "https", Host: host + ":8443"}), []keyring.Credential{ported})
}

// exactKeySet stores, on one host, credentials whose keys differ from
// alice's in one part each: the port, the path, the user, no user.
func exactKeySet(t *testing.T, k keyring.Keyring, ns string) (host string, alice, ported, pathed, bob, nobody keyring.Credential) {
	host = ns + ".example"
	alice = keyring.Credential{Protocol: "https", Host: host, Username: "alice", Password: secret("pw-")}
	ported = keyring.Credential{Protocol: "https", Host: host + ":8443", Username: "alice", Password: secret("pw-")}
	pathed = keyring.Credential{Protocol: "https", Host: host, Path: "org/repo.git", Username: "alice", Password: secret("pw-")}
	bob = keyring.Credential{Protocol: "https", Host: host, Username: "bob", Password: secret("pw-")}
	nobody = keyring.Credential{Protocol: "https", Host: host, Password: secret("pw-")}
	for _, c := range []keyring.Credential{alice, ported, pathed, bob, nobody} {
		storeCred(t, k, c)
	}
	t.Cleanup(func() { k.EraseCredentials(keyring.Credential{Protocol: "https", Host: host + ":8443"}) })
	return host, alice, ported, pathed, bob, nobody
}

// byPathAndUser sorts credentials for comparison.
func byPathAndUser(cs []keyring.Credential) []keyring.Credential {
	slices.SortFunc(cs, func(a, b keyring.Credential) int {
		return strings.Compare(a.Path+"\x00"+a.Username, b.Path+"\x00"+b.Username)
	})
	return cs
}

// testCredentialStoreExactKey replaces one credential among others whose
// key differs in the port, the path or the user alone, and requires the
// others unchanged: a store without a port or path is not a wildcard.
func testCredentialStoreExactKey(t *testing.T, k keyring.Keyring, ns string) {
	host, alice, ported, pathed, bob, nobody := exactKeySet(t, k, ns)
	alice.Password = secret("pw-")
	storeCred(t, k, alice)
	nobody.Password = secret("pw-")
	storeCred(t, k, nobody)
	checkCreds(t, "the host's credentials after replacing alice's and the user-less one",
		byPathAndUser(find(t, k, keyring.Credential{Protocol: "https", Host: host})),
		[]keyring.Credential{nobody, alice, bob, pathed})
	checkCreds(t, "the port's after replacing alice's", find(t, k, keyring.Credential{Protocol: "https", Host: ported.Host}), []keyring.Credential{ported})

	pathed.Password = secret("pw-")
	storeCred(t, k, pathed)
	ported.Password = secret("pw-")
	storeCred(t, k, ported)
	checkCreds(t, "alice's after replacing the path's and the port's",
		byPathAndUser(find(t, k, keyring.Credential{Protocol: "https", Host: host, Username: "alice"})),
		[]keyring.Credential{alice, pathed})
	checkCreds(t, "the port's after replacing it", find(t, k, keyring.Credential{Protocol: "https", Host: ported.Host}), []keyring.Credential{ported})
}

// testCredentialEraseExactKey erases by path, by user and by port among
// credentials of one host, and requires the rest kept.
func testCredentialEraseExactKey(t *testing.T, k keyring.Keyring, ns string) {
	host, alice, ported, _, bob, nobody := exactKeySet(t, k, ns)
	all := keyring.Credential{Protocol: "https", Host: host}
	if err := k.EraseCredentials(keyring.Credential{Protocol: "https", Host: host, Path: "org/repo.git"}); err != nil {
		t.Fatalf("EraseCredentials(path): %v", err)
	}
	checkCreds(t, "after erasing the path's", byPathAndUser(find(t, k, all)), []keyring.Credential{nobody, alice, bob})
	if err := k.EraseCredentials(keyring.Credential{Protocol: "https", Host: host, Username: "bob"}); err != nil {
		t.Fatalf("EraseCredentials(bob): %v", err)
	}
	checkCreds(t, "after erasing bob's", byPathAndUser(find(t, k, all)), []keyring.Credential{nobody, alice})
	if err := k.EraseCredentials(keyring.Credential{Protocol: "https", Host: ported.Host}); err != nil {
		t.Fatalf("EraseCredentials(port): %v", err)
	}
	checkCreds(t, "after erasing the port's", byPathAndUser(find(t, k, all)), []keyring.Credential{nobody, alice})
	checkCreds(t, "the port's after erasing it", find(t, k, keyring.Credential{Protocol: "https", Host: ported.Host}), nil)
	withPassword := alice
	withPassword.Password = nobody.Password
	if err := k.EraseCredentials(withPassword); err != nil {
		t.Fatalf("EraseCredentials(alice with the user-less one's password): %v", err)
	}
	checkCreds(t, "after erasing alice with another's password", byPathAndUser(find(t, k, all)), []keyring.Credential{nobody, alice})
}

// testTokenNamesExact puts and deletes tokens whose names are prefixes of
// one another, and requires each to keep its own secret.
func testTokenNamesExact(t *testing.T, k keyring.Keyring, ns string) {
	short := keyring.Token{Name: ns + ":a", Secret: secret("ghp_")}
	long := keyring.Token{Name: ns + ":ab", Secret: secret("ghp_")}
	longer := keyring.Token{Name: ns + ":ab:c", Secret: secret("ghp_")}
	for _, tok := range []keyring.Token{short, long, longer} {
		put(t, k, tok)
	}
	long.Secret = secret("github_pat_")
	put(t, k, long)
	checkToken(t, get(t, k, short.Name), short)
	checkToken(t, get(t, k, longer.Name), longer)
	if err := k.Delete(short.Name); err != nil {
		t.Fatalf("Delete(%s): %v", short.Name, err)
	}
	got := listed(t, k, ns)
	if len(got) != 2 {
		t.Fatalf("List after deleting %s: %d tokens, want 2", short.Name, len(got))
	}
	checkToken(t, got[0], long)
	checkToken(t, got[1], longer)
}
