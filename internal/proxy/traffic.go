package proxy

import (
	"net"
	"sort"
	"sync"
	"sync/atomic"
)

// Traffic is what went to and from one destination, for the audit.
type Traffic struct {
	Dest  string // host:port as asked, normalized
	Up    int64  // bytes sent to the destination
	Down  int64  // bytes received from it
	Conns int    // connections made to it
}

// Refused is one destination the proxy refused, with the first reason and
// how many requests it refused.
type Refused struct {
	Refusal
	Count int
}

// ledger counts traffic and refusals per destination.
type ledger struct {
	mu       sync.Mutex
	traffic  map[string]*counter
	refusals map[string]*Refused
}

type counter struct {
	up, down atomic.Int64
	conns    atomic.Int64
}

func newLedger() *ledger {
	return &ledger{traffic: map[string]*counter{}, refusals: map[string]*Refused{}}
}

// counter returns the counter of dest, made on first use, and counts a
// connection.
func (l *ledger) connection(dest string) *counter {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.traffic[dest]
	if c == nil {
		c = &counter{}
		l.traffic[dest] = c
	}
	c.conns.Add(1)
	return c
}

// refuse records r and reports whether its destination is refused for the
// first time.
func (l *ledger) refuse(r *Refusal) (first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := r.Dest.String()
	if seen := l.refusals[key]; seen != nil {
		seen.Count++
		return false
	}
	l.refusals[key] = &Refused{Refusal: *r, Count: 1}
	return true
}

func (l *ledger) snapshot() ([]Traffic, []Refused) {
	l.mu.Lock()
	defer l.mu.Unlock()
	traffic := make([]Traffic, 0, len(l.traffic))
	for dest, c := range l.traffic {
		traffic = append(traffic, Traffic{Dest: dest, Up: c.up.Load(), Down: c.down.Load(), Conns: int(c.conns.Load())})
	}
	sort.Slice(traffic, func(i, j int) bool { return traffic[i].Dest < traffic[j].Dest })
	refused := make([]Refused, 0, len(l.refusals))
	for _, r := range l.refusals {
		refused = append(refused, *r)
	}
	sort.Slice(refused, func(i, j int) bool { return refused[i].Dest.String() < refused[j].Dest.String() })
	return traffic, refused
}

// countingConn counts the bytes of a forwarded request's upstream
// connection as they pass.
type countingConn struct {
	net.Conn
	c *counter
}

func (cc countingConn) Read(p []byte) (int, error) {
	n, err := cc.Conn.Read(p)
	cc.c.down.Add(int64(n))
	return n, err
}

func (cc countingConn) Write(p []byte) (int, error) {
	n, err := cc.Conn.Write(p)
	cc.c.up.Add(int64(n))
	return n, err
}
