//go:build linux

package linux_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform/linux"
)

// TestDaemonKilledBetweenCalls kills gnome-keyring while a Keyring is open:
// every later call fails at once with one line naming the missing
// provider and how to start one, and so does a new Open.
func TestDaemonKilledBetweenCalls(t *testing.T) {
	s := keyringtest.Start(t)
	k := openTest(t)
	tok := keyring.Token{Name: "github:classic", Secret: newSecret()}
	if err := k.Put(tok); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(tok.Name); err != nil || got.Secret != tok.Secret {
		t.Fatalf("Get before the kill: secret %s, error %v", keyring.Preview(got.Secret), err)
	}
	s.KillProvider(t)

	for _, tc := range []struct {
		what string
		op   func() error
	}{
		{"Get", func() error { _, err := k.Get(tok.Name); return err }},
		{"List", func() error { _, err := k.List(); return err }},
		{"Put", func() error { return k.Put(keyring.Token{Name: tok.Name, Secret: newSecret()}) }},
		{"Delete", func() error { return k.Delete(tok.Name) }},
		{"FindCredentials", func() error {
			_, err := k.FindCredentials(keyring.Credential{Protocol: "https", Host: "git.example"})
			return err
		}},
		{"StoreCredential", func() error {
			return k.StoreCredential(keyring.Credential{Protocol: "https", Host: "git.example", Username: "u", Password: newSecret()})
		}},
		{"EraseCredentials", func() error {
			return k.EraseCredentials(keyring.Credential{Protocol: "https", Host: "git.example"})
		}},
		{"Open", func() error {
			k2, err := linux.Open()
			if err == nil {
				k2.Close()
			}
			return err
		}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			start := time.Now()
			err := tc.op()
			if err == nil {
				t.Fatal("succeeded with the keyring daemon dead")
			}
			if errors.Is(err, keyring.ErrNotFound) {
				t.Errorf("error %q wraps ErrNotFound: a dead daemon must not look like a missing token", err)
			}
			checkError(t, err, linux.ErrNoProvider, "gnome-keyring-daemon --start --components=secrets", start, time.Second)
		})
	}
	if err := k.Close(); err != nil {
		t.Errorf("Close after the daemon died: %v", err)
	}
}
