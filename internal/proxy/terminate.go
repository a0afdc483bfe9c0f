package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strings"
	"sync"

	"github.com/jailrun/jailrun/internal/placeholder"
	"github.com/jailrun/jailrun/internal/sessionca"
)

// Terminate makes the proxy terminate TLS for the GitHub hosts, so that it
// can put the real token in place of the session's placeholder; every other
// destination stays an opaque tunnel.
type Terminate struct {
	Hosts []string           // Destination.Entry forms (host, or host:port) to terminate
	CA    *sessionca.CA      // signs the certificates the agent sees for them
	Vault *placeholder.Vault // the session's placeholders
	// RootCAs verifies the real hosts' certificates upstream; nil is the
	// system's trust, as jailrun runs with it (SSL_CERT_FILE included).
	RootCAs *x509.CertPool
	// Push, if set, is the push policy every git push goes through.
	Push *PushPolicy
	// API, if set, is the policy every write to GitHub's API goes through.
	API *APIPolicy
	// APIBase returns the REST API's base URL for a GitHub host, where the
	// policies learn default branches.
	APIBase func(host string) string
}

// terminates reports whether the proxy terminates TLS for dest.
func (t *Terminate) terminates(dest Destination) bool {
	if t == nil {
		return false
	}
	for _, h := range t.Hosts {
		if strings.EqualFold(h, dest.Entry()) {
			return true
		}
	}
	return false
}

// copyBuffer is the size of the buffers bodies are copied through: large
// enough that a clone or push moves in few system calls.
const copyBuffer = 256 << 10

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(p []byte) { b.p.Put(&p) }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, copyBuffer); return &b }}}
}

// destKey carries a terminated connection's destination in its requests'
// contexts.
type destKey struct{}

// newTerminated makes the reverse proxy that sends the requests of
// terminated connections on to the real host over TLS.
func (s *Server) newTerminated() *httputil.ReverseProxy {
	s.upstreamTLS = &http.Transport{
		Proxy:               nil,
		DialContext:         s.dialForward,
		TLSClientConfig:     &tls.Config{RootCAs: s.opts.Terminate.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		IdleConnTimeout:     s.opts.IdleTimeout,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
		WriteBufferSize:     copyBuffer,
		ReadBufferSize:      copyBuffer,
		HTTP2:               &http.HTTP2Config{MaxReadFrameSize: 1 << 20},
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			dest := pr.In.Context().Value(destKey{}).(Destination)
			pr.Out.URL.Scheme = "https"
			pr.Out.URL.Host = dest.Entry()
			pr.Out.Host = pr.In.Host
		},
		Transport:    s.upstreamTLS,
		BufferPool:   newBufferPool(),
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) { s.fail(w, err) },
		ErrorLog:     s.opts.ErrorLog,
	}
}

// terminate answers the CONNECT of client to dest as the real host would:
// the TLS handshake with the session CA's certificate for dest, then HTTP/2
// or HTTP/1.1, as the client offered, each request sent on with the
// placeholder replaced. early holds bytes the client sent after its
// CONNECT header.
func (s *Server) terminate(client *clientConn, early []byte, dest Destination) {
	defer client.Close()
	leaf, err := s.opts.Terminate.CA.Leaf(dest.Host)
	if err != nil {
		return
	}
	var conn net.Conn = client
	if len(early) > 0 {
		conn = &prefixedConn{Conn: client, prefix: early}
	}
	tc := tls.Server(conn, &tls.Config{
		Certificates: []tls.Certificate{*leaf},
		NextProtos:   []string{"h2", "http/1.1"},
		MinVersion:   tls.VersionTLS12,
	})
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.HeaderTimeout)
	err = tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		return
	}
	done := make(chan struct{})
	var once sync.Once
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.serveTerminated),
		ReadHeaderTimeout: s.opts.HeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		ErrorLog:          s.opts.ErrorLog,
		BaseContext:       func(net.Listener) context.Context { return context.WithValue(context.Background(), destKey{}, dest) },
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				once.Do(func() { close(done) })
			}
		},
	}
	srv.Serve(&oneConnListener{conn: tc, done: done})
	<-done
}

// serveTerminated sends a request of a terminated connection on to its
// destination, the only one it may go to, with its Authorization's
// placeholder replaced by the real token; a request carrying any other
// credential is refused and goes nowhere.
func (s *Server) serveTerminated(w http.ResponseWriter, r *http.Request) {
	dest := r.Context().Value(destKey{}).(Destination)
	if r.Method != strings.ToUpper(r.Method) { // the policies read methods as servers spell them
		http.Error(w, "jailrun proxy: write the method in capitals", http.StatusBadRequest)
		return
	}
	if !slices.Contains(terminatedMethods, r.Method) {
		// TRACE would echo the request, the real token included, back
		// into the jail.
		http.Error(w, "jailrun proxy: "+r.Method+" is not sent to GitHub", http.StatusMethodNotAllowed)
		return
	}
	// What the policies read must be what GitHub acts on: a path a
	// server may resolve into another (an empty, "." or ".." segment, an
	// encoded slash), a method said again in a header or the query.
	if !servedAsWritten(r.URL) {
		refuseJSON(w, r, dest, "jailrun: the path has an empty, . or .. segment or an encoded slash, which git and GitHub's clients never send")
		return
	}
	for _, h := range methodOverrides {
		if r.Header.Get(h) != "" {
			refuseJSON(w, r, dest, "jailrun: "+h+" is not sent to GitHub; send the method itself")
			return
		}
	}
	if r.URL.Query().Has("_method") {
		refuseJSON(w, r, dest, "jailrun: _method is not sent to GitHub; send the method itself")
		return
	}
	if strings.Contains(strings.ToLower(r.URL.Path), "git-receive-pack") && r.Method != http.MethodPost {
		http.Error(w, "jailrun proxy: git sends receive-pack by POST only", http.StatusMethodNotAllowed)
		return
	}
	// A cookie is a credential too (a web session is all of GitHub's UI),
	// and no client the jail runs needs one for GitHub.
	r.Header.Del("Cookie")
	if host, err := ParseDestination(r.Host, DefaultPort); err != nil || host != dest {
		http.Error(w, fmt.Sprintf("jailrun proxy: this connection is to %s, not %.100q", dest.Entry(), r.Host), http.StatusMisdirectedRequest)
		return
	}
	auth, err := SwapAuthorization(r.Header.Values("Authorization"), dest.Entry(), s.opts.Terminate.Vault)
	var unread *unreadToken
	switch {
	case errors.As(err, &unread):
		s.refused(&Refusal{Dest: dest, Reason: err.Error(), Fix: "look at the keyring outside the jail (jailrun doctor), then retry"})
		refuseJSON(w, r, dest, "jailrun: "+err.Error())
		return
	case err != nil:
		s.refused(&Refusal{Dest: dest, Reason: err.Error(), Fix: "jailrun sends only the tokens it routes; see jailrun status outside the jail"})
		refuseJSON(w, r, dest, "jailrun: "+err.Error()+"; jailrun sends only the tokens it routes for this session")
		return
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	// Every POST that names receive-pack is a push for the policy to
	// read, whatever else its path says.
	if s.opts.Terminate.Push != nil && r.Method == http.MethodPost &&
		strings.Contains(strings.ToLower(r.URL.Path), "git-receive-pack") && !s.checkPush(w, r, dest) {
		return
	}
	if s.opts.Terminate.API != nil {
		if rest, graphql, ok := apiRequest(dest, r.URL.Path); ok && (graphql || isWrite(r.Method)) && !s.checkAPI(w, r, dest, rest, graphql) {
			return
		}
	}
	s.terminated.ServeHTTP(w, r)
}

// methodOverrides are the headers through which some servers take a
// request's method from elsewhere than its method.
var methodOverrides = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// terminatedMethods are the methods sent on to a GitHub host: those of
// git, the REST API and GraphQL.
var terminatedMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// refuseJSON answers 403 with message, as JSON that GitHub's clients show
// for the API hosts, as a line of text for git.
func refuseJSON(w http.ResponseWriter, r *http.Request, dest Destination, message string) {
	if strings.HasPrefix(dest.Host, "api.") || strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"message": message})
		return
	}
	http.Error(w, message, http.StatusForbidden)
}

// Errors of SwapAuthorization, one line each.
var (
	errForeign  = errors.New("the request carried a credential that is not one of this session's placeholders")
	errElsewise = errors.New("the request carried a placeholder of another host or session")
	errTwice    = errors.New("the request carried more than one Authorization header")
	errScheme   = errors.New("the request's Authorization is not Basic, Bearer or token")
)

// unreadToken is SwapAuthorization's error for a placeholder whose token
// could not be read from the keyring: the request was the session's own.
type unreadToken struct{ err error }

func (e *unreadToken) Error() string { return e.err.Error() }
func (e *unreadToken) Unwrap() error { return e.err }

// SwapAuthorization returns the Authorization value to send to dest (host
// or host:port) in place of values, the request's: "" for none, else the
// same value with the session's placeholder replaced by the real token it
// stands for — in Basic (the password, or the user name where a client
// puts the token), Bearer or token — provided the token is made for dest.
// Any other credential is an error: a token the agent found elsewhere is
// never sent through jailrun.
func SwapAuthorization(values []string, dest string, vault *placeholder.Vault) (string, error) {
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", errTwice
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	cred = strings.TrimSpace(cred)
	real := func(p string) (string, error) {
		if !placeholder.Is(p) {
			return "", errForeign
		}
		secret, _, err := vault.Real(p, dest)
		switch {
		case errors.Is(err, placeholder.ErrNotServed):
			return "", errElsewise
		case err != nil:
			return "", &unreadToken{err}
		}
		return secret, nil
	}
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", errForeign
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		switch {
		case placeholder.Is(pass):
			if pass, err = real(pass); err != nil {
				return "", err
			}
		case placeholder.Is(user):
			// The token as user name comes with no password, or the one
			// GitHub documents; another password would be a credential
			// of its own, which the server could authenticate with.
			if pass != "" && pass != "x-oauth-basic" {
				return "", errForeign
			}
			if user, err = real(user); err != nil {
				return "", err
			}
		default:
			return "", errForeign
		}
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)), nil
	case "bearer", "token":
		secret, err := real(cred)
		if err != nil {
			return "", err
		}
		return scheme + " " + secret, nil
	}
	return "", errScheme
}

// prefixedConn reads prefix before the connection's own bytes.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// oneConnListener accepts conn once, then waits for done (the connection
// ended) and says it is closed, so that http.Server.Serve serves exactly
// one connection.
type oneConnListener struct {
	conn net.Conn
	done <-chan struct{}
	once sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.conn })
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.conn.LocalAddr() }
