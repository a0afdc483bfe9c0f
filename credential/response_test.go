package credential

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestWriteResponseFormat(t *testing.T) {
	var b bytes.Buffer
	err := WriteResponse(&b, Response{
		Capabilities:      []string{CapAuthType, CapState},
		AuthType:          "Bearer",
		Credential:        "tok",
		Ephemeral:         true,
		Username:          "x-access-token",
		Password:          "pw",
		PasswordExpiryUTC: "1700000000",
		OAuthRefreshToken: "rt",
		State:             []string{"jailrun:1"},
		Continue:          true,
		Quit:              true,
	})
	if err != nil {
		t.Fatalf("WriteResponse: %v", err)
	}
	want := "capability[]=authtype\ncapability[]=state\nauthtype=Bearer\ncredential=tok\nephemeral=1\n" +
		"username=x-access-token\npassword=pw\npassword_expiry_utc=1700000000\noauth_refresh_token=rt\n" +
		"state[]=jailrun:1\ncontinue=1\nquit=1\n"
	if b.String() != want {
		t.Errorf("WriteResponse wrote %d bytes not in the expected order and form (%d bytes)", b.Len(), len(want))
	}
}

func TestWriteResponseEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteResponse(&b, Response{}); err != nil {
		t.Fatalf("WriteResponse: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("empty response wrote %q, want nothing", b.String())
	}
}

func TestWriteResponseRoundTrip(t *testing.T) {
	for _, resp := range []Response{
		{Username: "x-access-token", Password: "github_pat_11AAAA", PasswordExpiryUTC: "1893456000"},
		{Username: "alice", Password: "p=ss word\twith tabs", OAuthRefreshToken: "refresh=="},
		{Capabilities: []string{CapAuthType}, AuthType: "Bearer", Credential: "abc", Ephemeral: true},
		{Capabilities: []string{CapState, CapAuthType}, State: []string{"a:1", "b:2"}, Continue: true, Quit: true},
		{Password: strings.Repeat("p", MaxLineLen-len("password=\n"))},
	} {
		var b bytes.Buffer
		if err := WriteResponse(&b, resp); err != nil {
			t.Fatalf("WriteResponse: %v", err)
		}
		got, err := ReadRequest(&b)
		if err != nil {
			t.Fatalf("ReadRequest of a written response: %v", err)
		}
		want := &Request{
			Username: resp.Username, Password: resp.Password, PasswordExpiryUTC: resp.PasswordExpiryUTC,
			OAuthRefreshToken: resp.OAuthRefreshToken, Capabilities: resp.Capabilities, AuthType: resp.AuthType,
			Credential: resp.Credential, Ephemeral: resp.Ephemeral, State: resp.State, Continue: resp.Continue, Quit: resp.Quit,
		}
		for _, d := range diffRequest(got, want) {
			t.Error(d)
		}
	}
}

func TestWriteResponseRefuses(t *testing.T) {
	const secret = "SECRETVALUE"
	tests := []struct {
		name    string
		resp    Response
		wantErr string
	}{
		{"newline in password", Response{Password: secret + "\nhost=evil.example"}, "password contains a line break"},
		{"NUL in username", Response{Username: secret + "\x00"}, "username contains a line break or NUL"},
		{"CR in password", Response{Password: secret + "\r"}, "password contains a line break"},
		{"newline in refresh token", Response{OAuthRefreshToken: "a\n" + secret}, "oauth_refresh_token contains"},
		{"newline in state", Response{Capabilities: []string{CapState}, State: []string{secret + "\n"}}, "state[] contains"},
		{"newline in capability", Response{Capabilities: []string{"a\nquit=1"}}, "capability[] contains"},
		{"empty capability", Response{Capabilities: []string{""}}, "empty capability[]"},
		{"empty state", Response{Capabilities: []string{CapState}, State: []string{"a", ""}}, "empty state[]"},
		{"authtype without capability", Response{AuthType: "Bearer"}, "without capability[]=authtype"},
		{"credential without capability", Response{Capabilities: []string{CapState}, AuthType: "Bearer", Credential: secret}, "without capability[]=authtype"},
		{"ephemeral without capability", Response{Ephemeral: true}, "without capability[]=authtype"},
		{"credential without authtype", Response{Capabilities: []string{CapAuthType}, Credential: secret}, "no authtype"},
		{"state without capability", Response{State: []string{"a"}}, "without capability[]=state"},
		{"continue without capability", Response{Continue: true}, "without capability[]=state"},
		{"expiry not Unix seconds", Response{PasswordExpiryUTC: "2030-01-01T00:00:00Z"}, "not Unix seconds"},
		{"negative expiry", Response{PasswordExpiryUTC: "-1"}, "not Unix seconds"},
		{"line over MaxLineLen", Response{Password: secret + strings.Repeat("p", MaxLineLen)}, "password is longer than"},
		{"line one byte over MaxLineLen", Response{Password: strings.Repeat("p", MaxLineLen-len("password=\n")+1)}, "password is longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteResponse(&b, tt.resp)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("WriteResponse error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Error("WriteResponse error reveals the value")
			}
			if b.Len() != 0 {
				t.Errorf("WriteResponse wrote %d bytes along with an error, want none", b.Len())
			}
		})
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteResponseWriterError(t *testing.T) {
	err := WriteResponse(failWriter{}, Response{Username: "u", Password: "p"})
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("WriteResponse error = %v, want the writer's error", err)
	}
}
