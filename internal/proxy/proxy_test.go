package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/relay"
)

// hangLimit turns a hang into a failure; nothing waits for it when the
// code works.
const hangLimit = 20 * time.Second

// path is the proxy and relay pair a jail would use, on real sockets.
type path struct {
	server *Server
	port   int // the relay's, on 127.0.0.1: what HTTPS_PROXY names
}

func (p path) proxyURL() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// startPath starts a proxy on a unix socket and a relay in front of it;
// the test's cleanup stops both.
func startPath(t testing.TB, policy Policy, opts Options) path {
	t.Helper()
	dir, err := os.MkdirTemp("", "jrproxy") // short: a socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "proxy.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	s := New(policy, opts)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	r, err := relay.Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	relayed := make(chan error, 1)
	go func() { relayed <- r.Serve() }()
	t.Cleanup(func() {
		r.Close()
		s.Close()
		for _, done := range []chan error{relayed, served} {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve after close: %v", err)
				}
			case <-time.After(hangLimit):
				t.Errorf("serve did not return after close")
			}
		}
	})
	return path{server: s, port: r.Port()}
}

func allowing(t testing.TB, entries ...string) Open {
	t.Helper()
	allow, err := NewAllowlist(entries...)
	if err != nil {
		t.Fatal(err)
	}
	return Open{Allow: allow}
}

func hostPort(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// dialPath opens a connection to the relay, as an agent's program would.
func dialPath(t testing.TB, p path) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p.port))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(hangLimit))
	t.Cleanup(func() { c.Close() })
	return c
}

// request sends raw on a new connection through p and reads the answer's
// status and body; after a CONNECT's 200 the tunnel's bytes are left in
// the returned reader.
func request(t testing.TB, p path, raw string) (*http.Response, string, net.Conn, *bufio.Reader) {
	t.Helper()
	c := dialPath(t, p)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read the proxy's answer to %.60q: %v", raw, err)
	}
	if method == http.MethodConnect && resp.StatusCode == http.StatusOK {
		return resp, "", c, br
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body), c, br
}

// tlsTarget is an HTTPS server on 127.0.0.1 whose certificate is in
// caFile and pool.
func tlsTarget(t testing.TB) (srv *httptest.Server, caFile string, pool *x509.CertPool) {
	t.Helper()
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from the target, %s\n", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, caFile, pool
}

func TestConnectToAllowedTLSServer(t *testing.T) {
	target, _, pool := tlsTarget(t)
	p := startPath(t, allowing(t, hostPort(t, target.URL)), Options{})
	proxyURL, _ := url.Parse(p.proxyURL())
	client := &http.Client{
		Timeout: hangLimit,
		Transport: &http.Transport{
			Proxy:           http.ProxyURL(proxyURL),
			TLSClientConfig: &tls.Config{RootCAs: pool},
		},
	}
	defer client.CloseIdleConnections()
	for i := range 3 {
		resp, err := client.Get(target.URL + "/go/" + strconv.Itoa(i))
		if err != nil {
			t.Fatalf("GET through the proxy: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("hello from the target, /go/%d\n", i); string(body) != want {
			t.Errorf("body %q, want %q", body, want)
		}
	}
}

// TestCurlThroughProxy runs the real curl, once with --proxy and once with
// the https_proxy variable an agent's environment carries.
func TestCurlThroughProxy(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	target, caFile, _ := tlsTarget(t)
	p := startPath(t, allowing(t, hostPort(t, target.URL)), Options{})
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"--proxy", []string{"--proxy", p.proxyURL()}, nil},
		{"https_proxy", nil, []string{"https_proxy=" + p.proxyURL(), "NO_PROXY="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--silent", "--show-error", "--max-time", "20", "--cacert", caFile}, tc.args...)
			cmd := exec.Command(curl, append(args, target.URL+"/curl")...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, tc.env...)
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != "hello from the target, /curl\n" {
				t.Fatalf("curl: %v: %s", err, out)
			}
		})
	}
	if got := p.server.Traffic(); len(got) != 1 || got[0].Conns != 2 {
		t.Errorf("traffic %+v, want two connections to the target: curl must not bypass the proxy for 127.0.0.1", got)
	}
}

// TestGitThroughProxy clones from an HTTPS server on 127.0.0.1 with git
// (libcurl) reaching it only through https_proxy.
func TestGitThroughProxy(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	target, caFile, _ := tlsTarget(t)
	p := startPath(t, allowing(t, hostPort(t, target.URL)), Options{})
	home := t.TempDir()
	cmd := exec.Command(git, "ls-remote", target.URL+"/owner/repo.git")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0", "GIT_SSL_CAINFO=" + caFile,
		"https_proxy=" + p.proxyURL(), // and no NO_PROXY: libcurl bypasses nothing by default
	}
	out, _ := cmd.CombinedOutput() // the target is no git server: git fails after reaching it
	// git has gone, but the tunnel may still be counting its last bytes:
	// Close waits for every tunnel, so the counts are whole.
	p.server.Close()
	if got := p.server.Traffic(); len(got) != 1 || got[0].Dest != hostPort(t, target.URL) || got[0].Down == 0 {
		t.Errorf("traffic %+v, want git's connection to %s through the proxy; git said: %s", got, target.URL, out)
	}
}

// countingTarget is a TCP server that counts its connections, answers
// each with reply after reading want bytes, then closes.
type countingTarget struct {
	addr  string
	conns atomic.Int64
	got   chan []byte
}

func startCountingTarget(t testing.TB, network, address string, want int, reply []byte) *countingTarget {
	t.Helper()
	l, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ct := &countingTarget{addr: l.Addr().String(), got: make(chan []byte, 16)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			ct.conns.Add(1)
			go func() {
				defer c.Close()
				buf := make([]byte, want)
				io.ReadFull(c, buf)
				ct.got <- buf
				c.Write(reply)
			}()
		}
	}()
	return ct
}

// fakeResolver answers from a table, and for other names (localhost) as
// the system does.
type fakeResolver struct {
	names map[string][]netip.Addr
}

func (f *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := f.names[host]; ok {
		return a, nil
	}
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}

func TestRefusesHostLocalDestinations(t *testing.T) {
	target := startCountingTarget(t, "tcp", "127.0.0.1:0", 1, nil)
	_, port, _ := net.SplitHostPort(target.addr)
	resolver := &fakeResolver{names: map[string][]netip.Addr{
		"rebind.test": {netip.MustParseAddr("127.0.0.1")},
		"mixed.test":  {netip.MustParseAddr("192.0.2.77"), netip.MustParseAddr("127.0.0.1")},
	}}
	var mu sync.Mutex
	var firstRefusals []string
	p := startPath(t, allowing(t, target.addr), Options{Resolver: resolver, Refused: func(r *Refusal) {
		mu.Lock()
		defer mu.Unlock()
		firstRefusals = append(firstRefusals, r.Dest.String())
	}})
	if _, port2, _ := net.SplitHostPort(target.addr); port2 != port {
		t.Fatal("bad target address")
	}
	for _, dest := range []string{
		"localhost:" + port,          // a name for the listed literal is not listed
		"LOCALHOST:" + port,          // twice, to show one Refused call per destination
		"rebind.test:" + port,        // a name that resolves to loopback
		"mixed.test:" + port,         // one loopback address among others is enough
		"[::1]:" + port,              // IPv6 loopback
		"[::ffff:127.0.0.1]:" + port, // IPv4-mapped loopback
		"[::127.0.0.1]:" + port,      // IPv4-compatible loopback
		"127.0.0.2:" + port,          // the rest of 127/8
		"0.0.0.0:" + port,            // the unspecified address reaches the host on Linux
		"[::]:" + port,
		"169.254.169.254:80", // the cloud metadata service
	} {
		for _, method := range []string{"CONNECT " + dest, "GET http://" + dest + "/"} {
			resp, body, _, _ := request(t, p, method+" HTTP/1.1\r\nHost: "+dest+"\r\n\r\n")
			d, _ := ParseDestination(dest, 0)
			if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(body, "jailrun proxy refused "+d.String()+": ") ||
				!strings.HasSuffix(body, "; to allow it, set JAILRUN_ALLOW_HOSTS=\"… "+d.Entry()+"\" in the jailrun config\n") || strings.Count(body, "\n") != 1 {
				t.Errorf("%s: %s %q, want 403 with one line naming %s and JAILRUN_ALLOW_HOSTS", method, resp.Status, body, d)
			}
		}
	}
	if n := target.conns.Load(); n != 0 {
		t.Errorf("the target saw %d connections, want none", n)
	}
	refused := p.server.Refusals()
	mu.Lock()
	defer mu.Unlock()
	if len(refused) != 10 || len(firstRefusals) != 10 {
		t.Errorf("Refusals() has %d destinations and Refused was called %d times, want 10 each: %v", len(refused), len(firstRefusals), firstRefusals)
	}
	for _, r := range refused {
		if want := 2; r.Dest.Host != "localhost" && r.Count != want || r.Dest.Host == "localhost" && r.Count != 4 {
			t.Errorf("%s refused %d times", r.Dest, r.Count)
		}
	}
}

// TestDialsTheAddressItChecked: a name that resolves to a public address
// is looked up once per connection and that address is dialed, so a
// resolver that answers loopback the second time changes nothing.
func TestDialsTheAddressItChecked(t *testing.T) {
	public := nonLoopbackAddr(t)
	target := startCountingTarget(t, "tcp", net.JoinHostPort(public.String(), "0"), 4, []byte("pong"))
	_, port, _ := net.SplitHostPort(target.addr)
	resolver := &rebindingResolver{first: public}
	p := startPath(t, onlyAddr{public}, Options{Resolver: resolver})
	resp, _, c, br := request(t, p, "CONNECT rebind.test:"+port+" HTTP/1.1\r\n\r\nping")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT rebind.test: %s", resp.Status)
	}
	got, err := io.ReadAll(br)
	if err != nil || string(got) != "pong" {
		t.Fatalf("through the tunnel: %q, %v", got, err)
	}
	c.Close()
	if n := resolver.lookups.Load(); n != 1 {
		t.Errorf("%d lookups for one connection, want 1", n)
	}
}

// rebindingResolver answers first, then loopback, as a DNS rebinding
// attacker's server would.
type rebindingResolver struct {
	first   netip.Addr
	lookups atomic.Int64
}

func (r *rebindingResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	if r.lookups.Add(1) == 1 {
		return []netip.Addr{r.first}, nil
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// onlyAddr is a policy that admits every name and refuses every address
// but one: the address of this host that stands in for a public one.
type onlyAddr struct{ public netip.Addr }

func (onlyAddr) Admit(Destination) error { return nil }

func (p onlyAddr) Check(d Destination, addrs []netip.Addr) error {
	for _, a := range addrs {
		if a != p.public {
			return &Refusal{Dest: d, Reason: "it resolves to " + a.String()}
		}
	}
	return nil
}

// nonLoopbackAddr is an address of this host on a real interface, or the
// test is skipped.
func nonLoopbackAddr(t testing.TB) netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("list interface addresses: %v", err)
	}
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a.String()); err == nil && pfx.Addr().Is4() && !pfx.Addr().IsLoopback() {
			return pfx.Addr()
		}
	}
	t.Skip("no non-loopback IPv4 address on this host")
	return netip.Addr{}
}

func TestCountsBytesPerDestination(t *testing.T) {
	reply := bytes.Repeat([]byte("d"), 5000)
	target := startCountingTarget(t, "tcp", "127.0.0.1:0", 1000, reply)
	p := startPath(t, allowing(t, target.addr), Options{})
	for range 2 {
		// The header and the first bytes in one write: the proxy must pass
		// on what it read along with the header.
		resp, _, c, br := request(t, p, "CONNECT "+target.addr+" HTTP/1.1\r\n\r\n"+strings.Repeat("u", 1000))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("CONNECT: %s", resp.Status)
		}
		got, err := io.ReadAll(br)
		if err != nil || !bytes.Equal(got, reply) {
			t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(reply))
		}
		c.Close()
		if sent := <-target.got; string(sent) != strings.Repeat("u", 1000) {
			t.Fatalf("the target got %q", sent)
		}
	}
	p.server.Close() // ends the tunnels and waits for their counts
	want := []Traffic{{Dest: target.addr, Up: 2000, Down: 10000, Conns: 2}}
	if got := p.server.Traffic(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Traffic() = %+v, want %+v", got, want)
	}
}

func TestForwardsAbsoluteURLWithoutHopByHopHeaders(t *testing.T) {
	seen := make(chan http.Header, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		fmt.Fprintf(w, "forwarded %s %s", r.Method, r.URL.Path)
	}))
	t.Cleanup(target.Close)
	host := hostPort(t, target.URL)
	p := startPath(t, allowing(t, host), Options{})
	raw := "GET http://" + host + "/plain HTTP/1.1\r\nHost: " + host + "\r\n" +
		"Proxy-Authorization: Basic c2VjcmV0OnNlY3JldA==\r\nProxy-Connection: keep-alive\r\n" +
		"Connection: X-Hop\r\nX-Hop: dropped\r\nX-Kept: kept\r\nAccept-Encoding: gzip\r\n\r\n"
	resp, body, _, _ := request(t, p, raw)
	if resp.StatusCode != http.StatusOK || body != "forwarded GET /plain" {
		t.Fatalf("%s %q", resp.Status, body)
	}
	h := <-seen
	for _, name := range []string{"Proxy-Authorization", "Proxy-Connection", "X-Hop", "X-Forwarded-For", "Forwarded"} {
		if v := h.Get(name); v != "" {
			t.Errorf("the target got %s: %q", name, v)
		}
	}
	if h.Get("X-Kept") != "kept" || h.Get("Accept-Encoding") != "gzip" {
		t.Errorf("the target got headers %v, want X-Kept and Accept-Encoding as sent", h)
	}
	got := p.server.Traffic()
	if len(got) != 1 || got[0].Dest != host || got[0].Up == 0 || got[0].Down == 0 {
		t.Errorf("Traffic() = %+v, want bytes both ways for %s", got, host)
	}
}

func TestRejectsRequestsThatAreNotForAProxy(t *testing.T) {
	p := startPath(t, allowing(t), Options{MaxHeaderBytes: 1 << 10})
	for _, tc := range []struct {
		raw  string
		want int
	}{
		{"GET /local HTTP/1.1\r\nHost: example.com\r\n\r\n", http.StatusBadRequest},
		{"GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", http.StatusBadRequest},
		{"CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", http.StatusBadRequest},
		{"CONNECT example.com:443 HTTP/1.1\r\nX-Big: " + strings.Repeat("x", 8<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
	} {
		resp, body, _, _ := request(t, p, tc.raw)
		if resp.StatusCode != tc.want {
			t.Errorf("%.40q: %s %q, want %d", tc.raw, resp.Status, body, tc.want)
		}
	}
}

func TestTooManyConnectionsAnswered503(t *testing.T) {
	target := startCountingTarget(t, "tcp", "127.0.0.1:0", 1, []byte("x"))
	p := startPath(t, allowing(t, target.addr), Options{MaxConns: 2})
	var open []net.Conn
	for range 2 {
		resp, _, c, _ := request(t, p, "CONNECT "+target.addr+" HTTP/1.1\r\n\r\n")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("CONNECT within the limit: %s", resp.Status)
		}
		open = append(open, c)
	}
	resp, body, _, _ := request(t, p, "CONNECT "+target.addr+" HTTP/1.1\r\n\r\n")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "too many connections at once (2)") {
		t.Errorf("CONNECT over the limit: %s %q, want 503 that says why", resp.Status, body)
	}
	// A tunnel that ends gives its slot back.
	open[0].Write([]byte("u"))
	io.ReadAll(open[0])
	open[0].Close()
	// Meanwhile a refusal may come as a close without an answer: at most
	// MaxConns refusals are drained at once.
	for deadline := time.Now().Add(hangLimit); time.Now().Before(deadline); {
		c := dialPath(t, p)
		io.WriteString(c, "CONNECT "+target.addr+" HTTP/1.1\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
		c.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			return
		}
	}
	t.Error("no slot came back after a tunnel ended")
}

// TestSlowHeaderIsCut: a client that never finishes its header is
// disconnected after HeaderTimeout instead of holding a slot.
func TestSlowHeaderIsCut(t *testing.T) {
	p := startPath(t, allowing(t), Options{HeaderTimeout: 50 * time.Millisecond})
	c := dialPath(t, p)
	if _, err := io.WriteString(c, "CONNECT example.com:443 HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	_, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read from a connection whose header never ended: %v, want it closed", err)
	}
}

// TestPasswordKeepsOthersOut: with a password, a request without it or
// with another one is answered 407 and reaches nothing; Go's client and
// curl, given the password in the proxy URL, get through.
func TestPasswordKeepsOthersOut(t *testing.T) {
	target, caFile, pool := tlsTarget(t)
	const password = "0123456789abcdef"
	p := startPath(t, allowing(t, hostPort(t, target.URL)), Options{Password: password})
	host := hostPort(t, target.URL)
	wrong := base64.StdEncoding.EncodeToString([]byte(ProxyUser + ":" + password[:15] + "0"))
	for _, header := range []string{"", "Proxy-Authorization: Basic " + wrong + "\r\n", "Proxy-Authorization: Bearer " + password + "\r\n"} {
		resp, _, _, _ := request(t, p, "CONNECT "+host+" HTTP/1.1\r\nHost: "+host+"\r\n"+header+"\r\n")
		if resp.StatusCode != http.StatusProxyAuthRequired || resp.Header.Get("Proxy-Authenticate") == "" {
			t.Errorf("CONNECT with %q: %s, want 407 asking for Basic", header, resp.Status)
		}
	}
	if got := p.server.Traffic(); len(got) != 0 {
		t.Fatalf("traffic %+v after refused requests", got)
	}
	proxyURL, _ := url.Parse("http://" + ProxyUser + ":" + password + "@127.0.0.1:" + strconv.Itoa(p.port))
	client := &http.Client{Timeout: hangLimit, Transport: &http.Transport{
		Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(target.URL + "/go")
	if err != nil {
		t.Fatalf("GET through the proxy with its password: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET with the password: %s", resp.Status)
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	cmd := exec.Command(curl, "--silent", "--show-error", "--max-time", "20", "--cacert", caFile, target.URL+"/curl")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NO_PROXY=", "https_proxy=" + proxyURL.String()}
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "hello from the target, /curl\n" {
		t.Errorf("curl with the password in https_proxy: %v: %.200s", err, out)
	}
}

// notFound is a resolver that knows no name, as DNS answers NXDOMAIN.
type notFound struct{}

func (notFound) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestUnreachableSaysWhy: a name that does not resolve and a port where
// nothing listens each get one notice with the cause and what to check,
// and a 502 whose body says the same, where it used to be only the body
// that CONNECT clients never show.
func TestUnreachableSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there any more
	var mu sync.Mutex
	var notices []string
	p := startPath(t, allowing(t, closed, "nowhere.test:443"), Options{Resolver: notFound{}, Refused: func(r *Refusal) {
		mu.Lock()
		defer mu.Unlock()
		notices = append(notices, r.Notice())
	}})
	for dest, cause := range map[string]string{
		"nowhere.test:443": "nowhere.test:443: its name does not resolve; check the name, and that it resolves outside the jail (getent hosts nowhere.test)",
		closed:             closed + ": the connection was refused; check that a server listens on port ",
	} {
		for range 2 {
			resp, body, _, _ := request(t, p, "CONNECT "+dest+" HTTP/1.1\r\nHost: "+dest+"\r\n\r\n")
			if resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(body, "jailrun proxy could not reach "+cause) {
				t.Errorf("CONNECT %s: %s %q, want 502 saying %q", dest, resp.Status, body, cause)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) != 2 {
		t.Fatalf("%d notices, want one per destination: %q", len(notices), notices)
	}
	for _, n := range notices {
		if !strings.HasPrefix(n, "jailrun: the jail's network could not reach ") || strings.Contains(n, "::ffff:") {
			t.Errorf("notice %q", n)
		}
	}
}
