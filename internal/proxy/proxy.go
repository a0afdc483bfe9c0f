// Package proxy is the jail's only way out: an HTTP proxy that jailrun's
// supervisor runs outside the jail, on the unix socket the jail's relay
// (package relay) carries the agent's connections to. It speaks the two
// forms proxy clients use (RFC 9110 section 9.3.6 CONNECT host:port for a
// tunnel, and an absolute http:// URL to forward a plain request), asks a
// Policy about every destination, resolves names itself and dials exactly
// the addresses the policy saw, so a name cannot be rebound to another
// address between the check and the connection.
package proxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/jailrun/jailrun/internal/relay"
)

// Resolver looks names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options tune a Server; a zero field takes the default in its comment.
type Options struct {
	Resolver       Resolver      // net.DefaultResolver
	DialTimeout    time.Duration // 15s: the lookup and TCP connect of a destination
	HeaderTimeout  time.Duration // 30s: reading a request's header
	IdleTimeout    time.Duration // 2m: a kept-alive connection between forwarded requests
	MaxHeaderBytes int           // 64 KiB: a request's header
	MaxConns       int           // 512: client connections at once; more are answered 503

	// Password, if set, is what every request must carry in its
	// Proxy-Authorization header (Basic, user ProxyUser), else it is
	// answered 407: on macOS the proxy listens on a loopback TCP port that
	// any local user can reach, and the password in the agent's proxy URL
	// (http://jailrun:PASSWORD@127.0.0.1:PORT) keeps them out. It is no
	// GitHub token; the forwarded requests do not carry it on.
	Password string

	// Terminate, if set, names the GitHub hosts whose TLS the proxy
	// terminates to replace the session's placeholders.
	Terminate *Terminate

	// Refused, if set, is called the first time each destination is
	// refused (not on every connection), e.g. to print one line. It must
	// not block.
	Refused func(*Refusal)
	// ErrorLog receives net/http's complaints about clients; by default
	// they are dropped.
	ErrorLog *log.Logger
}

// tcpKeepAlive probes idle upstream connections, so a tunnel to a vanished
// peer ends. Tunnels have no idle timeout of their own: what is idle for a
// TLS stream (a long poll, a quiet event stream) is the application's call.
const tcpKeepAlive = 30 * time.Second

// Server is the proxy. Its zero value is not usable; call New.
type Server struct {
	policy   Policy
	opts     Options
	http     *http.Server
	forward  *httputil.ReverseProxy
	upstream *http.Transport
	ledger   *ledger

	terminated  *httputil.ReverseProxy // requests of terminated connections, on to the real hosts
	upstreamTLS *http.Transport
	defaults    defaultBranches
	slots       chan struct{} // one per client connection open
	refusing    chan struct{} // one per connection being refused (limitListener.refuse)
	tunnels     sync.WaitGroup

	mu     sync.Mutex
	conns  map[*clientConn]struct{}
	closed bool
}

// New makes a Server that asks policy about every destination.
func New(policy Policy, opts Options) *Server {
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 15 * time.Second
	}
	if opts.HeaderTimeout == 0 {
		opts.HeaderTimeout = 30 * time.Second
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if opts.MaxHeaderBytes == 0 {
		opts.MaxHeaderBytes = 64 << 10
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = 512
	}
	if opts.ErrorLog == nil {
		opts.ErrorLog = log.New(io.Discard, "", 0)
	}
	s := &Server{
		policy:   policy,
		opts:     opts,
		ledger:   newLedger(),
		slots:    make(chan struct{}, opts.MaxConns),
		refusing: make(chan struct{}, opts.MaxConns),
		conns:    map[*clientConn]struct{}{},
	}
	s.upstream = &http.Transport{
		Proxy:              nil, // never the supervisor's own proxy variables
		DialContext:        s.dialForward,
		IdleConnTimeout:    opts.IdleTimeout,
		DisableCompression: true, // pass Accept-Encoding and bodies through as they are
	}
	s.forward = &httputil.ReverseProxy{
		// The request already names its destination; Rewrite (rather than
		// Director) adds no X-Forwarded-* headers, and ReverseProxy drops
		// the hop-by-hop ones (Proxy-Authorization, Proxy-Connection, …).
		Rewrite:      func(*httputil.ProxyRequest) {},
		Transport:    s.upstream,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) { s.fail(w, err) },
		ErrorLog:     opts.ErrorLog,
	}
	if opts.Terminate != nil {
		s.terminated = s.newTerminated()
	}
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: opts.HeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          opts.ErrorLog,
	}
	return s
}

// Serve answers the connections l accepts until Close, then returns nil.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(limitListener{Listener: l, s: s})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops listening, ends every connection, tunnels included, and
// waits for the tunnels' byte counts.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*clientConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.http.Close()
	for _, c := range conns {
		c.Close()
	}
	s.upstream.CloseIdleConnections()
	if s.upstreamTLS != nil {
		s.upstreamTLS.CloseIdleConnections()
	}
	s.tunnels.Wait()
	return err
}

// Traffic returns the bytes carried per destination, sorted. A tunnel's
// bytes count when it ends (Close ends them all); a forwarded request's
// as they pass.
func (s *Server) Traffic() []Traffic {
	t, _ := s.ledger.snapshot()
	return t
}

// Refusals returns the destinations refused, sorted, each with its reason
// and count.
func (s *Server) Refusals() []Refused {
	_, r := s.ledger.snapshot()
	return r
}

// ProxyUser is the user name in the proxy URL when Options.Password is set.
const ProxyUser = "jailrun"

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("Proxy-Authenticate", `Basic realm="jailrun"`)
		http.Error(w, "jailrun proxy: this proxy serves only jailrun's jail; use the proxy URL in the jail's HTTPS_PROXY", http.StatusProxyAuthRequired)
		return
	}
	if r.Method == http.MethodConnect {
		s.tunnel(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "jailrun proxy: send CONNECT host:port, or a request for an absolute http:// URL", http.StatusBadRequest)
		return
	}
	s.forward.ServeHTTP(w, r)
}

// authorized reports whether r carries the password, when there is one.
// The comparison takes the same time whatever the password's first
// differing byte.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Password == "" {
		return true
	}
	creds, ok := strings.CutPrefix(r.Header.Get("Proxy-Authorization"), "Basic ")
	if !ok {
		return false
	}
	want := base64.StdEncoding.EncodeToString([]byte(ProxyUser + ":" + s.opts.Password))
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(creds)), []byte(want)) == 1
}

// tunnel answers CONNECT: it dials the destination, says 200 and pipes
// the two connections; a GitHub host's connection it terminates instead.
func (s *Server) tunnel(w http.ResponseWriter, r *http.Request) {
	dest, err := ParseDestination(r.Host, 0)
	if err != nil {
		http.Error(w, "jailrun proxy: CONNECT needs host:port: "+err.Error(), http.StatusBadRequest)
		return
	}
	// A name with a final dot is the same name to DNS: github.com. is
	// GitHub's, and goes where github.com goes.
	dest.Host = strings.TrimRight(dest.Host, ".")
	if s.opts.Terminate.terminates(dest) {
		s.connectTerminated(w, dest)
		return
	}
	upstream, count, err := s.dial(r.Context(), dest)
	if err != nil {
		s.fail(w, err)
		return
	}
	conn, buffered, err := w.(http.Hijacker).Hijack()
	if err != nil {
		upstream.Close()
		http.Error(w, "jailrun proxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	client := conn.(*clientConn)
	defer client.Close()
	if !s.startTunnel() {
		upstream.Close()
		return
	}
	defer s.tunnels.Done()
	client.SetDeadline(time.Time{}) // the header timeout's deadline no longer applies
	if _, err := io.WriteString(client.Conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		upstream.Close()
		return
	}
	// Bytes the client sent after its header (e.g. a TLS hello it did not
	// wait to send) were read with the header.
	if n := buffered.Reader.Buffered(); n > 0 {
		early, _ := buffered.Reader.Peek(n)
		written, err := upstream.Write(early)
		count.up.Add(int64(written))
		if err != nil {
			upstream.Close()
			return
		}
	}
	up, down := relay.Pipe(client.Conn, upstream)
	count.up.Add(up)
	count.down.Add(down)
}

// connectTerminated answers the CONNECT to a GitHub host: 200, then the
// connection is the proxy's to terminate (see terminate); each request
// dials upstream on its own, checked like any other.
func (s *Server) connectTerminated(w http.ResponseWriter, dest Destination) {
	if err := s.policy.Admit(dest); err != nil {
		s.fail(w, s.refused(err))
		return
	}
	conn, buffered, err := w.(http.Hijacker).Hijack()
	if err != nil {
		http.Error(w, "jailrun proxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	client := conn.(*clientConn)
	if !s.startTunnel() {
		client.Close()
		return
	}
	defer s.tunnels.Done()
	client.SetDeadline(time.Time{})
	if _, err := io.WriteString(client.Conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		client.Close()
		return
	}
	var early []byte
	if n := buffered.Reader.Buffered(); n > 0 {
		early, _ = buffered.Reader.Peek(n)
		early = bytes.Clone(early)
	}
	s.terminate(client, early, dest)
}

// dialForward is the transport's dial for forwarded requests: checked like
// a tunnel, counted as it goes.
func (s *Server) dialForward(ctx context.Context, _, addr string) (net.Conn, error) {
	dest, err := ParseDestination(addr, 0)
	if err != nil {
		return nil, err
	}
	c, count, err := s.dial(ctx, dest)
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, c: count}, nil
}

// dial asks the policy about dest, resolves it and connects to the first
// checked address that answers.
func (s *Server) dial(ctx context.Context, dest Destination) (net.Conn, *counter, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout)
	defer cancel()
	if err := s.policy.Admit(dest); err != nil {
		return nil, nil, s.refused(err)
	}
	addrs, err := s.resolve(ctx, dest.Host)
	if err != nil {
		return nil, nil, s.refused(unreachable(dest, err))
	}
	if err := s.policy.Check(dest, addrs); err != nil {
		return nil, nil, s.refused(err)
	}
	dialer := net.Dialer{KeepAlive: tcpKeepAlive}
	for _, a := range addrs {
		var c net.Conn
		c, err = dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(a.Unmap(), uint16(dest.Port)).String())
		if err == nil {
			return c, s.ledger.connection(dest.String()), nil
		}
	}
	return nil, nil, s.refused(unreachable(dest, err))
}

// resolve returns an IP literal as itself and looks a name up.
func (s *Server) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := s.opts.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("look up %s: no address", host)
	}
	return addrs, nil
}

// refused records a policy's refusal and returns it.
func (s *Server) refused(err error) error {
	var r *Refusal
	if errors.As(err, &r) && s.ledger.refuse(r) && s.opts.Refused != nil {
		s.opts.Refused(r)
	}
	return err
}

// fail answers a request whose destination was refused (403) or could
// not be reached (502), with a one-line body that says why.
func (s *Server) fail(w http.ResponseWriter, err error) {
	var r *Refusal
	if errors.As(err, &r) {
		status := http.StatusForbidden
		if r.Check != "" {
			status = http.StatusBadGateway
		}
		http.Error(w, r.Error(), status)
		return
	}
	http.Error(w, "jailrun proxy: "+err.Error(), http.StatusBadGateway)
}

// limitListener hands out at most MaxConns connections at once and
// answers the others 503 at once, so a client over the limit hears why
// instead of waiting.
type limitListener struct {
	net.Listener
	s *Server
}

func (l limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.s.slots <- struct{}{}:
		default:
			l.refuse(c)
			continue
		}
		cc := &clientConn{Conn: c, s: l.s}
		if !l.s.track(cc) {
			cc.Close()
			continue
		}
		return cc, nil
	}
}

// refuse answers c 503 and closes it. The answer is sent before the
// request is read, so c is half-closed and drained for up to a second
// first: closing with the request unread would reset the connection and
// could lose the answer on its way to the client. At most MaxConns
// refusals drain at once; beyond that c is closed at once.
func (l limitListener) refuse(c net.Conn) {
	body := fmt.Sprintf("jailrun proxy: too many connections at once (%d); try again\n", l.s.opts.MaxConns)
	c.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	hc, ok := c.(interface{ CloseWrite() error })
	if !ok || hc.CloseWrite() != nil {
		c.Close()
		return
	}
	select {
	case l.s.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.s.refusing }()
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
		c.Close()
	}()
}

// clientConn is an accepted connection that gives its slot back when it
// closes.
type clientConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *clientConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		<-c.s.slots
	})
	return err
}

// startTunnel counts a tunnel for Close to wait for; it reports false
// once the server is closed.
func (s *Server) startTunnel() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.tunnels.Add(1)
	return true
}

// track records c for Close; it reports false once the server is closed.
func (s *Server) track(c *clientConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}
