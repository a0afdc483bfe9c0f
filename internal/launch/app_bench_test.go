package launch_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/config/configtest"
	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/internal/launch"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
)

// BenchmarkPrepareAppRoute is a launch up to the exec, in a clone of
// myorg/app on the in-test server (loopback), with the owner routed to a
// PAT and to a GitHub App (its installation remembered, as after the
// first launch), next to one API call on a new connection: an App route
// should cost at most about that one call more than a PAT route.
func BenchmarkPrepareAppRoute(b *testing.B) {
	srv := gittest.NewServer(b)
	url := srv.AddRepo(b, "myorg", "app")
	key := srv.AddApp(b, 4242)
	srv.Install("myorg", 4242)
	srv.RequireToken("myorg", "github_pat_bench0123456789")
	for _, tc := range []struct{ name, route string }{{"pat", "fine-grained-myorg"}, {"app", "app:myorg"}} {
		b.Run(tc.name, func(b *testing.B) {
			home := b.TempDir()
			vars := map[string]string{"HOME": home, "PATH": filepath.Join(home, "bin"), "SSL_CERT_FILE": srv.CAFile}
			getenv := func(k string) string { return vars[k] }
			os.Mkdir(vars["PATH"], 0o755)
			for _, name := range []string{"claude", "gh", "git-credential-jailrun"} {
				os.WriteFile(filepath.Join(vars["PATH"], name), []byte("#!/bin/sh\nexit 99\n"), 0o755)
			}
			configtest.Write(b, getenv, `GH_HOSTS="github.com `+srv.Host+`"`+"\n"+`GH_TOKEN_ROUTES="`+srv.Host+`/myorg=`+tc.route+`"`+"\n")
			repo := filepath.Join(home, "app")
			gittest.InitWorkRepo(b, repo, url)
			kr := &keyringtest.Fake{Tokens: []keyring.Token{
				{Name: "github:fine-grained-myorg", Secret: "github_pat_bench0123456789"},
				{Name: "app:myorg", Secret: apptoken.Stored{ID: 4242, Host: srv.Host, Key: string(key)}.Encode()},
			}}
			env := &launch.Env{
				Stderr: io.Discard, Getenv: getenv, Environ: func() []string { return nil },
				Getwd: func() (string, error) { return repo, nil }, Now: time.Now,
				OpenKeyring: func() (keyring.Keyring, error) { return kr, nil },
				Exec:        func(string, []string, []string) (int, error) { return 0, nil },
			}
			for b.Loop() {
				plan, err := launch.Prepare(env, "claude", "claude", nil)
				if err != nil || plan.Token.Secret == "" {
					b.Fatalf("Prepare: %v (token %v)", err, plan.Token.Secret != "")
				}
				if plan.App != nil {
					b.StopTimer()
					plan.App.Close()
					b.StartTimer()
				}
			}
		})
	}
	b.Run("one-api-call", func(b *testing.B) {
		pem, _ := os.ReadFile(srv.CAFile)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		for b.Loop() {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v3/repos/myorg/app", nil)
			req.Header.Set("Authorization", "token github_pat_bench0123456789")
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			c.CloseIdleConnections()
		}
	})
}
