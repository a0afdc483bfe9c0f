//go:build linux

package linux_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform/linux"
)

// killKeyringDaemon kills the process that provides the Secret Service on
// the session's bus with SIGKILL, as a crash or the OOM killer would, and
// waits until the bus has noticed.
func killKeyringDaemon(t *testing.T, s *keyringtest.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := dbus.Connect(s.Address, dbus.WithContext(ctx))
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	defer conn.Close()
	bus := conn.BusObject()
	var pid uint32
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.GetConnectionUnixProcessID", 0, "org.freedesktop.secrets").Store(&pid); err != nil {
		t.Fatalf("find the keyring daemon: %v", err)
	}
	if err := syscall.Kill(int(pid), syscall.SIGKILL); err != nil {
		t.Fatalf("kill the keyring daemon (pid %d): %v", pid, err)
	}
	for {
		var owned bool
		if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned); err != nil {
			t.Fatalf("ask the bus whether the keyring daemon is gone: %v", err)
		}
		if !owned {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

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
	killKeyringDaemon(t, s)

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
