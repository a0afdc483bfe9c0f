package helper

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/keyring"
)

// lsRemote runs git ls-remote url with the helper in token-only mode, as a
// session configures git, and reports whether it succeeded.
func (w *world) lsRemote(srv *gittest.Server, url string) (bool, string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git",
		"-c", "credential.helper=",
		"-c", "credential.helper="+w.helper+" "+SessionFlag,
		"-c", "credential.https://"+srv.Host+".useHttpPath=true",
		"ls-remote", url)
	cmd.Env = append(srv.Env(w.t.TempDir()), w.bus.Env()...)
	cmd.Env = append(cmd.Env, "USER="+os.Getenv("USER"))
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		w.t.Fatalf("git ls-remote %s did not finish within %s", url, commandTimeout)
	}
	return err == nil, string(out)
}

// TestGHEGetsNoGitHubComToken is item 3 of issue 11: a github.com token
// named after an owner (github:fine-grained-myorg) is never sent to another
// GitHub host, even one without a default; a HOST/OWNER route is.
func TestGHEGetsNoGitHubComToken(t *testing.T) {
	w := newWorld(t)
	srv := gittest.NewServer(t)
	dotcom, ghe := "github_pat_dotcom"+rand.Text(), "ghp_ghe"+rand.Text()
	w.put("github:fine-grained-myorg", dotcom)
	srv.RequireToken("myorg", ghe)
	url := srv.AddRepo(t, "myorg", "app")

	w.writeConfig(fmt.Sprintf("GH_HOSTS=\"github.com %s\"\n", srv.Host))
	if ok, out := w.lsRemote(srv, url); ok {
		t.Errorf("ls-remote without a route for %s/myorg succeeded: %s", srv.Host, out)
	}
	if offered := srv.Offered("myorg"); len(offered) != 0 {
		t.Errorf("without a route, %s/myorg was offered %v (github:fine-grained-myorg is %s), want nothing",
			srv.Host, offered, keyring.Preview(dotcom))
	}

	w.put("github:ghe-myorg", ghe)
	w.writeConfig(fmt.Sprintf("GH_HOSTS=\"github.com %[1]s\"\nGH_TOKEN_ROUTES=\"%[1]s/myorg=ghe-myorg\"\n", srv.Host))
	if ok, out := w.lsRemote(srv, url); !ok {
		t.Errorf("ls-remote with the route %s/myorg=ghe-myorg failed: %s", srv.Host, out)
	}
	if n := srv.Rejected("myorg"); n != 0 {
		t.Errorf("with the route, %d wrong credentials were offered: %v", n, srv.Offered("myorg"))
	}
}

// TestSessionUnreadableOwner is item 7 of issue 11: in token-only mode a
// path without a readable owner gets nothing, not the host's default.
func TestSessionUnreadableOwner(t *testing.T) {
	w := newWorld(t)
	classic := "ghp_" + rand.Text()
	w.put("github:classic", classic)
	w.writeConfig("")
	fill := func(url, mode string) string {
		out, errOut, code := w.run("url="+url+"\n\n", "git", "-c", "credential.helper=", "-c", "credential.helper="+mode,
			"-c", "credential.useHttpPath=true", "credential", "fill")
		if code != 0 {
			t.Fatalf("%s (%s): git credential fill: exit %d: %s", url, mode, code, errOut)
		}
		return attr(out, "password")
	}
	for _, url := range []string{
		"https://github.com/%2e%2e/myorg/app",
		"https://github.com/%2E%2E/myorg/app.git",
		"https://github.com/",
		"https://github.com",
		"https://github.com/%20/app",
	} {
		if got := fill(url, w.helper+" "+SessionFlag); got != "askpass-password" {
			t.Errorf("%s in token-only mode: got %s, want nothing", url, map[bool]string{true: "github:classic", false: keyring.Preview(got)}[got == classic])
		}
	}
	// A readable owner still gets the default, and plain mode is unchanged.
	if got := fill("https://github.com/someone/app", w.helper+" "+SessionFlag); got != classic {
		t.Errorf("someone/app in token-only mode: got %s, want github:classic", keyring.Preview(got))
	}
	if got := fill("https://github.com/%2e%2e/myorg/app", w.helper); got != classic {
		t.Errorf("%%2e%%2e path in plain mode: got %s, want github:classic", keyring.Preview(got))
	}
}

// TestNoUnicodeFoldingThroughGit is item 6 of issue 11: a host that only
// Unicode case folding takes for a GitHub host ("ſ", U+017F, for "s") gets
// nothing.
func TestNoUnicodeFoldingThroughGit(t *testing.T) {
	w := newWorld(t)
	ghes := "ghp_" + rand.Text()
	w.put("github:ghes-default", ghes)
	w.writeConfig("GH_HOSTS=\"github.com ghes.example\"\nGH_TOKEN_ROUTES=\"ghes.example=ghes-default\"\n")
	for url, want := range map[string]string{
		"https://GHES.example/team/app": ghes,
		"https://gheſ.example/team/app": "askpass-password",
	} {
		out, errOut, code := w.run("url="+url+"\n\n", "git", "-c", "credential.helper=", "-c", "credential.helper="+w.helper+" "+SessionFlag,
			"-c", "credential.useHttpPath=true", "credential", "fill")
		if got := attr(out, "password"); code != 0 || got != want {
			t.Errorf("%s: exit %d, got %s, want %s; stderr: %s", url, code, keyring.Preview(got), keyring.Preview(want), errOut)
		}
	}
}
