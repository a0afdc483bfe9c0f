package egress

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/audit"
	"github.com/jailrun/jailrun/internal/proxy"
	"github.com/jailrun/jailrun/internal/relay"
)

// hangLimit turns a hang into a failure; nothing waits for it when the
// code works.
const hangLimit = 20 * time.Second

// startPath starts the jail's network path on real sockets, a proxy on a
// unix socket behind a relay on 127.0.0.1, and returns the relay's
// address; the test's cleanup stops both.
func startPath(t *testing.T, policy proxy.Policy, opts proxy.Options) (*proxy.Server, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "jregress") // short: a socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "proxy.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	s := proxy.New(policy, opts)
	go s.Serve(l)
	r, err := relay.Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	go r.Serve()
	t.Cleanup(func() { r.Close(); s.Close() })
	return s, "127.0.0.1:" + strconv.Itoa(r.Port())
}

// echoServer listens on 127.0.0.1 and answers each connection's bytes,
// up to want, with reply, then closes it; it counts its connections.
type echoServer struct {
	addr  string
	conns atomic.Int64
}

func startServer(t *testing.T, want int, reply []byte) *echoServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	e := &echoServer{addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			e.conns.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(hangLimit))
				io.ReadFull(c, make([]byte, want))
				c.Write(reply)
			}()
		}
	}()
	return e
}

// connect sends CONNECT dest and payload through the relay at via and
// returns the status, and the body of a refusal or the tunnel's answer.
func connect(t *testing.T, via, dest, payload string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", via)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(hangLimit))
	if _, err := io.WriteString(c, "CONNECT "+dest+" HTTP/1.1\r\nHost: "+dest+"\r\n\r\n"+payload); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("CONNECT %s: %v", dest, err)
	}
	var body []byte
	if resp.StatusCode == http.StatusOK {
		body, err = io.ReadAll(br)
	} else {
		body, err = io.ReadAll(resp.Body)
	}
	if err != nil {
		t.Fatalf("CONNECT %s: read: %v", dest, err)
	}
	return resp.StatusCode, string(body)
}

// tableResolver answers from its table and counts the lookups; other
// names do not exist.
type tableResolver struct {
	names   map[string][]netip.Addr
	mu      sync.Mutex
	lookups []string
}

func (r *tableResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, host)
	if a, ok := r.names[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestListModeThroughTheProxy(t *testing.T) {
	github := startServer(t, 5, []byte("hello from github"))
	other := startServer(t, 1, nil)
	resolver := &tableResolver{names: map[string][]netip.Addr{
		"rebind.pages.test": {netip.MustParseAddr("10.0.0.7")},
		"meta.pages.test":   {netip.MustParseAddr("169.254.169.254")},
	}}
	var notices []string
	var mu sync.Mutex
	_, githubPort, _ := net.SplitHostPort(github.addr)
	policy, err := Policy(config.EgressList, []string{github.addr}, []string{"*.pages.test:" + githubPort}, "claude")
	if err != nil {
		t.Fatal(err)
	}
	server, via := startPath(t, policy, proxy.Options{Resolver: resolver, Refused: func(r *proxy.Refusal) {
		mu.Lock()
		defer mu.Unlock()
		notices = append(notices, r.Notice())
	}})

	// The GitHub host of GH_HOSTS (here on the host's loopback) is listed.
	for range 2 {
		if status, body := connect(t, via, github.addr, "hello"); status != http.StatusOK || body != "hello from github" {
			t.Fatalf("CONNECT to the GitHub host: %d %q", status, body)
		}
	}
	// Another host is refused before any lookup, with the line that allows it.
	for _, dest := range []string{other.addr, "paste.example:443", "paste.example:443", "pages.test:" + githubPort} {
		status, body := connect(t, via, dest, "x")
		d, _ := proxy.ParseDestination(dest, 0)
		want := "jailrun proxy refused " + d.String() + ": it is not in the egress list (JAILRUN_EGRESS=list); to allow it, set JAILRUN_ALLOW_HOSTS=\"… " + d.Entry() + "\" in the jailrun config, or JAILRUN_EGRESS=open\n"
		if status != http.StatusForbidden || body != want {
			t.Errorf("CONNECT %s: %d %q, want 403 %q", dest, status, body, want)
		}
	}
	// A *.domain name is admitted and looked up, but must resolve to a
	// public address: these resolve to private and link-local ones.
	for _, name := range []string{"rebind.pages.test", "meta.pages.test"} {
		status, body := connect(t, via, name+":"+githubPort, "x")
		if status != http.StatusForbidden || !strings.Contains(body, "it resolves to") || strings.Contains(body, "JAILRUN_EGRESS=open") {
			t.Errorf("CONNECT %s: %d %q, want 403 for its address", name, status, body)
		}
	}
	if n := other.conns.Load(); n != 0 {
		t.Errorf("the unlisted server saw %d connections", n)
	}
	resolver.mu.Lock()
	if want := []string{"rebind.pages.test", "meta.pages.test"}; strings.Join(resolver.lookups, " ") != strings.Join(want, " ") {
		t.Errorf("lookups %v, want only %v: an unlisted name must not reach DNS", resolver.lookups, want)
	}
	resolver.mu.Unlock()

	// One notice per refused destination, not per connection.
	mu.Lock()
	if len(notices) != 5 || !strings.HasPrefix(notices[1], "jailrun: the jail's network refused paste.example:443: ") {
		t.Errorf("notices %q, want 5, one per destination", notices)
	}
	mu.Unlock()

	// The audit: one line per destination with its bytes and connections.
	server.Close()
	var log bytes.Buffer
	session := audit.Session{ID: audit.SessionID(4242, time.Unix(1700000000, 0)), Agent: "claude", PID: 4242}
	if err := audit.WriteEgress(&log, session, time.Unix(1700000060, 0), server.Traffic(), server.Refusals()); err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	for line := range strings.SplitSeq(strings.TrimSuffix(log.String(), "\n"), "\n") {
		var rec audit.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 6 {
		t.Fatalf("%d egress lines, want 6:\n%s", len(recs), log.String())
	}
	first := recs[0]
	if first.Op != "egress" || first.Session != "20231114T221320Z-4242" || first.Host != "127.0.0.1" || strconv.Itoa(first.Port) != githubPort ||
		first.Up != 10 || first.Down != 2*int64(len("hello from github")) || first.Conns != 2 || first.Result != "connected" {
		t.Errorf("the GitHub host's line = %+v, want 10 bytes up, 34 down, 2 connections", first)
	}
	for _, rec := range recs[1:] {
		if rec.Result != "refused" || rec.Reason == "" || rec.Count < 1 {
			t.Errorf("refused line = %+v", rec)
		}
		if rec.Host == "paste.example" && rec.Count != 2 {
			t.Errorf("paste.example refused %d times, want 2", rec.Count)
		}
	}
}

func TestOpenModeRefusesTheHostUnlisted(t *testing.T) {
	target := startServer(t, 1, []byte("y"))
	resolver := &tableResolver{names: map[string][]netip.Addr{"rebind.example": {netip.MustParseAddr("127.0.0.1")}}}
	policy, err := Policy(config.EgressOpen, []string{"github.com"}, nil, "claude")
	if err != nil {
		t.Fatal(err)
	}
	_, via := startPath(t, policy, proxy.Options{Resolver: resolver})
	_, port, _ := net.SplitHostPort(target.addr)
	for _, dest := range []string{target.addr, "rebind.example:" + port, "[::ffff:127.0.0.1]:" + port} {
		status, body := connect(t, via, dest, "x")
		if status != http.StatusForbidden || !strings.Contains(body, "the host's loopback") || strings.Contains(body, "JAILRUN_EGRESS=open") {
			t.Errorf("CONNECT %s: %d %q, want 403 naming the loopback", dest, status, body)
		}
	}
	if n := target.conns.Load(); n != 0 {
		t.Errorf("the host's server saw %d connections", n)
	}

	// Listed, it is reached.
	policy, err = Policy(config.EgressOpen, []string{"github.com"}, []string{target.addr}, "claude")
	if err != nil {
		t.Fatal(err)
	}
	_, via = startPath(t, policy, proxy.Options{Resolver: resolver})
	if status, body := connect(t, via, target.addr, "x"); status != http.StatusOK || body != "y" {
		t.Errorf("CONNECT %s listed: %d %q", target.addr, status, body)
	}
}
