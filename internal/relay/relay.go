// Package relay carries the jail's network connections out. Inside the
// jail's network namespace, whose only interface is its own loopback, a
// Relay listens on 127.0.0.1 (the port the agent's HTTPS_PROXY names) and
// carries each connection, byte for byte, over the unix socket of
// jailrun's proxy, which runs outside the jail and decides where it goes.
package relay

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// dialTimeout bounds the connection to the proxy's socket; a proxy that
// does not accept in that time is gone or stuck.
const dialTimeout = 5 * time.Second

// acceptRetry is the pause before accepting again after running out of
// file descriptors or buffers, as net/http does.
const acceptRetry = 50 * time.Millisecond

// isTransient tells accept errors that pass once connections close.
func isTransient(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.ECONNABORTED)
}

// Relay listens on the jail's loopback and carries connections to the
// proxy's socket.
type Relay struct {
	listener *net.TCPListener
	socket   string

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // both ends of every carried connection
	closed bool
	active sync.WaitGroup
}

// Listen starts listening on 127.0.0.1 on a port the kernel chooses (see
// Port) for connections to carry to the proxy listening on socketPath.
func Listen(socketPath string) (*Relay, error) {
	info, err := os.Stat(socketPath)
	if err != nil {
		return nil, fmt.Errorf("relay: the proxy's socket is missing: %v; start the agent through jailrun", err)
	}
	if info.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("relay: %s is not a socket; start the agent through jailrun", socketPath)
	}
	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("relay: listen on the jail's loopback: %v", err)
	}
	return &Relay{listener: l, socket: socketPath, conns: map[net.Conn]struct{}{}}, nil
}

// Port is the port the relay listens on, on 127.0.0.1.
func (r *Relay) Port() int {
	return r.listener.Addr().(*net.TCPAddr).Port
}

// Serve accepts and carries connections until Close, then returns nil
// once every carried connection has ended.
func (r *Relay) Serve() error {
	for {
		c, err := r.listener.AcceptTCP()
		if isTransient(err) {
			time.Sleep(acceptRetry)
			continue
		}
		if err != nil {
			r.mu.Lock()
			closed := r.closed
			r.mu.Unlock()
			r.active.Wait()
			if closed {
				return nil
			}
			return fmt.Errorf("relay: accept on the jail's loopback: %v", err)
		}
		if !r.track(c) {
			c.Close()
			continue
		}
		r.active.Add(1)
		go func() {
			defer r.active.Done()
			defer r.untrack(c)
			r.carry(c)
		}()
	}
}

// Close stops listening and ends every carried connection.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	return r.listener.Close()
}

// carry connects client to the proxy and pipes them. When the proxy cannot
// be reached, the client's connection is closed at once, so its program
// sees the failure instead of waiting.
func (r *Relay) carry(client *net.TCPConn) {
	proxy, err := net.DialTimeout("unix", r.socket, dialTimeout)
	if err != nil {
		client.SetLinger(0) // a reset tells the client at once
		client.Close()
		return
	}
	if !r.track(proxy) {
		proxy.Close()
		client.Close()
		return
	}
	defer r.untrack(proxy)
	Pipe(client, proxy)
}

// track records c for Close; it reports false once the relay is closed.
func (r *Relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *Relay) untrack(c net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
}

// Pipe carries bytes both ways between a and b until both directions end,
// then closes both. The end of one direction is passed on as a half-close
// (CloseWrite), so a peer that finishes sending still gets its answer; an
// error in either direction ends both. It returns the bytes carried from a
// to b and from b to a. io.Copy lets the kernel splice between TCP and
// unix sockets, so the bytes are not copied through user space.
func Pipe(a, b net.Conn) (aToB, bToA int64) {
	done := make(chan struct{})
	go func() {
		bToA = copyHalf(a, b)
		close(done)
	}()
	aToB = copyHalf(b, a)
	<-done
	a.Close()
	b.Close()
	return aToB, bToA
}

// copyHalf copies src to dst. At src's end it half-closes dst; on an
// error (or when dst cannot half-close) it closes both, which ends the
// other direction too.
func copyHalf(dst, src net.Conn) int64 {
	n, err := io.Copy(dst, src)
	if err == nil {
		if hc, ok := dst.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
			return n
		}
	}
	src.Close()
	dst.Close()
	return n
}
