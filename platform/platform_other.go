//go:build !linux && !(darwin && cgo)

package platform

import (
	"fmt"
	"runtime"

	"github.com/jailrun/jailrun/keyring"
)

// Open fails: there is no keychain backend for this system (on macOS,
// jailrun must be built with cgo: CGO_ENABLED=1).
func Open() (keyring.Keyring, error) {
	return nil, fmt.Errorf("jailrun has no keychain backend for %s; on macOS build with CGO_ENABLED=1", runtime.GOOS)
}
