// Package audit writes the jail's egress lines to the audit log and reads
// the log back by session for `jailrun audit`. The log is the broker's
// (broker.AuditPath, broker.OpenAudit): one JSON object a line, never a
// secret. Everything here but the writes is pure.
package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/jailrun/jailrun/internal/broker"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/jailrun/jailrun/internal/proxy"
)

// OpEgress is the op of the lines this package writes.
const OpEgress = "egress"

// Results of an egress line.
const (
	ResultConnected   = "connected"   // the jail reached the destination
	ResultRefused     = "refused"     // the proxy refused it
	ResultUnreachable = "unreachable" // the proxy allowed it but could not reach it
)

// SessionID names one agent session in the audit log: the supervisor's
// start time in UTC to the second and its pid, e.g. "20261202T081423Z-4242".
// The broker's lines and the egress lines of a session carry the same one.
func SessionID(pid int, start time.Time) string {
	return start.UTC().Format("20060102T150405Z") + "-" + strconv.Itoa(pid)
}

// Session is who wrote a session's lines.
type Session struct {
	ID    string // SessionID
	Agent string
	PID   int
}

// Record is one audit line, the broker's or the proxy's: the broker
// defines it, so that the helper, which talks to the broker, does not
// build in this package's proxy and HTTP code.
type Record = broker.Record

// EgressLines returns the lines for the end of a session: one per
// destination the proxy connected to, with its bytes and connections, then
// one per destination it refused, with the first reason and the count.
func EgressLines(s Session, now time.Time, traffic []proxy.Traffic, refused []proxy.Refused) []byte {
	base := Record{Time: now.UTC().Format(time.RFC3339Nano), Session: s.ID, Agent: s.Agent, PID: s.PID, Op: OpEgress}
	var out bytes.Buffer
	for _, t := range traffic {
		rec := base
		rec.Host, rec.Port = splitDest(t.Dest)
		rec.Up, rec.Down, rec.Conns, rec.Result = t.Up, t.Down, t.Conns, ResultConnected
		writeLine(&out, rec)
	}
	for _, r := range refused {
		rec := base
		rec.Host, rec.Port = r.Dest.Host, r.Dest.Port
		rec.Count, rec.Result, rec.Reason = r.Count, ResultRefused, r.Reason
		if r.Check != "" {
			rec.Result = ResultUnreachable
		}
		writeLine(&out, rec)
	}
	return out.Bytes()
}

// WriteEgress appends EgressLines to the audit log w in one write, so the
// lines of sessions ending at once do not mix.
func WriteEgress(w io.Writer, s Session, now time.Time, traffic []proxy.Traffic, refused []proxy.Refused) error {
	lines := EgressLines(s, now, traffic, refused)
	if len(lines) == 0 {
		return nil
	}
	if _, err := w.Write(lines); err != nil {
		return fmt.Errorf("cannot write the egress lines to the audit log: %w", err)
	}
	return nil
}

func writeLine(out *bytes.Buffer, rec Record) {
	line, _ := json.Marshal(rec) // strings and numbers only: it cannot fail
	out.Write(line)
	out.WriteByte('\n')
}

// splitDest splits Traffic.Dest, host:port as the proxy normalized it.
func splitDest(dest string) (string, int) {
	host, port, err := net.SplitHostPort(dest)
	if err != nil {
		return dest, 0
	}
	n, _ := strconv.Atoi(port)
	return host, n
}

// Logged is one session as the log holds it: its lines in order, parsed
// and as written.
type Logged struct {
	ID      string // SessionID, or "pid N" for lines written before sessions had one
	Agent   string
	Start   time.Time // the first line's time
	Records []Record
	Lines   [][]byte
}

// maxLine bounds an audit line; a longer one is skipped as unreadable.
const maxLine = 64 << 10

// Read parses an audit log into sessions in the order their first lines
// appear, and counts the lines it could not read (a torn write, another
// program's text); it fails only when r does.
func Read(r io.Reader) (sessions []Logged, unreadable int, err error) {
	index := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil || rec.Op == "" {
			unreadable++
			continue
		}
		id := rec.Session
		if id == "" {
			id = "pid " + strconv.Itoa(rec.PID)
		}
		i, ok := index[id]
		if !ok {
			i = len(sessions)
			index[id] = i
			start, _ := time.Parse(time.RFC3339Nano, rec.Time)
			sessions = append(sessions, Logged{ID: id, Start: start})
		}
		s := &sessions[i]
		if s.Agent == "" {
			s.Agent = rec.Agent
		}
		s.Records = append(s.Records, rec)
		s.Lines = append(s.Lines, bytes.Clone(line))
	}
	if err := sc.Err(); err != nil {
		return sessions, unreadable, fmt.Errorf("cannot read the audit log: %w", err)
	}
	return sessions, unreadable, nil
}

// Last returns the last n sessions (all when n <= 0 or there are fewer).
func Last(sessions []Logged, n int) []Logged {
	if n <= 0 || n >= len(sessions) {
		return sessions
	}
	return sessions[len(sessions)-n:]
}

// WriteText writes sessions for a person: a heading per session, then its
// token requests grouped by what they asked and got, then its egress lines.
func WriteText(w io.Writer, sessions []Logged) error {
	var b bytes.Buffer
	for i, s := range sessions {
		if i > 0 {
			b.WriteByte('\n')
		}
		agent := s.Agent
		if agent == "" {
			agent = "(no agent name)"
		}
		fmt.Fprintf(&b, "session %s  %s  started %s\n", s.ID, agent, s.Start.UTC().Format("2006-01-02 15:04:05 UTC"))
		type key struct{ op, host, owner, token, result, reason string }
		var order []key
		counts := map[key]int{}
		for _, r := range s.Records {
			if r.Op == OpEgress {
				continue
			}
			k := key{r.Op, r.Host, r.Owner, r.Token, r.Result, r.Reason}
			if counts[k] == 0 {
				order = append(order, k)
			}
			counts[k]++
		}
		for _, k := range order {
			fmt.Fprintf(&b, "  %s %s", k.op, k.host)
			if k.owner != "" {
				fmt.Fprintf(&b, "/%s", k.owner)
			}
			if k.token != "" {
				fmt.Fprintf(&b, " → %s", k.token)
			}
			fmt.Fprintf(&b, ": %s ×%d", k.result, counts[k])
			if k.reason != "" {
				fmt.Fprintf(&b, " (%s)", k.reason)
			}
			b.WriteByte('\n')
		}
		for _, r := range s.Records {
			if r.Op != OpEgress {
				continue
			}
			dest := net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
			if r.Result == ResultRefused || r.Result == ResultUnreachable {
				fmt.Fprintf(&b, "  egress %s: %s ×%d (%s)\n", dest, r.Result, r.Count, r.Reason)
				continue
			}
			fmt.Fprintf(&b, "  egress %s: %s up, %s down, %d connection%s\n", dest, bytesText(r.Up), bytesText(r.Down), r.Conns, plural(r.Conns))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// bytesText is n in B, kB, MB or GB (powers of 1000), one decimal above B.
func bytesText(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	value, prefix := float64(n)/unit, 0
	for value >= unit && prefix < 2 {
		value /= unit
		prefix++
	}
	return fmt.Sprintf("%.1f %cB", value, "kMG"[prefix])
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
