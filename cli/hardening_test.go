package cli_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/keyring"
)

// The tests of issue 11: no credential of the user's leaves a session.

// testExtraHeaderReset: the user's http.extraHeader for a GitHub host (a
// Basic authorization of their own) never reaches the server from a
// session; the push carries the routed token only.
func testExtraHeaderReset(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	srv := gittest.NewServer(t)
	myorg := w.put("github:fine-grained-myorg", "github_pat_", time.Time{})
	srv.RequireToken("myorg", myorg)
	w.config(`GH_HOSTS="github.com ` + srv.Host + `"` + "\n" + `GH_TOKEN_ROUTES="` + srv.Host + `/myorg=fine-grained-myorg"` + "\n")
	users := "ghp_UsersOwnExtraHeader00000000000000000"
	header := "AUTHORIZATION: basic " + base64.StdEncoding.EncodeToString([]byte("me:"+users))
	gitconfig := "[http]\n\textraHeader = " + header + "\n[http \"" + srv.URL + "/\"]\n\textraHeader = " + header + "\n"
	if err := os.WriteFile(filepath.Join(w.home, ".gitconfig"), []byte(gitconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = append(w.env, "GIT_SSL_CAINFO="+srv.CAFile)
	url := srv.AddRepo(t, "myorg", "app")
	work := filepath.Join(w.home, "work")
	head := gittest.InitWorkRepo(t, work, url)
	r := w.run(work, nil, "run", "--", "git", "push", "--quiet", url, "main")
	if got := srv.Ref(t, "myorg", "app", "refs/heads/main"); got != head {
		t.Errorf("main = %q after the push, want %s; exit %d, stderr: %s", got, head, r.code, r.stderr)
	}
	if n := srv.Rejected("myorg"); n != 0 {
		t.Errorf("%d credentials other than the routed token reached the server: %q (the user's header is %s)",
			n, srv.Offered("myorg"), keyring.Preview(users))
	}
}

// testNetrcWarning: a ~/.netrc entry for a GitHub host is one warning on
// the start line that names the file and the host, never the password;
// doctor warns too.
func testNetrcWarning(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	w.put("github:classic", "ghp_", time.Time{})
	password := "ghp_NetrcPassword0000000000000000000000"
	netrc := filepath.Join(w.home, ".netrc")
	if err := os.WriteFile(netrc, []byte("machine example.org login a password b\nmachine github.com\n  login me\n  password "+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := w.mustRun(w.home, "run", "--", "true")
	want := "[true] WARN: " + netrc + " has machine github.com, whose credential git sends to GitHub before jailrun's token"
	if strings.Count(r.stderr, want) != 1 || strings.Count(r.stderr, netrc) != 2 { // the warning names it twice: the problem, the fix
		t.Errorf("start lines %q, want one warning %q", r.stderr, want)
	}
	if strings.Contains(r.stderr, "example.org") || strings.Contains(r.stderr, password) {
		t.Errorf("start lines name another entry or the password: %q", r.stderr)
	}
	r = w.run(w.home, nil, "doctor")
	if !strings.Contains(r.stdout, "WARN  netrc: "+netrc+" has machine github.com") || strings.Contains(r.stdout+r.stderr, password) {
		t.Errorf("doctor: %q, want a netrc WARN without the password", r.stdout)
	}
	if err := os.WriteFile(netrc, []byte("machine example.org login a password b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := w.mustRun(w.home, "run", "--", "true"); strings.Contains(r.stderr, "netrc") {
		t.Errorf("a .netrc without GitHub entries: start lines %q, want no warning", r.stderr)
	}
}

// testGHEnterpriseTokenStaysHome: in a GHE clone, the session carries no
// GH_ENTERPRISE_TOKEN nor GH_HOST, and the real gh gives the GHE token only
// for the GHE host.
func testGHEnterpriseTokenStaysHome(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	ghe := w.put("github:ghe-default", "ghp_", time.Time{})
	w.config(`GH_HOSTS="github.com ghe.corp.example"` + "\n" + `GH_TOKEN_ROUTES="ghe.corp.example=ghe-default"` + "\n")
	app := filepath.Join(w.home, "app")
	gittest.InitWorkRepo(t, app, "https://ghe.corp.example/team/app.git")

	r := w.mustRun(app, "run", "--", "sh", "-c", `printf '%s|%s|%s' "${GH_ENTERPRISE_TOKEN-unset}" "${GH_HOST-unset}" "${GITHUB_ENTERPRISE_TOKEN-unset}"`)
	if r.stdout != "unset|unset|unset" {
		t.Errorf("session environment: GH_ENTERPRISE_TOKEN|GH_HOST|GITHUB_ENTERPRISE_TOKEN = %q, want all unset", strings.ReplaceAll(r.stdout, ghe, "<ghe token>"))
	}
	for _, c := range []struct{ command, want string }{
		{"gh auth token --hostname evil.example", ""},
		{"gh auth token -h evil.example", ""},
		{"GH_HOST=evil.example gh auth token", ""},
		{"gh auth token --hostname ghe.corp.example", ghe},
	} {
		r := w.run(app, nil, "run", "--", "sh", "-c", c.command)
		if got := strings.TrimSpace(r.stdout); got != c.want {
			t.Errorf("%s in a GHE clone printed %s, want %s; stderr: %s", c.command, keyring.Preview(got), keyring.Preview(c.want), r.stderr)
		}
	}
}

// testStateDirLink: an agent that replaced jailrun's state directories
// with links to the user's gh config makes the next launch lose nothing.
func testStateDirLink(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	w.put("github:classic", "ghp_", time.Time{})
	userGH := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "gh")
	hosts := filepath.Join(userGH, "hosts.yml")
	if err := os.MkdirAll(userGH, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hosts, []byte("github.com:\n    user: me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(w.home, ".local", "state", "jailrun")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	// The old shared GH_CONFIG_DIR, made a link to the user's gh config.
	if err := os.Symlink(userGH, filepath.Join(state, "gh")); err != nil {
		t.Fatal(err)
	}
	r := w.mustRun(w.home, "run", "--", "sh", "-c", `printf %s "$GH_CONFIG_DIR"`)
	if _, err := os.Stat(hosts); err != nil {
		t.Errorf("after a launch with %s/gh a link, %s is gone: %v", state, hosts, err)
	}
	if dir := r.stdout; filepath.Dir(dir) != state || !strings.HasPrefix(filepath.Base(dir), "gh-") {
		t.Errorf("GH_CONFIG_DIR = %q, want a gh-* directory of its own in %s", dir, state)
	} else if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("GH_CONFIG_DIR %s: %v (%v), want a 0700 directory", dir, fi, err)
	}

	// The state directory itself a link to the user's gh config: no
	// session, and nothing of the user's removed.
	if err := os.RemoveAll(state); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(userGH, state); err != nil {
		t.Fatal(err)
	}
	r = w.run(w.home, nil, "run", "--", "sh", "-c", "echo started")
	if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, "is a link") {
		t.Errorf("launch with %s a link: exit %d, stdout %q, stderr %q; want a refusal", state, r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(hosts); err != nil {
		t.Errorf("after a launch with %s a link, %s is gone: %v", state, hosts, err)
	}

	// The shim directory a link to the user's bin: the user's gh stays.
	if err := os.Remove(state); err != nil {
		t.Fatal(err)
	}
	userBin := filepath.Join(w.home, "bin")
	if err := os.MkdirAll(userBin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/bin/gh", filepath.Join(userBin, "gh")); err != nil {
		t.Fatal(err)
	}
	shimDir := filepath.Join(os.Getenv("XDG_DATA_HOME"), "jailrun", "bin")
	if err := os.RemoveAll(shimDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(shimDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(userBin, shimDir); err != nil {
		t.Fatal(err)
	}
	r = w.mustRun(w.home, "run", "--", "true")
	if target, err := os.Readlink(filepath.Join(userBin, "gh")); err != nil || target != "/usr/bin/gh" {
		t.Errorf("the user's ~/bin/gh links to %q (%v) after a launch, want /usr/bin/gh", target, err)
	}
	if !strings.Contains(r.stderr, "gh in the session is not routed") {
		t.Errorf("start lines %q, want a warning that gh is not routed", r.stderr)
	}
}
