package credential

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// errorForms are the only errors ReadRequest may give for bytes in memory:
// fixed text and numbers, never a piece of the input.
var errorForms = regexp.MustCompile(`^credential input (` +
	`line \d+ is longer than 65535 bytes; git never sends such lines|` +
	`is longer than 1048576 bytes; git never sends that much|` +
	`line \d+: (contains a NUL byte|has no '='; every line must be key=value|a value contains a carriage return|` +
	`(ephemeral|continue|quit): not a boolean; use true or false|` +
	`url: has no scheme; want PROTOCOL://HOST\[/PATH\]|` +
	`url: decodes to a (user name|password|host|path) with a line break))$`)

// encodeRequest writes r back as protocol lines, its URL already applied.
func encodeRequest(r *Request) string {
	var b strings.Builder
	line := func(key, value string) {
		if value != "" {
			b.WriteString(key + "=" + value + "\n")
		}
	}
	for _, c := range r.Capabilities {
		line("capability[]", c)
	}
	line("protocol", r.Protocol)
	line("host", r.Host)
	line("path", r.Path)
	line("username", r.Username)
	line("password", r.Password)
	line("password_expiry_utc", r.PasswordExpiryUTC)
	line("oauth_refresh_token", r.OAuthRefreshToken)
	line("authtype", r.AuthType)
	line("credential", r.Credential)
	line("ephemeral", flag(r.Ephemeral))
	line("continue", flag(r.Continue))
	line("quit", flag(r.Quit))
	for _, v := range r.WWWAuth {
		line("wwwauth[]", v)
	}
	for _, v := range r.State {
		line("state[]", v)
	}
	return b.String()
}

func FuzzReadRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, input []byte) {
		req, err := ReadRequest(bytes.NewReader(input))
		if err != nil {
			if req != nil {
				t.Fatal("ReadRequest returned a request along with an error")
			}
			if !errorForms.MatchString(err.Error()) {
				t.Fatalf("ReadRequest error %q is not one of the fixed forms", err)
			}
			return
		}

		strs := []string{req.Protocol, req.Host, req.Path, req.Username, req.Password, req.PasswordExpiryUTC,
			req.OAuthRefreshToken, req.AuthType, req.Credential}
		strs = slices.Concat(strs, req.WWWAuth, req.Capabilities, req.State)
		for _, s := range strs {
			if strings.ContainsAny(s, "\n\r\x00") {
				t.Fatal("a parsed attribute contains a line break or NUL")
			}
		}
		for _, list := range [][]string{req.WWWAuth, req.Capabilities, req.State} {
			if slices.Contains(list, "") {
				t.Fatal("a parsed list contains an empty element")
			}
		}
		if !req.HasCapability(CapAuthType) && (req.AuthType != "" || req.Credential != "" || req.Ephemeral) {
			t.Fatal("authtype attributes kept without capability[]=authtype")
		}
		if !req.HasCapability(CapState) && (req.State != nil || req.Continue) {
			t.Fatal("state attributes kept without capability[]=state")
		}

		// The request written back as lines reads as the same request.
		encoded := encodeRequest(req)
		if len(encoded) <= MaxRequestLen {
			again, err := ReadRequest(strings.NewReader(encoded))
			if err != nil {
				t.Fatalf("ReadRequest of the re-encoded request: %v", err)
			}
			want := *req
			want.URL = ""
			for _, d := range diffRequest(again, &want) {
				t.Error("re-encoded request: " + d)
			}
		}

		// What a helper would answer from it survives WriteResponse, or is
		// refused without a byte written.
		resp := Response{
			Username: req.Username, Password: req.Password, PasswordExpiryUTC: req.PasswordExpiryUTC,
			OAuthRefreshToken: req.OAuthRefreshToken, Capabilities: req.Capabilities, AuthType: req.AuthType,
			Credential: req.Credential, Ephemeral: req.Ephemeral, State: req.State, Continue: req.Continue, Quit: req.Quit,
		}
		var out bytes.Buffer
		if err := WriteResponse(&out, resp); err != nil {
			if out.Len() != 0 {
				t.Fatalf("WriteResponse wrote %d bytes along with error %v", out.Len(), err)
			}
			return
		}
		back, err := ReadRequest(&out)
		if err != nil {
			t.Fatalf("ReadRequest of a written response: %v", err)
		}
		want := &Request{
			Username: resp.Username, Password: resp.Password, PasswordExpiryUTC: resp.PasswordExpiryUTC,
			OAuthRefreshToken: resp.OAuthRefreshToken, Capabilities: resp.Capabilities, AuthType: resp.AuthType,
			Credential: resp.Credential, Ephemeral: resp.Ephemeral, State: resp.State, Continue: resp.Continue, Quit: resp.Quit,
		}
		for _, d := range diffRequest(back, want) {
			t.Error("written response: " + d)
		}
	})
}
