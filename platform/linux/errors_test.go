//go:build linux

package linux_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform/linux"
)

// checkError asserts that err is of kind, one line long, says what to do
// (advice), and came within limit of start.
func checkError(t *testing.T, err, kind error, advice string, start time.Time, limit time.Duration) {
	t.Helper()
	t.Logf("error: %v", err)
	if elapsed := time.Since(start); elapsed > limit {
		t.Errorf("failed after %s, want under %s", elapsed, limit)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want one wrapping %q", err, kind)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, advice) {
		t.Errorf("error %q: want one line containing %q", msg, advice)
	}
}

func TestNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	start := time.Now()
	_, err := linux.Open()
	checkError(t, err, linux.ErrNoBus, "dbus-run-session", start, time.Second)
}

func TestBusPointsNowhere(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "nobus"))
	start := time.Now()
	_, err := linux.Open()
	checkError(t, err, linux.ErrNoBus, "dbus-run-session", start, 3*time.Second)
}

func TestBusInRuntimeDir(t *testing.T) {
	s := keyringtest.Start(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	k := openTest(t)
	tok := keyring.Token{Name: "github:classic", Secret: newSecret()}
	if err := k.Put(tok); err != nil {
		t.Fatal(err)
	}
	if n := s.Count(t, map[string]string{"service": "jailrun:github:classic"}); n != 1 {
		t.Fatalf("Put through $XDG_RUNTIME_DIR/bus: %d items on the test bus, want 1", n)
	}
}

// TestBusAddressList uses an address that lists several buses, which
// godbus tries in turn (the first does not exist), and not the one-write
// connection of a single unix: address.
func TestBusAddressList(t *testing.T) {
	s := keyringtest.Start(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "none")+";"+s.Address)
	tok := keyring.Token{Name: "github:classic", Secret: newSecret()}
	if err := openTest(t).Put(tok); err != nil {
		t.Fatal(err)
	}
	if got, err := openTest(t).Get(tok.Name); err != nil || got.Secret != tok.Secret {
		t.Fatalf("Get through an address list: secret %s, error %v", keyring.Preview(got.Secret), err)
	}
}

func TestNoProvider(t *testing.T) {
	keyringtest.StartBusOnly(t)
	start := time.Now()
	_, err := linux.Open()
	checkError(t, err, linux.ErrNoProvider, "sudo apt install gnome-keyring", start, 3*time.Second)
	if !strings.Contains(err.Error(), "gnome-keyring-daemon --start --components=secrets") {
		t.Errorf("error %q does not say how to start a provider headless", err)
	}
}

func TestBusNeverAnswers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	start := time.Now()
	_, err = linux.OpenWith(linux.Options{Address: "unix:path=" + path, CallTimeout: 300 * time.Millisecond})
	checkError(t, err, linux.ErrTimeout, "within 300ms", start, 2*time.Second)
}

func TestProviderNeverAnswers(t *testing.T) {
	s := keyringtest.StartBusOnly(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mute, err := dbus.Connect(s.Address, dbus.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if reply, err := mute.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.secrets: %v %v", reply, err)
	}
	mute.Eavesdrop(make(chan *dbus.Message, 100)) // take calls, never answer
	t.Cleanup(func() { stopEavesdropping(mute) })
	start := time.Now()
	_, err = linux.OpenWith(linux.Options{CallTimeout: 300 * time.Millisecond})
	checkError(t, err, linux.ErrTimeout, "did not answer within 300ms", start, 2*time.Second)
}

func TestLockedWithoutPrompter(t *testing.T) {
	s := keyringtest.Start(t)
	k := openTest(t)
	if err := k.Put(keyring.Token{Name: "github:classic", Secret: newSecret()}); err != nil {
		t.Fatal(err)
	}
	s.Lock(t)
	locked, err := linux.OpenWith(linux.Options{PromptTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("Open of a locked keyring: %v", err)
	}
	t.Cleanup(func() { locked.Close() })
	for what, op := range map[string]func() error{
		"Get":    func() error { _, err := locked.Get("github:classic"); return err },
		"List":   func() error { _, err := locked.List(); return err },
		"Put":    func() error { return locked.Put(keyring.Token{Name: "github:new", Secret: newSecret()}) },
		"Delete": func() error { return locked.Delete("github:classic") },
	} {
		t.Run(what, func(t *testing.T) {
			start := time.Now()
			err := op()
			checkError(t, err, linux.ErrDismissed, "unlock it", start, 3*time.Second)
		})
	}
}
