package darwin

import (
	"errors"
	"fmt"
	"time"

	"github.com/jailrun/jailrun/keyring"
)

// Keychain status codes (OSStatus) this package tells apart.
const (
	statusItemNotFound          = -25300 // errSecItemNotFound
	statusDuplicateItem         = -25299 // errSecDuplicateItem
	statusInteractionNotAllowed = -25308 // errSecInteractionNotAllowed
	statusNoDefaultKeychain     = -25307 // errSecNoDefaultKeychain
	statusNotAvailable          = -25291 // errSecNotAvailable
	statusMissingEntitlement    = -34018 // errSecMissingEntitlement
	statusUserCanceled          = -128   // errSecUserCanceled
	statusAuthFailed            = -25293 // errSecAuthFailed
	statusInteractionRequired   = -25315 // errSecInteractionRequired
	statusNoSuchKeychain        = -25294 // errSecNoSuchKeychain
	statusInvalidKeychain       = -25295 // errSecInvalidKeychain
	statusReadOnly              = -25292 // errSecReadOnly
)

// ErrInteractionNotAllowed reports that macOS would not ask the user: the
// keychain is locked, or reading the item needs a confirmation dialog that
// cannot be shown (in an SSH session, say).
var ErrInteractionNotAllowed = errors.New("macOS keychain is locked, or needs a confirmation dialog that cannot be shown here (SSH?)" +
	"; if locked: security unlock-keychain ~/Library/Keychains/login.keychain-db" +
	"; if a dialog is needed: run the command once in the Mac's desktop session and choose Always Allow")

// ErrDuplicate reports an item that another process added meanwhile.
var ErrDuplicate = errors.New("macOS keychain already has this item")

// statusError turns a keychain status into jailrun's error, one line
// saying what failed and what to do.
func statusError(status int) error {
	switch status {
	case 0:
		return nil
	case statusItemNotFound:
		return keyring.ErrNotFound
	case statusDuplicateItem:
		return ErrDuplicate
	case statusInteractionNotAllowed, statusInteractionRequired:
		return ErrInteractionNotAllowed
	case statusNoDefaultKeychain:
		return fmt.Errorf("macOS has no default keychain (%d); make the login keychain the default: security default-keychain -s login.keychain-db", status)
	case statusNoSuchKeychain, statusInvalidKeychain:
		return fmt.Errorf("macOS keychain is missing or damaged (%d); check it with Keychain Access, or make the login keychain the default: security default-keychain -s login.keychain-db", status)
	case statusNotAvailable:
		return fmt.Errorf("no macOS keychain is available (%d); log in to the Mac's desktop session once (or restart it), then retry", status)
	case statusMissingEntitlement:
		return fmt.Errorf("macOS refused keychain access: this jailrun binary lacks an entitlement (%d); reinstall it with ./install.sh rather than copying a binary signed elsewhere", status)
	case statusUserCanceled, statusAuthFailed:
		return fmt.Errorf("macOS keychain access was refused (%d); retry and allow jailrun when macOS asks", status)
	case statusReadOnly:
		return fmt.Errorf("macOS keychain is read-only here (%d); unlock it or make the login keychain the default: security default-keychain -s login.keychain-db", status)
	}
	return fmt.Errorf("macOS keychain failed with status %d; see: security error %d", status, status)
}

// timeoutError says that a keychain call did not answer within d. A write
// may still complete after that, so it is not called a failure.
func timeoutError(d time.Duration, write bool) error {
	if write {
		return fmt.Errorf("macOS keychain did not answer within %v, and the change may have been stored anyway; answer any access dialog, then check before retrying", d)
	}
	return fmt.Errorf("macOS keychain did not answer within %v; answer the access dialog if one is waiting, then retry", d)
}
