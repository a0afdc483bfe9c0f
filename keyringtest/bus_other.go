//go:build !linux

package keyringtest

import "testing"

// Bus is a private D-Bus session bus with a Secret Service; on this system there is
// none, and every test that asks for one is skipped.
type Bus struct {
	Address         string
	AbstractAddress string
	RuntimeDir      string
}

const notLinux = "the Secret Service tests run on Linux only; this system's keychain backend has tests of its own"

// Start skips the test: the Secret Service is Linux's.
func Start(t testing.TB) *Bus { t.Helper(); t.Skip(notLinux); return nil }

// StartAbstract skips the test: the Secret Service is Linux's.
func StartAbstract(t testing.TB) *Bus { t.Helper(); t.Skip(notLinux); return nil }

// StartWithoutCollection skips the test: the Secret Service is Linux's.
func StartWithoutCollection(t testing.TB) *Bus { t.Helper(); t.Skip(notLinux); return nil }

// StartBusOnly skips the test: the Secret Service is Linux's.
func StartBusOnly(t testing.TB) *Bus { t.Helper(); t.Skip(notLinux); return nil }

// Env is never reached: Start skips the test.
func (s *Bus) Env() []string { return nil }

// Lock is never reached: Start skips the test.
func (s *Bus) Lock(t testing.TB) {}

// Count is never reached: Start skips the test.
func (s *Bus) Count(t testing.TB, attrs map[string]string) int { return 0 }

// ProviderLog is never reached: Start skips the test.
func (s *Bus) ProviderLog() string { return "" }

// KillProvider is never reached: Start skips the test.
func (s *Bus) KillProvider(t testing.TB) {}
