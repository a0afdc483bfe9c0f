package helper

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/credential"
	"github.com/jailrun/jailrun/keyring"
)

// measured is what one run of the helper binary did, and its peak memory.
type measured struct {
	stdout, stderr string
	code           int
	maxRSS         int64 // KiB
	took           time.Duration
}

// timeProgram reports a program's peak memory. The helper's own rusage
// cannot: Go starts it with vfork, so the kernel counts the test
// process's peak as the helper's. /usr/bin/time forks it from a small
// process instead.
const timeProgram = "/usr/bin/time"

// runMeasured runs the helper binary with args on input under
// /usr/bin/time and reports its peak resident memory, or 0 without
// /usr/bin/time.
func (w *world) runMeasured(input []byte, args ...string) measured {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	rssFile := filepath.Join(w.t.TempDir(), "maxrss")
	cmd := exec.CommandContext(ctx, timeProgram, append([]string{"-f", "%M", "-o", rssFile, w.helper}, args...)...)
	if _, err := os.Stat(timeProgram); err != nil {
		cmd = exec.CommandContext(ctx, w.helper, args...)
	}
	cmd.Env = w.env
	cmd.Dir = w.t.TempDir()
	cmd.Stdin = bytes.NewReader(input)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if ctx.Err() != nil {
		w.t.Fatalf("%s %s did not finish within %s", Program, strings.Join(args, " "), commandTimeout)
	}
	if cmd.ProcessState == nil {
		w.t.Fatalf("run %s: %v", Program, err)
	}
	m := measured{stdout: out.String(), stderr: errOut.String(), code: cmd.ProcessState.ExitCode(), took: took}
	if cmd.Path == timeProgram {
		rss, err := os.ReadFile(rssFile)
		if err != nil {
			w.t.Fatalf("%s wrote no measurement: %v", timeProgram, err)
		}
		// A status other than 0 adds a line "Command exited with non-zero status N".
		fields := strings.Fields(string(rss))
		if len(fields) == 0 {
			w.t.Fatalf("%s wrote an empty measurement", timeProgram)
		}
		if m.maxRSS, err = strconv.ParseInt(fields[len(fields)-1], 10, 64); err != nil {
			w.t.Fatalf("%s wrote %q, not a size in KiB", timeProgram, rss)
		}
	}
	return m
}

// TestBadInput feeds the helper binary every kind of malformed request git
// could be tricked into sending, or a hostile process could write: it
// answers only a request that names a configured host and protocol
// exactly, fails with one line on stderr, and its memory stays bounded
// whatever the size of the input.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	classic, myorg := "ghp_"+rand.Text(), "github_pat_"+rand.Text()
	w.put("github:classic", classic)
	w.put("github:fine-grained-myorg", myorg)
	plain := keyring.Credential{Protocol: "https", Host: "git.example", Username: "u", Password: "plain-" + rand.Text()}
	if err := w.kr.StoreCredential(plain); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{classic: "github:classic", myorg: "github:fine-grained-myorg", plain.Password: "the stored credential"}
	serve := func(token string) string { return "username=" + DefaultUsername + "\npassword=" + token + "\n" }

	// A well-formed get sets the memory baseline.
	if _, err := os.Stat(timeProgram); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: sudo apt install time", timeProgram)
		}
		t.Logf("%s not found (sudo apt install time): memory is not measured", timeProgram)
	}
	base := w.runMeasured([]byte("protocol=https\nhost=github.com\npath=myorg/repo.git\n\n"), "get")
	if base.code != 0 || base.stdout != serve(myorg) {
		t.Fatalf("well-formed get: exit %d, stderr %q; want github:fine-grained-myorg", base.code, base.stderr)
	}
	// Holding even one 10 MB input in memory would exceed this.
	const slackKiB = 6 << 10
	t.Logf("well-formed get: max RSS %d KiB, %s", base.maxRSS, base.took)

	lines := func(n int, line string) string { return strings.Repeat(line+"\n", n) }
	longLine := "wwwauth[]=" + strings.Repeat("a", 70000)
	tenMB := "protocol=https\nhost=github.com\n" + lines(10<<20/1024, "wwwauth[]="+strings.Repeat("b", 1013))

	tests := []struct {
		name   string
		args   []string // default: get
		input  string
		code   int
		stdout string
		stderr string // a substring of the one stderr line; "" means none
	}{
		{name: "empty input", input: ""},
		{name: "empty input, store", args: []string{"store"}, input: ""},
		{name: "empty input, erase", args: []string{"erase"}, input: ""},
		{name: "blank line only", input: "\n"},
		{name: "no host", input: "protocol=https\npath=myorg/repo.git\n\n"},
		{name: "no protocol", input: "host=github.com\npath=myorg/repo.git\n\n"},
		{name: "no protocol, stored host", input: "host=git.example\nusername=u\n\n"},
		{name: "no host, erase", args: []string{"erase"}, input: "protocol=https\nusername=u\n\n"},
		{name: "empty host", input: "protocol=https\nhost=\npath=myorg/repo.git\n\n"},
		{name: "NUL in a value", input: "protocol=https\nhost=github.com\x00.evil.example\n\n", code: 1, stderr: "NUL"},
		{name: "NUL line", input: "\x00\n\n", code: 1, stderr: "NUL"},
		{name: "NUL, store", args: []string{"store"}, input: "protocol=https\nhost=nul.example\nusername=u\npassword=p\x00q\n\n", code: 1, stderr: "NUL"},
		{name: "70000-byte line", input: "protocol=https\nhost=github.com\n" + longLine + "\n\n", code: 1, stderr: "longer than 65535 bytes"},
		{name: "70000-byte line, no newline", input: "protocol=https\nhost=github.com\n" + longLine, code: 1, stderr: "longer than 65535 bytes"},
		{name: "10 MB of lines", input: tenMB, code: 1, stderr: "longer than 1048576 bytes"},
		{name: "10 MB, one line", input: "protocol=https\nhost=github.com\npath=" + strings.Repeat("x", 10<<20), code: 1, stderr: "longer than 65535 bytes"},
		{name: "10 MB after the blank line", input: "protocol=https\nhost=github.com\npath=myorg/repo.git\n\n" + tenMB, stdout: serve(myorg)},
		{name: "invalid UTF-8 in the host", input: "protocol=https\nhost=github.com\xff\npath=myorg/repo.git\n\n"},
		{name: "invalid UTF-8 in the host, stored host", input: "protocol=https\nhost=git.example\xff\n\n"},
		{name: "invalid UTF-8 in the user name, stored host", input: "protocol=https\nhost=git.example\nusername=u\xff\n\n"},
		{name: "invalid UTF-8 in the path, stored host", input: "protocol=https\nhost=git.example\npath=r\xff.git\n\n"},
		{name: "invalid UTF-8 in the user name, store", args: []string{"store"}, input: "protocol=https\nhost=utf8.example\nusername=u\xff\npassword=p\n\n"},
		{name: "invalid UTF-8 in the user name, erase", args: []string{"erase"}, input: "protocol=https\nhost=git.example\nusername=u\xff\n\n"},
		{name: "invalid UTF-8 in the protocol", input: "protocol=http\xffs\nhost=github.com\n\n"},
		{name: "invalid UTF-8 in the owner", input: "protocol=https\nhost=github.com\npath=myorg\xff/repo.git\n\n"},
		{name: "invalid UTF-8 in a key", input: "protocol=https\nhost=github.com\npa\xffth=other/x\npath=myorg/repo.git\n\n", stdout: serve(myorg)},
		// One trailing \r is removed from every line, as git's strbuf_getline does.
		{name: "CRLF lines", input: "protocol=https\r\nhost=github.com\r\npath=myorg/repo.git\r\n\r\n", stdout: serve(myorg)},
		{name: `host=github.com\r at the end`, input: "protocol=https\nhost=github.com\r", stdout: serve(classic)},
		{name: `host=github.com\r\r`, input: "protocol=https\nhost=github.com\r\r\n\n", code: 1, stderr: "carriage return"},
		{name: `\r inside a value`, input: "protocol=https\nhost=github.com\rexample\n\n", code: 1, stderr: "carriage return"},
		{name: "duplicate host, GitHub last", input: "protocol=https\nhost=evil.example\nhost=github.com\npath=myorg/r\n\n", stdout: serve(myorg)},
		{name: "duplicate host, GitHub first", input: "protocol=https\nhost=github.com\nhost=evil.example\npath=myorg/r\n\n"},
		{name: "duplicate protocol, http last", input: "protocol=https\nhost=github.com\nprotocol=http\npath=myorg/r\n\n"},
		{name: "duplicate path, other owner last", input: "protocol=https\nhost=github.com\npath=myorg/r\npath=other/r\n\n", stdout: serve(classic)},
		{name: "url= with credentials", input: "url=https://alice:hunter2@github.com/myorg/repo.git\n\n",
			stdout: "username=alice\npassword=" + myorg + "\n"},
		{name: "url= with GitHub as the user name", input: "url=https://github.com@evil.example/myorg/repo.git\n\n"},
		{name: "url= with GitHub as user name and port", input: "url=https://github.com:443@evil.example/myorg/repo.git\n\n"},
		{name: "url= over http with credentials", input: "url=http://alice:hunter2@github.com/myorg/repo.git\n\n"},
		{name: "url= after the host resets it", input: "protocol=https\nhost=github.com\nurl=https://evil.example/myorg/repo.git\n\n"},
		{name: "protocol after url= overrides it", input: "url=https://github.com/myorg/repo.git\nprotocol=http\n\n"},
		{name: "line without =", input: "protocol=https\nhost=github.com\njunk\n\n", code: 1, stderr: "no '='"},
		{name: "trailing dot", input: "protocol=https\nhost=github.com.\n\n"},
		{name: "leading space", input: "protocol=https\nhost= github.com\n\n"},
		{name: "explicit port 443", input: "protocol=https\nhost=github.com:443\n\n"},
		{name: "look-alike host", input: "protocol=https\nhost=github.com.evil.example\npath=myorg/repo.git\n\n"},
		{name: "upper-case protocol", input: "protocol=HTTPS\nhost=github.com\n\n"},
		{name: "upper-case host: hosts compare case-insensitively", input: "protocol=https\nhost=GITHUB.COM\n\n", stdout: serve(classic)},
		{name: "stored host, other protocol", input: "protocol=http\nhost=git.example\n\n"},
		{name: "stored host, other port", input: "protocol=https\nhost=git.example:444\n\n"},
		{name: "unknown action", args: []string{"frobnicate"}, input: "protocol=https\nhost=github.com\n\n"},
		{name: "action in upper case", args: []string{"GET"}, input: "protocol=https\nhost=github.com\n\n"},
		{name: "unknown action, erase-like input", args: []string{"remove"}, input: "protocol=https\nhost=git.example\n\n"},
		{name: "no action", args: []string{}, input: "protocol=https\nhost=github.com\n\n", code: 2, stderr: "usage: "},
		{name: "unknown option", args: []string{"--sesion", "get"}, input: "protocol=https\nhost=github.com\n\n", code: 2, stderr: "usage: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"get"}
			}
			r := w.runMeasured([]byte(tc.input), args...)
			t.Logf("exit %d, max RSS %d KiB, %s", r.code, r.maxRSS, r.took)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tc.code, redactAll(r.stderr, names))
			}
			if r.stdout != tc.stdout {
				t.Errorf("stdout has %s (%d bytes), want %s", served(r.stdout, names), len(r.stdout), served(tc.stdout, names))
			}
			switch {
			case tc.stderr == "" && r.stderr != "":
				t.Errorf("stderr %q, want none", redactAll(r.stderr, names))
			case tc.stderr != "" && (strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, Program+": ") || !strings.Contains(r.stderr, tc.stderr)):
				t.Errorf("stderr %q, want one line %q… containing %q", redactAll(r.stderr, names), Program+": ", tc.stderr)
			}
			for secret, name := range names {
				if strings.Contains(r.stderr, secret) {
					t.Errorf("stderr contains %s", name)
				}
			}
			if r.maxRSS > base.maxRSS+slackKiB {
				t.Errorf("max RSS %d KiB, want at most %d KiB (a well-formed get's %d KiB and %d KiB)", r.maxRSS, base.maxRSS+slackKiB, base.maxRSS, slackKiB)
			}
			if r.took > 5*time.Second {
				t.Errorf("took %s, want under 5s", r.took)
			}
		})
	}

	// Nothing above stored, changed or erased anything.
	if got, err := w.kr.FindCredentials(keyring.Credential{Protocol: "https", Host: plain.Host}); err != nil || len(got) != 1 || got[0].Password != plain.Password {
		t.Errorf("the stored credential for %s changed: %d found, error %v", plain.Host, len(got), err)
	}
	for host, what := range map[string]string{"nul.example": "a NUL byte", "utf8.example": "invalid UTF-8"} {
		if got, err := w.kr.FindCredentials(keyring.Credential{Protocol: "https", Host: host}); err != nil || len(got) != 0 {
			t.Errorf("a request with %s was stored: %d found, error %v", what, len(got), err)
		}
	}
	for secret, name := range map[string]string{classic: "github:classic", myorg: "github:fine-grained-myorg"} {
		if got, err := w.kr.Get(name); err != nil || got.Secret != secret {
			t.Errorf("%s changed (error %v)", name, err)
		}
	}
	if credential.MaxLineLen != 65535 || credential.MaxRequestLen != 1<<20 {
		t.Errorf("the limits changed (line %d, request %d): update the expected messages", credential.MaxLineLen, credential.MaxRequestLen)
	}
}

// served names the secret in a helper's output, for messages.
func served(out string, names map[string]string) string {
	if out == "" {
		return "nothing"
	}
	if name, ok := names[attr(out, "password")]; ok {
		return name
	}
	return "an answer without a known secret"
}

// redactAll replaces every known secret in s by its name.
func redactAll(s string, names map[string]string) string {
	for secret, name := range names {
		s = strings.ReplaceAll(s, secret, "<"+name+">")
	}
	return s
}
