//go:build linux || darwin

package launch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/jail"
	tokenplaceholder "github.com/jailrun/jailrun/internal/placeholder"
)

func TestTrustBundles(t *testing.T) {
	s, err := newSecrets(tokenplaceholder.New(), config.Config{Hosts: []string{"github.com", "ghe.example:8443"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.hosts, " "); got != "github.com api.github.com uploads.github.com codeload.github.com raw.githubusercontent.com objects.githubusercontent.com release-assets.githubusercontent.com github-releases.githubusercontent.com ghe.example:8443" {
		t.Errorf("terminated hosts %q", got)
	}
	src, dir := t.TempDir(), t.TempDir()
	vars := map[string]string{}
	for name, text := range map[string]string{"SSL_CERT_FILE": "USER ROOTS", "GIT_SSL_CAINFO": "GIT ROOTS\n", "NODE_EXTRA_CA_CERTS": "CORPORATE CA\n"} {
		vars[name] = filepath.Join(src, name)
		os.WriteFile(vars[name], []byte(text), 0o644)
	}
	files, env, err := s.trust(dir, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ca := string(s.ca.PEM())
	shown := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f.Host)
		if err != nil {
			t.Fatal(err)
		}
		shown[f.Jail] = string(data)
	}
	// Each variable names what it named, and the session CA; the main
	// bundle lies over the system's too.
	want := map[string]string{
		"SSL_CERT_FILE":       "USER ROOTS\n" + ca,
		"CURL_CA_BUNDLE":      "USER ROOTS\n" + ca,
		"REQUESTS_CA_BUNDLE":  "USER ROOTS\n" + ca,
		"GIT_SSL_CAINFO":      "GIT ROOTS\n" + ca,
		"NODE_EXTRA_CA_CERTS": "CORPORATE CA\n" + ca,
	}
	for _, kv := range env {
		k, path, _ := strings.Cut(kv, "=")
		if shown[path] != want[k] || !strings.HasPrefix(path, jail.SocketDir+"/") {
			t.Errorf("%s names %s, holding %q", k, path, shown[path])
		}
	}
	if len(env) != len(want) {
		t.Errorf("variables %q", env)
	}
	if shown[jail.SystemBundles[0]] != want["SSL_CERT_FILE"] {
		t.Errorf("the system's bundle is not the main bundle")
	}
	// Unset, NODE_EXTRA_CA_CERTS names the session CA alone, the others
	// the main bundle.
	_, env, err = s.trust(t.TempDir(), func(k string) string { return map[string]string{"SSL_CERT_FILE": vars["SSL_CERT_FILE"]}[k] })
	if err != nil || !slices.Contains(env, "NODE_EXTRA_CA_CERTS="+jailCA) || !slices.Contains(env, "GIT_SSL_CAINFO="+jailBundle) {
		t.Errorf("unset variables: %q %v", env, err)
	}
	// Variables naming one file share its bundle: the system's when
	// SSL_CERT_FILE is unset.
	shared := t.TempDir()
	_, env, err = s.trust(shared, func(k string) string {
		return map[string]string{"CURL_CA_BUNDLE": jail.SystemBundles[0], "GIT_SSL_CAINFO": vars["GIT_SSL_CAINFO"], "REQUESTS_CA_BUNDLE": vars["GIT_SSL_CAINFO"]}[k]
	})
	if err != nil || !slices.Contains(env, "CURL_CA_BUNDLE="+jailBundle) || !slices.Contains(env, "GIT_SSL_CAINFO="+jail.SocketDir+"/requests_ca_bundle.pem") {
		t.Errorf("variables naming one file: %q %v", env, err)
	}
	if entries, _ := os.ReadDir(shared); len(entries) != 3 {
		t.Errorf("%d bundles written for two files and the CA, want 3", len(entries))
	}
	// The CA's key is in no file: only certificates were written.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if strings.Contains(string(data), "PRIVATE KEY") {
			t.Errorf("%s holds a private key", e.Name())
		}
	}
}

// TestTrustReadsSafely: a FIFO named by SSL_CERT_FILE is an error, never
// a hang.
func TestTrustReadsSafely(t *testing.T) {
	s, err := newSecrets(tokenplaceholder.New(), config.Config{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.trust(t.TempDir(), func(k string) string { return map[string]string{"SSL_CERT_FILE": fifo}[k] }); err == nil {
		t.Errorf("a FIFO as SSL_CERT_FILE was read as a bundle")
	}
}

func TestWithPlaceholder(t *testing.T) {
	env := []string{"GH_TOKEN=real", "OTHER=realish", "X=real"}
	if got := withPlaceholder(env, "real", "jrp_x"); !slices.Equal(got, []string{"GH_TOKEN=jrp_x", "OTHER=realish", "X=jrp_x"}) {
		t.Errorf("withPlaceholder = %q", got)
	}
	if got := withPlaceholder(env, "", "jrp_x"); !slices.Equal(got, env) {
		t.Errorf("no token changed the environment: %q", got)
	}
}

func TestWithoutFoundTokens(t *testing.T) {
	env := []string{"GH_TOKEN=jrp_PLACEHOLDER", "HOMEBREW_GITHUB_API_TOKEN=ghp_0123456789abcdefghij", "GITHUB_PAT=github_pat_11AB",
		"GIT_CONFIG_PARAMETERS='http.extraheader'='AUTHORIZATION: basic eC1hY2Nlc3M='", "GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Bearer gho_x", "PATH=/usr/bin"}
	want := []string{"GH_TOKEN=jrp_PLACEHOLDER", "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=", "PATH=/usr/bin"}
	if got := withoutFoundTokens(env); !slices.Equal(got, want) {
		t.Errorf("withoutFoundTokens = %q, want %q", got, want)
	}
}
