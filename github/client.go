package github

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/fserr"
)

// DefaultAPI is the REST API of github.com.
const DefaultAPI = "https://api.github.com"

// APIEnv names the environment variable that replaces DefaultAPI (tests,
// proxies). It applies to github.com only.
const APIEnv = "JAILRUN_GITHUB_API"

// requestTimeout bounds each API request, connecting included.
const requestTimeout = 10 * time.Second

// maxBody bounds what is read of an API answer.
const maxBody = 4 << 20

// ErrRejected reports that GitHub refused the token (HTTP 401).
var ErrRejected = errors.New("token rejected (revoked or expired)")

// RejectedError is a 401: GitHub refused the token. Date is the server's
// clock when it answered (zero if it did not say), which tells a JWT
// refused for a wrong clock from one refused for a wrong key.
type RejectedError struct{ Date time.Time }

func (e *RejectedError) Error() string        { return ErrRejected.Error() }
func (e *RejectedError) Is(target error) bool { return target == ErrRejected }

// ErrUnreachable reports that the API could not be reached at all, so
// nothing is known about the token.
var ErrUnreachable = errors.New("GitHub API unreachable")

// APIBase returns the REST API base URL for a GitHub host ("host" or
// "host:port"): $JAILRUN_GITHUB_API or DefaultAPI for github.com,
// https://HOST/api/v3 for GitHub Enterprise Server.
func APIBase(host string, getenv func(string) string) string {
	if config.EqualFoldASCII(host, config.DefaultHost) {
		if base := getenv(APIEnv); base != "" {
			return strings.TrimRight(base, "/")
		}
		return DefaultAPI
	}
	return "https://" + host + "/api/v3"
}

// Client calls one GitHub REST API with a token it is handed per call.
type Client struct {
	base  string
	http  *http.Client
	tlsCf *tls.Config // the trust SSL_CERT_FILE gives; nil for the system's

	mu   sync.Mutex
	warm chan net.Conn // the connection Warm is opening, for the next dial
}

// NewClient returns a client of the API at base, which must be an https
// URL: tokens never travel in clear text. TLS trusts the system's roots or,
// when getenv("SSL_CERT_FILE") names a file, exactly the certificates in it,
// as Go does for the process environment.
func NewClient(base string, getenv func(string) string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("GitHub API URL %q is not an https URL; fix %s", base, APIEnv)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if file := getenv("SSL_CERT_FILE"); file != "" {
		roots, err := loadRoots(file)
		if err != nil {
			return nil, err
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	c := &Client{
		base:  strings.TrimRight(u.String(), "/"),
		http:  &http.Client{Transport: transport, Timeout: requestTimeout, CheckRedirect: sameOrigin},
		tlsCf: transport.TLSClientConfig,
	}
	transport.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if warm := c.takeWarm(); warm != nil {
			select {
			case conn := <-warm:
				if conn != nil {
					return conn, nil
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return (&tls.Dialer{Config: c.tlsConfig(addr)}).DialContext(ctx, network, addr)
	}
	return c, nil
}

// Warm opens the connection to the API in the background, so that the
// next request, prepared meanwhile (an App's JWT takes a few milliseconds
// to sign), takes it instead of dialing.
func (c *Client) Warm() {
	u, _ := url.Parse(c.base)
	addr := u.Host
	if u.Port() == "" {
		addr += ":443"
	}
	warm := make(chan net.Conn, 1)
	c.mu.Lock()
	c.warm = warm
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		conn, err := (&tls.Dialer{Config: c.tlsConfig(addr)}).DialContext(ctx, "tcp", addr)
		if err != nil {
			conn = nil // the request dials again, and reports the error
		}
		warm <- conn
	}()
}

// takeWarm returns the connection Warm is opening, once.
func (c *Client) takeWarm() chan net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	warm := c.warm
	c.warm = nil
	return warm
}

// tlsConfig is the TLS client configuration for addr: the client's trust,
// HTTP/1.1 (the connection is handed to net/http's own transport).
func (c *Client) tlsConfig(addr string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if c.tlsCf != nil {
		cfg = c.tlsCf.Clone()
		cfg.NextProtos = []string{"http/1.1"}
	}
	cfg.ServerName, _, _ = net.SplitHostPort(addr)
	return cfg
}

// sameOrigin lets the token follow a redirect only to the same https host
// (GitHub redirects renamed repositories), at most a few times.
func sameOrigin(req *http.Request, via []*http.Request) error {
	switch {
	case len(via) >= 5:
		return errors.New("too many redirects")
	case req.URL.Scheme != "https" || req.URL.Host != via[0].URL.Host:
		return fmt.Errorf("redirected to %s://%s, where the token is not sent", req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// loadRoots reads the PEM certificates of file into a pool.
func loadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read SSL_CERT_FILE: %w; point it at a PEM file or unset it", fserr.WithoutPath(err))
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SSL_CERT_FILE %s holds no PEM certificate; point it at a PEM file or unset it", file)
	}
	return roots, nil
}

// TokenInfo is what GitHub says about a token.
type TokenInfo struct {
	Login   string    // the account the token acts as
	Expires time.Time // zero when GitHub sent no expiry (a token without one)
	// Scopes are a classic or OAuth token's scopes; nil when GitHub sent
	// no X-OAuth-Scopes header (fine-grained tokens have permissions instead).
	Scopes []string
}

// User asks GET /user who token belongs to, and when it expires.
func (c *Client) User(ctx context.Context, token string) (TokenInfo, error) {
	var user struct {
		Login string `json:"login"`
	}
	resp, err := c.do(ctx, token, http.MethodGet, "/user", nil, &user)
	if err != nil {
		return TokenInfo{}, err
	}
	if user.Login == "" {
		return TokenInfo{}, fmt.Errorf("GitHub API %s: GET /user answered without a login; check %s", c.base, APIEnv)
	}
	info := TokenInfo{Login: user.Login}
	if v := resp.Header.Get("GitHub-Authentication-Token-Expiration"); v != "" {
		if info.Expires, err = ParseExpiration(v); err != nil {
			return TokenInfo{}, err
		}
	}
	if v, ok := resp.Header["X-Oauth-Scopes"]; ok {
		info.Scopes = parseScopes(strings.Join(v, ","))
	}
	return info, nil
}

// expirationLayouts are the forms GitHub has sent the token expiration in.
var expirationLayouts = []string{
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 UTC",
	time.RFC3339,
}

// ParseExpiration reads a GitHub-Authentication-Token-Expiration header
// value ("2026-12-01 00:00:00 UTC", "2026-12-01 00:00:00 +0000" or RFC 3339)
// and returns the instant in UTC.
func ParseExpiration(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range expirationLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("GitHub sent a token expiration %q in a form jailrun does not know", v)
}

// parseScopes splits an X-OAuth-Scopes value ("repo, admin:org"); an
// empty header gives an empty, non-nil list.
func parseScopes(v string) []string {
	scopes := []string{}
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	return scopes
}

// do sends one request with token and decodes a 2xx JSON answer into out
// (when not nil). A 401 is a *RejectedError (ErrRejected); a failure to
// connect wraps ErrUnreachable; other statuses carry GitHub's message.
func (c *Client) do(ctx context.Context, token, method, path string, body, out any) (*http.Response, error) {
	var reqBody io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		reqBody = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reqBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "jailrun")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s (%s); check the network, or %s", ErrUnreachable, c.base, reason(err), APIEnv)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%w at %s: reading the answer to %s %s: %v", ErrUnreachable, c.base, method, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		date, _ := http.ParseTime(resp.Header.Get("Date"))
		return nil, &RejectedError{Date: date}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		endpoint, _, _ := strings.Cut(path, "?")
		return nil, &statusError{Method: method, Path: endpoint, Status: resp.StatusCode, Message: apiMessage(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("GitHub API %s: the answer to %s %s is not the JSON expected; check %s", c.base, method, path, APIEnv)
		}
	}
	return resp, nil
}

// statusError is an answer of the API other than success or 401.
type statusError struct {
	Method, Path string
	Status       int    // HTTP status code
	Message      string // GitHub's "message", or ""
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("GitHub API %s %s answered %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.Status {
	case http.StatusForbidden:
		msg += "; the token lacks the permission, or the organisation requires SSO authorization for it"
	case http.StatusNotFound:
		msg += "; check the name, and that the token can see it"
	}
	return msg
}

// apiMessage returns the first line of the "message" of a GitHub error
// body, cut short; "" when there is none.
func apiMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg, _, _ := strings.Cut(e.Message, "\n")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// reason is the innermost cause of a transport error, without the URL
// that net/http repeats.
func reason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "no answer in time"
	}
	return err.Error()
}
