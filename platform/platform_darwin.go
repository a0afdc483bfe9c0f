//go:build darwin && cgo

package platform

import (
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/platform/darwin"
)

// Open returns the macOS Keychain backend.
func Open() (keyring.Keyring, error) {
	k, err := darwin.Open()
	if err != nil {
		return nil, err
	}
	return k, nil
}

// OpenSecretsLater is Open: the Keychain has no transfer to put off.
func OpenSecretsLater() (keyring.Keyring, error) { return Open() }
