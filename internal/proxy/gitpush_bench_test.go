package proxy

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/internal/placeholder"
	"github.com/jailrun/jailrun/internal/sessionca"
)

// pushFiles and pushFileSize make the pushed commit: 100 files of 1 MiB of
// random bytes, a pack of about 100 MiB that no compression shrinks. More
// than receive.unpackLimit's 100 objects, so the server keeps the pack as
// it comes (index-pack) instead of writing loose objects.
const (
	pushFiles    = 100
	pushFileSize = 1 << 20
)

// pushOwner is the owner of the benchmark's repositories on the server.
const pushOwner = "benchorg"

// BenchmarkGitPush pushes a commit of about 100 MB with the real git push
// to a git server (internal/gittest) three ways: straight to it, through
// the proxy's CONNECT tunnel, and through the proxy terminating TLS,
// swapping the placeholder for the token and reading the push through the
// push policy (@default and refs/tags/* protected; the push is of a
// feature branch, which it lets through). Every push goes to a repository
// of its own, made while the timer is stopped, so every push sends the
// whole pack and the policy learns each one's default branch from the
// server's API. The target: terminated within 1.1× the time of tunnelled.
func BenchmarkGitPush(b *testing.B) {
	git, s, work, head, packSize := benchRepo(b)

	var repos atomic.Int64
	for _, route := range benchRoutes {
		b.Run(route, func(b *testing.B) {
			env, helper, allowed := gitRoute(b, s, route)
			b.SetBytes(packSize)
			b.ResetTimer()
			cpu := cpuTime(b)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				name := fmt.Sprintf("project%d", repos.Add(1))
				url := s.AddRepo(b, pushOwner, name)
				cmd := exec.Command(git, "-c", "credential.helper=", "-c", "credential.helper="+helper,
					"push", "--quiet", url, "HEAD:refs/heads/feature")
				cmd.Dir = work
				cmd.Env = env
				b.StartTimer()
				out, err := cmd.CombinedOutput()
				b.StopTimer()
				if err != nil {
					b.Fatalf("git push (%s): %v\n%s", route, err, out)
				}
				if got := s.Ref(b, pushOwner, name, "refs/heads/feature"); got != head {
					b.Fatalf("server's feature = %q after the push (%s), want %q", got, route, head)
				}
				b.StartTimer()
			}
			b.StopTimer()
			reportCPU(b, cpu)
			if route == "terminated" && allowed.Load() != int64(b.N) {
				b.Fatalf("the push policy let %d pushes through, want %d", allowed.Load(), b.N)
			}
		})
	}
}

// gitRoute returns the environment and credential helper with which git
// reaches the server s by route: straight, through the proxy's tunnel, or
// through the proxy terminating TLS with the push policy, whose allowed
// pushes of one ref it counts.
func gitRoute(b *testing.B, s *gittest.Server, route string) (env []string, helper string, allowed *atomic.Int64) {
	serverPool := x509.NewCertPool()
	caPEM, err := os.ReadFile(s.CAFile)
	if err != nil || !serverPool.AppendCertsFromPEM(caPEM) {
		b.Fatalf("server certificate %s: %v", s.CAFile, err)
	}
	env = s.Env(b.TempDir())
	password := benchToken
	allowed = new(atomic.Int64)
	switch route {
	case "tunnelled":
		p := startPath(b, allowing(b, s.Host), Options{})
		env = append(env, "https_proxy="+p.proxyURL())
	case "terminated":
		ca, err := sessionca.New([]string{s.Host}, time.Now(), time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		vault := placeholder.New()
		password = vault.For("github:fine-grained-"+pushOwner, s.Host, benchToken)
		p := startPath(b, allowing(b, s.Host), Options{Terminate: &Terminate{
			Hosts: []string{s.Host}, CA: ca, Vault: vault, RootCAs: serverPool,
			APIBase: func(string) string { return s.URL + "/api/v3" },
			Push: &PushPolicy{
				Protect: []string{"@default", "refs/tags/*"},
				Record: func(p Push) {
					if p.Reason == "" && len(p.Commands) == 1 {
						allowed.Add(1)
					}
				},
			},
		}})
		bundle := filepath.Join(b.TempDir(), "session-ca.pem")
		if err := os.WriteFile(bundle, ca.PEM(), 0o644); err != nil {
			b.Fatal(err)
		}
		env = append(env, "https_proxy="+p.proxyURL(), "GIT_SSL_CAINFO="+bundle)
	}
	return env, "!f() { echo username=x-access-token; echo password=" + password + "; }; f", allowed
}

// BenchmarkGitClone clones, with the real git clone, a repository whose
// pack is the 100 MB of BenchmarkGitPush, by the same three routes (the
// targets: terminated/direct ≥ 0.7, tunnelled/direct ≥ 0.8 in MB/s).
func BenchmarkGitClone(b *testing.B) {
	git, s, work, _, packSize := benchRepo(b)
	url := s.AddRepo(b, pushOwner, "cloned")
	env, helper, _ := gitRoute(b, s, "direct")
	push := exec.Command(git, "-c", "credential.helper=", "-c", "credential.helper="+helper, "push", "--quiet", url, "HEAD:refs/heads/main")
	push.Dir, push.Env = work, env
	if out, err := push.CombinedOutput(); err != nil {
		b.Fatalf("git push: %v\n%s", err, out)
	}
	for _, route := range benchRoutes {
		b.Run(route, func(b *testing.B) {
			env, helper, _ := gitRoute(b, s, route)
			b.SetBytes(packSize)
			cpu := cpuTime(b)
			for b.Loop() {
				cmd := exec.Command(git, "-c", "credential.helper=", "-c", "credential.helper="+helper,
					"clone", "--quiet", "--bare", url, filepath.Join(b.TempDir(), "clone"))
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("git clone (%s): %v\n%s", route, err, out)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// benchRepo starts the git server the benchmarks push to and clone from
// (owner pushOwner, token benchToken) and makes the commit they move
// (see pushCommit) in a work tree of its own; it returns git's path too.
func benchRepo(b *testing.B) (git string, s *gittest.Server, work, head string, packSize int64) {
	git, err := exec.LookPath("git")
	if err != nil {
		b.Skip("git not installed")
	}
	s = gittest.NewServer(b)
	s.RequireToken(pushOwner, benchToken)
	work = b.TempDir()
	head, packSize = pushCommit(b, work)
	return git, s, work, head, packSize
}

// pushCommit makes in dir a repository whose HEAD is a commit of
// pushFiles files of random bytes, packed uncompressed (core.compression
// 0) so that git push sends the pack as it is, and returns the commit and
// the pack's size.
func pushCommit(b *testing.B, dir string) (string, int64) {
	b.Helper()
	gittest.Git(b, "", "init", "--quiet", "--initial-branch=main", dir)
	gittest.Git(b, dir, "config", "core.compression", "0")
	data := make([]byte, pushFileSize)
	for i := range pushFiles {
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("blob%03d.bin", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	gittest.Git(b, dir, "add", ".")
	gittest.Git(b, dir, "commit", "--quiet", "--message", "100 MB of random bytes")
	gittest.Git(b, dir, "repack", "-a", "-d", "--quiet")
	packs, err := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*.pack"))
	if err != nil || len(packs) != 1 {
		b.Fatalf("packs %v: %v", packs, err)
	}
	fi, err := os.Stat(packs[0])
	if err != nil {
		b.Fatal(err)
	}
	return gittest.Git(b, dir, "rev-parse", "HEAD"), fi.Size()
}
