// Package platform opens the OS keychain backend for the running system:
// the Secret Service on Linux, the Keychain on macOS.
package platform
