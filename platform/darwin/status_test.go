//go:build darwin && cgo

package darwin

import (
	"testing"

	"github.com/keybase/go-keychain"
)

// TestStatusCodes checks the status codes errors.go tells apart against
// go-keychain's, which takes them from Security.framework.
func TestStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		ours int
		want keychain.Error
	}{
		{"errSecItemNotFound", statusItemNotFound, keychain.ErrorItemNotFound},
		{"errSecDuplicateItem", statusDuplicateItem, keychain.ErrorDuplicateItem},
		{"errSecInteractionNotAllowed", statusInteractionNotAllowed, keychain.ErrorInteractionNotAllowed},
		{"errSecNotAvailable", statusNotAvailable, keychain.ErrorNotAvailable},
		{"errSecUserCanceled", statusUserCanceled, keychain.ErrorUserCanceled},
		{"errSecAuthFailed", statusAuthFailed, keychain.ErrorAuthFailed},
		{"errSecNoSuchKeychain", statusNoSuchKeychain, keychain.ErrorNoSuchKeychain},
		{"errSecInvalidKeychain", statusInvalidKeychain, keychain.ErrorInvalidKeychain},
		{"errSecReadOnly", statusReadOnly, keychain.ErrorReadOnly},
	} {
		if tc.ours != int(tc.want) {
			t.Errorf("%s: ours %d, Security.framework's %d", tc.name, tc.ours, int(tc.want))
		}
	}
}
