//go:build linux

package linux_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
)

// TestSecretsNeverCrossTheBusInPlain watches every message on the private
// bus while tokens and credentials are stored and read, and checks that
// no secret appears in any of them.
func TestSecretsNeverCrossTheBusInPlain(t *testing.T) {
	s := keyringtest.Start(t)
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
	// From now on every message on the bus comes here (nothing else is
	// on it yet).
	messages := make(chan *dbus.Message, 100000)
	monitor.Eavesdrop(messages)

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
