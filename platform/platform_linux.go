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

// OpenSecretsLater is Open for a caller that may read only what
// keyring.MetaGetter reads: the encrypted transfer, most of a lookup's
// cost to the service, is opened when a secret is first read or written.
func OpenSecretsLater() (keyring.Keyring, error) {
	k, err := linux.OpenWith(linux.Options{SecretsLater: true})
	if err != nil {
		return nil, err
	}
	return k, nil
}
