package credential

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Placeholders the test helper hands git when the URL had no user name or
// password; no generated URL can produce them.
const (
	noUser     = "zzNOUSERzz"
	noPassword = "zzNOPASSWORDzz"
)

// gitFill runs the real `git credential fill` on url=u in an empty
// configuration whose only helper answers with placeholders, and returns
// the parts git made of u, or ok false when git refused u.
func gitFill(t *testing.T, home, u string) (parts map[string]string, ok bool) {
	t.Helper()
	cmd := exec.Command("git",
		"-c", "credential.helper=",
		"-c", `credential.helper=!f() { grep -q "^username=" || echo username=`+noUser+`; echo password=`+noPassword+`; }; f`,
		"-c", "credential.useHttpPath=true",
		"credential", "fill")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
	}
	cmd.Stdin = strings.NewReader("url=" + u + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, exited := err.(*exec.ExitError); !exited {
			t.Fatalf("running git credential fill: %v", err)
		}
		return nil, false
	}
	parts = map[string]string{}
	for line := range strings.Lines(stdout.String()) {
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		parts[k] = v
	}
	if parts["username"] == noUser {
		parts["username"] = ""
	}
	if parts["password"] == noPassword {
		parts["password"] = ""
	}
	return parts, true
}

// urlCorpus returns hand-picked URLs and n random ones built from the
// pieces git's URL parser and percent-decoder treat specially.
func urlCorpus(n int) []string {
	urls := []string{
		"https://github.com/alice/repo.git",
		"https://github.com",
		"https://github.com/",
		"https://u@github.com:443/a//",
		"https://u:p@github.com/a",
		"https://:@github.com/",
		"https://@github.com/",
		"https://a%41:p%41:x%42@ho%41st:80%41/pa%20th:c%20d/?q#f//",
		"https://github.com%00.evil.example/x",
		"https://github.com.evil.example/",
		"https://github.com@evil.example/",
		"https://evil.example/@github.com",
		"https://github.com?@evil.example",
		"https://github.com#@evil.example",
		"https://a%0ab@github.com",
		"https:///path",
		"cert:///etc/cert.pem",
		"ftp://h/a%2fb//",
		"a/b://h/x",
		"github.com/alice",
		"://github.com",
	}
	pieces := []string{"a", "B", "h.example", "8080", "%41", "%2f", "%2F", "%40", "%3a", "%0a", "%0d", "%00", "%4", "%", "%g1",
		":", ":", "@", "@", "/", "//", "?", "#", ".", " "}
	schemes := []string{"https://", "http://", "ftp://", "ssh://", "://", "", "x:/"}
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		var b strings.Builder
		b.WriteString(schemes[r.IntN(len(schemes))])
		for range 1 + r.IntN(10) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		urls = append(urls, b.String())
	}
	return urls
}

// TestURLMatchesGit checks url= expansion against the real git: every URL
// git accepts gives the same protocol, host, path, user name and password,
// and every URL git refuses is refused.
func TestURLMatchesGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	home := t.TempDir()
	urls, agreed := urlCorpus(150), 0
	for _, u := range urls {
		want, gitOK := gitFill(t, home, u)
		got, err := ReadRequest(strings.NewReader("url=" + u + "\n"))
		switch {
		case !gitOK && err == nil:
			t.Errorf("url=%q: git refuses it, ReadRequest accepted it", u)
		case gitOK && err != nil:
			t.Errorf("url=%q: git accepts it, ReadRequest: %v", u, err)
		case gitOK:
			for key, value := range map[string]string{
				"protocol": got.Protocol, "host": got.Host, "path": got.Path, "username": got.Username, "password": got.Password,
			} {
				if value != want[key] {
					t.Errorf("url=%q: %s = %q, git says %q", u, key, value, want[key])
				}
			}
			agreed++
		}
	}
	t.Logf("%d URLs compared with git, %d of them accepted by both", len(urls), agreed)
	if agreed < 60 {
		t.Errorf("git accepted only %d URLs of the corpus; the comparison proves little", agreed)
	}
}
