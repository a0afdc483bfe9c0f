package gitpolicy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

const (
	zero = "0000000000000000000000000000000000000000"
	a    = "1111111111111111111111111111111111111111"
	b    = "2222222222222222222222222222222222222222"
)

func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

// push is a receive-pack request's head as git sends it, then a pack.
func push(lines ...string) string {
	var s strings.Builder
	for i, l := range lines {
		if i == 0 {
			l += "\x00 report-status side-band-64k quiet object-format=sha1 agent=git/2.39.5"
		}
		s.WriteString(pkt(l + "\n"))
	}
	return s.String() + "0000PACK\x00\x00\x00\x02"
}

func TestReadCommands(t *testing.T) {
	body := push(a+" "+b+" refs/heads/main", zero+" "+b+" refs/heads/feature", b+" "+zero+" refs/tags/v1")
	r := bufio.NewReader(strings.NewReader(body))
	cmds, caps, head, err := ReadCommands(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{{a, b, "refs/heads/main"}, {zero, b, "refs/heads/feature"}, {b, zero, "refs/tags/v1"}}
	if fmt.Sprint(cmds) != fmt.Sprint(want) {
		t.Errorf("commands %v, want %v", cmds, want)
	}
	if !cmds[1].Creates() || !cmds[2].Deletes() || cmds[0].Creates() || cmds[0].Deletes() {
		t.Errorf("Creates/Deletes wrong")
	}
	if strings.Join(caps, " ") != "report-status side-band-64k quiet object-format=sha1 agent=git/2.39.5" {
		t.Errorf("caps %q", caps)
	}
	rest, _ := io.ReadAll(r)
	if string(head)+string(rest) != body || !bytes.HasPrefix(rest, []byte("PACK")) {
		t.Errorf("head %q and the rest %q are not the body", head, rest)
	}
}

func TestReadCommandsRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		err  error
	}{
		"empty":              {"", ErrMalformed},
		"cut in the length":  {"00", ErrMalformed},
		"cut in a line":      {pkt(a + " " + b + " refs/heads/main\n")[:20], ErrMalformed},
		"no flush":           {pkt(a + " " + b + " refs/heads/main\n"), ErrMalformed},
		"no command":         {"0000", ErrMalformed},
		"not hex":            {"zzzz", ErrMalformed},
		"delim":              {"0001", ErrMalformed},
		"too long":           {"fff1", ErrMalformed},
		"two fields":         {pkt(a+" refs/heads/main\n") + "0000", ErrMalformed},
		"not a ref":          {pkt(a+" "+b+" main\n") + "0000", ErrMalformed},
		"upper-case id":      {pkt(strings.ToUpper("abcdef0123abcdef0123abcdef0123abcdef0123")+" "+b+" refs/heads/x\n") + "0000", ErrMalformed},
		"mixed id lengths":   {pkt(a+" "+b+b[:24]+" refs/heads/x\n") + "0000", ErrMalformed},
		"NUL in a later ref": {pkt(a+" "+b+" refs/heads/x\x00caps\n") + pkt(a+" "+b+" refs/heads/y\x00z\n") + "0000", ErrMalformed},
		"signed":             {pkt("push-cert\x00 report-status\n") + "0000", ErrSignedPush},
	} {
		if _, _, _, err := ReadCommands(bufio.NewReader(strings.NewReader(tc.body))); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", name, err, tc.err)
		}
	}
	many := strings.Repeat(pkt(a+" "+b+" refs/heads/x\n"), maxCommands+1) + "0000"
	if _, _, _, err := ReadCommands(bufio.NewReader(strings.NewReader(many))); !errors.Is(err, ErrTooMany) {
		t.Errorf("too many commands: %v", err)
	}
}

func TestShallowLinesAreSkipped(t *testing.T) {
	body := pkt("shallow "+a+"\n") + push(a+" "+b+" refs/heads/x")
	cmds, caps, _, err := ReadCommands(bufio.NewReader(strings.NewReader(body)))
	if err != nil || len(cmds) != 1 || len(caps) == 0 {
		t.Errorf("with a shallow line: %v %v %v", cmds, caps, err)
	}
}

func TestRejection(t *testing.T) {
	cmds := []Command{{a, b, "refs/heads/main"}, {zero, b, "refs/heads/feature"}}
	reasons := map[string]string{"refs/heads/main": "jailrun: main is protected\n; push a branch"}
	plain := Rejection(cmds, []string{"report-status"}, reasons, "jailrun: refused with main")
	want := pkt("unpack ok\n") + pkt("ng refs/heads/main jailrun: main is protected ; push a branch\n") +
		pkt("ng refs/heads/feature jailrun: refused with main\n") + "0000"
	if string(plain) != want {
		t.Errorf("report-status:\n got %q\nwant %q", plain, want)
	}
	banded := Rejection(cmds, []string{"report-status", "side-band-64k"}, reasons, "jailrun: refused with main")
	if string(banded) != pkt("\x01"+want)+"0000" {
		t.Errorf("side-band-64k: %q", banded)
	}
}

func TestProtected(t *testing.T) {
	for _, tc := range []struct {
		ref   string
		globs []string
		def   string
		want  bool
	}{
		{"refs/heads/main", DefaultProtect, "main", true},
		{"refs/heads/main", DefaultProtect, "trunk", false},
		{"refs/heads/trunk", DefaultProtect, "trunk", true},
		{"refs/heads/main", DefaultProtect, "", false},
		{"refs/tags/v1.0", DefaultProtect, "main", true},
		{"refs/tags/a/b", DefaultProtect, "main", true},
		{"refs/heads/feature", DefaultProtect, "main", false},
		{"refs/heads/release/1.2", []string{"release/*"}, "", true},
		{"refs/heads/releases", []string{"release/*"}, "", false},
		{"refs/heads/v1", []string{"v?"}, "", true},
		{"refs/heads/v10", []string{"v?"}, "", false},
		{"refs/heads/x", []string{"refs/*"}, "", true},
		{"refs/heads/main", nil, "main", false},
	} {
		if got := Protected(tc.ref, tc.globs, tc.def); got != tc.want {
			t.Errorf("Protected(%s, %q, %q) = %v", tc.ref, tc.globs, tc.def, got)
		}
	}
}

// FuzzReadCommands: any body is read, or refused with ErrMalformed,
// ErrSignedPush or ErrTooMany, never a panic; what it read is a prefix of
// the body, and commands come only with a flush.
func FuzzReadCommands(f *testing.F) {
	f.Add([]byte(push(a + " " + b + " refs/heads/main")))
	f.Add([]byte(pkt("shallow "+a+"\n") + push(zero+" "+b+" refs/tags/v1", b+" "+zero+" refs/heads/x")))
	f.Add([]byte(pkt("push-cert\x00x\n") + "0000"))
	f.Add([]byte("0004" + "0000"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cmds, _, head, err := ReadCommands(bufio.NewReader(bytes.NewReader(body)))
		if !bytes.HasPrefix(body, head) {
			t.Fatalf("head %q is not a prefix of the body", head)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignedPush) && !errors.Is(err, ErrTooMany) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(cmds) == 0 || !bytes.HasSuffix(head, []byte("0000")) {
			t.Fatalf("commands %v without a flush at the end of %q", cmds, head)
		}
		for _, c := range cmds {
			if !strings.HasPrefix(c.Ref, "refs/") || !objectID(c.Old) || !objectID(c.New) {
				t.Fatalf("bad command %+v", c)
			}
		}
	})
}
