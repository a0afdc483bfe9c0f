package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/gitpolicy"
	"github.com/jailrun/jailrun/internal/placeholder"
	"github.com/jailrun/jailrun/internal/sessionca"
)

// gitHubTarget is an HTTPS server on 127.0.0.1 standing in for a GitHub
// host: it records the Authorization of every request it gets and answers
// with the protocol and the path.
type gitHubTarget struct {
	srv  *httptest.Server
	pool *x509.CertPool
	host string // 127.0.0.1:PORT

	mu   sync.Mutex
	auth []string
}

func startGitHubTarget(t *testing.T, http2 bool) *gitHubTarget {
	t.Helper()
	g := &gitHubTarget{}
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.auth = append(g.auth, r.Header.Get("Authorization"))
		g.mu.Unlock()
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, r.Proto+" "+r.URL.Path)
	}))
	g.srv.EnableHTTP2 = http2
	g.srv.StartTLS()
	t.Cleanup(g.srv.Close)
	g.pool = x509.NewCertPool()
	g.pool.AddCert(g.srv.Certificate())
	g.host = hostPort(t, g.srv.URL)
	return g
}

func (g *gitHubTarget) seen() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.auth)
}

// terminating starts a proxy path that terminates TLS for host, with a
// vault holding one token for it, and returns the path, the CA and the
// placeholder of the token.
func terminating(t *testing.T, g *gitHubTarget, real string) (path, *sessionca.CA, string) {
	t.Helper()
	// The CA's constraints name github.com's hosts too, as a session's do.
	ca, err := sessionca.New([]string{"github.com", "api.github.com", g.host}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	vault := placeholder.New()
	ph := vault.For("github:fine-grained-myorg", g.host, real)
	p := startPath(t, allowing(t, g.host), Options{Terminate: &Terminate{
		Hosts: []string{g.host}, CA: ca, Vault: vault, RootCAs: g.pool,
	}})
	return p, ca, ph
}

// clientVia is an HTTP client through p that trusts only ca.
func clientVia(t *testing.T, p path, ca *sessionca.CA, http2 bool) *http.Client {
	t.Helper()
	proxyURL, _ := url.Parse(p.proxyURL())
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	tr := &http.Transport{
		Proxy:             http.ProxyURL(proxyURL),
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: http2,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: hangLimit, Transport: tr}
}

const realToken = "github_pat_REALsecret0123456789"

func TestTerminatesAndSwapsThePlaceholder(t *testing.T) {
	for _, proto := range []struct {
		name  string
		http2 bool
		want  string
	}{{"http1", false, "HTTP/1.1"}, {"http2", true, "HTTP/2.0"}} {
		t.Run(proto.name, func(t *testing.T) {
			g := startGitHubTarget(t, proto.http2)
			p, ca, ph := terminating(t, g, realToken)
			client := clientVia(t, p, ca, proto.http2)
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+ph))
			for _, auth := range []string{basic, "Bearer " + ph, "token " + ph, ""} {
				req, _ := http.NewRequest(http.MethodPost, g.srv.URL+"/myorg/r.git/git-receive-pack", strings.NewReader("pack"))
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%.10s: %v", auth, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(body) != proto.want+" /myorg/r.git/git-receive-pack" {
					t.Errorf("%.10s: %d %q", auth, resp.StatusCode, body)
				}
				if resp.TLS == nil || resp.TLS.PeerCertificates[len(resp.TLS.PeerCertificates)-1].Subject.CommonName != sessionca.Subject {
					t.Errorf("the client did not see the session CA's certificate")
				}
			}
			want := []string{
				"Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+realToken)),
				"Bearer " + realToken, "token " + realToken, "",
			}
			if got := g.seen(); !slices.Equal(got, want) {
				t.Errorf("the server saw %d Authorization headers, not the real token in each form", len(got))
			}
		})
	}
}

func TestRefusesForeignCredentials(t *testing.T) {
	g := startGitHubTarget(t, false)
	p, ca, ph := terminating(t, g, realToken)
	other := placeholder.New().For("github:fine-grained-myorg", g.host, "github_pat_OTHER")
	client := clientVia(t, p, ca, false)
	for _, auth := range []string{
		"Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:github_pat_FOUNDELSEWHERE")),
		"Bearer github_pat_FOUNDELSEWHERE",
		"token " + other, // another session's placeholder
		"Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+other)),
		"Digest " + ph,
		"Basic !!!",
	} {
		req, _ := http.NewRequest(http.MethodGet, g.srv.URL+"/api/v3/user", nil)
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var msg struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&msg)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(msg.Message, "jailrun: ") {
			t.Errorf("%.12s: %d %q, want 403 with jailrun's reason", auth, resp.StatusCode, msg.Message)
		}
		if strings.Contains(msg.Message, "FOUNDELSEWHERE") {
			t.Errorf("the refusal repeats the credential")
		}
	}
	if got := g.seen(); len(got) != 0 {
		t.Errorf("%d refused requests reached the server", len(got))
	}
	if r := p.server.Refusals(); len(r) != 1 || !strings.Contains(r[0].Notice(), "jailrun sends only the tokens it routes") {
		t.Errorf("refusals %+v, want one for the host with its fix", r)
	}
}

func TestTerminatedRequestGoesOnlyToItsHost(t *testing.T) {
	g := startGitHubTarget(t, false)
	p, ca, _ := terminating(t, g, realToken)
	client := clientVia(t, p, ca, false)
	req, _ := http.NewRequest(http.MethodGet, g.srv.URL+"/", nil)
	req.Host = "evil.example"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest || len(g.seen()) != 0 {
		t.Errorf("a request for another Host: %d, %d reached the server; want 421 and none", resp.StatusCode, len(g.seen()))
	}
}

// TestTrailingDotIsTerminated: github.com. is github.com to DNS, so it is
// no way around the termination for a foreign token.
func TestTrailingDotIsTerminated(t *testing.T) {
	ca, err := sessionca.New([]string{"localhost"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := startPath(t, allowing(t, "localhost:1"), Options{Terminate: &Terminate{Hosts: []string{"localhost:1"}, CA: ca, Vault: placeholder.New()}})
	_, _, c, br := request(t, p, "CONNECT localhost.:1 HTTP/1.1\r\nHost: localhost.:1\r\n\r\n")
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	tc := tls.Client(&bufferedConn{Conn: c, r: br}, &tls.Config{ServerName: "localhost", RootCAs: pool})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("CONNECT localhost.:1 was not terminated with the session CA: %v", err)
	}
	tc.Close()
}

type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// TestOtherHostsStayTunnels: a host that is not GitHub's gets no
// certificate of the session CA; the client sees the real one.
func TestOtherHostsStayTunnels(t *testing.T) {
	g := startGitHubTarget(t, false)
	other, _, pool := tlsTarget(t)
	ca, err := sessionca.New([]string{g.host}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := startPath(t, allowing(t, g.host, hostPort(t, other.URL)), Options{Terminate: &Terminate{
		Hosts: []string{g.host}, CA: ca, Vault: placeholder.New(), RootCAs: g.pool,
	}})
	proxyURL, _ := url.Parse(p.proxyURL())
	client := &http.Client{Timeout: hangLimit, Transport: &http.Transport{
		Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(other.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !resp.TLS.PeerCertificates[0].Equal(other.Certificate()) {
		t.Errorf("the client did not see the other host's own certificate")
	}
	if m := ca.Minted(); len(m) != 0 {
		t.Errorf("certificates minted for %v, want none", m)
	}
}

// TestCurlThroughTermination runs the real curl with the session CA in its
// bundle, as the jail's programs have it.
func TestCurlThroughTermination(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	g := startGitHubTarget(t, true)
	p, ca, ph := terminating(t, g, realToken)
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(bundle, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"--http1.1", "--http2"} {
		cmd := exec.Command(curl, "--silent", "--show-error", "--fail", "--max-time", "20", v, "--cacert", bundle,
			"--proxy", p.proxyURL(), "-H", "Authorization: Bearer "+ph, g.srv.URL+"/curl")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasSuffix(string(out), " /curl") {
			t.Errorf("curl %s: %v: %s", v, err, out)
		}
	}
	if got := g.seen(); len(got) != 2 || got[0] != "Bearer "+realToken {
		t.Errorf("the server did not get the real token from curl")
	}
}

func TestSwapAuthorization(t *testing.T) {
	vault := placeholder.New()
	ph := vault.For("github:fine-grained-myorg", "github.com", realToken)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		values []string
		dest   string
		want   string
		err    error
	}{
		{nil, "github.com", "", nil},
		{[]string{"Basic " + b64("x-access-token:"+ph)}, "github.com", "Basic " + b64("x-access-token:"+realToken), nil},
		{[]string{"Basic " + b64(ph+":x-oauth-basic")}, "github.com", "Basic " + b64(realToken+":x-oauth-basic"), nil},
		{[]string{"basic " + b64(ph)}, "github.com", "Basic " + b64(realToken+":"), nil},
		{[]string{"Bearer " + ph}, "api.github.com", "Bearer " + realToken, nil},
		{[]string{"token " + ph}, "uploads.github.com", "token " + realToken, nil},
		{[]string{"token " + ph}, "ghe.example", "", errElsewise},
		{[]string{"token " + ph}, "github.com:8443", "", errElsewise},
		{[]string{"token " + ph + "x"}, "github.com", "", errElsewise},
		{[]string{"token ghp_found"}, "github.com", "", errForeign},
		{[]string{"Basic " + b64("me:hunter2")}, "github.com", "", errForeign},
		{[]string{"Basic " + b64(ph+":github_pat_FOUNDELSEWHERE")}, "github.com", "", errForeign},
		{[]string{"Bearer " + ph, "Bearer " + ph}, "github.com", "", errTwice},
		{[]string{"Negotiate abc"}, "github.com", "", errScheme},
	} {
		got, err := SwapAuthorization(tc.values, tc.dest, vault)
		if got != tc.want || err != tc.err {
			t.Errorf("SwapAuthorization(%d values, %s) = %d bytes, %v; want %d bytes, %v", len(tc.values), tc.dest, len(got), err, len(tc.want), tc.err)
		}
	}
}

// TestGitThroughTermination runs the real git (libcurl with GnuTLS on
// Debian, whose checks of a CA differ from OpenSSL's) against a terminated
// host, the session CA its only trust.
func TestGitThroughTermination(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	g := startGitHubTarget(t, false)
	p, ca, _ := terminating(t, g, realToken)
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(bundle, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(git, "ls-remote", g.srv.URL+"/owner/repo.git")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0", "GIT_SSL_CAINFO=" + bundle, "https_proxy=" + p.proxyURL(),
	}
	out, _ := cmd.CombinedOutput() // the target is no git server: git fails after reaching it
	if len(g.seen()) == 0 {
		t.Errorf("git did not reach the server through the terminating proxy: %s", out)
	}
}

// TestPushPolicyFailsClosed: a push the policy cannot read, or whose
// default branch it cannot learn, is refused and never reaches the host.
func TestPushPolicyFailsClosed(t *testing.T) {
	g := startGitHubTarget(t, false) // its API answers no JSON: no default branch
	ca, err := sessionca.New([]string{g.host}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	vault := placeholder.New()
	ph := vault.For("github:fine-grained-myorg", g.host, realToken)
	var mu sync.Mutex
	var pushes []Push
	p := startPath(t, allowing(t, g.host), Options{Terminate: &Terminate{
		Hosts: []string{g.host}, CA: ca, Vault: vault, RootCAs: g.pool,
		APIBase: func(string) string { return g.srv.URL + "/api/v3" },
		Push: &PushPolicy{Protect: []string{"@default"},
			Record: func(p Push) { mu.Lock(); pushes = append(pushes, p); mu.Unlock() }},
	}})
	client := clientVia(t, p, ca, false)
	feature := fmt.Sprintf("%04x%s", 4+len(zeros+" "+ones+" refs/heads/feature\x00report-status\n"), zeros+" "+ones+" refs/heads/feature\x00report-status\n") + "0000PACK"
	for _, tc := range []struct {
		name, body, encoding string
		status               int
		says                 string
	}{
		{"malformed", "00zzgarbage", "", http.StatusForbidden, "malformed"},
		{"compressed", feature, "gzip", http.StatusForbidden, "compressed"},
		{"no default branch", feature, "", http.StatusOK, "ng refs/heads/feature jailrun: cannot learn o/r's default branch"},
	} {
		req, _ := http.NewRequest(http.MethodPost, g.srv.URL+"/o/r.git/git-receive-pack", strings.NewReader(tc.body))
		req.SetBasicAuth("x-access-token", ph)
		if tc.encoding != "" {
			req.Header.Set("Content-Encoding", tc.encoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.says) {
			t.Errorf("%s: %d %q, want %d saying %q", tc.name, resp.StatusCode, body, tc.status, tc.says)
		}
	}
	for _, a := range g.seen() {
		if a != "Basic "+base64.StdEncoding.EncodeToString([]byte("x-access-token:"+realToken)) {
			t.Errorf("the host got a request without the real token")
		}
	}
	if n := len(g.seen()); n != 1 { // the API's GET for the default branch, and no push
		t.Errorf("the host got %d requests, want only the API's", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pushes) != 3 || pushes[0].Reason == "" || pushes[2].Repo != "o/r" {
		t.Errorf("recorded pushes %+v", pushes)
	}
}

const (
	zeros = "0000000000000000000000000000000000000000"
	ones  = "1111111111111111111111111111111111111111"
)

// TestAPIPolicyReadsPlainPaths: a write is decided on the path GitHub
// would act on, so a path a server could resolve elsewhere is refused,
// and GraphQL is read from POST bodies only.
// withAPIPolicy starts a proxy path that terminates TLS for g's host,
// with the API policy of a session in myorg/app, and returns a client
// through it and the placeholder of the session's token.
func withAPIPolicy(t *testing.T, g *gitHubTarget) (*http.Client, string) {
	t.Helper()
	ca, err := sessionca.New([]string{g.host}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	vault := placeholder.New()
	ph := vault.For("github:fine-grained-myorg", g.host, realToken)
	p := startPath(t, allowing(t, g.host), Options{Terminate: &Terminate{
		Hosts: []string{g.host}, CA: ca, Vault: vault, RootCAs: g.pool,
		API: &APIPolicy{Policy: gitpolicy.API{Repos: []string{"myorg/app"}}},
	}})
	return clientVia(t, p, ca, false), ph
}

func TestAPIPolicyReadsPlainPaths(t *testing.T) {
	g := startGitHubTarget(t, false)
	client, ph := withAPIPolicy(t, g)
	for _, tc := range []struct{ method, path string }{
		// Allowed as written (a contents write to a feature branch of
		// myorg/app), a write to someone/else's once resolved.
		{"PUT", "/api/v3/repos/myorg/app/contents/../../../someone/else/contents/x"},
		{"PUT", "/api/v3/repos/myorg/app/contents/%2e%2e/%2e%2e/%2e%2e/someone/else/contents/x"},
		{"PUT", "/api/v3/repos/myorg/app/contents//x"},
		{"PUT", "/api/v3/repos/myorg/app/contents/a%2F..%2F..%2Fx"},
		{"GET", "/api/graphql?query=mutation%7BmergePullRequest%7D"},
		// The API in another case, under uploads, or elsewhere under /api.
		{"PUT", "/API/v3/repos/myorg/app/pulls/1/merge"},
		{"PUT", "/api/V3/repos/myorg/app/pulls/1/merge"},
		{"PUT", "/api/uploads/repos/myorg/app/pulls/1/merge"},
		{"POST", "/api/v4/repos/myorg/app/merges"},
		{"POST", "/API/GraphQL/"},
		// The branch in the query as well as in the body.
		{"PUT", "/api/v3/repos/myorg/app/contents/x?branch=main"},
		{"POST", "/api/graphql?query=mutation%7BmergePullRequest%7D"},
	} {
		req, _ := http.NewRequest(tc.method, g.srv.URL+tc.path, strings.NewReader(`{"branch":"feature","message":"m","content":"eA=="}`))
		req.URL.RawPath = "" // as written, not as Go would clean it
		req.URL.Opaque = strings.TrimPrefix(g.srv.URL, "https:") + strings.SplitN(tc.path, "?", 2)[0]
		req.Header.Set("Authorization", "token "+ph)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", tc.method, tc.path, resp.StatusCode)
		}
	}
	if n := len(g.seen()); n != 0 {
		t.Errorf("%d refused writes reached the server", n)
	}
}

// TestTraceIsNotSentToGitHub: TRACE would echo the request back, the
// real token in place of the placeholder.
func TestTraceIsNotSentToGitHub(t *testing.T) {
	g := startGitHubTarget(t, false)
	p, ca, ph := terminating(t, g, realToken)
	client := clientVia(t, p, ca, false)
	for _, method := range []string{"TRACE", "TRACK", "PROPFIND"} {
		req, _ := http.NewRequest(method, g.srv.URL+"/", nil)
		req.Header.Set("Authorization", "token "+ph)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", method, resp.StatusCode)
		}
	}
	if n := len(g.seen()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// TestAmbiguousRequestsAreNotSent: what a server may read otherwise than
// the policies do — a path with an empty, "." or ".." segment (GitHub
// Enterprise Server's API under //api or /x/../api escaped the API
// policy), a method overridden in a header or the query, receive-pack by
// another method than POST — never reaches GitHub; plain paths, a slash at
// the end included, do.
func TestAmbiguousRequestsAreNotSent(t *testing.T) {
	g := startGitHubTarget(t, false)
	p, ca, ph := terminating(t, g, realToken)
	client := clientVia(t, p, ca, false)
	send := func(method, path string, header ...string) int {
		req, _ := http.NewRequest(method, g.srv.URL+"/", strings.NewReader("{}"))
		req.URL.Opaque = "//" + g.host + path // sent as written, not cleaned
		req.Header.Set("Authorization", "token "+ph)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		method, path string
		header       []string
	}{
		{method: "PUT", path: "//api/v3/repos/myorg/app/pulls/1/merge"},
		{method: "DELETE", path: "/x/../api/v3/repos/myorg/app"},
		{method: "POST", path: "/./api/graphql"},
		{method: "GET", path: "/api/v3/repos/myorg%2fapp"},
		{method: "POST", path: "/api/v3/repos/myorg/app/issues", header: []string{"X-HTTP-Method-Override", "DELETE"}},
		{method: "GET", path: "/api/v3/repos/myorg/app?_method=DELETE"},
		{method: "PUT", path: "/myorg/app.git/git-receive-pack"},
	} {
		if code := send(tc.method, tc.path, tc.header...); code < 400 {
			t.Errorf("%s %s %q: %d, want it refused", tc.method, tc.path, tc.header, code)
		}
	}
	if n := len(g.seen()); n != 0 {
		t.Errorf("%d ambiguous requests reached the server", n)
	}
	for _, path := range []string{"/", "/myorg/app/", "/myorg/app.git/info/refs?service=git-receive-pack"} {
		if code := send("GET", path); code != http.StatusOK {
			t.Errorf("GET %s: %d, want it sent", path, code)
		}
	}
}

// TestSecretReadOnFirstUse: a placeholder whose secret the launch left
// unread (placeholder.Vault.Later) is swapped once the proxy has read it;
// a read that fails is a 403 that names the token and says where to look,
// the request never reaches the server, and the keyring is not asked
// again for placeholder.ReadRetry (each ask may show an unlock prompt).
func TestSecretReadOnFirstUse(t *testing.T) {
	g := startGitHubTarget(t, false)
	ca, err := sessionca.New([]string{g.host}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var refusals []string
	locked := true
	vault := placeholder.New()
	ph := vault.Later("github:fine-grained-myorg", g.host, func() (string, error) {
		if locked {
			return "", errors.New("the keyring is locked")
		}
		return realToken, nil
	})
	p := startPath(t, allowing(t, g.host), Options{
		Terminate: &Terminate{Hosts: []string{g.host}, CA: ca, Vault: vault, RootCAs: g.pool},
		Refused:   func(r *Refusal) { refusals = append(refusals, r.Notice()) },
	})
	client := clientVia(t, p, ca, false)
	get := func() (int, string) {
		req, _ := http.NewRequest(http.MethodGet, g.srv.URL+"/myorg/r.git/info/refs", nil)
		req.Header.Set("Authorization", "Bearer "+ph)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(); code != http.StatusForbidden || !strings.Contains(body, "cannot read token github:fine-grained-myorg: the keyring is locked") {
		t.Errorf("with the keyring locked: %d %q, want 403 naming the token", code, body)
	}
	if len(refusals) != 1 || !strings.Contains(refusals[0], "jailrun doctor") {
		t.Errorf("refusal lines %q, want one that says where to look", refusals)
	}
	if len(g.seen()) != 0 {
		t.Fatal("a request whose token could not be read reached the server")
	}
	locked = false
	if code, _ := get(); code != http.StatusForbidden {
		t.Errorf("at once after a failed read: %d, want 403 (no read for %s)", code, placeholder.ReadRetry)
	}
	time.Sleep(placeholder.ReadRetry)
	if code, _ := get(); code != http.StatusOK {
		t.Errorf("once the token can be read: %d, want 200", code)
	}
	if got := g.seen(); !slices.Equal(got, []string{"Bearer " + realToken}) {
		t.Errorf("the server saw %d Authorization headers, want the real token once", len(got))
	}
}

// TestApprovalsAreNotSent: a review may comment or request changes, but
// one that approves, by REST or GraphQL, never reaches GitHub: an approval
// is what a protected branch waits for before a merge.
func TestApprovalsAreNotSent(t *testing.T) {
	g := startGitHubTarget(t, false)
	client, ph := withAPIPolicy(t, g)
	send := func(path, body string, contentType ...string) int {
		req, _ := http.NewRequest(http.MethodPost, g.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "token "+ph)
		for _, ct := range contentType {
			req.Header.Add("Content-Type", ct)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const review = "/api/v3/repos/myorg/app/pulls/3/reviews"
	for _, tc := range []struct {
		path, body  string
		contentType []string
	}{
		{review, `{"body":"lgtm","event":"APPROVE"}`, nil},
		{review + "/9/events", `{"event":"APPROVE"}`, nil},
		{review + "?event=APPROVE", `{"body":"lgtm"}`, nil},
		{"/api/graphql", `{"query":"mutation($e: PullRequestReviewEvent) { submitPullRequestReview(input:{pullRequestReviewId:\"x\", event: $e}) { clientMutationId } }","variables":{"e":"APPROVE"}}`, nil},
		// JSON to the policy, a form to a server that reads one.
		{review, `{"event":"COMMENT","x":"&event=APPROVE&"}`, []string{"application/x-www-form-urlencoded"}},
		{review, `{"event":"COMMENT"}`, []string{"application/json", "text/plain"}},
		{review, `{"event":"COMMENT"}`, []string{"multipart/form-data; boundary=x"}},
	} {
		if code := send(tc.path, tc.body, tc.contentType...); code != http.StatusForbidden {
			t.Errorf("POST %s %s (%q): %d, want 403", tc.path, tc.body, tc.contentType, code)
		}
	}
	if n := len(g.seen()); n != 0 {
		t.Fatalf("%d approvals reached the server", n)
	}
	for _, tc := range []struct{ path, body string }{
		{review, `{"body":"please rename","event":"REQUEST_CHANGES"}`},
		{review + "/9/events", `{"event":"COMMENT","body":"x"}`},
		{"/api/graphql", `{"query":"mutation { addPullRequestReview(input:{pullRequestId:\"x\", event: COMMENT}) { clientMutationId } }"}`},
	} {
		for _, ct := range []string{"application/json; charset=utf-8", "application/x-www-form-urlencoded"} {
			if code := send(tc.path, tc.body, ct); code != http.StatusOK {
				t.Errorf("POST %s %s (%s): %d, want it sent", tc.path, tc.body, ct, code)
			}
		}
	}
}
