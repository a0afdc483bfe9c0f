// Package gitpolicy reads what an agent asks GitHub to do, from the
// protocols themselves, and says what the session's policy allows: the ref
// updates at the head of a git push (git's pkt-line format, see
// gitprotocol-pack(5) and gitprotocol-common(5)) and the REST and GraphQL
// requests of the API. It does no I/O of its own beyond the reader it is
// given; jailrun's proxy calls it for the GitHub hosts it terminates.
package gitpolicy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Command is one ref update of a push.
type Command struct {
	Old, New string // object ids, hex; all zeros for none
	Ref      string // refs/…
}

// Creates and Deletes say what the update does to its ref.
func (c Command) Creates() bool { return zeroID(c.Old) }
func (c Command) Deletes() bool { return zeroID(c.New) }

func zeroID(id string) bool { return strings.Trim(id, "0") == "" }

// Limits of ReadCommands: a push's head is a few hundred bytes a ref.
const (
	maxPacket   = 65520 // git's LARGE_PACKET_MAX
	maxCommands = 10000
)

// Errors of ReadCommands.
var (
	ErrMalformed  = errors.New("the push's ref updates are malformed")
	ErrSignedPush = errors.New("signed pushes (git push --signed) are not read by jailrun's push policy")
	ErrTooMany    = fmt.Errorf("the push updates more than %d refs", maxCommands)
)

// ReadCommands reads the ref updates at the head of a git-receive-pack
// request body: pkt-lines up to the first flush, "shallow" lines before
// them skipped. It returns the updates, the capabilities the first one
// carries after its NUL, and every byte it read, for the request to go on
// with. It reads nothing past the flush.
func ReadCommands(r *bufio.Reader) (cmds []Command, caps []string, head []byte, err error) {
	var buf bytes.Buffer
	for {
		var size [4]byte
		if _, err := io.ReadFull(r, size[:]); err != nil {
			return nil, nil, buf.Bytes(), fmt.Errorf("%w: cut short (%v)", ErrMalformed, err)
		}
		buf.Write(size[:])
		n, err := strconv.ParseUint(string(size[:]), 16, 16)
		switch {
		case err != nil || n == 1 || n == 2 || n == 3 || n > maxPacket:
			return nil, nil, buf.Bytes(), fmt.Errorf("%w: bad packet length %q", ErrMalformed, size)
		case n == 0: // flush: the end of the commands
			if len(cmds) == 0 {
				return nil, nil, buf.Bytes(), fmt.Errorf("%w: no ref update", ErrMalformed)
			}
			return cmds, caps, buf.Bytes(), nil
		}
		line := make([]byte, n-4)
		if _, err := io.ReadFull(r, line); err != nil {
			return nil, nil, buf.Bytes(), fmt.Errorf("%w: cut short (%v)", ErrMalformed, err)
		}
		buf.Write(line)
		text := strings.TrimSuffix(string(line), "\n")
		if len(cmds) == 0 {
			if strings.HasPrefix(text, "push-cert") {
				return nil, nil, buf.Bytes(), ErrSignedPush
			}
			if strings.HasPrefix(text, "shallow ") {
				continue
			}
			var rest string
			text, rest, _ = strings.Cut(text, "\x00")
			caps = strings.Fields(rest)
		}
		c, ok := parseCommand(text)
		if !ok {
			return nil, nil, buf.Bytes(), fmt.Errorf("%w: %.80q is not OLD NEW REF", ErrMalformed, text)
		}
		if cmds = append(cmds, c); len(cmds) > maxCommands {
			return nil, nil, buf.Bytes(), ErrTooMany
		}
	}
}

// parseCommand reads "OLD NEW REF".
func parseCommand(s string) (Command, bool) {
	f := strings.Split(s, " ")
	if len(f) != 3 || !objectID(f[0]) || len(f[1]) != len(f[0]) || !objectID(f[1]) ||
		!strings.HasPrefix(f[2], "refs/") || strings.ContainsAny(f[2], "\x00\n\r\t") || len(f[2]) > 4096 {
		return Command{}, false
	}
	return Command{Old: f[0], New: f[1], Ref: f[2]}, true
}

// objectID reports whether s is a SHA-1 or SHA-256 object id in lower-case hex.
func objectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Rejection is receive-pack's answer to a push refused whole: "unpack ok",
// then "ng REF REASON" for every command, reasons[ref] for the refs that
// caused it and a pointer to them for the rest, in band 1 of
// side-band-64k when caps asked for it, so that git prints each as
// "! [remote rejected] … (REASON)" and fails.
func Rejection(cmds []Command, caps []string, reasons map[string]string, others string) []byte {
	var report bytes.Buffer
	writePacket(&report, "unpack ok\n")
	for _, c := range cmds {
		reason, ok := reasons[c.Ref]
		if !ok {
			reason = others
		}
		writePacket(&report, "ng "+c.Ref+" "+oneLine(reason)+"\n")
	}
	report.WriteString("0000")
	if !slices.Contains(caps, "side-band-64k") && !slices.Contains(caps, "side-band") {
		return report.Bytes()
	}
	chunk := 65515 // side-band-64k's payload, less the band byte
	if !slices.Contains(caps, "side-band-64k") {
		chunk = 999
	}
	var out bytes.Buffer
	for b := report.Bytes(); len(b) > 0; {
		n := min(chunk, len(b))
		writePacket(&out, "\x01"+string(b[:n]))
		b = b[n:]
	}
	out.WriteString("0000")
	return out.Bytes()
}

func writePacket(w *bytes.Buffer, payload string) {
	fmt.Fprintf(w, "%04x%s", len(payload)+4, payload)
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// DefaultBranch is the word in GH_PUSH_PROTECT that stands for the
// repository's default branch.
const DefaultBranch = "@default"

// DefaultProtect is what GH_PUSH_PROTECT is when it is not set: the
// default branch and every tag.
var DefaultProtect = []string{DefaultBranch, "refs/tags/*"}

// Protected reports whether ref matches one of globs, in which "@default"
// stands for the branch defaultBranch ("" for none known), a name without
// "refs/" for a branch (main: refs/heads/main), "*" for any run of
// characters, "/" included, and "?" for one character.
func Protected(ref string, globs []string, defaultBranch string) bool {
	for _, g := range globs {
		if g == DefaultBranch {
			if defaultBranch == "" {
				continue
			}
			g = defaultBranch
		}
		if !strings.HasPrefix(g, "refs/") {
			g = "refs/heads/" + g
		}
		if globMatch(g, ref) {
			return true
		}
	}
	return false
}

// globMatch matches s against pattern's * and ? (see Protected).
func globMatch(pattern, s string) bool {
	// The classic iterative matcher: on a mismatch, let the last * take
	// one more character.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ShortRef is ref as git prints it: a branch or tag without its prefix.
func ShortRef(ref string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if s, ok := strings.CutPrefix(ref, p); ok {
			return s
		}
	}
	return ref
}
