package platform

import (
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/platform/linux"
)

// Open connects to the Secret Service on the session bus.
func Open() (keyring.Keyring, error) {
	k, err := linux.Open()
	if err != nil {
		return nil, err
	}
	return k, nil
}
