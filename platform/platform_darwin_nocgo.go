//go:build darwin && !cgo

package platform

// The macOS Keychain is reached through cgo: a build without it would make
// binaries whose every keychain call fails, so it stops here with the fix.
var _ int = "jailrun for macOS needs cgo for the Keychain; build it with: CGO_ENABLED=1 go install github.com/jailrun/jailrun/cmd/...@latest (or ./install.sh)"
