//go:build linux || darwin

package launch

import (
	"errors"
	"fmt"
	"io"
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
	"github.com/jailrun/jailrun/session"
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
	hosts []string // the hosts terminated: GH_HOSTS, their API and upload hosts, github.com's content hosts
}

// pendingSecrets are a session's secrets while they are made: the vault
// at once, the rest (see newSecrets) by made, which waits for them.
type pendingSecrets struct {
	vault *tokenplaceholder.Vault
	made  func() (*secrets, error)
}

// secretsMeanwhile starts making the session's secrets: the CA's key and
// signature take a share of the launch that the rest of the set-up can
// spend on other work.
func secretsMeanwhile(cfg config.Config, now time.Time) *pendingSecrets {
	vault := tokenplaceholder.New()
	type result struct {
		s   *secrets
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := newSecrets(vault, cfg, now)
		done <- result{s, err}
	}()
	return &pendingSecrets{vault: vault, made: sync.OnceValues(func() (*secrets, error) {
		r := <-done
		return r.s, r.err
	})}
}

// newSecrets makes the CA for the GitHub hosts of cfg (github.com's when
// the config did not load), and the session's secrets with vault.
func newSecrets(vault *tokenplaceholder.Vault, cfg config.Config, now time.Time) (*secrets, error) {
	ghHosts := cfg.Hosts
	if len(ghHosts) == 0 {
		ghHosts = []string{config.DefaultHost}
	}
	var hosts []string
	for _, h := range ghHosts {
		for _, t := range append(tokenplaceholder.TokenHosts(h), tokenplaceholder.ContentHosts(h)...) {
			if !slices.Contains(hosts, t) {
				hosts = append(hosts, t)
			}
		}
	}
	ca, err := sessionca.New(hosts, now, caValidity)
	if err != nil {
		return nil, err
	}
	return &secrets{vault: vault, ca: ca, hosts: hosts}, nil
}

// terminate is the proxy's part, with the push and API policies.
func (s *secrets) terminate(push *proxy.PushPolicy, api *proxy.APIPolicy, getenv func(string) string) *proxy.Terminate {
	return &proxy.Terminate{Hosts: s.hosts, CA: s.ca, Vault: s.vault, Push: push, API: api,
		APIBase: func(host string) string { return github.APIBase(host, getenv) }}
}

// protectedRefs is GH_PUSH_PROTECT, by default the default branch and tags.
func protectedRefs(cfg config.Config) []string {
	if cfg.PushProtect == nil {
		return gitpolicy.DefaultProtect
	}
	return cfg.PushProtect
}

// pushPolicy is the session's push policy, each push recorded by record.
func pushPolicy(cfg config.Config, record func(proxy.Push)) *proxy.PushPolicy {
	return &proxy.PushPolicy{Protect: protectedRefs(cfg), Record: record}
}

// apiPolicy is the session's API policy: writes to repos (the clone's
// GitHub repositories and JAILRUN_REPOS) for everyday work, and what
// JAILRUN_API_ALLOW adds.
func apiPolicy(cfg config.Config, repos []string, record func(proxy.APIWrite)) *proxy.APIPolicy {
	policy := gitpolicy.API{Repos: append(slices.Clone(repos), cfg.Repos...), Protect: protectedRefs(cfg)}
	for _, e := range cfg.APIAllow {
		if r, err := gitpolicy.ParseRule(e); err == nil { // config checked the form
			policy.Allow = append(policy.Allow, r)
		}
	}
	return &proxy.APIPolicy{Policy: policy, Record: record}
}

// sessionRepos returns OWNER/REPO of every remote of the clone at dir on
// one of cfg's GitHub hosts.
func sessionRepos(cfg config.Config, dir string) []string {
	remotes, _ := session.Remotes(dir)
	var repos []string
	for _, r := range remotes {
		if repo, ok := remoteRepo(cfg, r.URL); ok && cfg.IsGitHubHost(repo.Host) {
			if name := strings.ToLower(repo.Owner + "/" + repo.Name); !slices.Contains(repos, name) {
				repos = append(repos, name)
			}
		}
	}
	return repos
}

// policyLedger counts a session's pushes and API writes for its summary
// and writes each of their lines to the audit log.
type policyLedger struct {
	mu                    sync.Mutex
	pushes, refused       int
	apiWrites, apiRefused int
}

// record writes push's lines through write and counts it.
func (l *policyLedger) record(push proxy.Push, write func(audit.Record)) {
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

// recordAPI writes the line of an API write through write and counts it.
func (l *policyLedger) recordAPI(a proxy.APIWrite, write func(audit.Record)) {
	l.mu.Lock()
	l.apiWrites++
	if a.Reason != "" {
		l.apiRefused++
	}
	l.mu.Unlock()
	rec := audit.Record{Op: "api", Host: a.Host, Path: a.Method + " " + a.Path, Result: "allowed"}
	if a.Reason != "" {
		rec.Result, rec.Reason = "refused", a.Reason
	}
	write(rec)
}

// summary is the session's line about its pushes and API writes, "" for
// none: "policy: 2 pushes, 1 refused; 5 API writes, 0 refused".
func (l *policyLedger) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pushes == 0 && l.apiWrites == 0 {
		return ""
	}
	return fmt.Sprintf("policy: %s, %d refused; %s, %d refused",
		plural(l.pushes, "push", "pushes"), l.refused, plural(l.apiWrites, "API write", "API writes"), l.apiRefused)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// The jail's trust bundles, in its socket directory: the main one (the
// system's or SSL_CERT_FILE's roots and the session CA) and the session CA
// alone; a variable the user set gets its own, its file's roots and the CA.
const (
	jailBundle = jail.SocketDir + "/ca-bundle.pem"
	jailCA     = jail.SocketDir + "/session-ca.pem"
)

// trustVars are the variables through which TLS clients find what to
// trust. NODE_EXTRA_CA_CERTS adds to Node's own roots, so unset it names
// the session CA alone; the others name the main bundle unless the user
// set them.
var trustVars = []struct {
	name  string
	extra bool
}{
	{"SSL_CERT_FILE", false}, {"CURL_CA_BUNDLE", false}, {"REQUESTS_CA_BUNDLE", false},
	{"GIT_SSL_CAINFO", false}, {"NODE_EXTRA_CA_CERTS", true},
}

// trust writes the jail's trust bundles into dir (the session's own) and
// returns the files the jail shows and the variables that name them. The
// main bundle also lies over the system's, for clients that read it
// without a variable.
func (s *secrets) trust(dir string, getenv func(string) string) ([]jail.File, []string, error) {
	rootsPath, err := systemRoots(getenv("SSL_CERT_FILE"))
	if err != nil {
		return nil, nil, err
	}
	ca := s.ca.PEM()
	var files []jail.File
	write := func(name, jailPath, roots string) error {
		host := filepath.Join(dir, name)
		if err := writeBundle(host, roots, ca); err != nil {
			return err
		}
		files = append(files, jail.File{Host: host, Jail: jailPath})
		return nil
	}
	if err := write("ca-bundle.pem", jailBundle, rootsPath); err != nil {
		return nil, nil, err
	}
	if err := write("session-ca.pem", jailCA, ""); err != nil {
		return nil, nil, err
	}
	main := files[0].Host
	for _, system := range jail.SystemBundles {
		files = append(files, jail.File{Host: main, Jail: system})
	}
	// A file named twice is written once: often every variable names
	// the system's bundle.
	written := map[string]string{filepath.Clean(rootsPath): jailBundle}
	var env []string
	for _, v := range trustVars {
		user := getenv(v.name)
		switch {
		case v.name == "SSL_CERT_FILE" || user == "" && !v.extra:
			env = append(env, v.name+"="+jailBundle)
		case user == "":
			env = append(env, v.name+"="+jailCA)
		case written[filepath.Clean(user)] != "":
			env = append(env, v.name+"="+written[filepath.Clean(user)])
		default:
			name := strings.ToLower(v.name) + ".pem"
			if err := write(name, jail.SocketDir+"/"+name, user); err != nil {
				return nil, nil, err
			}
			written[filepath.Clean(user)] = jail.SocketDir + "/" + name
			env = append(env, v.name+"="+jail.SocketDir+"/"+name)
		}
	}
	return files, env, nil
}

// systemRoots returns path, the CA bundle SSL_CERT_FILE names, or when
// it is "" the system's first that exists.
func systemRoots(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	for _, p := range jail.SystemBundles {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("cannot find the system's CA bundle for the jail; install ca-certificates or set SSL_CERT_FILE")
}

// writeBundle writes the CA bundle at roots (none for "") followed by ca,
// on a line of its own, to a new file at host. The roots are copied by
// the kernel, never read into memory: a bundle is hundreds of kilobytes.
func writeBundle(host, roots string, ca []byte) error {
	out, err := os.OpenFile(host, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("cannot write the jail's CA bundle: %v", err)
	}
	defer out.Close()
	if roots != "" {
		if err := copyRoots(out, roots); err != nil {
			return err
		}
	}
	if _, err := out.Write(ca); err != nil {
		return fmt.Errorf("cannot write the jail's CA bundle: %v", err)
	}
	return out.Close()
}

// copyRoots appends the CA bundle at path to out, ending it with a
// newline if it has none. Like every file jailrun reads from the user's
// places, it must be a regular file, at most maxBundle long.
func copyRoots(out *os.File, path string) error {
	in, err := saferead.OpenUserFile(path)
	if err != nil {
		return fmt.Errorf("cannot read the CA bundle for the jail: %v", err)
	}
	defer in.Close()
	n, err := out.ReadFrom(io.LimitReader(in, maxBundle+1))
	switch {
	case err != nil:
		return fmt.Errorf("cannot copy the CA bundle %s for the jail: %v", path, err)
	case n > maxBundle:
		return fmt.Errorf("cannot read the CA bundle for the jail: %s is larger than %d bytes", path, maxBundle)
	case n == 0:
		return nil
	}
	last := make([]byte, 1)
	if _, err := in.ReadAt(last, n-1); err != nil {
		return fmt.Errorf("cannot read the CA bundle %s for the jail: %v", path, err)
	}
	if last[0] != '\n' {
		_, err = out.Write([]byte{'\n'})
	}
	return err
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

// withoutFoundTokens returns the jail's environment env less what holds a
// GitHub token or an Authorization header, the placeholder being neither:
// a variable such as GITHUB_PAT or HOMEBREW_GITHUB_API_TOKEN goes, a
// GIT_CONFIG_VALUE_n is emptied (its GIT_CONFIG_KEY_n stays, which git
// needs), so that no token the caller had is in the jail.
func withoutFoundTokens(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if config.LooksLikeToken(v) || strings.Contains(strings.ToLower(v), "authorization:") {
			if !strings.HasPrefix(k, "GIT_CONFIG_VALUE_") {
				continue
			}
			kv = k + "="
		}
		out = append(out, kv)
	}
	return out
}
