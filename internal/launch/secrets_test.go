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
)

func TestTrustBundles(t *testing.T) {
	s, err := newSecrets(config.Config{Hosts: []string{"github.com", "ghe.example:8443"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.hosts, " "); got != "github.com api.github.com uploads.github.com ghe.example:8443" {
		t.Errorf("terminated hosts %q", got)
	}
	src, dir := t.TempDir(), t.TempDir()
	userRoots, gitRoots := filepath.Join(src, "roots.pem"), filepath.Join(src, "git.pem")
	os.WriteFile(userRoots, []byte("USER ROOTS"), 0o644)
	os.WriteFile(gitRoots, []byte("GIT ROOTS\n"), 0o644)
	vars := map[string]string{"SSL_CERT_FILE": userRoots, "GIT_SSL_CAINFO": gitRoots}
	files, env, err := s.trust(dir, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ca := string(s.ca.PEM())
	want := map[string]string{
		jailBundle:    "USER ROOTS\n" + ca,
		jailGitBundle: "GIT ROOTS\n" + ca,
		jailCA:        ca,
	}
	for _, f := range files {
		data, err := os.ReadFile(f.Host)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[f.Jail]
		if ok && string(data) != w {
			t.Errorf("%s holds %q", f.Jail, data)
		}
		if !ok && (!slices.Contains(jail.SystemBundles, f.Jail) || f.Host != files[0].Host) {
			t.Errorf("%s shown at %s, want the bundle over a system bundle", f.Host, f.Jail)
		}
	}
	if want := "SSL_CERT_FILE=" + jailBundle + " CURL_CA_BUNDLE=" + jailBundle + " REQUESTS_CA_BUNDLE=" + jailBundle +
		" GIT_SSL_CAINFO=" + jailGitBundle + " NODE_EXTRA_CA_CERTS=" + jailCA; strings.Join(env, " ") != want {
		t.Errorf("variables %q", env)
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
	s, err := newSecrets(config.Config{}, time.Now())
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
