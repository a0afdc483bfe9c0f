//go:build linux

package linux_test

import (
	"errors"
	"strings"
	"sync"
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

// TestProviderRestartedWhileOpen restarts gnome-keyring while a Keyring
// is open: the new daemon does not know the session, and every call says
// to run the command again.
func TestProviderRestartedWhileOpen(t *testing.T) {
	s := keyringtest.Start(t)
	k := openTest(t)
	tok := keyring.Token{Name: "github:classic", Secret: newSecret()}
	if err := k.Put(tok); err != nil {
		t.Fatal(err)
	}
	s.RestartProvider(t)
	for what, op := range map[string]func() error{
		"Get": func() error { _, err := k.Get(tok.Name); return err },
		"Put": func() error { return k.Put(keyring.Token{Name: tok.Name, Secret: newSecret()}) },
	} {
		err := op()
		if err == nil || !strings.Contains(err.Error(), "run it again") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s after the provider restarted: %v; want one line saying to run the command again", what, err)
		}
	}
	if got, err := openTest(t).Get(tok.Name); err != nil || got.Secret != tok.Secret {
		t.Fatalf("Get from a new Keyring after the restart: secret %s, error %v", keyring.Preview(got.Secret), err)
	}
}

// TestManyShortClients connects, reads a token and disconnects over and
// over from four clients at once, as git and agents run the helper.
// gnome-keyring aborts when a new client's OpenSession is handled before
// the daemon has recorded the client (gnome-keyring issues 183, 190 and
// 194); with OpenSession as the first message, this kills the daemon
// within a few thousand connections here.
func TestManyShortClients(t *testing.T) {
	s := keyringtest.Start(t)
	tok := keyring.Token{Name: "github:classic", Secret: newSecret()}
	if err := openTest(t).Put(tok); err != nil {
		t.Fatal(err)
	}
	const clients, rounds = 4, 600
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for range rounds {
				k, err := linux.Open()
				if err != nil {
					errs <- err
					return
				}
				got, err := k.Get(tok.Name)
				k.Close()
				if err == nil && got.Secret != tok.Secret {
					err = errors.New("read another secret than the one stored")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("after many short connections: %v\ngnome-keyring's log:\n%s", err, s.ProviderLog())
	}
}
