package gittest

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/keyring"
)

// Test tokens: made up, differing in their first characters so that their
// previews differ too.
const (
	aliceToken = "ghp_alice0123456789abcdefghijklmnopqrstuvw"
	bobToken   = "ghp_bob9876543210zyxwvutsrqponmlkjihgfedcba"
)

// helperScript is an inline credential helper that answers get with the
// password in $GITTEST_TOKEN, when set, and logs every action it is asked
// for to $GITTEST_HELPER_LOG. The token stays off argv.
const helperScript = `!f() { echo "$1" >>"$GITTEST_HELPER_LOG"; cat >/dev/null; ` +
	`if [ "$1" = get ] && [ -n "$GITTEST_TOKEN" ]; then printf "username=x-access-token\npassword=%s\n" "$GITTEST_TOKEN"; fi; }; f`

// pushResult is what a push left behind on the client side.
type pushResult struct {
	err     error
	stderr  string
	actions []string // credential helper actions git asked for
}

// push runs git push origin main in dir with the inline helper answering
// token ("" for none).
func push(t *testing.T, s *Server, dir, token string, args ...string) pushResult {
	t.Helper()
	log := filepath.Join(t.TempDir(), "helper.log")
	cmd := exec.Command("git", append([]string{"-c", "credential.helper=", "-c", "credential.helper=" + helperScript, "push"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(s.Env(t.TempDir()), "GITTEST_TOKEN="+token, "GITTEST_HELPER_LOG="+log)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	logged, _ := os.ReadFile(log)
	return pushResult{err: err, stderr: stderr.String(), actions: strings.Fields(string(logged))}
}

func TestPushWithOwnersToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.RequireToken("alice", aliceToken)
	s.RequireToken("bob", bobToken)
	dir := t.TempDir()
	head := InitWorkRepo(t, dir, s.AddRepo(t, "alice", "project"))

	res := push(t, s, dir, aliceToken, "origin", "main")
	if res.err != nil {
		t.Fatalf("push with alice's token: %v\n%s", res.err, res.stderr)
	}
	if got := s.Ref(t, "alice", "project", "refs/heads/main"); got != head {
		t.Errorf("server's main = %q, want the pushed commit %q", got, head)
	}
	offered := s.Offered("alice")
	if len(offered) == 0 {
		t.Fatal("no credential was recorded for alice")
	}
	for i, p := range offered {
		if p != keyring.Preview(aliceToken) {
			t.Errorf("offer %d for alice = %q, want %q", i, p, keyring.Preview(aliceToken))
		}
	}
	if n := s.Rejected("alice"); n != 0 {
		t.Errorf("Rejected(alice) = %d, want 0", n)
	}
	if got := s.Offered("bob"); len(got) != 0 {
		t.Errorf("Offered(bob) = %q, want none", got)
	}
	if !slices.Contains(res.actions, "store") || slices.Contains(res.actions, "erase") {
		t.Errorf("helper actions = %q, want a store and no erase", res.actions)
	}

	// What was pushed can be cloned back with the same token.
	clone := filepath.Join(t.TempDir(), "clone")
	cmd := exec.Command("git", "-c", "credential.helper=", "-c", "credential.helper="+helperScript,
		"clone", "--quiet", s.URL+"/alice/project.git", clone)
	cmd.Env = append(s.Env(t.TempDir()), "GITTEST_TOKEN="+aliceToken, "GITTEST_HELPER_LOG="+filepath.Join(t.TempDir(), "log"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clone with alice's token: %v\n%s", err, out)
	}
	if readme, err := os.ReadFile(filepath.Join(clone, "README.md")); err != nil || !strings.Contains(string(readme), t.Name()) {
		t.Errorf("cloned README.md = %q, %v; want the pushed one", readme, err)
	}
}

func TestPushRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		owner      string // owner of the repository pushed to
		token      string // what the helper answers; "" for nothing
		wantOffers bool
	}{
		{"another owner's token", "alice", bobToken, true},
		{"made-up token", "alice", "ghp_mallory000000000000000000000000000000", true},
		{"owner without a token", "carol", aliceToken, true},
		{"no credentials", "alice", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t)
			s.RequireToken("alice", aliceToken)
			s.RequireToken("bob", bobToken)
			dir := t.TempDir()
			InitWorkRepo(t, dir, s.AddRepo(t, tt.owner, "project"))

			res := push(t, s, dir, tt.token, "origin", "main")
			if res.err == nil {
				t.Fatal("push succeeded, want it refused")
			}
			if got := s.Ref(t, tt.owner, "project", "refs/heads/main"); got != "" {
				t.Errorf("server's main = %q after a refused push, want none", got)
			}
			offered := s.Offered(tt.owner)
			if !tt.wantOffers {
				if len(offered) != 0 {
					t.Errorf("Offered(%s) = %q, want none", tt.owner, offered)
				}
				if !strings.Contains(res.stderr, "terminal prompts disabled") {
					t.Errorf("push stderr = %q, want git to say it could not prompt", res.stderr)
				}
				return
			}
			want := []string{keyring.Preview(tt.token)}
			if !slices.Equal(offered, want) {
				t.Errorf("Offered(%s) = %q, want %q", tt.owner, offered, want)
			}
			if n := s.Rejected(tt.owner); n != 1 {
				t.Errorf("Rejected(%s) = %d, want 1", tt.owner, n)
			}
			if !slices.Contains(res.actions, "erase") {
				t.Errorf("helper actions = %q, want git to erase the refused credential", res.actions)
			}
		})
	}
}

func TestPlainHTTPIsNotServed(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.RequireToken("alice", aliceToken)
	dir := t.TempDir()
	InitWorkRepo(t, dir, "http://"+s.Host+"/alice/project.git")
	s.AddRepo(t, "alice", "project")

	res := push(t, s, dir, aliceToken, "origin", "main")
	if res.err == nil {
		t.Fatal("push over plain http succeeded")
	}
	if got := s.Offered("alice"); len(got) != 0 {
		t.Errorf("Offered(alice) = %q over plain http, want none", got)
	}
	if got := s.Ref(t, "alice", "project", "refs/heads/main"); got != "" {
		t.Errorf("server's main = %q after a plain http push, want none", got)
	}
	resp, err := http.Get("http://" + s.Host + "/alice/project.git/info/refs?service=git-receive-pack")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain http GET: status %d, want %d", resp.StatusCode, http.StatusBadRequest)
		}
	}
}

func TestBackendNeverSeesTheToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.RequireToken("alice", aliceToken)
	dir := t.TempDir()
	head := InitWorkRepo(t, dir, s.AddRepo(t, "alice", "project"))
	// The hook runs in git http-backend's environment; it refuses the push
	// when the Authorization header reached that environment.
	hook := "#!/bin/sh\nif env | grep -q Basic; then echo 'credentials in the backend environment' >&2; exit 1; fi\n"
	if err := os.WriteFile(filepath.Join(s.repoDir("alice", "project"), "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}

	if res := push(t, s, dir, aliceToken, "origin", "main"); res.err != nil {
		t.Fatalf("push: %v\n%s", res.err, res.stderr)
	}
	if got := s.Ref(t, "alice", "project", "refs/heads/main"); got != head {
		t.Errorf("server's main = %q, want %q", got, head)
	}
}

func TestCertificateAndChallenge(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AddRepo(t, "alice", "project")
	pemBytes, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("CAFile %s holds no certificate", s.CAFile)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	port := strings.TrimPrefix(s.Host, "127.0.0.1:")
	for _, host := range []string{"127.0.0.1", "localhost"} {
		resp, err := client.Get("https://" + host + ":" + port + "/alice/project.git/info/refs?service=git-upload-pack")
		if err != nil {
			t.Errorf("GET via %s: %v", host, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET via %s without credentials: status %d, want 401", host, resp.StatusCode)
		}
		if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="GitHub"`; got != want {
			t.Errorf("WWW-Authenticate = %q, want %q", got, want)
		}
	}
}

func TestOwnerAndNameAreCaseInsensitive(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.RequireToken("MyOrg", aliceToken)
	s.AddRepo(t, "myorg", "Project")
	dir := t.TempDir()
	head := InitWorkRepo(t, dir, s.URL+"/myORG/project") // GitHub accepts the URL without .git

	if res := push(t, s, dir, aliceToken, "origin", "main"); res.err != nil {
		t.Fatalf("push: %v\n%s", res.err, res.stderr)
	}
	if got := s.Ref(t, "MYORG", "PROJECT", "refs/heads/main"); got != head {
		t.Errorf("server's main = %q, want %q", got, head)
	}
	if n := s.Rejected("myorg"); n != 0 {
		t.Errorf("Rejected(myorg) = %d, want 0", n)
	}
}

func TestLargePush(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.RequireToken("alice", aliceToken)
	dir := t.TempDir()
	InitWorkRepo(t, dir, s.AddRepo(t, "alice", "project"))
	// Incompressible data larger than git's 1 MiB http.postBuffer makes
	// git send the pack with chunked transfer encoding.
	data := make([]byte, 3<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := s.Env(t.TempDir())
	mustGit(t, env, dir, "add", "blob.bin")
	mustGit(t, env, dir, "commit", "--quiet", "--message", "large blob")
	head := strings.TrimSpace(mustGit(t, env, dir, "rev-parse", "HEAD"))

	if res := push(t, s, dir, aliceToken, "origin", "main"); res.err != nil {
		t.Fatalf("push of a large commit: %v\n%s", res.err, res.stderr)
	}
	if got := s.Ref(t, "alice", "project", "refs/heads/main"); got != head {
		t.Errorf("server's main = %q, want %q", got, head)
	}
}
