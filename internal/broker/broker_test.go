package broker

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/placeholder"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
)

// The secrets the tests plant; none of them, nor its preview, may appear
// in an audit line.
const (
	classic  = "ghp_classicSECRET0123456789abcdefghijklmn"
	myorg    = "github_pat_myorgSECRET_0123456789abcdefghij"
	personal = "github_pat_personalSECRET_0123456789abcdef"
	expired  = "github_pat_expiredSECRET_0123456789abcdefg"
	gheTeam  = "ghp_gheteamSECRET0123456789abcdefghijklmno"
	gheDflt  = "ghp_ghedefaultSECRET0123456789abcdefghijkl"
	other    = "ghp_otherSECRET0123456789abcdefghijklmnopq"
)

var secrets = []string{classic, myorg, personal, expired, gheTeam, gheDflt, other}

const testConfig = `GH_HOSTS="github.com ghe.corp.example"
GH_TOKEN_ROUTES="alice=fine-grained-personal bob=fine-grained-gone ghe.corp.example=ghe-default ghe.corp.example/team=ghe-team"
`

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// memStore is an in-memory keyring.Store that fails the test when two of
// its calls overlap: the broker serialises keyring calls.
type memStore struct {
	t      testing.TB
	mu     sync.Mutex
	tokens map[string]keyring.Token
	busy   atomic.Bool
	err    error // returned by every call when set
}

func newStore(t testing.TB) *memStore {
	s := &memStore{t: t, tokens: map[string]keyring.Token{}}
	for _, tok := range []keyring.Token{
		{Name: "github:classic", Secret: classic, Meta: keyring.Meta{Kind: "classic"}},
		{Name: "github:fine-grained-myorg", Secret: myorg, Meta: keyring.Meta{Kind: "fine-grained", Expires: now.Add(48 * time.Hour)}},
		{Name: "github:fine-grained-personal", Secret: personal},
		{Name: "github:fine-grained-oldorg", Secret: expired, Meta: keyring.Meta{Expires: now.Add(-time.Hour)}},
		{Name: "github:fine-grained-emptyorg"},
		{Name: "github:ghe-team", Secret: gheTeam},
		{Name: "github:ghe-default", Secret: gheDflt},
		{Name: "github:other", Secret: other},
	} {
		s.tokens[tok.Name] = tok
	}
	return s
}

func (s *memStore) enter() func() {
	if s.busy.Swap(true) {
		s.t.Error("two keyring calls at once")
	}
	return func() { s.busy.Store(false) }
}

func (s *memStore) Get(name string) (keyring.Token, error) {
	defer s.enter()()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return keyring.Token{}, s.err
	}
	if tok, ok := s.tokens[name]; ok {
		return tok, nil
	}
	return keyring.Token{}, keyring.ErrNotFound
}

func (s *memStore) List() ([]keyring.Token, error) {
	defer s.enter()()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	var list []keyring.Token
	for _, tok := range s.tokens {
		list = append(list, tok)
	}
	slices.SortFunc(list, func(a, b keyring.Token) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

func (s *memStore) Put(keyring.Token) error { return errors.New("the broker never writes") }
func (s *memStore) Delete(string) error     { return errors.New("the broker never deletes") }
func (s *memStore) Close() error            { return nil }

// listRoute is a plain RouteFunc: routing over every name in the keyring.
func listRoute(kr keyring.Store, cfg config.Config, protocol, host, owner string) (keyring.Token, routing.Decision, error) {
	tokens, err := kr.List()
	if err != nil {
		return keyring.Token{}, routing.Decision{}, err
	}
	names := make([]string, len(tokens))
	for i, t := range tokens {
		names[i] = t.Name
	}
	d := routing.Resolve(cfg, protocol, host, owner, names)
	for _, t := range tokens {
		if t.Name == d.Token {
			return t, d, nil
		}
	}
	return keyring.Token{}, d, nil
}

func parseConfig(t testing.TB, text string) config.Config {
	t.Helper()
	cfg, err := config.Parse(strings.NewReader(text), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// world is a broker serving on a socket in a private directory, with its
// audit log.
type world struct {
	broker *Broker
	store  *memStore
	socket string
	audit  string
}

func startWorld(t testing.TB, mutate func(*Options)) *world {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	w := &world{store: newStore(t), socket: filepath.Join(dir, "broker.sock"), audit: AuditPath(func(k string) string {
		return map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state")}[k]
	})}
	audit, err := OpenAudit(w.audit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { audit.Close() })
	opts := Options{Keyring: w.store, Config: parseConfig(t, testConfig), Route: listRoute, Audit: audit, Agent: "claude", Session: "20261202T081423Z-4242", Now: func() time.Time { return now }}
	if mutate != nil {
		mutate(&opts)
	}
	w.broker = New(opts)
	if err := w.broker.Start(w.socket); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.broker.Close() })
	return w
}

func (w *world) dial(t testing.TB) *Client {
	t.Helper()
	c, err := Dial(w.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// auditLines returns the audit log's lines, failing on one that is not a record.
func (w *world) auditLines(t *testing.T) []record {
	t.Helper()
	data, err := os.ReadFile(w.audit)
	if err != nil {
		t.Fatal(err)
	}
	var recs []record
	for line := range strings.Lines(string(data)) {
		var rec record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q is not JSON: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// name returns the name of the planted token whose secret is secret, so
// that failure messages never show a secret.
func name(secret string) string {
	for i, s := range secrets {
		if s == secret {
			return []string{"classic", "myorg", "personal", "expired", "ghe-team", "ghe-default", "other"}[i]
		}
	}
	if secret == "" {
		return "nothing"
	}
	return "an unknown secret"
}

func TestRouting(t *testing.T) {
	w := startWorld(t, nil)
	c := w.dial(t)
	for _, tc := range []struct {
		name                 string
		op                   string // get or gh
		protocol, host, path string // path is the owner for gh
		want                 string // the secret served
		wantHost, warning    string
		reason               string // in the audit line
	}{
		{"convention", "get", "https", "github.com", "myorg/app.git", myorg, "github.com", "", ""},
		{"explicit route", "get", "https", "github.com", "alice/dots", personal, "github.com", "", ""},
		{"host default", "get", "https", "github.com", "someone/x", classic, "github.com", "", ""},
		{"owner in other case", "get", "https", "GitHub.com", "MyOrg/app", myorg, "github.com", "", ""},
		{"enterprise route", "get", "https", "ghe.corp.example", "team/x", gheTeam, "ghe.corp.example", "", ""},
		{"enterprise default", "get", "https", "ghe.corp.example", "someone/x", gheDflt, "ghe.corp.example", "", ""},
		{"plain http", "get", "http", "github.com", "myorg/app", "", "", "", reasonNotHTTPS},
		{"no protocol", "get", "", "github.com", "myorg/app", "", "", "", reasonNotHTTPS},
		{"look-alike host", "get", "https", "github.com.evil.example", "myorg/app", "", "", "", reasonHost},
		{"port not configured", "get", "https", "github.com:8443", "myorg/app", "", "", "", reasonHost},
		{"no path", "get", "https", "github.com", "", "", "", "", reasonOwner},
		{"encoded dot-dot", "get", "https", "github.com", "%2e%2e/myorg/app", "", "", "", reasonOwner},
		{"dot-dot", "get", "https", "github.com", "../myorg/app", "", "", "", reasonOwner},
		{"route to a missing token", "get", "https", "github.com", "bob/x", "", "", "fine-grained-gone", reasonMissing},
		{"expired", "get", "https", "github.com", "oldorg/x", "", "", "expired on 2026-12-01", reasonExpired},
		{"empty", "get", "https", "github.com", "emptyorg/x", "", "", "is empty", reasonEmpty},
		{"gh default", "gh", "", "github.com", "", classic, "github.com", "", ""},
		{"gh owner", "gh", "", "GITHUB.COM", "myorg", myorg, "github.com", "", ""},
		{"gh enterprise default", "gh", "", "ghe.corp.example", "", gheDflt, "ghe.corp.example", "", ""},
		{"gh host not configured", "gh", "", "evil.example", "", "", "", "", reasonHost},
		{"gh no host", "gh", "", "", "myorg", "", "", "", reasonHost},
		{"gh owner unreadable", "gh", "", "github.com", "../x", "", "", "", reasonOwner},
		{"gh expired", "gh", "", "github.com", "oldorg", "", "", "rotate it", reasonExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(w.auditLines(t))
			var a Answer
			var err error
			if tc.op == "get" {
				a, err = c.Get(tc.protocol, tc.host, tc.path)
			} else {
				a, err = c.GH(tc.host, tc.path)
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Token.Secret != tc.want {
				t.Errorf("served %s, want %s", name(a.Token.Secret), name(tc.want))
			}
			if a.Host != tc.wantHost {
				t.Errorf("host = %q, want %q", a.Host, tc.wantHost)
			}
			if tc.warning == "" && a.Warning != "" || !strings.Contains(a.Warning, tc.warning) {
				t.Errorf("warning = %q, want one containing %q", a.Warning, tc.warning)
			}
			recs := w.auditLines(t)
			if len(recs) != before+1 {
				t.Fatalf("%d audit lines after one request, want %d", len(recs), before+1)
			}
			rec := recs[len(recs)-1]
			wantResult := resultServed
			if tc.reason != "" {
				wantResult = resultRefused
			}
			if rec.Op != tc.op || rec.Result != wantResult || rec.Reason != tc.reason {
				t.Errorf("audit line %+v, want op %s, result %s, reason %q", rec, tc.op, wantResult, tc.reason)
			}
		})
	}
}

// TestConfigFrozen checks that neither the caller's value nor the
// environment the agent could set changes the broker's routing.
func TestConfigFrozen(t *testing.T) {
	var cfg config.Config
	w := startWorld(t, func(o *Options) { cfg = o.Config })
	cfg.Routes[0].Token = "github:other"
	cfg.Hosts[0] = "evil.example"
	cfgDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cfgDir, "jailrun"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "jailrun", "config"), []byte(`GH_TOKEN_NAME="other"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_HOME", cfgDir)
	t.Setenv("GH_TOKEN_NAME", "other")
	t.Setenv("GH_TOKEN_ROUTES", "alice=other")
	c := w.dial(t)
	for _, tc := range []struct{ path, want string }{{"alice/dots", personal}, {"someone/x", classic}} {
		a, err := c.Get("https", "github.com", tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if a.Token.Secret != tc.want {
			t.Errorf("%s: served %s, want %s", tc.path, name(a.Token.Secret), name(tc.want))
		}
	}
	if a, _ := c.GH("evil.example", ""); a.Token.Secret != "" {
		t.Errorf("evil.example served %s", name(a.Token.Secret))
	}
}

func TestAuditHasNoSecret(t *testing.T) {
	w := startWorld(t, nil)
	c := w.dial(t)
	if _, err := c.Hello(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"myorg/app", "alice/dots", "someone/x", "oldorg/x", "bob/x"} {
		if _, err := c.Get("https", "github.com", path); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GH("ghe.corp.example", "team"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(w.audit)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		for _, leak := range []string{s, strings.TrimSuffix(keyring.Preview(s), "..."), s[len(s)-12:]} {
			if strings.Contains(string(data), leak) {
				t.Errorf("the audit log shows the %s token or a part of it", name(s))
			}
		}
	}
	recs := w.auditLines(t)
	if len(recs) != 6 {
		t.Fatalf("%d audit lines, want 6 (hello is not recorded)", len(recs))
	}
	first := recs[0]
	if first.Time != now.Format(time.RFC3339Nano) || first.Agent != "claude" || first.Session != "20261202T081423Z-4242" || first.PID != os.Getpid() ||
		first.Host != "github.com" || first.Owner != "myorg" || first.Token != "github:fine-grained-myorg" || first.Result != resultServed {
		t.Errorf("first audit line = %+v", first)
	}
	if last := recs[5]; last.Op != opGH || last.Token != "github:ghe-team" || last.Owner != "team" {
		t.Errorf("last audit line = %+v", last)
	}
	want := "broker: 6 requests, 4 served (github:classic ×1, github:fine-grained-myorg ×1, github:fine-grained-personal ×1, github:ghe-team ×1), 2 refused (routed token missing ×1, token expired ×1)"
	if got := w.broker.Summary(); got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
}

func TestAuditClipsLongValues(t *testing.T) {
	w := startWorld(t, nil)
	long := strings.Repeat("é", MaxRequestSize/4)
	if _, err := w.dial(t).Get("https", long, "x/y\n{\"forged\":true}"); err != nil {
		t.Fatal(err)
	}
	recs := w.auditLines(t)
	if len(recs) != 1 {
		t.Fatalf("%d audit lines, want 1", len(recs))
	}
	if len(recs[0].Host) > maxField+len("…") || !strings.HasSuffix(recs[0].Host, "…") {
		t.Errorf("host kept %d bytes, want at most %d and a mark", len(recs[0].Host), maxField)
	}
}

func TestSummary(t *testing.T) {
	b := New(Options{})
	if got := b.Summary(); got != "broker: no token requests" {
		t.Errorf("empty summary = %q", got)
	}
	b.record(record{Result: resultServed, Token: "github:classic"})
	if got, want := b.Summary(), "broker: 1 request, 1 served (github:classic ×1)"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	for range 9 {
		b.record(record{Result: resultServed, Token: "github:fine-grained-myorg"})
	}
	b.record(record{Result: resultServed, Token: "github:classic"})
	b.record(record{Result: resultRefused, Reason: reasonExpired})
	want := "broker: 12 requests, 11 served (github:fine-grained-myorg ×9, github:classic ×2), 1 refused (token expired ×1)"
	if got := b.Summary(); got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestSummarySaysAuditFailed(t *testing.T) {
	b := New(Options{Audit: failingWriter{}})
	b.record(record{Result: resultRefused, Reason: reasonHost})
	if got := b.Summary(); !strings.HasSuffix(got, "; the audit log was not written: disk full") {
		t.Errorf("summary = %q", got)
	}
}

func TestKeyringErrorIsOneLine(t *testing.T) {
	w := startWorld(t, nil)
	w.store.err = errors.New("the Secret Service did not answer in 5s; try again")
	_, err := w.dial(t).Get("https", "github.com", "myorg/app")
	if err == nil || err.Error() != w.store.err.Error() {
		t.Errorf("error = %v, want the keyring's", err)
	}
	if recs := w.auditLines(t); len(recs) != 1 || recs[0].Reason != reasonKeyring {
		t.Errorf("audit = %+v", recs)
	}
}

// TestRouteMustReturnItsPick checks that a routing function that returns
// a token other than the one it decided on gets nothing served.
func TestRouteMustReturnItsPick(t *testing.T) {
	w := startWorld(t, func(o *Options) {
		o.Route = func(kr keyring.Store, cfg config.Config, protocol, host, owner string) (keyring.Token, routing.Decision, error) {
			tok, _ := kr.Get("github:other")
			return tok, routing.Decision{Token: "github:fine-grained-myorg"}, nil
		}
	})
	a, err := w.dial(t).Get("https", "github.com", "myorg/app")
	if err != nil || a.Token.Secret != "" {
		t.Errorf("served %s (%v), want nothing", name(a.Token.Secret), err)
	}
}

func TestHello(t *testing.T) {
	v, err := startWorld(t, nil).dial(t).Hello()
	if err != nil || v != Version {
		t.Errorf("Hello = %d, %v; want %d", v, err, Version)
	}
}

func TestExpiryAndMetaReachTheClient(t *testing.T) {
	a, err := startWorld(t, nil).dial(t).Get("https", "github.com", "myorg/app")
	if err != nil {
		t.Fatal(err)
	}
	if a.Token.Name != "github:fine-grained-myorg" || !a.Token.Meta.Expires.Equal(now.Add(48*time.Hour)) || a.Token.Meta.Kind != "fine-grained" {
		t.Errorf("answer: name %s, meta %+v", a.Token.Name, a.Token.Meta)
	}
}

func TestBrokerClosed(t *testing.T) {
	w := startWorld(t, nil)
	c := w.dial(t)
	if _, err := c.Hello(); err != nil {
		t.Fatal(err)
	}
	if err := w.broker.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get("https", "github.com", "myorg/app"); !errors.Is(err, ErrNotAnswering) {
		t.Errorf("Get after Close: %v, want %v", err, ErrNotAnswering)
	}
	if _, err := Dial(w.socket); !errors.Is(err, ErrNotAnswering) {
		t.Errorf("Dial after Close: %v, want %v", err, ErrNotAnswering)
	}
}

// TestBrokerDied checks a socket whose server is gone without removing
// it, as when jailrun is killed.
func TestBrokerDied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(path); !errors.Is(err, ErrNotAnswering) {
		t.Errorf("Dial: %v, want %v", err, ErrNotAnswering)
	}
}

// TestBrokerHung checks that a broker that accepts and never answers is
// the client's error, not a hang.
func TestBrokerHung(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "broker.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if conn, err := l.Accept(); err == nil {
			defer conn.Close()
			io.Copy(io.Discard, conn)
		}
	}()
	c, err := Dial(filepath.Join(dir, "broker.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.timeout = 10 * time.Millisecond
	if _, err := c.Get("https", "github.com", "myorg/app"); !errors.Is(err, ErrNotAnswering) {
		t.Errorf("Get: %v, want %v", err, ErrNotAnswering)
	}
}

func TestConcurrentClients(t *testing.T) {
	w := startWorld(t, nil)
	const clients = 4 * MaxConns
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c, err := Dial(w.socket)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			path, want := "myorg/app", myorg
			if i%2 == 1 {
				path, want = "alice/dots", personal
			}
			for range 5 {
				a, err := c.Get("https", "github.com", path)
				if err != nil {
					t.Error(err)
					return
				}
				if a.Token.Secret != want {
					t.Errorf("%s: served %s, want %s", path, name(a.Token.Secret), name(want))
				}
			}
		})
	}
	wg.Wait()
	if recs := w.auditLines(t); len(recs) != clients*5 {
		t.Errorf("%d audit lines, want %d", len(recs), clients*5)
	}
}

func TestOversizedRequest(t *testing.T) {
	w := startWorld(t, nil)
	conn, err := net.Dial("unix", w.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(Timeout))
	go conn.Write([]byte(`{"op":"get","path":"` + strings.Repeat("a", MaxRequestSize) + "\"}\n"))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var resp response
	if err := json.Unmarshal([]byte(line), &resp); err != nil || !strings.Contains(resp.Error, "over") {
		t.Errorf("answer %q, want an error", line)
	}
	if recs := w.auditLines(t); len(recs) != 1 || recs[0].Reason != reasonTooLarge {
		t.Errorf("audit = %+v", recs)
	}
	if _, err := w.dial(t).Get("https", "github.com", strings.Repeat("a", MaxRequestSize)); err == nil || errors.Is(err, ErrNotAnswering) {
		t.Errorf("client sent an oversized request: %v", err)
	}
}

func TestUnreadableRequest(t *testing.T) {
	w := startWorld(t, nil)
	for _, line := range []string{"not json\n", `{"op":"put","host":"github.com"}` + "\n"} {
		conn, err := net.Dial("unix", w.socket)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(Timeout))
		conn.Write([]byte(line))
		out, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		var resp response
		if err != nil || json.Unmarshal([]byte(out), &resp) != nil || resp.Error == "" || resp.Secret != "" {
			t.Errorf("%q: answer %q (%v), want an error", line, out, err)
		}
	}
	recs := w.auditLines(t)
	if len(recs) != 2 || recs[0].Reason != reasonMalformed || recs[1].Reason != reasonUnknownOp {
		t.Errorf("audit = %+v", recs)
	}
}

func TestStartNeedsPrivateDir(t *testing.T) {
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{open, link} {
		b := New(Options{})
		if err := b.Start(filepath.Join(dir, "broker.sock")); err == nil {
			b.Close()
			t.Errorf("Start in %s succeeded", dir)
		}
	}
	w := startWorld(t, nil)
	fi, err := os.Lstat(w.socket)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket: %v, %v; want a socket of mode 0600", fi.Mode(), err)
	}
	w.broker.Close()
	if _, err := os.Lstat(w.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Close: %v", err)
	}
}

// TestFloodIsSummarised pipelines many more requests than the rate allows
// on one connection: those over it are refused without a line each, and one
// line at Close counts them, so the log grows by a bounded amount.
func TestFloodIsSummarised(t *testing.T) {
	w := startWorld(t, nil)
	conn, err := net.Dial("unix", w.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 20 * RateBurst
	go func() {
		req := []byte(`{"op":"get","protocol":"https","host":"github.com","path":"myorg/r.git"}` + "\n")
		for range n {
			if _, err := conn.Write(req); err != nil {
				return
			}
		}
	}()
	r := bufio.NewReader(conn)
	limited := 0
	for range n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d answers: %v", limited, err)
		}
		if strings.Contains(line, "at most") {
			limited++
		}
	}
	w.broker.Close()
	recs := w.auditLines(t)
	last := recs[len(recs)-1]
	if limited == 0 || len(recs)+limited-1 != n || last.Op != "flood" || last.Count != limited {
		t.Errorf("%d requests: %d refused over the rate, %d audit lines, the last %+v; want every one either a line or counted in the last", n, limited, len(recs), last)
	}
	if len(recs) > n/2 {
		t.Errorf("%d audit lines for %d requests: the flood was not limited", len(recs), n)
	}
}

// TestVaultKeepsTokensOutside: with a vault, the broker answers with the
// session's placeholder, the same for the same token and host, and only
// the vault knows the token behind it.
func TestVaultKeepsTokensOutside(t *testing.T) {
	vault := placeholder.New()
	c := startWorld(t, func(o *Options) { o.Vault = vault }).dial(t)
	a, err := c.Get("https", "github.com", "myorg/app")
	if err != nil {
		t.Fatal(err)
	}
	if !placeholder.Is(a.Token.Secret) || a.Token.Name != "github:fine-grained-myorg" {
		t.Fatalf("answered %s with %s, want a placeholder for github:fine-grained-myorg", a.Token.Name, name(a.Token.Secret))
	}
	again, err := c.GH("github.com", "myorg")
	if err != nil || again.Token.Secret != a.Token.Secret {
		t.Errorf("gh got another placeholder for the same token (%v)", err)
	}
	if real, _, err := vault.Real(a.Token.Secret, "api.github.com"); err != nil || name(real) != "myorg" {
		t.Errorf("the vault maps the placeholder to %s, want the myorg token", name(real))
	}
	other, err := c.Get("https", "github.com", "someone/else")
	if err != nil || other.Token.Secret == a.Token.Secret {
		t.Errorf("another token got the same placeholder (%v)", err)
	}
}

// TestRecentAnswers: requests for one owner within RecentFor read the
// keyring once; after it, a token rotated outside is what they get.
func TestRecentAnswers(t *testing.T) {
	var clock, reads atomic.Int64
	clock.Store(now.UnixNano())
	w := startWorld(t, func(o *Options) {
		o.Now = func() time.Time { return time.Unix(0, clock.Load()) }
		o.Route = func(kr keyring.Store, cfg config.Config, protocol, host, owner string) (keyring.Token, routing.Decision, error) {
			reads.Add(1)
			return listRoute(kr, cfg, protocol, host, owner)
		}
	})
	c := w.dial(t)
	get := func() string {
		t.Helper()
		a, err := c.Get("https", "github.com", "myorg/app.git")
		if err != nil {
			t.Fatal(err)
		}
		return name(a.Token.Secret)
	}
	if got := get() + " " + get(); got != "myorg myorg" || reads.Load() != 1 {
		t.Errorf("two requests at once: %s, %d keyring reads, want myorg twice from one", got, reads.Load())
	}
	w.store.mu.Lock()
	tok := w.store.tokens["github:fine-grained-myorg"]
	tok.Secret = other
	w.store.tokens[tok.Name] = tok
	w.store.mu.Unlock()
	clock.Add(int64(RecentFor - time.Millisecond))
	if got := get(); got != "myorg" || reads.Load() != 1 {
		t.Errorf("within RecentFor: %s, %d keyring reads", got, reads.Load())
	}
	clock.Add(int64(time.Millisecond))
	if got := get(); got != "other" || reads.Load() != 2 {
		t.Errorf("after RecentFor: %s, %d keyring reads, want the rotated token from a second read", got, reads.Load())
	}
}
