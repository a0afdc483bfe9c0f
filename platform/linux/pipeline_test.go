//go:build linux

package linux_test

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
)

// TestManyItems lists, reads and deletes more items than dbus-daemon lets
// a connection await at once (128 pending replies by default, the limit
// of the private test bus).
func TestManyItems(t *testing.T) {
	s := keyringtest.Start(t)
	k := openTest(t)
	const n = 150
	want := make(map[string]string, n)
	for i := range n {
		name := fmt.Sprintf("github:many-%03d", i)
		want[name] = newSecret()
		if err := k.Put(keyring.Token{Name: name, Secret: want[name]}); err != nil {
			t.Fatalf("Put %s: %v", name, err)
		}
	}
	list, err := k.List()
	if err != nil {
		t.Fatalf("List of %d tokens: %v", n, err)
	}
	if len(list) != n {
		t.Fatalf("List: %d tokens, want %d", len(list), n)
	}
	for _, tok := range list {
		if tok.Secret != want[tok.Name] {
			t.Fatalf("List: token %s holds %s, want the secret stored", tok.Name, keyring.Preview(tok.Secret))
		}
	}
	// Over 128 items of one name: Put keeps the newest and deletes the rest.
	const dup = "github:duplicated"
	secretTool(t, newSecret(), "store", "--label=dup", "service", keyring.Service(dup), "account", keyring.Account())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range n / 8 {
				cmd := exec.Command("secret-tool", "store", "--label=dup", "service", keyring.Service(dup), "account", keyring.Account())
				cmd.Stdin = strings.NewReader(newSecret())
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("secret-tool store: %v: %s", err, out)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if err := k.Put(keyring.Token{Name: dup, Secret: newSecret()}); err != nil {
		t.Fatalf("Put over %d duplicates: %v", n, err)
	}
	if got := s.Count(t, map[string]string{"service": keyring.Service(dup)}); got != 1 {
		t.Fatalf("after Put over %d duplicates: %d items, want 1", n, got)
	}
}
