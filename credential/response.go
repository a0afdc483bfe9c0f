package credential

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Response is a helper's answer to git. Empty fields are not written.
type Response struct {
	Username          string
	Password          string
	PasswordExpiryUTC string // password_expiry_utc: Unix seconds, decimal
	OAuthRefreshToken string // oauth_refresh_token

	// Capabilities are written as capability[]; a response may only use
	// capabilities the request announced.
	Capabilities []string

	// AuthType, Credential and Ephemeral need CapAuthType in Capabilities,
	// and Credential needs AuthType.
	AuthType   string
	Credential string
	Ephemeral  bool

	// State and Continue need CapState in Capabilities.
	State    []string
	Continue bool

	Quit bool
}

// WriteResponse writes resp as key=value lines, in one Write. It writes
// nothing and returns an error when resp cannot be sent faithfully: a value
// with a line break or NUL, an empty array element, a line over MaxLineLen,
// an expiry that is not Unix seconds, or a field its capability does not
// allow. Errors name the field, never its value.
func WriteResponse(w io.Writer, resp Response) error {
	if err := resp.check(); err != nil {
		return err
	}
	var b bytes.Buffer
	for _, c := range resp.Capabilities {
		writeItem(&b, "capability[]", c)
	}
	writeItem(&b, "authtype", resp.AuthType)
	writeItem(&b, "credential", resp.Credential)
	writeItem(&b, "ephemeral", flag(resp.Ephemeral))
	writeItem(&b, "username", resp.Username)
	writeItem(&b, "password", resp.Password)
	writeItem(&b, "password_expiry_utc", resp.PasswordExpiryUTC)
	writeItem(&b, "oauth_refresh_token", resp.OAuthRefreshToken)
	for _, s := range resp.State {
		writeItem(&b, "state[]", s)
	}
	writeItem(&b, "continue", flag(resp.Continue))
	writeItem(&b, "quit", flag(resp.Quit))
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing credential response: %w", err)
	}
	return nil
}

// check reports the first reason resp cannot be written.
func (resp *Response) check() error {
	has := func(name string) bool { return slices.Contains(resp.Capabilities, name) }
	switch {
	case (resp.AuthType != "" || resp.Credential != "" || resp.Ephemeral) && !has(CapAuthType):
		return errors.New("credential response uses authtype, credential or ephemeral without capability[]=authtype")
	case (len(resp.State) > 0 || resp.Continue) && !has(CapState):
		return errors.New("credential response uses state[] or continue without capability[]=state")
	case resp.Credential != "" && resp.AuthType == "":
		return errors.New("credential response has a credential but no authtype")
	case strings.Trim(resp.PasswordExpiryUTC, "0123456789") != "":
		return errors.New("credential response password_expiry_utc is not Unix seconds")
	}
	for _, item := range []struct {
		key    string
		values []string
		array  bool
	}{
		{"capability[]", resp.Capabilities, true},
		{"authtype", []string{resp.AuthType}, false},
		{"credential", []string{resp.Credential}, false},
		{"username", []string{resp.Username}, false},
		{"password", []string{resp.Password}, false},
		{"password_expiry_utc", []string{resp.PasswordExpiryUTC}, false},
		{"oauth_refresh_token", []string{resp.OAuthRefreshToken}, false},
		{"state[]", resp.State, true},
	} {
		for _, v := range item.values {
			switch {
			case item.array && v == "":
				return fmt.Errorf("credential response has an empty %s, which git reads as clearing the list", item.key)
			case strings.ContainsAny(v, "\n\r\x00"):
				return fmt.Errorf("credential response %s contains a line break or NUL, which git cannot read", item.key)
			case len(item.key)+len("=")+len(v)+len("\n") > MaxLineLen:
				return fmt.Errorf("credential response %s is longer than a %d-byte line allows", item.key, MaxLineLen)
			}
		}
	}
	return nil
}

// writeItem writes key=value unless value is empty.
func writeItem(b *bytes.Buffer, key, value string) {
	if value == "" {
		return
	}
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(value)
	b.WriteByte('\n')
}

// flag is the protocol's spelling of a set boolean; unset is not written.
func flag(set bool) string {
	if set {
		return "1"
	}
	return ""
}
