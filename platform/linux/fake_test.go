//go:build linux

package linux

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/jailrun/jailrun/keyringtest"
)

// fakeService is a Secret Service provider on a private bus that
// misbehaves on purpose: it may refuse the encrypted session, its unlock
// prompt is never answered, and it has no properties, so the greeting
// (a property read) fails.
type fakeService struct {
	dhSupported bool

	mu         sync.Mutex
	algorithms []string // asked for in OpenSession
	dismissed  bool     // the prompt was dismissed
}

// OpenSession accepts the DH algorithm when dhSupported, and only "plain"
// otherwise.
func (f *fakeService) OpenSession(algorithm string, input dbus.Variant) (dbus.Variant, dbus.ObjectPath, *dbus.Error) {
	f.mu.Lock()
	f.algorithms = append(f.algorithms, algorithm)
	f.mu.Unlock()
	switch {
	case algorithm == "plain" && !f.dhSupported:
		return dbus.MakeVariant(""), "/org/freedesktop/secrets/session/1", nil
	case algorithm == dhAlgorithm && f.dhSupported:
		kp, err := newDHKeyPair()
		if err != nil {
			return dbus.Variant{}, "", dbus.MakeFailedError(err)
		}
		return dbus.MakeVariant(kp.public), "/org/freedesktop/secrets/session/1", nil
	}
	return dbus.Variant{}, "", dbus.NewError(dbusNotSupported, []any{"algorithm not supported"})
}

// SearchItems finds one locked item, whatever is asked.
func (f *fakeService) SearchItems(map[string]string) ([]dbus.ObjectPath, []dbus.ObjectPath, *dbus.Error) {
	return nil, []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login/1"}, nil
}

// Unlock needs a prompt.
func (f *fakeService) Unlock([]dbus.ObjectPath) ([]dbus.ObjectPath, dbus.ObjectPath, *dbus.Error) {
	return nil, "/org/freedesktop/secrets/prompt/1", nil
}

// fakePrompt is a prompt nobody answers.
type fakePrompt struct{ service *fakeService }

// Prompt "shows" the prompt, which never completes.
func (p fakePrompt) Prompt(string) *dbus.Error { return nil }

// Dismiss records that the client gave up.
func (p fakePrompt) Dismiss() *dbus.Error {
	p.service.mu.Lock()
	p.service.dismissed = true
	p.service.mu.Unlock()
	return nil
}

// startFake puts f on a private bus as org.freedesktop.secrets.
func startFake(t *testing.T, f *fakeService) {
	t.Helper()
	s := keyringtest.StartBusOnly(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn, err := dbus.Connect(s.Address, dbus.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Export(f, servicePath, serviceIface); err != nil {
		t.Fatal(err)
	}
	if err := conn.Export(fakePrompt{f}, "/org/freedesktop/secrets/prompt/1", promptIface); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(serviceName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", serviceName, reply, err)
	}
}

func TestNeverFallsBackToPlain(t *testing.T) {
	f := &fakeService{}
	startFake(t, f)
	k, err := Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer k.Close()
	if _, err := k.Get("github:classic"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Get from a plain-only provider: error %v, want ErrUnsupported", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(f.algorithms, []string{dhAlgorithm}) {
		t.Fatalf("algorithms asked for: %q, want only %q", f.algorithms, dhAlgorithm)
	}
}

func TestPromptTimeout(t *testing.T) {
	f := &fakeService{dhSupported: true}
	startFake(t, f)
	k, err := OpenWith(Options{PromptTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer k.Close()
	start := time.Now()
	_, err = k.Get("github:classic")
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("Get returned after %s, want the 300ms prompt timeout", elapsed)
	}
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Get with an unanswered prompt: error %v, want ErrTimeout", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.dismissed {
		t.Fatal("the unanswered prompt was not dismissed")
	}
}
