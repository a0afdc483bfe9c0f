//go:build linux || darwin

package launch

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/internal/audit"
	"github.com/jailrun/jailrun/internal/gitpolicy"
	"github.com/jailrun/jailrun/internal/jail"
	tokenplaceholder "github.com/jailrun/jailrun/internal/placeholder"
	"github.com/jailrun/jailrun/internal/proxy"
	"github.com/jailrun/jailrun/internal/saferead"
	"github.com/jailrun/jailrun/internal/sessionca"
)

// caValidity is how long the session CA's certificates are valid. Its key
// exists only in the supervisor's memory, so it dies with the session
// whatever this says; the certificate alone is worth nothing to anyone.
const caValidity = 30 * 24 * time.Hour

// maxBundle bounds a CA bundle jailrun reads (Debian's is about 220 KB).
const maxBundle = 16 << 20

// secrets keeps a jailed session's tokens outside the jail: the broker
// answers with the vault's placeholders, and the proxy terminates TLS for
// the GitHub hosts with the session CA to put the tokens back.
type secrets struct {
	vault *tokenplaceholder.Vault
	ca    *sessionca.CA
	hosts []string // every host a token is sent to: GH_HOSTS and their API and upload hosts
}

// newSecrets makes the vault and the CA for the GitHub hosts of cfg
// (github.com's when the config did not load).
func newSecrets(cfg config.Config, now time.Time) (*secrets, error) {
	ghHosts := cfg.Hosts
	if len(ghHosts) == 0 {
		ghHosts = []string{config.DefaultHost}
	}
	var hosts []string
	for _, h := range ghHosts {
		for _, t := range tokenplaceholder.TokenHosts(h) {
			if !slices.Contains(hosts, t) {
				hosts = append(hosts, t)
			}
		}
	}
	ca, err := sessionca.New(hosts, now, caValidity)
	if err != nil {
		return nil, err
	}
	return &secrets{vault: tokenplaceholder.New(), ca: ca, hosts: hosts}, nil
}

// terminate is the proxy's part, with the push policy push.
func (s *secrets) terminate(push *proxy.PushPolicy) *proxy.Terminate {
	return &proxy.Terminate{Hosts: s.hosts, CA: s.ca, Vault: s.vault, Push: push}
}

// pushPolicy is the session's push policy: GH_PUSH_PROTECT, by default
// the default branch and tags, each push recorded by record.
func pushPolicy(cfg config.Config, getenv func(string) string, record func(proxy.Push)) *proxy.PushPolicy {
	protect := cfg.PushProtect
	if protect == nil {
		protect = gitpolicy.DefaultProtect
	}
	return &proxy.PushPolicy{
		Protect: protect,
		APIBase: func(host string) string { return github.APIBase(host, getenv) },
		Record:  record,
	}
}

// pushLedger counts a session's pushes for its summary and writes each of
// their ref updates to the audit log.
type pushLedger struct {
	mu              sync.Mutex
	pushes, refused int
}

// record writes push's lines through write and counts it.
func (l *pushLedger) record(push proxy.Push, write func(audit.Record)) {
	l.mu.Lock()
	l.pushes++
	if push.Reason != "" {
		l.refused++
	}
	l.mu.Unlock()
	base := audit.Record{Op: "push", Host: push.Host, Path: push.Repo, Result: "allowed"}
	if push.Reason != "" {
		base.Result, base.Reason = "refused", push.Reason
	}
	if len(push.Commands) == 0 {
		write(base)
		return
	}
	for _, c := range push.Commands {
		rec := base
		rec.Ref, rec.Old, rec.New = c.Ref, c.Old, c.New
		if why, ok := push.Refused[c.Ref]; ok {
			rec.Reason = why
		}
		write(rec)
	}
}

// summary is the session's line about its pushes, "" for none.
func (l *pushLedger) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.pushes == 0:
		return ""
	case l.pushes == 1:
		return fmt.Sprintf("pushes: 1 push, %d refused", l.refused)
	}
	return fmt.Sprintf("pushes: %d pushes, %d refused", l.pushes, l.refused)
}

// The jail's trust bundles, in its socket directory.
const (
	jailBundle    = jail.SocketDir + "/ca-bundle.pem"     // the system's or SSL_CERT_FILE's roots and the session CA
	jailGitBundle = jail.SocketDir + "/git-ca-bundle.pem" // GIT_SSL_CAINFO's roots and the session CA
	jailCA        = jail.SocketDir + "/session-ca.pem"    // the session CA alone, for NODE_EXTRA_CA_CERTS
)

// trust writes the jail's trust bundles into dir (the session's own) and
// returns the files the jail shows and the variables that name them. The
// bundle also lies over the system's bundle, for clients that read it
// without a variable.
func (s *secrets) trust(dir string, getenv func(string) string) ([]jail.File, []string, error) {
	roots, err := readRoots(getenv("SSL_CERT_FILE"))
	if err != nil {
		return nil, nil, err
	}
	gitRoots := roots
	if f := getenv("GIT_SSL_CAINFO"); f != "" {
		if gitRoots, err = readRoots(f); err != nil {
			return nil, nil, err
		}
	}
	ca := s.ca.PEM()
	files := []jail.File{}
	for _, f := range []struct {
		name, jail string
		data       []byte
	}{
		{"ca-bundle.pem", jailBundle, bundle(roots, ca)},
		{"git-ca-bundle.pem", jailGitBundle, bundle(gitRoots, ca)},
		{"session-ca.pem", jailCA, ca},
	} {
		host := filepath.Join(dir, f.name)
		if err := os.WriteFile(host, f.data, 0o444); err != nil {
			return nil, nil, fmt.Errorf("cannot write the jail's CA bundle: %v", err)
		}
		files = append(files, jail.File{Host: host, Jail: f.jail})
	}
	for _, system := range jail.SystemBundles {
		files = append(files, jail.File{Host: files[0].Host, Jail: system})
	}
	env := []string{
		"SSL_CERT_FILE=" + jailBundle,
		"CURL_CA_BUNDLE=" + jailBundle,
		"REQUESTS_CA_BUNDLE=" + jailBundle,
		"GIT_SSL_CAINFO=" + jailGitBundle,
		"NODE_EXTRA_CA_CERTS=" + jailCA,
	}
	return files, env, nil
}

// readRoots reads the CA bundle at path, or the system's first one when
// path is "".
func readRoots(path string) ([]byte, error) {
	candidates := jail.SystemBundles
	if path != "" {
		candidates = []string{path}
	}
	for _, p := range candidates {
		data, err := saferead.ReadUserFile(p, maxBundle)
		switch {
		case err == nil:
			return data, nil
		case path == "" && errors.Is(err, fs.ErrNotExist):
			continue
		}
		return nil, fmt.Errorf("cannot read the CA bundle for the jail: %v", err)
	}
	return nil, errors.New("cannot find the system's CA bundle for the jail; install ca-certificates or set SSL_CERT_FILE")
}

// bundle is roots followed by ca, on a line of their own.
func bundle(roots, ca []byte) []byte {
	var b bytes.Buffer
	b.Write(roots)
	if len(roots) > 0 && !bytes.HasSuffix(roots, []byte("\n")) {
		b.WriteByte('\n')
	}
	b.Write(ca)
	return b.Bytes()
}

// withPlaceholder returns env with every variable whose value is the
// token real (GH_TOKEN) holding its placeholder instead.
func withPlaceholder(env []string, real, ph string) []string {
	if real == "" {
		return env
	}
	out := make([]string, len(env))
	for i, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && v == real {
			kv = k + "=" + ph
		}
		out[i] = kv
	}
	return out
}
