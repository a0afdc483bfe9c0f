// Package broker is the jail's token broker. jailrun stays outside the jail
// as the agent's supervisor and serves a unix socket bound into it; the git
// credential helper (session mode) and the gh shim inside ask the broker for
// tokens instead of the keyring, which the jail does not reach.
//
// The broker routes with the configuration frozen at launch: nothing the
// agent sets or writes changes it, and a client sends only what git or gh
// asked about. It serves only the jailrun token routing picks, only for
// https and a host in GH_HOSTS, never a fallback: a missing or expired token
// is a warning and nothing served. In session mode an owner that cannot be
// read from the path gets nothing, not the host's default. It uses the one
// keyring connection of the session. Every token request is recorded without
// secrets: one line in the audit log, and a count in the summary line.
//
// The protocol is newline-delimited JSON over the socket: one request per
// line, one answer per line, in order. hello says that this is a jailrun
// broker and its version (nesting detection); get answers the helper
// (protocol, host, path); gh answers the gh shim (host, owner).
package broker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/placeholder"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
	"golang.org/x/time/rate"
)

// MaxConns bounds the connections served at once; more wait to be accepted.
const MaxConns = 16

// RouteFunc returns routing's decision for owner's repository on host and
// the token it picks, read from kr: an explicit route, the convention
// token, the host's default, else nothing; a route or default naming a
// missing token is a decision with a warning and no token. The shared
// routed-token lookup has this shape.
type RouteFunc func(kr keyring.Store, cfg config.Config, protocol, host, owner string) (keyring.Token, routing.Decision, error)

// Options is everything a broker uses, all of it the supervisor's state at
// launch.
type Options struct {
	Keyring keyring.Store // the session's keyring connection; the caller closes it after Close
	Config  config.Config // copied: later changes to the caller's value do not reach the broker
	Route   RouteFunc
	Audit   io.Writer // gets one line per request (see OpenAudit); nil records none
	Agent   string    // the agent's name, in audit lines
	Session string    // the session's id in audit lines (audit.SessionID), shared with the egress lines
	Now     func() time.Time
	// Vault, if set, keeps the tokens outside: the broker answers with
	// the vault's placeholder for each token, which only the session's
	// proxy turns back into the token.
	Vault *placeholder.Vault
}

// Broker serves routed tokens on a unix socket. It is safe for concurrent use.
type Broker struct {
	kr    keyring.Store
	cfg   config.Config
	route RouteFunc
	agent string
	now   func() time.Time
	pid   int
	vault *placeholder.Vault

	session string // in audit lines

	// keyringMu serialises keyring calls: keyring.Store does not promise
	// concurrent use (the macOS keychain), and the Secret Service answers
	// one call at a time anyway. It guards recent too.
	keyringMu sync.Mutex
	recent    map[routeKey]routed

	slots chan struct{} // one per connection being served
	wg    sync.WaitGroup

	mu       sync.Mutex // guards what follows
	listener net.Listener
	conns    map[net.Conn]struct{}
	closed   bool
	audit    io.Writer
	auditErr error          // the first failed audit write
	served   map[string]int // by token name
	refused  map[string]int // by reason
	limited  int            // requests refused over the rate, recorded once at Close

	limiter *rate.Limiter
}

// The broker answers a session's requests at most RateLimit a second, in
// bursts of RateBurst: git asks once per remote operation, so only a flood
// goes past it. A flood is refused without a line each, and summed up in
// one line when the session ends, so that it cannot fill the disk.
const (
	RateLimit = 100
	RateBurst = 500
)

// New returns a broker that answers with opts; Start serves it.
func New(opts Options) *Broker {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	cfg := opts.Config
	cfg.Routes = slices.Clone(cfg.Routes)
	cfg.Hosts = slices.Clone(cfg.Hosts)
	return &Broker{
		kr:      opts.Keyring,
		cfg:     cfg,
		route:   opts.Route,
		agent:   opts.Agent,
		session: opts.Session,
		now:     now,
		pid:     os.Getpid(),
		vault:   opts.Vault,
		slots:   make(chan struct{}, MaxConns),
		conns:   map[net.Conn]struct{}{},
		audit:   opts.Audit,
		served:  map[string]int{},
		refused: map[string]int{},
		limiter: rate.NewLimiter(RateLimit, RateBurst),
	}
}

// Start serves the broker on a new unix socket at path, mode 0600, in the
// background until Close. path's directory must exist, be the caller's and
// be closed to others (0700), e.g. one made by os.MkdirTemp.
func (b *Broker) Start(path string) error {
	if err := checkPrivateDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("cannot start the token broker: %v", err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("cannot start the token broker: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return fmt.Errorf("cannot start the token broker: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.listener != nil {
		l.Close()
		return errors.New("cannot start the token broker: it was started or closed before")
	}
	b.listener = l
	b.wg.Add(1)
	go b.accept(l)
	return nil
}

// checkPrivateDir checks that dir is a directory (not a symbolic link) of
// this user that nobody else can enter.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s is open to other users (mode %v); use a directory of mode 0700", dir, fi.Mode().Perm())
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to another user; use a directory of your own", dir)
	}
	return nil
}

// accept serves connections from l, at most MaxConns at once, until l is closed.
func (b *Broker) accept(l net.Listener) {
	defer b.wg.Done()
	for {
		b.slots <- struct{}{}
		conn, err := l.Accept()
		if err != nil {
			<-b.slots
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // out of file descriptors: let connections end
			continue
		}
		if !b.track(conn) {
			conn.Close()
			<-b.slots
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.serveConn(conn)
			b.untrack(conn)
			<-b.slots
		}()
	}
}

func (b *Broker) track(conn net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.conns[conn] = struct{}{}
	return true
}

func (b *Broker) untrack(conn net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.conns, conn)
	conn.Close()
}

// Close stops serving, ends the connections being served, removes the
// socket and waits for the requests under way. The keyring stays open.
func (b *Broker) Close() error {
	b.mu.Lock()
	b.closed = true
	l := b.listener
	for conn := range b.conns {
		conn.Close()
	}
	b.mu.Unlock()
	var err error
	if l != nil {
		err = l.Close()
	}
	b.wg.Wait()
	b.mu.Lock()
	limited := b.limited
	b.mu.Unlock()
	if limited > 0 {
		b.record(record{Op: "flood", Result: resultRefused, Count: limited,
			Reason: fmt.Sprintf("over %d requests a second: refused without a line each", RateLimit)})
	}
	return err
}

// serveConn answers the requests on conn, one line each, until the client
// closes it, sends nothing for Timeout, or sends a line that is too long
// or not JSON.
func (b *Broker) serveConn(conn net.Conn) {
	r := bufio.NewReaderSize(conn, MaxRequestSize)
	for {
		conn.SetReadDeadline(time.Now().Add(Timeout))
		line, err := r.ReadSlice('\n')
		var resp response
		var req request
		last := false // after a line it could not read, the broker hangs up
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			b.record(record{Op: "invalid", Result: resultRefused, Reason: reasonTooLarge})
			resp.Error = fmt.Sprintf("request to jailrun's token broker is over %d bytes", MaxRequestSize)
			last = true
		case err != nil:
			return // closed, idle, or cut short
		case json.Unmarshal(line, &req) != nil:
			b.record(record{Op: "invalid", Result: resultRefused, Reason: reasonMalformed})
			resp.Error = "jailrun's token broker got a request it cannot read; use the same jailrun inside and outside the jail"
			last = true
		case req.Op == opHello:
			resp = response{Service: Service, Version: Version}
		case !b.limiter.Allow():
			b.mu.Lock()
			b.limited++
			b.mu.Unlock()
			resp.Error = fmt.Sprintf("jailrun's token broker answers at most %d requests a second; slow down", RateLimit)
		default:
			var rec record
			resp, rec = b.answer(req)
			b.record(rec)
		}
		out, _ := json.Marshal(resp) // strings and numbers only: it cannot fail
		conn.SetWriteDeadline(time.Now().Add(Timeout))
		if _, err := conn.Write(append(out, '\n')); err != nil || last {
			return
		}
	}
}

// answer decides a get or gh request and says what to record about it.
func (b *Broker) answer(req request) (response, record) {
	switch req.Op {
	case opGet:
		return b.get(req)
	case opGH:
		return b.gh(req)
	}
	return response{Error: fmt.Sprintf("jailrun's token broker does not know the request %.40q; use the same jailrun inside and outside the jail", req.Op)},
		record{Op: "invalid", Result: resultRefused, Reason: reasonUnknownOp}
}

// get answers the helper: the routed token for the repository at path on
// host, over https only.
func (b *Broker) get(req request) (response, record) {
	rec := record{Op: opGet, Host: req.Host, Path: req.Path}
	switch {
	case !strings.EqualFold(req.Protocol, "https"):
		return response{}, rec.refuse(reasonNotHTTPS)
	case !b.cfg.IsGitHubHost(req.Host):
		return response{}, rec.refuse(reasonHost)
	}
	if rec.Owner = routing.OwnerFromPath(req.Path); rec.Owner == "" {
		return response{}, rec.refuse(reasonOwner)
	}
	return b.serve(req.Protocol, req.Host, rec)
}

// gh answers the gh shim: the routed token for owner on host, or the
// host's default when owner is "" (gh without a repository).
func (b *Broker) gh(req request) (response, record) {
	rec := record{Op: opGH, Host: req.Host, Owner: req.Owner}
	switch {
	case !b.cfg.IsGitHubHost(req.Host):
		return response{}, rec.refuse(reasonHost)
	case req.Owner != "" && !config.ValidOwner(req.Owner):
		return response{}, rec.refuse(reasonOwner)
	}
	return b.serve("https", req.Host, rec)
}

// RecentFor is how long the broker answers a host and owner from what it
// last read for them: a burst of git's requests (a fetch with submodules,
// a push to several remotes) reads the keyring once, and a token rotated
// or deleted outside is served at most this much longer.
const RecentFor = time.Second

// maxRecent bounds the answers the broker remembers.
const maxRecent = 64

type routeKey struct{ protocol, host, owner string }

type routed struct {
	tok keyring.Token
	d   routing.Decision
	at  time.Time
}

// routed is the route's answer for host and owner, read from the keyring
// unless a token was read for them less than RecentFor ago.
func (b *Broker) routed(protocol, host, owner string) (keyring.Token, routing.Decision, error) {
	b.keyringMu.Lock()
	defer b.keyringMu.Unlock()
	key, now := routeKey{protocol, host, owner}, b.now()
	if r, ok := b.recent[key]; ok && !now.Before(r.at) && now.Sub(r.at) < RecentFor {
		return r.tok, r.d, nil
	}
	tok, d, err := b.route(b.kr, b.cfg, protocol, host, owner)
	if err == nil && tok.Secret != "" && tok.Name == d.Token {
		if b.recent == nil || len(b.recent) >= maxRecent {
			b.recent = map[routeKey]routed{} // requests for many owners: start afresh
		}
		b.recent[key] = routed{tok, d, now}
	}
	return tok, d, err
}

// serve reads the token routing picks for rec's host and owner and answers
// with it, unless it is missing, empty or expired.
func (b *Broker) serve(protocol, host string, rec record) (response, record) {
	tok, d, err := b.routed(protocol, host, rec.Owner)
	rec.Token = d.Token
	switch exp := tok.Meta.Expires; {
	case err != nil:
		return response{Error: err.Error()}, rec.refuse(reasonKeyring)
	case d.Token == "" && d.Warning != "":
		return response{Warning: d.Warning}, rec.refuse(reasonMissing)
	case d.Token == "":
		return response{}, rec.refuse(reasonNoRoute)
	case tok.Name != d.Token:
		return response{}, rec.refuse(reasonNotRead)
	case tok.Secret == "":
		return response{Warning: fmt.Sprintf("token %s is empty; store it again: jailrun token rotate --name %s", tok.Name, tok.Name)},
			rec.refuse(reasonEmpty)
	case !exp.IsZero() && !exp.After(b.now()):
		return response{Warning: fmt.Sprintf("token %s expired on %s; rotate it: jailrun token rotate --name %s",
			tok.Name, exp.UTC().Format(time.DateOnly), tok.Name)}, rec.refuse(reasonExpired)
	}
	secret := tok.Secret
	if b.vault != nil {
		secret = b.vault.For(tok.Name, host, tok.Secret)
	}
	resp := response{Host: strings.ToLower(host), Token: tok.Name, Secret: secret, Kind: tok.Meta.Kind, Login: tok.Meta.Login}
	if !tok.Meta.Expires.IsZero() {
		resp.Expires = tok.Meta.Expires.Unix()
	}
	rec.Result = resultServed
	return resp, rec
}

// record counts rec for the summary and appends it to the audit log.
func (b *Broker) record(rec record) {
	rec.Time = b.now().UTC().Format(time.RFC3339Nano)
	rec.Session, rec.Agent, rec.PID = b.session, b.agent, b.pid
	line := rec.line()
	b.mu.Lock()
	defer b.mu.Unlock()
	if rec.Result == resultServed {
		b.served[rec.Token]++
	} else {
		b.refused[rec.Reason] += max(1, rec.Count)
	}
	if b.audit == nil {
		return
	}
	if _, err := b.audit.Write(line); err != nil && b.auditErr == nil {
		b.auditErr = err
	}
}

// Summary is the line for stderr when the agent exits, without the
// agent's tag: "broker: 12 requests, 11 served (github:fine-grained-myorg
// ×9, github:classic ×2), 1 refused (token expired ×1)".
func (b *Broker) Summary() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	served, refused := total(b.served), total(b.refused)
	var s strings.Builder
	switch n := served + refused; n {
	case 0:
		s.WriteString("broker: no token requests")
	case 1:
		s.WriteString("broker: 1 request")
	default:
		fmt.Fprintf(&s, "broker: %d requests", n)
	}
	if served > 0 {
		fmt.Fprintf(&s, ", %d served (%s)", served, tally(b.served))
	}
	if refused > 0 {
		fmt.Fprintf(&s, ", %d refused (%s)", refused, tally(b.refused))
	}
	if b.auditErr != nil {
		fmt.Fprintf(&s, "; the audit log was not written: %v", b.auditErr)
	}
	return s.String()
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// tally lists counts as "name ×n", the most frequent first.
func tally(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}
