package linux

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUnixSocket(t *testing.T) {
	for addr, want := range map[string]string{
		"unix:path=/run/user/1000/bus":                 "/run/user/1000/bus",
		"unix:path=/tmp/a%20b/bus,guid=0123abcd":       "/tmp/a b/bus",
		"unix:guid=0123abcd,path=/tmp/bus":             "/tmp/bus",
		"unix:abstract=/tmp/dbus-XYZ,guid=0123":        "@/tmp/dbus-XYZ",
		"unix:path=/a;unix:path=/b":                    "", // a list: godbus tries each
		"tcp:host=localhost,port=1234":                 "",
		"unix:tmpdir=/tmp":                             "",
		"unix:path=":                                   "",
		"unix:path=%zz":                                "",
		"nonce-tcp:host=localhost,port=1,noncefile=/x": "",
	} {
		if got := unixSocket(addr); got != want {
			t.Errorf("unixSocket(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestBusRefusesAuthentication checks that a bus answering the pipelined
// exchange with REJECTED is a one-line ErrNoBus error, not a hang.
func TestBusRefusesAuthentication(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Read(make([]byte, 512))
		c.Write([]byte("REJECTED DBUS_COOKIE_SHA1\r\n"))
		time.Sleep(2 * time.Second)
	}()
	start := time.Now()
	_, _, err = connect("unix:path="+path, time.Second)
	if !errors.Is(err, ErrNoBus) || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("connect to a bus that refuses: %v; want a one-line ErrNoBus saying it refused", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("connect to a bus that refuses took %s, want no wait for the timeout", d)
	}
}
