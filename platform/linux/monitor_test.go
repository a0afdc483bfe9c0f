//go:build linux

package linux_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform/linux"
)

// watchBus becomes a monitor of s's bus and returns every message on it
// from then on.
func watchBus(t *testing.T, s *keyringtest.Bus) <-chan *dbus.Message {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	monitor, err := dbus.Connect(s.Address, dbus.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
	defer callCancel()
	if err := monitor.BusObject().CallWithContext(callCtx, "org.freedesktop.DBus.Monitoring.BecomeMonitor", 0, []string{}, uint32(0)).Err; err != nil {
		t.Fatalf("become a bus monitor: %v", err)
	}
	messages := make(chan *dbus.Message, 100000)
	monitor.Eavesdrop(messages)
	t.Cleanup(func() { stopEavesdropping(monitor) })
	return messages
}

// stopEavesdropping hands conn's messages back to godbus before the
// connection closes: godbus's Close closes the eavesdropping channel while
// its reader may still send one more message to it, which panics.
func stopEavesdropping(conn *dbus.Conn) { conn.Eavesdrop(nil) }

// TestGreetingComesFirst watches the bus while a Keyring opens and reads:
// its first call to the Secret Service is the greeting, and its
// OpenSession goes out only after the service has answered the greeting.
// gnome-keyring aborts when a client's first call is an OpenSession it
// handles before it has recorded the client.
func TestGreetingComesFirst(t *testing.T) {
	s := keyringtest.Start(t)
	messages := watchBus(t, s)
	// One connection of each kind: a single unix: address, and a list of
	// addresses, which godbus connects to.
	for _, addr := range []string{s.Address, "unix:path=" + filepath.Join(t.TempDir(), "none") + ";" + s.Address} {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
		if _, err := openTest(t).Get("github:absent"); err == nil {
			t.Fatal("Get of a token never stored succeeded")
		}
	}
	greeting := map[string]uint32{} // the serial of each client's greeting
	answered := map[string]bool{}   // the service has answered it
	timeout := time.After(5 * time.Second)
	for transfersOpened := 0; transfersOpened < 2; {
		var msg *dbus.Message
		select {
		case msg = <-messages:
		case <-timeout:
			t.Fatalf("the monitor saw %d OpenSession calls within 5s, want 2", transfersOpened)
		}
		sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
		destination, _ := msg.Headers[dbus.FieldDestination].Value().(string)
		member, _ := msg.Headers[dbus.FieldMember].Value().(string)
		path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
		switch {
		case msg.Type == dbus.TypeMethodReply || msg.Type == dbus.TypeError:
			if serial, _ := msg.Headers[dbus.FieldReplySerial].Value().(uint32); greeting[destination] == serial && serial != 0 {
				answered[destination] = true
			}
		case msg.Type != dbus.TypeMethodCall || destination != "org.freedesktop.secrets":
		case greeting[sender] == 0:
			if member != "Get" || path != "/org/freedesktop/secrets" {
				t.Fatalf("the first call to the Secret Service is %s on %s, not the greeting (Get on /org/freedesktop/secrets)", member, path)
			}
			greeting[sender] = msg.Serial()
		case member == "OpenSession":
			if !answered[sender] {
				t.Fatal("OpenSession went out before the service had answered the greeting")
			}
			transfersOpened++
		}
	}
}

// TestSecretsNeverCrossTheBusInPlain watches every message on the private
// bus while tokens and credentials are stored and read, and checks that
// no secret appears in any of them.
func TestSecretsNeverCrossTheBusInPlain(t *testing.T) {
	messages := watchBus(t, keyringtest.Start(t))
	tok := keyring.Token{Name: "github:monitored", Secret: newSecret()}
	cred := keyring.Credential{Protocol: "https", Host: "git.example", Username: "alice", Password: newSecret()}
	k := openTest(t)
	if err := k.Put(tok); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(tok.Name); err != nil || got.Secret != tok.Secret {
		t.Fatalf("Get: %v", err)
	}
	if _, err := k.List(); err != nil {
		t.Fatal(err)
	}
	if err := k.StoreCredential(cred); err != nil {
		t.Fatal(err)
	}
	if err := k.StoreCredential(cred); err != nil { // the update path: SetSecret
		t.Fatal(err)
	}
	if got, err := k.FindCredentials(cred); err != nil || len(got) != 1 {
		t.Fatalf("FindCredentials: %d, %v", len(got), err)
	}
	// The monitor sees messages a little later: the last one to wait for
	// is a search for a marker.
	marker := "marker-" + rand.Text()
	if _, err := k.Get("github:" + marker); err == nil {
		t.Fatal("Get of the marker found a token")
	}

	seen := map[string]int{}
	timeout := time.After(5 * time.Second)
	for seen["marker"] == 0 {
		select {
		case msg := <-messages:
			var buf bytes.Buffer
			if err := msg.EncodeTo(&buf, binary.LittleEndian); err != nil {
				t.Fatalf("encode a monitored message: %v", err)
			}
			wire := buf.Bytes()
			for what, secret := range map[string]string{"token": tok.Secret, "password": cred.Password} {
				if bytes.Contains(wire, []byte(secret)) {
					t.Fatalf("the %s crossed the bus in plain in %s", what, msg.Headers[dbus.FieldMember])
				}
			}
			if member, ok := msg.Headers[dbus.FieldMember].Value().(string); ok && msg.Type == dbus.TypeMethodCall {
				seen[member]++
				if member == "OpenSession" && msg.Body[0] != "dh-ietf1024-sha256-aes128-cbc-pkcs7" {
					t.Fatalf("OpenSession with algorithm %v", msg.Body[0])
				}
			}
			if bytes.Contains(wire, []byte(tok.Name)) {
				seen["token name"]++
			}
			if bytes.Contains(wire, []byte(marker)) {
				seen["marker"]++
			}
		case <-timeout:
			t.Fatalf("the monitor did not see the last call within 5s; saw %v", seen)
		}
	}
	// The monitor saw the traffic that carries secrets, and finds plain
	// strings in it.
	for _, want := range []string{"OpenSession", "CreateItem", "SetSecret", "GetSecrets", "token name"} {
		if seen[want] == 0 {
			t.Errorf("the monitor saw no %s; saw %v", want, seen)
		}
	}
}

// TestSecretsLaterOpensNoTransferForMetadata watches the bus: a Keyring
// opened with SecretsLater reads a token's metadata with no OpenSession,
// and opens the transfer, once, for the first secret it reads.
func TestSecretsLaterOpensNoTransferForMetadata(t *testing.T) {
	messages := watchBus(t, keyringtest.Start(t))
	tok := keyring.Token{Name: "github:later", Secret: newSecret(), Meta: keyring.Meta{Kind: "fine-grained"}}
	if err := openTest(t).Put(tok); err != nil {
		t.Fatal(err)
	}
	k, err := linux.OpenWith(linux.Options{SecretsLater: true})
	if err != nil {
		t.Fatalf("OpenWith: %v", err)
	}
	defer k.Close()
	meta, err := k.GetMeta(tok.Name)
	if err != nil || meta.Secret != "" || meta.Name != tok.Name || meta.Meta.Kind != "fine-grained" {
		t.Fatalf("GetMeta = %+v, %v; want the token's name and kind, no secret", meta.Meta, err)
	}
	marker := "github:marker-" + rand.Text()
	if _, err := k.GetMeta(marker); err == nil {
		t.Fatal("GetMeta of the marker found a token")
	}
	for i := range 2 {
		if got, err := k.Get(tok.Name); err != nil || got.Secret != tok.Secret {
			t.Fatalf("Get %d after GetMeta: %v", i, err)
		}
	}
	if _, err := k.GetMeta(marker + "-end"); err == nil {
		t.Fatal("GetMeta of the end marker found a token")
	}

	opened := map[string]int{} // OpenSession calls by sender
	var sender string          // the SecretsLater connection, known by its marker
	timeout := time.After(5 * time.Second)
	for {
		var msg *dbus.Message
		select {
		case msg = <-messages:
		case <-timeout:
			t.Fatalf("the monitor did not see the end marker within 5s (OpenSession by sender: %v)", opened)
		}
		if msg.Type != dbus.TypeMethodCall {
			continue
		}
		from, _ := msg.Headers[dbus.FieldSender].Value().(string)
		member, _ := msg.Headers[dbus.FieldMember].Value().(string)
		var buf bytes.Buffer
		msg.EncodeTo(&buf, binary.LittleEndian)
		switch wire := buf.Bytes(); {
		case bytes.Contains(wire, []byte(marker+"-end")):
			if opened[sender] != 1 {
				t.Fatalf("the SecretsLater connection sent OpenSession %d times; want once, for its first Get", opened[sender])
			}
			return
		case bytes.Contains(wire, []byte(marker)):
			if sender = from; opened[from] != 0 {
				t.Fatal("OpenSession went out before any secret was read")
			}
		case member == "OpenSession":
			opened[from]++
		}
	}
}
