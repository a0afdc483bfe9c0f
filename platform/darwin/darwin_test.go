//go:build darwin && cgo

package darwin_test

import (
	"os"
	"testing"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform/darwin"
)

// TestKeyring runs the shared backend behaviours against the default
// keychain. It only runs where JAILRUN_TEST_MACOS_KEYCHAIN=1 says the
// default keychain is a throwaway one (CI makes one), so a developer's login
// keychain is never touched.
func TestKeyring(t *testing.T) {
	if os.Getenv("JAILRUN_TEST_MACOS_KEYCHAIN") != "1" {
		t.Skip("set JAILRUN_TEST_MACOS_KEYCHAIN=1 with a throwaway default keychain to run (see .github/workflows/ci.yml); skipped so your login keychain is left alone")
	}
	keyringtest.TestKeyring(t, func(t *testing.T) keyring.Keyring {
		k, err := darwin.Open()
		if err != nil {
			t.Fatalf("Open() = %v", err)
		}
		return k
	})
}
