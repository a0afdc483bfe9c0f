package darwin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/keyring"
)

func TestCredentialKey(t *testing.T) {
	for _, tc := range []struct {
		c    keyring.Credential
		want item
	}{
		{keyring.Credential{Protocol: "https", Host: "Example.COM", Username: "alice"}, item{Protocol: "htps", Server: "example.com", Account: "alice"}},
		{keyring.Credential{Protocol: "https", Host: "example.com:8443", Path: "o/r.git"}, item{Protocol: "htps", Server: "example.com", Port: 8443, Path: "o/r.git"}},
		{keyring.Credential{Protocol: "ftp", Host: "[::1]:21"}, item{Protocol: "ftp ", Server: "[::1]", Port: 21}},
		{keyring.Credential{Protocol: "http", Host: "[::1]"}, item{Protocol: "http", Server: "[::1]"}},
		{keyring.Credential{Protocol: "http", Host: "host:0"}, item{Protocol: "http", Server: "host:0"}},
	} {
		if got := credentialKey(tc.c); got != tc.want {
			t.Errorf("credentialKey(%+v) = %+v, want %+v", tc.c, got, tc.want)
		}
	}
}

// stored are items of one host that differ in one part of the key each.
var (
	plain    = item{Protocol: "htps", Server: "example.com", Account: "alice", Label: "https://alice@example.com"}
	ported   = item{Protocol: "htps", Server: "example.com", Port: 8443, Account: "alice", Label: "https://alice@example.com:8443"}
	pathed   = item{Protocol: "htps", Server: "example.com", Path: "o/r.git", Account: "alice", Label: "https://alice@example.com/o/r.git"}
	bob      = item{Protocol: "htps", Server: "example.com", Account: "bob", Label: "https://bob@example.com"}
	nobody   = item{Protocol: "htps", Server: "example.com", Label: "https://example.com"}
	plainWeb = item{Protocol: "http", Server: "example.com", Account: "alice", Label: "http://alice@example.com"}
	stored   = []item{plain, ported, pathed, bob, nobody, plainWeb}
)

func TestFound(t *testing.T) {
	for _, tc := range []struct {
		q    keyring.Credential
		want []item
	}{
		{keyring.Credential{Protocol: "https", Host: "example.com"}, []item{plain, pathed, bob, nobody}},
		{keyring.Credential{Protocol: "https", Host: "EXAMPLE.com"}, []item{plain, pathed, bob, nobody}},
		{keyring.Credential{Protocol: "https", Host: "example.com:8443"}, []item{ported}},
		{keyring.Credential{Protocol: "https", Host: "example.com:9999"}, nil},
		{keyring.Credential{Protocol: "https", Host: "example.com", Username: "alice"}, []item{plain, pathed}},
		{keyring.Credential{Protocol: "https", Host: "example.com", Path: "o/r.git"}, []item{pathed}},
		{keyring.Credential{Protocol: "https", Host: "example.com", Path: "o/r.git", Username: "bob"}, nil},
		{keyring.Credential{Protocol: "http", Host: "example.com"}, []item{plainWeb}},
		{keyring.Credential{Protocol: "https", Host: "x.example.com"}, nil},
	} {
		var got []item
		for _, i := range stored {
			if found(tc.q, i) {
				got = append(got, i)
			}
		}
		if !equalItems(got, tc.want) {
			t.Errorf("found(%+v) = %v, want %v", tc.q, labels(got), labels(tc.want))
		}
	}
}

func TestSameKey(t *testing.T) {
	for _, i := range stored {
		for _, o := range stored {
			if got, want := i.sameKey(o), i == o; got != want {
				t.Errorf("%s sameKey %s = %v, want %v", i.Label, o.Label, got, want)
			}
		}
	}
	relabelled := plain
	relabelled.Label, relabelled.Server = "example.com", "Example.com"
	if !plain.sameKey(relabelled) {
		t.Errorf("the label or the server's case changed the key")
	}
}

// TestSelectsOnly shows why an item is changed only by its label: without
// it, a query for an item without port, path or account also selects the
// items that have one.
func TestSelectsOnly(t *testing.T) {
	for _, i := range stored {
		if !selectsOnly(i, stored) {
			t.Errorf("%s, with its label, selects more than itself", i.Label)
		}
		unlabelled := i
		unlabelled.Label = ""
		if i == plain || i == nobody {
			if selectsOnly(unlabelled, stored) {
				t.Errorf("%s without its label selects itself alone; go-keychain's empty attributes match anything", i.Label)
			}
		}
	}
	twins := []item{plain, {Protocol: "htps", Server: "example.com", Port: 8443, Account: "alice", Label: plain.Label}}
	if selectsOnly(plain, twins) {
		t.Errorf("an item sharing plain's label but with a port is not seen")
	}
}

func TestCredentialLabel(t *testing.T) {
	for c, want := range map[keyring.Credential]string{
		{Protocol: "https", Host: "Example.com:8443", Path: "o/r.git", Username: "a@b"}: "https://a%40b@example.com:8443/o/r.git",
		{Protocol: "https", Host: "example.com"}:                                        "https://example.com",
	} {
		if got := credentialLabel(c); got != want {
			t.Errorf("credentialLabel(%+v) = %q, want %q", c, got, want)
		}
	}
}

func TestStatusError(t *testing.T) {
	if statusError(0) != nil {
		t.Errorf("status 0 is an error")
	}
	if !errors.Is(statusError(statusItemNotFound), keyring.ErrNotFound) {
		t.Errorf("errSecItemNotFound does not wrap keyring.ErrNotFound")
	}
	for status, want := range map[int][]string{
		statusInteractionNotAllowed: {"locked", "dialog", "SSH", "unlock-keychain", "Always Allow"},
		statusNoDefaultKeychain:     {"no default keychain", "security default-keychain -s"},
		statusMissingEntitlement:    {"entitlement", "-34018", "install.sh"},
		statusNotAvailable:          {"no macOS keychain is available", "-25291"},
		-1:                          {"status -1", "security error -1"},
	} {
		msg := statusError(status).Error()
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("status %d: %q lacks %q", status, msg, w)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("status %d: %q is more than one line", status, msg)
		}
	}
}

func TestTimeoutError(t *testing.T) {
	if msg := timeoutError(time.Minute, true).Error(); !strings.Contains(msg, "may have been stored") || strings.Contains(msg, "failed") {
		t.Errorf("a write's timeout says %q; want \"may have been stored\", never \"failed\"", msg)
	}
	if msg := timeoutError(time.Minute, false).Error(); !strings.Contains(msg, "dialog") {
		t.Errorf("a read's timeout says %q; want a word about the access dialog", msg)
	}
}

func equalItems(a, b []item) bool {
	if len(a) != len(b) {
		return false
	}
	for n := range a {
		if a[n] != b[n] {
			return false
		}
	}
	return true
}

func labels(items []item) []string {
	var l []string
	for _, i := range items {
		l = append(l, i.Label)
	}
	return l
}
