//go:build !linux && !darwin

package platform

import (
	"fmt"
	"runtime"

	"github.com/jailrun/jailrun/keyring"
)

// Open fails: there is no keychain backend for this system. (On macOS a
// build without cgo stops at compile time; see platform_darwin_nocgo.go.)
func Open() (keyring.Keyring, error) {
	return nil, fmt.Errorf("jailrun has no keychain backend for %s; it runs on Linux and macOS", runtime.GOOS)
}

// OpenSecretsLater fails as Open does.
func OpenSecretsLater() (keyring.Keyring, error) { return Open() }
