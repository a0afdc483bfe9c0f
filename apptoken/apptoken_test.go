package apptoken_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/keyring"
)

const appID = 4242

// world is the in-test git server with an App installed on myorg for r,
// and a minter for it.
type world struct {
	srv   *gittest.Server
	tok   keyring.Token
	cache string
	env   func(string) string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := gittest.NewServer(t)
	srv.AddRepo(t, "myorg", "r")
	srv.AddRepo(t, "myorg", "r2")
	key := srv.AddApp(t, appID)
	srv.Install("myorg", appID)
	w := &world{srv: srv, cache: filepath.Join(t.TempDir(), "app-installations.json")}
	w.tok = keyring.Token{Name: "app:myorg", Secret: apptoken.Stored{ID: appID, Host: srv.Host, Key: string(key)}.Encode()}
	env := map[string]string{"SSL_CERT_FILE": srv.CAFile}
	w.env = func(k string) string { return env[k] }
	return w
}

func (w *world) minter(t *testing.T) *apptoken.Minter {
	t.Helper()
	m, err := apptoken.NewMinter(w.tok, apptoken.DefaultPermissions, w.cache, w.env)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// gitAccepts asks the server's info/refs for OWNER/NAME with token.
func (w *world) gitAccepts(t *testing.T, owner, name, token string) bool {
	t.Helper()
	pool := x509.NewCertPool()
	data, _ := os.ReadFile(w.srv.CAFile)
	pool.AppendCertsFromPEM(data)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/"+owner+"/"+name+".git/info/refs?service=git-upload-pack", nil)
	req.SetBasicAuth("x-access-token", token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestMintNarrowsToTheRepository(t *testing.T) {
	w := newWorld(t)
	m := w.minter(t)
	minted, err := m.Mint(context.Background(), "myorg", "r")
	if err != nil {
		t.Fatal(err)
	}
	if !w.gitAccepts(t, "myorg", "r", minted.Token) {
		t.Errorf("the server refuses the minted token for myorg/r")
	}
	if w.gitAccepts(t, "myorg", "r2", minted.Token) {
		t.Errorf("the token minted for myorg/r serves myorg/r2 too")
	}
	if time.Until(minted.ExpiresAt) > time.Hour || minted.Permissions["contents"] != "write" {
		t.Errorf("minted %v, permissions %v", minted.ExpiresAt, minted.Permissions)
	}
	// The installation's id is remembered: the second mint is one call.
	if data, err := os.ReadFile(w.cache); err != nil || !strings.Contains(string(data), "app:myorg") {
		t.Errorf("installation cache %q, %v", data, err)
	}
	if _, err := m.Mint(context.Background(), "myorg", "r"); err != nil {
		t.Fatal(err)
	}
}

func TestMintErrorsSayWhatToDo(t *testing.T) {
	w := newWorld(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrongKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	for _, tc := range []struct {
		name   string
		change func(m *apptoken.Minter)
		owner  string
		says   string
	}{
		{"not installed", nil, "someone", "is not installed on someone/r; install it there: https://" + w.srv.Host + "/apps/jailrun-test-4242/installations/new"},
		{"wrong key", func(m *apptoken.Minter) { m.Key, _ = parseKey(wrongKey) }, "myorg", "refused the App's private key (App 4242)"},
		{"clock an hour behind", func(m *apptoken.Minter) { m.Now = func() time.Time { return time.Now().Add(-time.Hour) } }, "myorg", "clock is 1h0m0s off GitHub's"},
	} {
		m := w.minter(t)
		if tc.change != nil {
			tc.change(m)
		}
		_, err := m.Mint(context.Background(), tc.owner, "r")
		if err == nil || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line saying %q", tc.name, err, tc.says)
		}
	}
}

func parseKey(p []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(p)
	return x509.ParsePKCS1PrivateKey(block.Bytes)
}

func TestSessionRenewsAndRevokes(t *testing.T) {
	w := newWorld(t)
	w.srv.AppTokenLife = 2 * time.Second
	var mu sync.Mutex
	var renewed []keyring.Token
	s, err := apptoken.Start(context.Background(), w.minter(t), w.srv.Host, "myorg", "r",
		func(tok keyring.Token) { mu.Lock(); renewed = append(renewed, tok); mu.Unlock() },
		func(err error) { t.Errorf("renewal failed: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	first := s.Token()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(renewed)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	second := s.Token()
	time.Sleep(time.Until(first.Meta.Expires) + 100*time.Millisecond)
	if second.Secret == first.Secret || !w.gitAccepts(t, "myorg", "r", s.Token().Secret) {
		t.Fatalf("after the first token expired, the session has no working token")
	}
	if !s.Serves(w.srv.Host, "MyOrg") || s.Serves(w.srv.Host, "other") || s.Repo() != "myorg/r" {
		t.Errorf("Serves/Repo wrong")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tok := range w.srv.AppTokens("myorg") {
		if !tok.Revoked {
			t.Errorf("token %s was not revoked at Close", tok.Preview)
		}
	}
	if w.gitAccepts(t, "myorg", "r", s.Token().Secret) {
		t.Errorf("the last token still works after Close")
	}
}

func TestDecodeAndPermissions(t *testing.T) {
	if _, _, err := apptoken.Decode("github_pat_x"); err == nil {
		t.Errorf("a PAT decoded as an App")
	}
	p, err := apptoken.Permissions("contents:write metadata:read")
	if err != nil || len(p) != 2 || p["contents"] != "write" {
		t.Errorf("Permissions = %v, %v", p, err)
	}
	for _, bad := range []string{"contents", "contents:admin", ":write"} {
		if _, err := apptoken.Permissions(bad); err == nil {
			t.Errorf("Permissions(%q) passed", bad)
		}
	}
}
