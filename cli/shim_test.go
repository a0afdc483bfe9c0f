package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/keyring"
)

// testGHAuthToken asks the real gh which token it has, in repositories of
// two owners and outside any, at launch and after cd inside the session.
func testGHAuthToken(t *testing.T, bin string) {
	start := time.Now()
	w := newWorld(t, bin, true)
	active := w.put("github:classic", "ghp_", time.Time{})
	myorg := w.put("github:fine-grained-myorg", "github_pat_", time.Time{})
	app := filepath.Join(w.home, "app")
	gittest.InitWorkRepo(t, app, "https://github.com/myorg/app.git")
	x := filepath.Join(w.home, "x")
	gittest.InitWorkRepo(t, x, "git@github.com:other/x")

	tests := []struct {
		name, dir string
		args      []string
		want      string
		wantName  string
	}{
		{"outside a repository", w.home, []string{"gh", "auth", "token"}, active, "the active token"},
		{"in myorg/app", app, []string{"gh", "auth", "token"}, myorg, "myorg's token"},
		{"in a subdirectory of myorg/app", filepath.Join(app, ".git", "refs"), []string{"gh", "auth", "token"}, myorg, "myorg's token"},
		{"cd into myorg/app inside the session (the shim)", w.home, []string{"sh", "-c", "cd app && gh auth token"}, myorg, "myorg's token"},
		{"in other/x", x, []string{"gh", "auth", "token"}, active, "the active token"},
		{"from other/x into myorg/app (the shim)", x, []string{"sh", "-c", "cd ../app && gh auth token"}, myorg, "myorg's token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.run(tt.dir, nil, append([]string{"run", "--"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr: %s", r.code, r.stderr)
			}
			if got := strings.TrimSuffix(r.stdout, "\n"); got != tt.want {
				t.Errorf("gh auth token printed %s, want %s (%s); stderr: %s", keyring.Preview(got), keyring.Preview(tt.want), tt.wantName, r.stderr)
			}
		})
	}
	w.noSecretOnDisk(start, active, myorg)
}

// testShimRepoFlag checks how the shim finds the repository of a gh
// command and which variables it hands gh, with a fake gh that records them.
func testShimRepoFlag(t *testing.T, bin string) {
	w := newWorld(t, bin, true)
	active := w.put("github:classic", "ghp_", time.Time{})
	myorg := w.put("github:fine-grained-myorg", "github_pat_", time.Time{})
	ghe := w.put("github:ghe-default", "ghp_", time.Time{})
	w.config(`GH_HOSTS="github.com ghe.corp.example"` + "\n" + `GH_TOKEN_ROUTES="ghe.corp.example=ghe-default gone=missing"` + "\n")
	out := filepath.Join(w.tmp, "gh-calls")
	w.agent("gh", `printf '%s|%s|%s|%s\n' "${GH_TOKEN-unset}" "${GH_ENTERPRISE_TOKEN-unset}" "${GH_HOST-unset}" "$*" >> "`+out+`"`+"\n")
	app := filepath.Join(w.home, "app")
	gittest.InitWorkRepo(t, app, "https://github.com/myorg/app.git")

	names := map[string]string{active: "active", myorg: "myorg", ghe: "ghe", "unset": "unset"}
	calls := []struct{ dir, command, want string }{
		{w.home, "gh -R myorg/app pr list", "myorg|unset|unset|-R myorg/app pr list"},
		{w.home, "gh pr list --repo=other/x", "active|unset|unset|pr list --repo=other/x"},
		{w.home, "gh --repo myorg/app pr view 1", "myorg|unset|unset|--repo myorg/app pr view 1"},
		{w.home, "gh -Rmyorg/app issue list", "myorg|unset|unset|-Rmyorg/app issue list"},
		{w.home, "gh pr list -R https://github.com/MyOrg/app.git", "myorg|unset|unset|pr list -R https://github.com/MyOrg/app.git"},
		{w.home, "gh api -- -R myorg/app", "active|unset|unset|api -- -R myorg/app"},
		{w.home, "GH_REPO=myorg/app gh issue list", "myorg|unset|unset|issue list"},
		{app, "gh pr create --title 'two words'", "myorg|unset|unset|pr create --title two words"},
		{app, "gh -R other/x pr list", "active|unset|unset|-R other/x pr list"},
		{w.home, "gh -R ghe.corp.example/team/x pr list", "unset|ghe|ghe.corp.example|-R ghe.corp.example/team/x pr list"},
		{w.home, "gh -R gone/x pr list", "unset|unset|unset|-R gone/x pr list"},
		{w.home, "gh -R github.com.evil.example/myorg/app pr list", "unset|unset|unset|-R github.com.evil.example/myorg/app pr list"},
		{w.home, "gh repo clone myorg/app", "myorg|unset|unset|repo clone myorg/app"},
		{w.home, "gh repo view https://github.com/myorg/app", "myorg|unset|unset|repo view https://github.com/myorg/app"},
		{app, "gh repo view other/x --web", "active|unset|unset|repo view other/x --web"},
		{app, "gh repo view", "myorg|unset|unset|repo view"},
		{w.home, "gh api repos/myorg/app/pulls --jq .[].title", "myorg|unset|unset|api repos/myorg/app/pulls --jq .[].title"},
		{app, "gh api /repos/other/x", "active|unset|unset|api /repos/other/x"},
		{app, "gh api 'repos/{owner}/{repo}/pulls'", "myorg|unset|unset|api repos/{owner}/{repo}/pulls"},
		{w.home, "gh api --hostname ghe.corp.example repos/team/x", "unset|ghe|ghe.corp.example|api --hostname ghe.corp.example repos/team/x"},
		{app, "gh -R other/x api repos/myorg/app", "active|unset|unset|-R other/x api repos/myorg/app"},
	}
	calls = append(calls, // gh started by jailrun run, nested or not, is routed too
		struct{ dir, command, want string }{app, "exec jailrun run -- gh -R other/x pr list", "active|unset|unset|-R other/x pr list"})
	for _, c := range calls {
		if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		r := w.run(c.dir, nil, "run", "--", "sh", "-c", c.command)
		if r.code != 0 {
			t.Errorf("%s: exit %d; stderr: %s", c.command, r.code, r.stderr)
			continue
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Errorf("%s: gh did not run: %v; stderr: %s", c.command, err, r.stderr)
			continue
		}
		fields := strings.SplitN(strings.TrimSuffix(string(data), "\n"), "|", 4)
		for i := 0; i < 2 && len(fields) == 4; i++ {
			if name, ok := names[fields[i]]; ok {
				fields[i] = name
			} else {
				fields[i] = "unknown token " + keyring.Preview(fields[i])
			}
		}
		if got := strings.Join(fields, "|"); got != c.want {
			t.Errorf("%s in %s:\n got %s\nwant %s\nstderr: %s", c.command, filepath.Base(c.dir), got, c.want, r.stderr)
		}
		if c.command == "gh -R gone/x pr list" && !strings.Contains(r.stderr, "[gh] WARN: GitHub PAT not configured: route gone=missing") {
			t.Errorf("%s: no warning; stderr: %s", c.command, r.stderr)
		}
	}
	// jailrun run -- gh, not nested: routed by the shim as well.
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	r := w.run(app, nil, "run", "--", "gh", "-R", "other/x", "pr", "list")
	data, err := os.ReadFile(out)
	if token, _, _ := strings.Cut(string(data), "|"); r.code != 0 || err != nil || token != active {
		t.Errorf("jailrun run -- gh -R other/x in myorg/app: exit %d, gh got %s, want the active token; stderr: %s", r.code, keyring.Preview(token), r.stderr)
	}
}
