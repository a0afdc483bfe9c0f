// Package linux keeps jailrun tokens and git credentials in the Secret
// Service (gnome-keyring, KeePassXC, …) over the D-Bus session bus. It
// speaks D-Bus directly, transfers secrets only over a
// dh-ietf1024-sha256-aes128-cbc-pkcs7 encrypted transfer, bounds every call with a
// timeout, and starts no subprocess.
package linux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/jailrun/jailrun/keyring"
)

// Default timeouts.
const (
	DefaultCallTimeout   = 5 * time.Second
	DefaultPromptTimeout = 60 * time.Second
)

// Options tune Open; zero fields take the defaults.
type Options struct {
	// Address of the session bus; empty means DBUS_SESSION_BUS_ADDRESS,
	// else $XDG_RUNTIME_DIR/bus.
	Address string
	// CallTimeout bounds connecting and each D-Bus call.
	CallTimeout time.Duration
	// PromptTimeout bounds waiting for the user to answer an unlock prompt.
	PromptTimeout time.Duration
	// SecretsLater opens the encrypted transfer when a secret is first
	// read or written, not at once: for a caller that may need none
	// (GetMeta), as the key exchange is most of a lookup's cost to the
	// service.
	SecretsLater bool
}

// Keyring is a connection to the Secret Service; it implements
// keyring.Keyring and is safe for concurrent use.
type Keyring struct {
	conn          *dbus.Conn
	closeConn     context.CancelFunc
	service       dbus.BusObject
	callTimeout   time.Duration
	promptTimeout time.Duration

	// The encrypted transfer Open starts. answered is closed once the
	// service has answered: transfer holds its path, or
	// transferErr is set. keyed is closed once our side of the key
	// agreement is done too: transfer holds the key, or keyErr is set.
	answered    chan struct{}
	keyed       chan struct{}
	open        func()      // opens the transfer, once; Open calls it unless SecretsLater
	opened      atomic.Bool // open was called: operations wait for the transfer's answer
	transfer    *transfer
	transferErr error
	keyErr      error
}

var _ keyring.Keyring = (*Keyring)(nil)

// D-Bus names of the Secret Service API.
const (
	serviceName     = "org.freedesktop.secrets"
	servicePath     = dbus.ObjectPath("/org/freedesktop/secrets")
	serviceIface    = "org.freedesktop.Secret.Service"
	collectionIface = "org.freedesktop.Secret.Collection"
	itemIface       = "org.freedesktop.Secret.Item"
	promptIface     = "org.freedesktop.Secret.Prompt"
	propsIface      = "org.freedesktop.DBus.Properties"
	// loginCollection is gnome-keyring's login keyring, used when no
	// default alias is set.
	loginCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	// rootPath means "none" where an object path is expected (no prompt,
	// no alias).
	rootPath = dbus.ObjectPath("/")
)

// Open connects to the Secret Service on the session bus with the default
// timeouts.
func Open() (*Keyring, error) { return OpenWith(Options{}) }

// OpenWith connects to the Secret Service as opts say and starts opening an
// encrypted transfer. It does not wait for the transfer, which takes the
// service milliseconds (its half of the key exchange): the first method
// called sends its own requests meanwhile, and a provider that refuses the
// transfer is that method's error. A missing provider is OpenWith's.
func OpenWith(opts Options) (*Keyring, error) {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.PromptTimeout <= 0 {
		opts.PromptTimeout = DefaultPromptTimeout
	}
	addr := opts.Address
	if addr == "" {
		var err error
		if addr, err = sessionBusAddress(); err != nil {
			return nil, err
		}
	}
	// The key pair is computed while the connection is set up, unless
	// the transfer waits for a secret.
	type keyPair struct {
		kp  dhKeyPair
		err error
	}
	keys := make(chan keyPair, 1)
	newKeys := func() {
		kp, err := newDHKeyPair()
		keys <- keyPair{kp, err}
	}
	if !opts.SecretsLater {
		go newKeys()
	}
	conn, closeConn, err := connect(addr, opts.CallTimeout)
	if err != nil {
		return nil, err
	}
	k := &Keyring{
		conn:          conn,
		closeConn:     closeConn,
		service:       conn.Object(serviceName, servicePath),
		callTimeout:   opts.CallTimeout,
		promptTimeout: opts.PromptTimeout,
		answered:      make(chan struct{}),
		keyed:         make(chan struct{}),
	}
	k.open = sync.OnceFunc(func() {
		k.opened.Store(true)
		if opts.SecretsLater {
			newKeys()
		}
		kp := <-keys
		if kp.err != nil {
			k.transferErr = kp.err
			close(k.answered)
			close(k.keyed)
			return
		}
		k.openTransfer(kp.kp)
	})
	if opts.SecretsLater {
		return k, nil
	}
	kp := <-keys
	if kp.err != nil {
		closeConn()
		return nil, kp.err
	}
	keys <- kp // for open, which sends OpenSession now
	k.open()
	return k, nil
}

// sessionBusAddress finds the session bus the way D-Bus clients do, but
// never by launching one.
func sessionBusAddress() (string, error) {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" {
		return addr, nil
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		path := filepath.Join(dir, "bus")
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + dbus.EscapeBusAddressValue(path), nil
		}
	}
	return "", fmt.Errorf("%w: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist; %s", ErrNoBus, adviceBus)
}

// openTransfer asks for the encrypted transfer (OpenSession), with our side of
// the key exchange, kp, and returns at once. Once the service answers, the
// transfer's path is for ready; the key, which takes a moment more to
// derive, is for agreed.
func (k *Keyring) openTransfer(kp dhKeyPair) {
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	call := k.service.GoWithContext(ctx, serviceIface+".OpenSession", 0, nil, dhAlgorithm, dbus.MakeVariant(kp.public))
	go func() {
		defer close(k.keyed)
		path, peer, err := k.transferAnswer(<-call.Done)
		cancel()
		if err == nil {
			k.transfer = &transfer{path: path}
		}
		k.transferErr = err
		close(k.answered)
		if err == nil {
			k.transfer.key, k.keyErr = kp.transferKey(peer)
		}
	}()
}

// transferAnswer reads the service's answer to OpenSession: the session's
// path and the service's public key.
func (k *Keyring) transferAnswer(call *dbus.Call) (dbus.ObjectPath, []byte, error) {
	var output dbus.Variant
	var path dbus.ObjectPath
	err := call.Store(&output, &path)
	if n := dbusErrorName(err); n == dbusNotSupported {
		return "", nil, fmt.Errorf("%w (%s); jailrun never transfers tokens in plain: use gnome-keyring or another provider that supports it", ErrUnsupported, dhAlgorithm)
	}
	if err != nil {
		return "", nil, classify("open a Secret Service session", k.callTimeout, err)
	}
	peer, ok := output.Value().([]byte)
	if !ok {
		return "", nil, errors.New("open a Secret Service session: the provider answered without a public key; use gnome-keyring or another provider that supports encrypted transfer")
	}
	return path, peer, nil
}

// ready opens the transfer if it is not yet, waits for the service's
// answer and returns the transfer's path, which calls that need it name.
func (k *Keyring) ready() (dbus.ObjectPath, error) {
	k.open()
	<-k.answered
	if k.transferErr != nil {
		return "", k.transferErr
	}
	return k.transfer.path, nil
}

// agreed opens the transfer if it is not yet and waits until its key is
// agreed, which encrypting and decrypting need.
func (k *Keyring) agreed() (*transfer, error) {
	k.open()
	<-k.keyed
	if k.transferErr != nil {
		return nil, k.transferErr
	}
	return k.transfer, k.keyErr
}

// Close ends the encrypted transfer, if it was opened, and closes the connection.
// (The service also ends a session whose client disconnects.)
func (k *Keyring) Close() error {
	select {
	case <-k.answered:
		if k.transferErr == nil && k.conn.Connected() {
			k.conn.Object(serviceName, k.transfer.path).Go("org.freedesktop.Secret.Session.Close", dbus.FlagNoReplyExpected, nil)
		}
	default:
	}
	k.closeConn()
	return nil
}

// call makes one D-Bus method call bounded by the call timeout.
func (k *Keyring) call(obj dbus.BusObject, method string, args ...any) *dbus.Call {
	ctx, cancel := context.WithTimeout(context.Background(), k.callTimeout)
	defer cancel()
	return obj.CallWithContext(ctx, method, 0, args...)
}
