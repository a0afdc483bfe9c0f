package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hangLimit turns a hang into a failure; nothing waits for it when the
// code works.
const hangLimit = 10 * time.Second

// fakeProxy listens on a unix socket in a fresh directory and echoes every
// connection back until its client half-closes, then closes.
type fakeProxy struct {
	path     string
	listener *net.UnixListener
	mu       sync.Mutex
	conns    []net.Conn
}

func startFakeProxy(t *testing.T) *fakeProxy {
	t.Helper()
	dir, err := os.MkdirTemp("", "jrrelay") // short: a socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &fakeProxy{path: filepath.Join(dir, "proxy.sock")}
	p.listener, err = net.ListenUnix("unix", &net.UnixAddr{Name: p.path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	go func() {
		for {
			c, err := p.listener.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return p
}

// kill stops the fake proxy as a dying process would: the socket goes
// and every connection is closed.
func (p *fakeProxy) kill() {
	p.listener.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func startRelay(t *testing.T, socket string) *Relay {
	t.Helper()
	r, err := Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- r.Serve() }()
	t.Cleanup(func() {
		r.Close()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve after Close: %v", err)
			}
		case <-time.After(hangLimit):
			t.Errorf("Serve did not return after Close")
		}
	})
	return r
}

func dialRelay(t *testing.T, r *Relay) *net.TCPConn {
	t.Helper()
	c, err := net.DialTCP("tcp", nil, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.Port()})
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(hangLimit))
	t.Cleanup(func() { c.Close() })
	return c
}

// TestManyConnectionsWithHalfClose sends through the relay on many
// connections at once; each client half-closes after sending and must
// still read its whole echo, which needs the half-close passed on both
// ways (the echo ends only when the proxy side sees EOF).
func TestManyConnectionsWithHalfClose(t *testing.T) {
	p := startFakeProxy(t)
	r := startRelay(t, p.path)
	const clients = 64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTCP("tcp", nil, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.Port()})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(hangLimit))
			want := bytes.Repeat([]byte(fmt.Sprintf("client %d;", i)), 10000)
			go func() {
				c.Write(want)
				c.CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				errs <- fmt.Errorf("client %d: read: %v", i, err)
				return
			}
			if !bytes.Equal(got, want) {
				errs <- fmt.Errorf("client %d: got %d bytes back, want its %d", i, len(got), len(want))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestProxyGoneClosesClient: with no proxy behind the socket, a client's
// connection is closed at once rather than left open.
func TestProxyGoneClosesClient(t *testing.T) {
	p := startFakeProxy(t)
	r := startRelay(t, p.path)
	p.kill()
	c, err := net.DialTCP("tcp", nil, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.Port()})
	if errors.Is(err, syscall.ECONNRESET) {
		return // reset before connect returned: closed at once too
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(hangLimit))
	_, err = c.Read(make([]byte, 1))
	if err == nil || isTimeout(err) {
		t.Fatalf("read from a relay without a proxy: %v, want EOF or a reset", err)
	}
}

// TestProxyDyingEndsConnection: a proxy that dies mid-connection ends the
// client's connection.
func TestProxyDyingEndsConnection(t *testing.T) {
	p := startFakeProxy(t)
	r := startRelay(t, p.path)
	c := dialRelay(t, r)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatalf("echo before the proxy died: %v", err)
	}
	p.kill()
	_, err := c.Read(make([]byte, 1))
	if err == nil || isTimeout(err) {
		t.Fatalf("read after the proxy died: %v, want EOF or a reset", err)
	}
}

// TestCloseEndsConnections: Close ends carried connections, and Serve
// returns (checked by startRelay's cleanup).
func TestCloseEndsConnections(t *testing.T) {
	p := startFakeProxy(t)
	r := startRelay(t, p.path)
	c := dialRelay(t, r)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	_, err := c.Read(make([]byte, 1))
	if err == nil || isTimeout(err) {
		t.Fatalf("read after Close: %v, want EOF or a reset", err)
	}
}

func TestListenNeedsTheSocket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing"), file} {
		_, err := Listen(path)
		if err == nil || !strings.Contains(err.Error(), "start the agent through jailrun") {
			t.Errorf("Listen(%s) error = %v, want one that says what to do", path, err)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
