package linux

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Kinds of failure, for errors.Is. Every error this package returns is one
// line saying what failed and what to do.
var (
	// ErrNoBus: there is no D-Bus session bus, or it cannot be reached.
	ErrNoBus = errors.New("no D-Bus session bus")
	// ErrNoProvider: nothing on the bus provides the Secret Service.
	ErrNoProvider = errors.New("no Secret Service provider")
	// ErrUnsupported: the provider refuses the encrypted session.
	ErrUnsupported = errors.New("the Secret Service provider does not support encrypted transfer")
	// ErrLocked: the keyring is locked and cannot be unlocked here.
	ErrLocked = errors.New("the keyring is locked")
	// ErrDismissed: the unlock prompt was dismissed, or no prompter could
	// show it.
	ErrDismissed = errors.New("the keyring is locked and its unlock prompt was dismissed")
	// ErrNoCollection: the keyring has no default collection to store
	// tokens in (gnome-keyring started without a password).
	ErrNoCollection = errors.New("the keyring has no default collection")
	// ErrTimeout: the keyring did not answer in time.
	ErrTimeout = errors.New("timeout")
)

const (
	adviceBus          = "run the command inside a desktop login session or under dbus-run-session"
	adviceProvider     = "install one: sudo apt install gnome-keyring; headless: gnome-keyring-daemon --start --components=secrets"
	adviceLocked       = "unlock it in your desktop session (e.g. with Seahorse) and retry; headless: " + HeadlessRecipe
	adviceNoCollection = "create a default keyring in your desktop's keyring manager (e.g. Seahorse); headless: " + HeadlessRecipe
)

// HeadlessRecipe starts a shell with its own session bus and a keyring
// unlocked (created, the first time) with a password it asks for, hidden.
// The README's "Headless Linux" gives the same line, and a test runs it.
const HeadlessRecipe = `dbus-run-session -- sh -c 'stty -echo; printf "Keyring password: " >&2; read -r pw; stty echo; echo >&2; printf %s "$pw" | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$SHELL"'`

// D-Bus error names this package tells apart.
const (
	dbusServiceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"
	dbusNameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner"
	dbusSpawnPrefix    = "org.freedesktop.DBus.Error.Spawn."
	dbusNoReply        = "org.freedesktop.DBus.Error.NoReply"
	dbusNotSupported   = "org.freedesktop.DBus.Error.NotSupported"
	dbusUnknownMethod  = "org.freedesktop.DBus.Error.UnknownMethod"
	dbusUnknownObject  = "org.freedesktop.DBus.Error.UnknownObject"
	secretIsLocked     = "org.freedesktop.Secret.Error.IsLocked"
	secretNoSuchObject = "org.freedesktop.Secret.Error.NoSuchObject"
	secretNoSession    = "org.freedesktop.Secret.Error.NoSession"
)

// dbusErrorName returns the D-Bus error name carried by err, or "".
func dbusErrorName(err error) string {
	var e dbus.Error
	if errors.As(err, &e) {
		return e.Name
	}
	var pe *dbus.Error
	if errors.As(err, &pe) {
		return pe.Name
	}
	return ""
}

// isNoSuchObject reports whether err says the item or collection is gone.
func isNoSuchObject(err error) bool {
	switch dbusErrorName(err) {
	case secretNoSuchObject, dbusUnknownObject, dbusUnknownMethod:
		return true
	}
	return false
}

// classify turns the failure of op (e.g. "read the token") into one line
// that says what went wrong and what to do, wrapping the matching kind.
// Messages from the service are kept to their first line; they never hold
// secrets, which cross the bus only encrypted.
func classify(op string, timeout time.Duration, err error) error {
	if err == nil {
		return nil
	}
	name := dbusErrorName(err)
	switch {
	case name == dbusNoReply && strings.Contains(err.Error(), "disconnected"):
		// The bus answers so when the provider exits before it replies.
		return fmt.Errorf("%s: %w: it stopped before answering (it may have crashed); %s", op, ErrNoProvider, adviceProvider)
	case errors.Is(err, context.DeadlineExceeded) || name == dbusNoReply:
		return fmt.Errorf("%s: %w: the keyring did not answer within %s; check that the Secret Service provider (gnome-keyring-daemon) is running and responsive", op, ErrTimeout, timeout)
	case name == dbusServiceUnknown || name == dbusNameHasNoOwner || strings.HasPrefix(name, dbusSpawnPrefix):
		return fmt.Errorf("%s: %w on the session bus; %s", op, ErrNoProvider, adviceProvider)
	case name == secretNoSession:
		// A provider that restarted knows no session opened before.
		return fmt.Errorf("%s: the Secret Service provider restarted during the command; run it again", op)
	case name == secretIsLocked:
		return fmt.Errorf("%s: %w; %s", op, ErrLocked, adviceLocked)
	case errors.Is(err, dbus.ErrClosed):
		return fmt.Errorf("%s: %w: the connection to the bus was closed; %s", op, ErrNoBus, adviceBus)
	}
	return fmt.Errorf("%s: %s", op, firstLine(err.Error()))
}

// firstLine keeps error messages to a single line.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
