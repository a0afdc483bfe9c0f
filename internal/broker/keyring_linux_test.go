package broker

import (
	"sync"
	"testing"

	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform/linux"
	"github.com/jailrun/jailrun/routing"
)

// gnomeKeyringWorld is a broker over gnome-keyring on a private bus, with
// the test's tokens stored in it.
func gnomeKeyringWorld(tb testing.TB) *world {
	keyringtest.Start(tb)
	kr, err := linux.Open()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { kr.Close() })
	for _, tok := range newStore(tb).tokens {
		if tok.Secret == "" {
			continue // the Secret Service backend refuses an empty token
		}
		if err := kr.Put(tok); err != nil {
			tb.Fatal(err)
		}
	}
	return startWorld(tb, func(o *Options) { o.Keyring, o.Route = kr, routing.Token })
}

// TestGnomeKeyring serves concurrent clients from one connection to a
// real Secret Service.
func TestGnomeKeyring(t *testing.T) {
	w := gnomeKeyringWorld(t)
	var wg sync.WaitGroup
	for i := range MaxConns {
		wg.Go(func() {
			c, err := Dial(w.socket)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			path, want := "myorg/app", myorg
			if i%2 == 1 {
				path, want = "someone/x", classic
			}
			a, err := c.Get("https", "github.com", path)
			if err != nil {
				t.Error(err)
			} else if a.Token.Secret != want {
				t.Errorf("%s: served %s, want %s", path, name(a.Token.Secret), name(want))
			}
		})
	}
	wg.Wait()
}

// BenchmarkGet is one helper's get through the broker: dial, get, close.
func BenchmarkGet(b *testing.B) {
	for _, bc := range []struct {
		name  string
		world func(testing.TB) *world
	}{
		{"memory", func(tb testing.TB) *world { return startWorld(tb, nil) }},
		{"gnome-keyring", gnomeKeyringWorld},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := bc.world(b)
			for b.Loop() {
				c, err := Dial(w.socket)
				if err != nil {
					b.Fatal(err)
				}
				a, err := c.Get("https", "github.com", "myorg/app.git")
				c.Close()
				if err != nil || a.Token.Secret != myorg {
					b.Fatalf("served %s, %v", name(a.Token.Secret), err)
				}
			}
		})
	}
}
