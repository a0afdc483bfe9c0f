package keyringtest_test

import (
	"testing"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
)

// TestFake holds the fake to what every backend must do.
func TestFake(t *testing.T) {
	keyringtest.TestKeyring(t, func(t *testing.T) keyring.Keyring { return &keyringtest.Fake{} })
}
