// Package credential speaks git's credential-helper protocol
// (git-credential(1)): it reads the request git writes to a helper's
// standard input and writes the helper's response. It does no I/O of its
// own beyond the io.Reader and io.Writer it is given.
//
// Input is read as git reads it: key=value lines up to a blank line or end
// of input, the last value of a repeated key winning, array keys (key[])
// collected in order, unknown keys ignored, and url= expanded into its parts
// with git's own quirks. Where git would accept something dangerous, this
// package is stricter:
//
//   - One trailing "\r" is removed from every line, exactly as git's
//     strbuf_getline does, so CRLF input means what git means by it
//     ("host=github.com\r\n" is host github.com). A carriage return left in
//     a value after that ("host=github.com\r\r") rejects the whole request,
//     as git itself refuses to pass such a value on
//     (credential.protectProtocol).
//   - A NUL byte in a line, a line over MaxLineLen bytes or input over
//     MaxRequestLen bytes rejects the request as soon as it is seen, without
//     reading the rest into memory.
//   - Error messages name the line and the problem, never a value.
package credential

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MaxLineLen is the longest line accepted or written, in bytes, including
// its line ending: git-credential(1) caps lines at 65535 bytes.
const MaxLineLen = 65535

// MaxRequestLen bounds a whole request, in bytes. Real requests are a few
// hundred bytes; the cap keeps a runaway writer from filling memory.
const MaxRequestLen = 1 << 20

// Capabilities this package understands (capability[] values).
const (
	// CapAuthType lets authtype, credential and ephemeral through.
	CapAuthType = "authtype"
	// CapState lets state[] and continue through.
	CapState = "state"
)

// Request is what git asks of a helper. Empty strings are attributes git
// did not send (or sent empty).
type Request struct {
	Protocol string
	Host     string // with ":port" when git sent one
	Path     string
	Username string
	Password string

	PasswordExpiryUTC string // password_expiry_utc, as sent
	OAuthRefreshToken string // oauth_refresh_token

	// URL is the last url= value, as sent. Like git, url= first forgets
	// every attribute read before it and then sets the URL's parts;
	// attributes after it override those parts.
	URL string

	WWWAuth      []string // wwwauth[]: WWW-Authenticate headers, in order
	Capabilities []string // capability[], in order

	// AuthType, Credential and Ephemeral are kept only when Capabilities
	// includes CapAuthType; otherwise they are empty.
	AuthType   string
	Credential string
	Ephemeral  bool

	// State and Continue are kept only when Capabilities includes
	// CapState; otherwise they are empty.
	State    []string
	Continue bool

	Quit bool

	sent map[string]bool // the scalar keys set since the last url=, even to ""
}

// Has reports whether the request set the scalar attribute key (such as
// "username" or "password"), even to the empty value: git sends an empty
// user name and password for single sign-on, which differ from none.
func (r *Request) Has(key string) bool { return r.sent[key] }

// markSent records that key was set.
func (r *Request) markSent(key string) {
	if r.sent == nil {
		r.sent = map[string]bool{}
	}
	r.sent[key] = true
}

// HasCapability reports whether git announced the capability name.
func (r *Request) HasCapability(name string) bool {
	return slices.Contains(r.Capabilities, name)
}

// ReadRequest reads one request: key=value lines up to a blank line or the
// end of r. It may read past the blank line. On error it returns no request.
func ReadRequest(r io.Reader) (*Request, error) {
	br := bufio.NewReaderSize(r, MaxLineLen+1)
	req := &Request{}
	total := 0
	for lineNo := 1; ; lineNo++ {
		// A line that fills the buffer (bufio.ErrBufferFull) is too long.
		raw, err := br.ReadSlice('\n')
		if len(raw) > MaxLineLen {
			return nil, fmt.Errorf("credential input line %d is longer than %d bytes; git never sends such lines", lineNo, MaxLineLen)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading credential input: %w", err)
		}
		if total += len(raw); total > MaxRequestLen {
			return nil, fmt.Errorf("credential input is longer than %d bytes; git never sends that much", MaxRequestLen)
		}
		line := bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
		if len(line) == 0 {
			break
		}
		if err := req.apply(line); err != nil {
			return nil, fmt.Errorf("credential input line %d: %w", lineNo, err)
		}
		if err == io.EOF {
			break
		}
	}
	if !req.HasCapability(CapAuthType) {
		req.AuthType, req.Credential, req.Ephemeral = "", "", false
	}
	if !req.HasCapability(CapState) {
		req.State, req.Continue = nil, false
	}
	return req, nil
}

// apply sets the attribute of one non-empty line, line ending removed.
func (r *Request) apply(line []byte) error {
	if bytes.IndexByte(line, 0) >= 0 {
		return errors.New("contains a NUL byte")
	}
	k, v, ok := bytes.Cut(line, []byte("="))
	if !ok {
		return errors.New("has no '='; every line must be key=value")
	}
	key, value := string(k), string(v)
	if strings.IndexByte(value, '\r') >= 0 {
		return errors.New("a value contains a carriage return")
	}
	var err error
	switch key {
	case "protocol", "host", "path", "username", "password", "password_expiry_utc", "oauth_refresh_token":
		r.markSent(key)
	}
	switch key {
	case "protocol":
		r.Protocol = value
	case "host":
		r.Host = value
	case "path":
		r.Path = value
	case "username":
		r.Username = value
	case "password":
		r.Password = value
	case "password_expiry_utc":
		r.PasswordExpiryUTC = value
	case "oauth_refresh_token":
		r.OAuthRefreshToken = value
	case "url":
		err = r.applyURL(value)
	case "wwwauth[]":
		r.WWWAuth = appendOrReset(r.WWWAuth, value)
	case "capability[]":
		r.Capabilities = appendOrReset(r.Capabilities, value)
	case "state[]":
		r.State = appendOrReset(r.State, value)
	case "authtype":
		r.AuthType = value
	case "credential":
		r.Credential = value
	case "ephemeral":
		r.Ephemeral, err = parseBool(value)
	case "continue":
		r.Continue, err = parseBool(value)
	case "quit":
		r.Quit, err = parseBool(value)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// appendOrReset adds v to list, or empties the list when v is empty: an
// empty key[]= clears what came before.
func appendOrReset(list []string, v string) []string {
	if v == "" {
		return nil
	}
	return append(list, v)
}

// parseBool reads a boolean as git's git_config_bool does: true/yes/on,
// false/no/off/empty (any case), or an integer (optionally with a k, m or g
// unit) that is true when not zero.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off", "":
		return false, nil
	}
	num, unit := strings.TrimLeft(s, " \t\n\v\f\r"), int64(1)
	if i := len(num) - 1; i > 0 {
		if shift := strings.IndexByte("kmg", num[i]|0x20); shift >= 0 {
			num, unit = num[:i], 1<<(10*(shift+1))
		}
	}
	n, err := strconv.ParseInt(num, 0, 32)
	if err != nil || strings.Contains(num, "_") || n*unit > math.MaxInt32 || n*unit < math.MinInt32 {
		return false, errors.New("not a boolean; use true or false")
	}
	return n != 0, nil
}

// Action is the operation git asks a helper to perform, its first argument.
type Action string

// The actions of git's credential-helper protocol.
const (
	Get   Action = "get"
	Store Action = "store"
	Erase Action = "erase"
)

// ParseAction returns the action named by arg. It reports false for any
// other argument, which a helper must ignore: exit 0 without output.
func ParseAction(arg string) (Action, bool) {
	switch a := Action(arg); a {
	case Get, Store, Erase:
		return a, true
	}
	return "", false
}
