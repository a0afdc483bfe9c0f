package linux_test

import (
	"testing"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform/linux"
)

// openTest opens the keyring of the test's private session.
func openTest(t *testing.T) *linux.Keyring {
	t.Helper()
	k, err := linux.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func TestKeyring(t *testing.T) {
	keyringtest.Start(t)
	keyringtest.TestKeyring(t, func(t *testing.T) keyring.Keyring { return openTest(t) })
}
