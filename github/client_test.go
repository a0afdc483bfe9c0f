package github_test

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/github/githubtest"
)

const secret = "ghp_TESTsecret0123456789abcdefghijklmnop"

func ptr(s string) *string { return &s }

// client returns a client of srv that trusts only srv's certificate.
func client(t *testing.T, srv *githubtest.Server) *github.Client {
	t.Helper()
	c, err := github.NewClient(srv.URL, env(map[string]string{"SSL_CERT_FILE": srv.CAFile}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestUserGoodToken(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddToken(secret, githubtest.User{Login: "alice", Expiration: "2026-12-01 00:00:00 UTC", Scopes: ptr("repo, admin:org, delete_repo")})
	info, err := client(t, srv).User(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if info.Login != "alice" {
		t.Errorf("login %q, want alice", info.Login)
	}
	if want := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC); !info.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", info.Expires, want)
	}
	if want := []string{"repo", "admin:org", "delete_repo"}; !slices.Equal(info.Scopes, want) {
		t.Errorf("scopes %q, want %q", info.Scopes, want)
	}
}

func TestUserFineGrainedHasNoScopesNorExpiry(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddToken(secret, githubtest.User{Login: "bob"})
	info, err := client(t, srv).User(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if info.Scopes != nil || !info.Expires.IsZero() {
		t.Errorf("scopes %q, expires %v; want none of either", info.Scopes, info.Expires)
	}
}

func TestUserEmptyScopesHeader(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddToken(secret, githubtest.User{Login: "bob", Scopes: ptr("")})
	info, err := client(t, srv).User(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if info.Scopes == nil || len(info.Scopes) != 0 {
		t.Errorf("scopes %q, want an empty, non-nil list", info.Scopes)
	}
}

func TestUserRejected(t *testing.T) {
	srv := githubtest.NewServer(t)
	_, err := client(t, srv).User(context.Background(), secret)
	if !errors.Is(err, github.ErrRejected) {
		t.Fatalf("err %v, want ErrRejected", err)
	}
	if err.Error() != "token rejected (revoked or expired)" {
		t.Errorf("message %q", err)
	}
}

func TestUserUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	c, err := github.NewClient("https://"+addr, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.User(context.Background(), secret)
	if !errors.Is(err, github.ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line without the token: %q", err)
	}
}

func TestUserUntrustedCertificate(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddToken(secret, githubtest.User{Login: "alice"})
	c, err := github.NewClient(srv.URL, env(nil)) // system roots do not hold the stand-in's
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.User(context.Background(), secret); !errors.Is(err, github.ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable for an untrusted certificate", err)
	}
	if got := srv.Requests(); len(got) != 0 {
		t.Errorf("the token reached an untrusted server: %q", got)
	}
}

func TestNewClientRefusesPlainHTTP(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:1", "api.github.com", "https://user:pw@api.github.com", "https://"} {
		if _, err := github.NewClient(base, env(nil)); err == nil {
			t.Errorf("NewClient(%q) accepted", base)
		}
	}
}

func TestParseExpiration(t *testing.T) {
	want := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range []string{
		"2026-12-01 00:00:00 UTC",
		"2026-12-01 00:00:00 +0000",
		"2026-12-01T00:00:00Z",
		"2026-12-01 09:00:00 +0900",
		"2026-12-01T01:00:00+01:00",
		" 2026-12-01 00:00:00 UTC ",
	} {
		got, err := github.ParseExpiration(v)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseExpiration(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"", "tomorrow", "2026-12-01", "2026-12-01 00:00:00 PST"} {
		if _, err := github.ParseExpiration(v); err == nil {
			t.Errorf("ParseExpiration(%q) accepted", v)
		}
	}
}

func TestUserExpiryHeaderForms(t *testing.T) {
	srv := githubtest.NewServer(t)
	want := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range []string{"2026-12-01 00:00:00 UTC", "2026-12-01 00:00:00 +0000", "2026-12-01T00:00:00Z"} {
		token := secret + string(rune('a'+i))
		srv.AddToken(token, githubtest.User{Login: "alice", Expiration: v})
		info, err := client(t, srv).User(context.Background(), token)
		if err != nil || !info.Expires.Equal(want) {
			t.Errorf("header %q: expires %v, %v; want %v", v, info.Expires, err, want)
		}
	}
}

func TestAPIBase(t *testing.T) {
	none := env(nil)
	override := env(map[string]string{github.APIEnv: "https://127.0.0.1:8443/api/"})
	tests := []struct {
		host   string
		getenv func(string) string
		want   string
	}{
		{"github.com", none, "https://api.github.com"},
		{"GitHub.com", none, "https://api.github.com"},
		{"github.com", override, "https://127.0.0.1:8443/api"},
		{"ghe.corp.example", override, "https://ghe.corp.example/api/v3"},
		{"ghe.corp.example:8443", none, "https://ghe.corp.example:8443/api/v3"},
	}
	for _, tt := range tests {
		if got := github.APIBase(tt.host, tt.getenv); got != tt.want {
			t.Errorf("APIBase(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestRiskyScopes(t *testing.T) {
	got := github.RiskyScopes([]string{"repo", "admin:org", "read:org", "delete_repo", "admin:repo_hook", "workflow", "gist"})
	var names []string
	for _, r := range got {
		names = append(names, r.Scope)
		if r.Why == "" {
			t.Errorf("scope %s flagged without a reason", r.Scope)
		}
	}
	if want := []string{"admin:org", "delete_repo", "admin:repo_hook", "workflow"}; !slices.Equal(names, want) {
		t.Errorf("flagged %q, want %q", names, want)
	}
}

func TestRedirectElsewhereKeepsTheToken(t *testing.T) {
	var leaked atomic.Bool
	elsewhere := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(true)
	}))
	defer elsewhere.Close()
	for _, target := range []string{elsewhere.URL + "/user", strings.Replace(elsewhere.URL, "https:", "http:", 1) + "/user"} {
		redirector := httptest.NewTLSServer(http.RedirectHandler(target, http.StatusMovedPermanently))
		defer redirector.Close()
		c, err := github.NewClient(redirector.URL, env(map[string]string{"SSL_CERT_FILE": caFile(t, redirector, elsewhere)}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.User(context.Background(), secret)
		if err == nil || !strings.Contains(err.Error(), "where the token is not sent") {
			t.Errorf("redirect to %s: err %v, want a refusal", target, err)
		}
	}
	if leaked.Load() {
		t.Error("a request reached the other server")
	}
}

// caFile writes the certificates of servers to a PEM file.
func caFile(t *testing.T, servers ...*httptest.Server) string {
	var b []byte
	for _, s := range servers {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})...)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUserNoAnswerIsUnreachable(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hung.Close()
	defer close(release)
	c, err := github.NewClient(hung.URL, env(map[string]string{"SSL_CERT_FILE": caFile(t, hung)}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.User(ctx, secret)
	if !errors.Is(err, github.ErrUnreachable) || !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("err %v, want ErrUnreachable with no answer", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s", d)
	}
}
