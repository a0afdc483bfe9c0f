// Package gittest serves real git repositories over HTTPS for end-to-end
// tests: a smart-HTTP server backed by git http-backend that accepts, for
// each repository owner, only that owner's token, and remembers which
// credentials were offered so a test can prove no wrong token was sent.
package gittest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jailrun/jailrun/keyring"
)

// realm is the Basic auth realm of the 401 answers, as github.com sends it.
const realm = "GitHub"

// maxSpooledBody bounds a chunked request body, which is spooled to a
// temporary file because CGI needs its length up front.
const maxSpooledBody = 4 << 30

// maxAPIBody bounds the request body of an API write, read and discarded.
const maxAPIBody = 64 << 20

// gitTimeout bounds every git command the package runs itself.
const gitTimeout = time.Minute

// namePattern is what an owner or repository name may look like.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Server is an HTTPS git server on 127.0.0.1 with a self-signed certificate.
// Owners and repository names compare case-insensitively, as on GitHub.
type Server struct {
	URL    string // https://127.0.0.1:PORT
	Host   string // 127.0.0.1:PORT
	CAFile string // PEM file of the certificate, for GIT_SSL_CAINFO or SSL_CERT_FILE

	root  string // GIT_PROJECT_ROOT: OWNER/NAME.git below it, in lower case
	spool string // where chunked request bodies are spooled
	git   string // absolute path of git

	mu     sync.Mutex
	tokens map[string]string  // lower-case owner → the one accepted token
	offers map[string][]offer // lower-case owner → credentials offered, in order
	writes []string           // API writes accepted, "METHOD /path"

	apps          map[int64]*rsa.PublicKey // App id → its key
	installations map[string]installation  // lower-case owner → the installation there
	minted        map[string]*mintedToken  // token → what it is for
	// AppTokenLife is how long a minted token lives; an hour unless set.
	AppTokenLife time.Duration
}

// installation is one App's installation on an owner.
type installation struct {
	id    int64
	app   int64
	repos []string // lower-case names it covers; nil for all
}

// mintedToken is an installation token the server handed out.
type mintedToken struct {
	owner   string
	repos   []string
	expires time.Time
	revoked bool
}

// offer is one credential a client sent for an owner's repositories.
type offer struct {
	preview  string // keyring.Preview of the password
	accepted bool
}

// NewServer starts a server that the test's cleanup stops. Its certificate
// is valid for 127.0.0.1, ::1 and localhost and is written to CAFile.
func NewServer(t testing.TB) *Server {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("gittest: git is not installed: %v", err)
	}
	dir := t.TempDir()
	cert, certPEM, err := selfSignedCert()
	if err != nil {
		t.Fatalf("gittest: create certificate: %v", err)
	}
	s := &Server{
		CAFile: filepath.Join(dir, "ca.pem"),
		root:   filepath.Join(dir, "repos"),
		spool:  dir,
		git:    git,
		tokens: map[string]string{},
		offers: map[string][]offer{},

		apps:          map[int64]*rsa.PublicKey{},
		installations: map[string]installation{},
		minted:        map[string]*mintedToken{},
	}
	if err := os.WriteFile(s.CAFile, certPEM, 0o644); err != nil {
		t.Fatalf("gittest: write CA file: %v", err)
	}
	if err := os.Mkdir(s.root, 0o755); err != nil {
		t.Fatalf("gittest: create repository root: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Host = strings.TrimPrefix(srv.URL, "https://")
	return s
}

// AddRepo creates the empty bare repository OWNER/NAME.git (pushes enabled,
// HEAD on main, which a push may delete) and returns its https URL. Only requests that carry the
// owner's token (see RequireToken) reach it.
func (s *Server) AddRepo(t testing.TB, owner, name string) string {
	t.Helper()
	if !validName(owner) || !validName(name) || strings.HasSuffix(strings.ToLower(name), ".git") {
		t.Fatalf("gittest: AddRepo(%q, %q): use plain names like myorg and project", owner, name)
	}
	dir := s.repoDir(owner, name)
	mustGit(t, hermeticEnv(s.root), s.root, "init", "--quiet", "--bare", "--initial-branch=main", dir)
	mustGit(t, hermeticEnv(s.root), s.root, "config", "--file", filepath.Join(dir, "config"), "http.receivepack", "true")
	// Like a repository without branch protection on GitHub: its default
	// branch can be deleted, so that a test can show a deletion works.
	mustGit(t, hermeticEnv(s.root), s.root, "config", "--file", filepath.Join(dir, "config"), "receive.denyDeleteCurrent", "ignore")
	return s.URL + "/" + owner + "/" + name + ".git"
}

// RequireToken makes token the only password accepted for owner's
// repositories, with any user name. Requests for an owner without a token
// are always refused. token must not be empty.
func (s *Server) RequireToken(owner, token string) {
	if token == "" {
		panic("gittest: RequireToken with an empty token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[strings.ToLower(owner)] = token
}

// Offered returns keyring.Preview of every password offered for owner's
// repositories, in the order the requests arrived. A git push offers the
// same credential on several requests.
func (s *Server) Offered(owner string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var previews []string
	for _, o := range s.offers[strings.ToLower(owner)] {
		previews = append(previews, o.preview)
	}
	return previews
}

// Rejected counts the offered passwords for owner's repositories that were
// not owner's token. Unlike previews, it tells tokens apart that share
// their first characters.
func (s *Server) Rejected(owner string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, o := range s.offers[strings.ToLower(owner)] {
		if !o.accepted {
			n++
		}
	}
	return n
}

// Ref returns the commit that ref (e.g. refs/heads/main) names in the
// server's repository OWNER/NAME, or "" when there is none.
func (s *Server) Ref(t testing.TB, owner, name, ref string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.git, "--git-dir", s.repoDir(owner, name), "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	cmd.Env = hermeticEnv(s.root)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return ""
	}
	if err != nil {
		t.Fatalf("gittest: read %s of %s/%s: %v", ref, owner, name, err)
	}
	return strings.TrimSpace(string(out))
}

// Env returns a clean environment for git and jailrun under home: no
// system or user git config of the developer, the server's certificate
// trusted (GIT_SSL_CAINFO and SSL_CERT_FILE), no terminal prompt and no
// askpass program, a fixed author and committer, and PATH inherited.
// Append to it what a test needs; for duplicate keys exec uses the last.
func (s *Server) Env(home string) []string {
	return append(hermeticEnv(home), "GIT_SSL_CAINFO="+s.CAFile, "SSL_CERT_FILE="+s.CAFile)
}

// InitWorkRepo creates in dir (made if missing) a repository on branch main with one commit
// and remoteURL as its origin, and returns the commit's hash.
func InitWorkRepo(t testing.TB, dir, remoteURL string) string {
	t.Helper()
	env := hermeticEnv(t.TempDir())
	mustGit(t, env, "", "init", "--quiet", "--initial-branch=main", dir)
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("pushed by "+t.Name()+"\n"), 0o644); err != nil {
		t.Fatalf("gittest: write README.md: %v", err)
	}
	mustGit(t, env, dir, "add", "README.md")
	mustGit(t, env, dir, "commit", "--quiet", "--message", "initial commit")
	mustGit(t, env, dir, "remote", "add", "origin", remoteURL)
	return strings.TrimSpace(mustGit(t, env, dir, "rev-parse", "HEAD"))
}

// serve checks the credential for the owner in the path and hands the
// request to git http-backend, or to the API under /api/v3/.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/v3/"); ok {
		s.serveAPI(w, r, rest)
		return
	}
	if r.URL.Path == "/api/graphql" {
		s.serveAPI(w, r, "graphql")
		return
	}
	owner, name, rest, ok := splitRepoPath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	user, password, hasAuth := r.BasicAuth()
	if !hasAuth || !s.accept(owner, name, password) {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	backendReq := r.Clone(r.Context())
	backendReq.Header.Del("Authorization") // the token stays out of the backend's environment
	backendReq.URL.Path = "/" + strings.ToLower(owner) + "/" + strings.ToLower(name) + ".git/" + rest
	if r.ContentLength < 0 { // chunked: CGI needs the length up front
		body, n, err := s.spoolBody(w, r.Body)
		if err != nil {
			http.Error(w, "request body: "+err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		defer os.Remove(body.Name())
		defer body.Close()
		backendReq.Body = body // an *os.File: git http-backend reads it as its stdin
		backendReq.ContentLength = n
		backendReq.TransferEncoding = nil
	}
	backend := &cgi.Handler{
		Path: s.git,
		Args: []string{"http-backend"},
		Dir:  s.root,
		Env: append(hermeticEnv(s.root),
			"GIT_PROJECT_ROOT="+s.root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER="+user),
	}
	backend.ServeHTTP(w, backendReq)
}

// spoolBody copies a request body of unknown length, at most
// maxSpooledBody bytes, to a temporary file in the server's directory and
// returns the file, at its start, and its length. The caller closes and
// removes the file.
func (s *Server) spoolBody(w http.ResponseWriter, body io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp(s.spool, "body-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, http.MaxBytesReader(w, io.NopCloser(body), maxSpooledBody))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// serveAPI answers GitHub Enterprise's REST API as far as the tests need,
// for a request whose Authorization ("token T", "Bearer T" or Basic)
// carries the owner's token: GET repos/OWNER/NAME with the repository's
// full name and default branch; any write below repos/OWNER/NAME, and
// POST graphql with any owner's token, answered {} and recorded (see
// APIWrites).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if user, password, ok := r.BasicAuth(); ok {
		token = password
		if password == "" {
			token = user
		}
	}
	unauthorized := func() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"Bad credentials"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	if s.serveApp(w, r, rest, token) {
		return
	}
	if rest == "graphql" || strings.TrimPrefix(r.URL.Path, "/api/") == "graphql" {
		if r.Method != http.MethodPost || !s.acceptAny(token) {
			unauthorized()
			return
		}
		s.recordWrite(r, "/api/graphql")
		io.WriteString(w, `{"data":{}}`+"\n")
		return
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || parts[0] != "repos" || !validName(parts[1]) || !validName(parts[2]) {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	owner, name := parts[1], parts[2]
	if !s.accept(owner, name, token) {
		unauthorized()
		return
	}
	if _, err := os.Stat(s.repoDir(owner, name)); err != nil {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet {
		s.recordWrite(r, r.URL.Path)
		io.WriteString(w, "{}\n")
		return
	}
	if len(parts) != 3 {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, `{"full_name":%q,"default_branch":"main"}`+"\n", strings.ToLower(owner)+"/"+strings.ToLower(name))
}

// AddApp registers a GitHub App with id and returns its private key, PEM
// (PKCS#1, as GitHub hands it out).
func (s *Server) AddApp(t testing.TB, id int64) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.apps[id] = &key.PublicKey
	s.mu.Unlock()
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// Install installs App id on owner, for repos (names; none: all of them),
// and returns the installation's id.
func (s *Server) Install(owner string, app int64, repos ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := int64(1000 + len(s.installations))
	for i, r := range repos {
		repos[i] = strings.ToLower(r)
	}
	s.installations[strings.ToLower(owner)] = installation{id: id, app: app, repos: repos}
	return id
}

// AppToken is an installation token as the server saw it.
type AppToken struct {
	Preview string   // keyring.Preview of the token
	Repos   []string // the repositories it is for
	Revoked bool
}

// AppTokens returns the tokens minted for owner, in order.
func (s *Server) AppTokens(owner string) []AppToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AppToken
	for tok, m := range s.minted {
		if m.owner == strings.ToLower(owner) {
			out = append(out, AppToken{Preview: keyring.Preview(tok), Repos: m.repos, Revoked: m.revoked})
		}
	}
	return out
}

// serveApp answers the App endpoints GitHub's API has for jailrun: GET
// app and GET repos/OWNER/NAME/installation and POST
// app/installations/ID/access_tokens with the App's JWT (verified: RS256
// with the App's key, iss, iat and exp), DELETE installation/token with
// an installation token. It reports whether the request was one of them.
func (s *Server) serveApp(w http.ResponseWriter, r *http.Request, rest, token string) bool {
	parts := strings.Split(rest, "/")
	isInstallation := len(parts) == 4 && parts[0] == "repos" && parts[3] == "installation" && r.Method == http.MethodGet
	isMint := len(parts) == 4 && parts[0] == "app" && parts[1] == "installations" && parts[3] == "access_tokens" && r.Method == http.MethodPost
	switch {
	case rest == "installation/token" && r.Method == http.MethodDelete:
		s.mu.Lock()
		m, ok := s.minted[token]
		if ok {
			m.revoked = true
		}
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		w.WriteHeader(http.StatusNoContent)
		return true
	case rest != "app" && !isInstallation && !isMint:
		return false
	}
	app, err := s.verifyJWT(token)
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":%q}`, "A JSON web token could not be decoded: "+err.Error())
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case rest == "app":
		fmt.Fprintf(w, `{"slug":"jailrun-test-%d","name":"jailrun test %d"}`, app, app)
	case isInstallation:
		inst, ok := s.installations[strings.ToLower(parts[1])]
		if !ok || inst.app != app || inst.repos != nil && !slices.Contains(inst.repos, strings.ToLower(parts[2])) {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found"}`)
			return true
		}
		fmt.Fprintf(w, `{"id":%d}`, inst.id)
	case isMint:
		var owner string
		var inst installation
		for o, i := range s.installations {
			if strconv.FormatInt(i.id, 10) == parts[2] && i.app == app {
				owner, inst = o, i
			}
		}
		var req struct {
			Repositories []string          `json:"repositories"`
			Permissions  map[string]string `json:"permissions"`
		}
		if owner == "" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found"}`)
			return true
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Repositories) == 0 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"message":"name the repositories"}`)
			return true
		}
		for i, repo := range req.Repositories {
			req.Repositories[i] = strings.ToLower(repo)
			if inst.repos != nil && !slices.Contains(inst.repos, req.Repositories[i]) {
				w.WriteHeader(http.StatusUnprocessableEntity)
				io.WriteString(w, `{"message":"There is at least one repository that does not exist or is not accessible to the parent installation."}`)
				return true
			}
		}
		life := s.AppTokenLife
		if life == 0 {
			life = time.Hour
		}
		tok := "ghs_" + rand.Text() + rand.Text()
		m := &mintedToken{owner: owner, repos: req.Repositories, expires: time.Now().Add(life)}
		s.minted[tok] = m
		perms, _ := json.Marshal(req.Permissions)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":%q,"expires_at":%q,"permissions":%s}`, tok, m.expires.UTC().Format(time.RFC3339), perms)
	}
	return true
}

// verifyJWT checks an App's token as GitHub does and returns the App's id.
func (s *Server) verifyJWT(token string) (int64, error) {
	var id int64
	_, err := jwt.ParseWithClaims(token, &jwt.RegisteredClaims{}, func(t *jwt.Token) (any, error) {
		iss, err := t.Claims.GetIssuer()
		if err != nil {
			return nil, err
		}
		if id, err = strconv.ParseInt(iss, 10, 64); err != nil {
			return nil, errors.New("iss is not an App id")
		}
		s.mu.Lock()
		key := s.apps[id]
		s.mu.Unlock()
		if key == nil {
			return nil, errors.New("no App with that id")
		}
		exp, err := t.Claims.GetExpirationTime()
		iat, ierr := t.Claims.GetIssuedAt()
		if err != nil || ierr != nil || exp == nil || iat == nil || exp.Sub(iat.Time) > 10*time.Minute {
			return nil, errors.New("exp must be at most ten minutes after iat")
		}
		return key, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	return id, err
}

// recordWrite remembers an API write the server accepted.
func (s *Server) recordWrite(r *http.Request, path string) {
	io.Copy(io.Discard, io.LimitReader(r.Body, maxAPIBody))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, r.Method+" "+path)
}

// APIWrites returns the API writes the server accepted, "METHOD /path"
// each, in order.
func (s *Server) APIWrites() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

// ForgetAPIWrites empties the list APIWrites returns.
func (s *Server) ForgetAPIWrites() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = nil
}

// acceptAny reports whether token is any owner's.
func (s *Server) acceptAny(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if token == t {
			return true
		}
	}
	return false
}

// accept records the password offered for owner's repository name and
// reports whether it is owner's token, or a token minted by an App's
// installation on owner for that repository that is neither expired nor
// revoked.
func (s *Server) accept(owner, name, password string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(owner)
	want, ok := s.tokens[key]
	accepted := ok && password == want
	if m, found := s.minted[password]; found && !accepted {
		accepted = m.owner == key && slices.Contains(m.repos, strings.ToLower(name)) && !m.revoked && time.Now().Before(m.expires)
	}
	s.offers[key] = append(s.offers[key], offer{preview: keyring.Preview(password), accepted: accepted})
	return accepted
}

// repoDir is where the bare repository OWNER/NAME lives.
func (s *Server) repoDir(owner, name string) string {
	return filepath.Join(s.root, strings.ToLower(owner), strings.ToLower(name)+".git")
}

// splitRepoPath splits /OWNER/NAME[.git]/REST, as GitHub accepts it.
func splitRepoPath(path string) (owner, name, rest string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) != 3 || parts[2] == "" {
		return "", "", "", false
	}
	owner, name, rest = parts[0], strings.TrimSuffix(parts[1], ".git"), parts[2]
	if !validName(owner) || !validName(name) {
		return "", "", "", false
	}
	return owner, name, rest, true
}

// validName reports whether s is usable as an owner or repository name.
func validName(s string) bool {
	return namePattern.MatchString(s) && s != "." && s != ".."
}

// hermeticEnv is an environment in which git reads no configuration of the
// developer, never prompts, and commits as a fixed identity.
func hermeticEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, ".gitconfig"),
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
		"GIT_AUTHOR_NAME=gittest",
		"GIT_AUTHOR_EMAIL=gittest@example.com",
		"GIT_COMMITTER_NAME=gittest",
		"GIT_COMMITTER_EMAIL=gittest@example.com",
	}
}

// Git runs git in dir in an environment of its own, as InitWorkRepo does,
// and returns its standard output without the final newline; a failure
// fails the test.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return strings.TrimSpace(mustGit(t, hermeticEnv(t.TempDir()), dir, args...))
}

// mustGit runs git in dir ("" for the current directory) and returns its standard output, failing the
// test when git fails.
func mustGit(t testing.TB, env []string, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gittest: git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out)
}

// selfSignedCert makes an ECDSA certificate for 127.0.0.1, ::1 and
// localhost that is its own CA, and returns it with its PEM encoding.
func selfSignedCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gittest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
