package keyringtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// secretsOwned reports whether something owns org.freedesktop.secrets on
// the test bus.
func secretsOwned(t *testing.T, s *Bus) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var owned bool
	err := s.connect(t).BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned)
	if err != nil {
		t.Fatal(err)
	}
	return owned
}

func TestStartIsolatesTheTest(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/developer/bus")
	t.Setenv("HOME", "/developer/home")
	var s *Bus
	var root string
	var pids []int
	t.Run("bus", func(t *testing.T) {
		s = Start(t)
		root = filepath.Dir(s.RuntimeDir)
		if got := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); got != s.Address || !strings.Contains(got, s.RuntimeDir) {
			t.Errorf("DBUS_SESSION_BUS_ADDRESS = %q, want the private bus in %s", got, s.RuntimeDir)
		}
		for _, key := range []string{"HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"} {
			dir := os.Getenv(key)
			if !strings.HasPrefix(dir, root+"/") || !slices.Contains(s.Env(), key+"="+dir) {
				t.Errorf("%s = %q, want a directory under %s, also in Env()", key, dir, root)
			}
		}
		if os.Getenv("USER") == "" {
			t.Error("USER is empty")
		}
		if fi, err := os.Stat(filepath.Join(s.RuntimeDir, "bus")); err != nil || fi.Mode()&os.ModeSocket == 0 {
			t.Errorf("no bus socket in XDG_RUNTIME_DIR: %v", err)
		}
		if fi, err := os.Stat(s.RuntimeDir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("XDG_RUNTIME_DIR mode: %v %v, want 0700", fi.Mode().Perm(), err)
		}
		if !secretsOwned(t, s) {
			t.Fatal("nothing owns org.freedesktop.secrets")
		}
		if n := s.Count(t, map[string]string{"service": "nothing"}); n != 0 {
			t.Errorf("a new keyring holds %d items", n)
		}
		s.Lock(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		bus := s.connect(t).BusObject()
		for _, name := range []string{"org.freedesktop.DBus", "org.freedesktop.secrets"} {
			var pid uint32
			if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.GetConnectionUnixProcessID", 0, name).Store(&pid); err != nil {
				t.Fatal(err)
			}
			pids = append(pids, int(pid))
		}
	})
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("daemon %d still runs after the test: %v", pid, err)
		}
	}
	if got := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); got != "unix:path=/developer/bus" {
		t.Errorf("after the test DBUS_SESSION_BUS_ADDRESS = %q, want the original", got)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", root, err)
	}
	if _, err := dbus.Connect(s.Address); err == nil {
		t.Error("the bus still answers after the test")
	}
}

func TestStartBusOnlyHasNoProvider(t *testing.T) {
	s := StartBusOnly(t)
	if secretsOwned(t, s) {
		t.Fatal("something owns org.freedesktop.secrets on a bus-only test bus")
	}
	// Nothing installed on the machine can be activated on it either.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.connect(t).Object("org.freedesktop.secrets", "/org/freedesktop/secrets").CallWithContext(ctx,
		"org.freedesktop.Secret.Service.ReadAlias", 0, "default").Err
	if e, ok := err.(dbus.Error); !ok || e.Name != "org.freedesktop.DBus.Error.ServiceUnknown" {
		t.Fatalf("a call to org.freedesktop.secrets: %v, want ServiceUnknown", err)
	}
}

func TestNeedSkipsOrFails(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		var skipped, failed bool
		done := make(chan struct{})
		rec := &recorder{skip: func() { skipped = true }, fail: func() { failed = true }}
		go func() {
			defer close(done)
			need(rec, "jailrun-no-such-program")
		}()
		<-done
		if want := ci != "true"; skipped != want || failed == want {
			t.Errorf("CI=%q: skipped %v, failed %v", ci, skipped, failed)
		}
		if !strings.Contains(rec.msg, "install dbus and gnome-keyring") {
			t.Errorf("CI=%q: message %q does not say what to install", ci, rec.msg)
		}
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of ending
// the test; like them, it ends the goroutine.
type recorder struct {
	testing.TB
	skip, fail func()
	msg        string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) { r.msg = args[0].(string); r.skip(); runtime.Goexit() }

func (r *recorder) Fatal(args ...any) { r.msg = args[0].(string); r.fail(); runtime.Goexit() }
