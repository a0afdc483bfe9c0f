package credential

import (
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/jailrun/jailrun/keyring"
)

// secretFields are never printed in full by a failing test.
var secretFields = map[string]bool{"Password": true, "OAuthRefreshToken": true, "Credential": true}

// diffRequest lists the fields in which got and want differ; secrets are
// shown as keyring.Preview only.
func diffRequest(got, want *Request) []string {
	var diffs []string
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range g.NumField() {
		if !g.Type().Field(i).IsExported() {
			continue // what was sent is checked through Has
		}
		name := g.Type().Field(i).Name
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		if reflect.DeepEqual(gf, wf) {
			continue
		}
		if secretFields[name] {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", name, keyring.Preview(gf.(string)), keyring.Preview(wf.(string))))
		} else {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", name, gf, wf))
		}
	}
	return diffs
}

func TestReadRequest(t *testing.T) {
	longHeader := `Bearer realm="` + strings.Repeat("x", 60000) + `", host=evil.example, error="invalid_token"`
	maxLine := "wwwauth[]=" + strings.Repeat("a", MaxLineLen-len("wwwauth[]=")-1) + "\n"
	tests := []struct {
		name    string
		input   string
		want    *Request
		wantErr string // substring of the error; empty: no error
	}{
		{name: "empty input", input: "", want: &Request{}},
		{name: "blank line only", input: "\n", want: &Request{}},
		{
			name:  "typical get from git",
			input: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=github.com\npath=alice/repo.git\nusername=alice\nwwwauth[]=Basic realm=\"GitHub\"\n\n",
			want: &Request{Protocol: "https", Host: "github.com", Path: "alice/repo.git", Username: "alice",
				WWWAuth: []string{`Basic realm="GitHub"`}, Capabilities: []string{"authtype", "state"}},
		},
		{name: "ends at end of input without newline", input: "protocol=https\nhost=github.com",
			want: &Request{Protocol: "https", Host: "github.com"}},
		{name: "ends at blank line", input: "host=github.com\n\nhost=evil.example\n",
			want: &Request{Host: "github.com"}},
		{name: "CRLF lines", input: "protocol=https\r\nhost=github.com\r\n\r\nhost=evil.example\r\n",
			want: &Request{Protocol: "https", Host: "github.com"}},
		{name: "only one CR is a line ending", input: "host=github.com\r\r\n", wantErr: "carriage return"},
		{name: "CR inside a value", input: "password=ab\rcd\n", wantErr: "carriage return"},
		{name: "host kept exactly", input: "host= github.com \n", want: &Request{Host: " github.com "}},
		{name: "last scalar wins", input: "host=evil.example\nhost=github.com\nusername=a\nusername=b\n",
			want: &Request{Host: "github.com", Username: "b"}},
		{name: "unknown keys ignored", input: "foo=bar\n=empty key\nHOST=evil.example\nhost[]=evil.example\nhost=github.com\n",
			want: &Request{Host: "github.com"}},
		{name: "value may contain =", input: "password=a=b==\n", want: &Request{Password: "a=b=="}},
		{name: "empty value", input: "host=\n", want: &Request{}},
		{name: "key without =", input: "protocol=https\nhostgithub.com\n", wantErr: "line 2: has no '='"},
		{name: "NUL byte", input: "host=github.com\x00.evil.example\n", wantErr: "NUL"},
		{name: "NUL byte in an ignored key", input: "x\x00=1\n", wantErr: "NUL"},
		{
			name:  "expiry and refresh token as sent",
			input: "password_expiry_utc=1700000000\noauth_refresh_token=refresh-abc\npassword_expiry_utc=garbage\n",
			want:  &Request{PasswordExpiryUTC: "garbage", OAuthRefreshToken: "refresh-abc"},
		},
		{
			name:  "arrays keep order and empty value resets",
			input: "wwwauth[]=one\nwwwauth[]=two\nwwwauth[]=\nwwwauth[]=three\nwwwauth[]=four\ncapability[]=state\ncapability[]=\n",
			want:  &Request{WWWAuth: []string{"three", "four"}},
		},
		{
			name:  "long wwwauth header with host=evil is not a host",
			input: "protocol=https\nhost=github.com\nwwwauth[]=" + longHeader + "\nwwwauth[]=host=evil.example\n",
			want:  &Request{Protocol: "https", Host: "github.com", WWWAuth: []string{longHeader, "host=evil.example"}},
		},
		{name: "line of MaxLineLen bytes with its newline", input: maxLine + "host=github.com\n",
			want: &Request{Host: "github.com", WWWAuth: []string{maxLine[len("wwwauth[]=") : len(maxLine)-1]}}},
		{name: "line one byte over MaxLineLen", input: "wwwauth[]=a" + maxLine + "host=evil.example\n", wantErr: "line 1 is longer than 65535 bytes"},
		{name: "last line of MaxLineLen bytes without newline", input: strings.TrimSuffix(maxLine, "\n") + "a",
			want: &Request{WWWAuth: []string{maxLine[len("wwwauth[]="):len(maxLine)-1] + "a"}}},
		{name: "last line over MaxLineLen without newline", input: maxLine[:len(maxLine)-1] + "ab", wantErr: "longer than 65535 bytes"},
		{name: "request over MaxRequestLen", input: strings.Repeat("wwwauth[]="+strings.Repeat("a", 1000)+"\n", MaxRequestLen/1000), wantErr: "longer than 1048576 bytes"},
		{
			name:  "authtype fields dropped without the capability",
			input: "authtype=Bearer\ncredential=tok\nephemeral=1\n",
			want:  &Request{},
		},
		{
			name:  "authtype fields kept with the capability",
			input: "authtype=Bearer\ncredential=tok\nephemeral=true\ncapability[]=authtype\n",
			want:  &Request{AuthType: "Bearer", Credential: "tok", Ephemeral: true, Capabilities: []string{"authtype"}},
		},
		{
			name:  "state fields dropped without the capability",
			input: "capability[]=authtype\nstate[]=a:1\ncontinue=1\n",
			want:  &Request{Capabilities: []string{"authtype"}},
		},
		{
			name:  "state fields kept with the capability",
			input: "capability[]=state\nstate[]=a:1\nstate[]=b:2\ncontinue=yes\n",
			want:  &Request{Capabilities: []string{"state"}, State: []string{"a:1", "b:2"}, Continue: true},
		},
		{name: "capability cleared drops gated fields", input: "capability[]=authtype\nauthtype=Basic\ncapability[]=\n",
			want: &Request{}},
		{name: "unknown capability kept", input: "capability[]=future\n", want: &Request{Capabilities: []string{"future"}}},
		{name: "quit true", input: "quit=1\n", want: &Request{Quit: true}},
		{name: "quit TRUE", input: "quit=TRUE\n", want: &Request{Quit: true}},
		{name: "quit on", input: "quit=on\n", want: &Request{Quit: true}},
		{name: "quit with unit", input: "quit=1k\n", want: &Request{Quit: true}},
		{name: "quit hex", input: "quit=0x10\n", want: &Request{Quit: true}},
		{name: "quit false", input: "quit=1\nquit=false\n", want: &Request{}},
		{name: "quit zero", input: "quit=1\nquit=0\n", want: &Request{}},
		{name: "quit empty", input: "quit=1\nquit=\n", want: &Request{}},
		{name: "quit not a boolean", input: "quit=maybe\n", wantErr: "quit: not a boolean"},
		{name: "quit out of int range", input: "quit=3g\n", wantErr: "quit: not a boolean"},
		{name: "ephemeral not a boolean", input: "ephemeral=2x\n", wantErr: "ephemeral: not a boolean"},
		{
			name:  "url expanded",
			input: "url=https://github.com/alice/repo.git\n",
			want:  &Request{URL: "https://github.com/alice/repo.git", Protocol: "https", Host: "github.com", Path: "alice/repo.git"},
		},
		{
			name:  "url with user, password and port",
			input: "url=https://al%40ice:p%3Ass@ghe.example:8443/org/repo\n",
			want: &Request{URL: "https://al%40ice:p%3Ass@ghe.example:8443/org/repo", Protocol: "https",
				Host: "ghe.example:8443", Path: "org/repo", Username: "al@ice", Password: "p:ss"},
		},
		{
			name:  "url then explicit keys override",
			input: "url=https://evil.example/x\nhost=github.com\npath=alice/repo\n",
			want:  &Request{URL: "https://evil.example/x", Protocol: "https", Host: "github.com", Path: "alice/repo"},
		},
		{
			name:  "url forgets what came before",
			input: "capability[]=authtype\nauthtype=Basic\nusername=alice\nwwwauth[]=Basic\nquit=1\nhost=evil.example\nurl=https://github.com\n",
			want:  &Request{URL: "https://github.com", Protocol: "https", Host: "github.com"},
		},
		{
			name:  "url with query, fragment and slashes",
			input: "url=https://github.com?x=1/y#frag//\n",
			want:  &Request{URL: "https://github.com?x=1/y#frag//", Protocol: "https", Host: "github.com", Path: "?x=1/y#frag"},
		},
		{
			name:  "url user@ after the path is not a user",
			input: "url=https://github.com/a@evil.example\n",
			want:  &Request{URL: "https://github.com/a@evil.example", Protocol: "https", Host: "github.com", Path: "a@evil.example"},
		},
		{
			name:  "url decoding keeps git's colon quirk",
			input: "url=https://ho%41st:80%41/pa%20th:c%20d\n",
			want:  &Request{URL: "https://ho%41st:80%41/pa%20th:c%20d", Protocol: "https", Host: "ho%41st:80A", Path: "pa%20th:c d"},
		},
		{
			name:  "url %00 is not decoded",
			input: "url=https://github.com%00.evil.example/\n",
			want:  &Request{URL: "https://github.com%00.evil.example/", Protocol: "https", Host: "github.com%00.evil.example"},
		},
		{
			name:  "url without host",
			input: "url=cert:///etc/cert.pem\n",
			want:  &Request{URL: "cert:///etc/cert.pem", Protocol: "cert", Path: "etc/cert.pem"},
		},
		{name: "url without scheme", input: "url=github.com/alice\n", wantErr: "url: has no scheme"},
		{name: "url with empty scheme", input: "url=://github.com\n", wantErr: "url: has no scheme"},
		{name: "url decoding to a newline", input: "url=https://a%0ab@github.com\n", wantErr: "user name with a line break"},
		{name: "url decoding to a CR in the host", input: "url=https://github.com%0d/\n", wantErr: "host with a line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadRequest(strings.NewReader(tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadRequest error = %v, want one containing %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("ReadRequest returned a request along with error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadRequest: %v", err)
			}
			for _, d := range diffRequest(got, tt.want) {
				t.Error(d)
			}
		})
	}
}

func TestReadRequestErrorsNameNoValue(t *testing.T) {
	const secret = "ghp_SECRETSECRETSECRET"
	for _, input := range []string{
		secret + "\n",
		"password=" + secret + "\x00\n",
		"password=" + secret + "\r\r\n",
		"url=https://u:" + secret + "%0a@github.com\n",
		"url=" + secret + "\n",
		"quit=" + secret + "\n",
		"password=" + secret + strings.Repeat("x", MaxLineLen) + "\n",
	} {
		_, err := ReadRequest(strings.NewReader(input))
		if err == nil {
			t.Errorf("ReadRequest accepted input %d bytes long, want an error", len(input))
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error for bad input reveals the value: %s", keyring.Preview(err.Error()))
		}
	}
}

// endless is an io.Reader of endless copies of one byte that counts how
// much was read from it.
type endless struct {
	b    byte
	read int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	e.read += len(p)
	return len(p), nil
}

func TestReadRequestBoundsMemoryOnLongLine(t *testing.T) {
	const tenMB = 10 << 20
	for _, prefix := range []string{"wwwauth[]=", "host=", "", "x\x00"} {
		t.Run(fmt.Sprintf("%q", prefix), func(t *testing.T) {
			src := &endless{b: 'a'}
			in := io.MultiReader(strings.NewReader(prefix), io.LimitReader(src, tenMB), strings.NewReader("\n"))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := ReadRequest(in)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("ReadRequest accepted a 10 MB line")
			}
			if src.read > MaxLineLen+1 {
				t.Errorf("ReadRequest read %d bytes of a 10 MB line, want at most %d", src.read, MaxLineLen+1)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("rejected after reading %d bytes, %d bytes allocated", src.read, alloc)
			if alloc > 1<<20 {
				t.Errorf("ReadRequest allocated %d bytes for a 10 MB line, want under 1 MiB", alloc)
			}
		})
	}
}

func TestReadRequestStopsAtBlankLine(t *testing.T) {
	src := &endless{b: '\n'}
	in := io.MultiReader(strings.NewReader("host=github.com\n\n"), src)
	req, err := ReadRequest(in)
	if err != nil {
		t.Fatalf("ReadRequest: %v", err)
	}
	if req.Host != "github.com" {
		t.Errorf("Host = %q, want github.com", req.Host)
	}
	if src.read != 0 {
		t.Errorf("ReadRequest read %d bytes past the blank line that was already buffered", src.read)
	}
}

// errReader fails every read.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestReadRequestReaderError(t *testing.T) {
	_, err := ReadRequest(io.MultiReader(strings.NewReader("host=github.com\n"), errReader{}))
	if err == nil || !strings.Contains(err.Error(), "reading credential input") {
		t.Fatalf("ReadRequest error = %v, want a read error", err)
	}
}

func TestHasCapability(t *testing.T) {
	req := &Request{Capabilities: []string{"authtype", "future"}}
	for name, want := range map[string]bool{"authtype": true, "future": true, "state": false, "": false, "AUTHTYPE": false} {
		if got := req.HasCapability(name); got != want {
			t.Errorf("HasCapability(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseAction(t *testing.T) {
	for arg, want := range map[string]Action{"get": Get, "store": Store, "erase": Erase} {
		got, ok := ParseAction(arg)
		if !ok || got != want {
			t.Errorf("ParseAction(%q) = %q, %v; want %q, true", arg, got, ok, want)
		}
	}
	for _, arg := range []string{"", "GET", "fill", "capability", "get ", "approve", "reject"} {
		if got, ok := ParseAction(arg); ok || got != "" {
			t.Errorf("ParseAction(%q) = %q, %v; want unknown", arg, got, ok)
		}
	}
}
