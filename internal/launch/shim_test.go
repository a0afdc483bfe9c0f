package launch

import (
	"strings"
	"testing"

	"github.com/jailrun/jailrun/config"
)

func TestRepoFlag(t *testing.T) {
	tests := []struct {
		args  string
		value string
		found bool
	}{
		{"pr list -R myorg/app", "myorg/app", true},
		{"pr list -Rmyorg/app", "myorg/app", true},
		{"pr list -R=myorg/app", "myorg/app", true},
		{"pr list --repo myorg/app", "myorg/app", true},
		{"pr list --repo=myorg/app", "myorg/app", true},
		{"-R first/x pr list -R last/y", "last/y", true},
		{"pr list -- -R myorg/app", "", false},
		{"pr list -R", "", false},
		{"pr list --repository x/y", "", false},
		{"pr list", "", false},
	}
	for _, tt := range tests {
		value, found := repoFlag(strings.Fields(tt.args))
		if value != tt.value || found != tt.found {
			t.Errorf("repoFlag(%s) = %q, %v; want %q, %v", tt.args, value, found, tt.value, tt.found)
		}
	}
}

func TestRepoOperand(t *testing.T) {
	tests := []struct {
		args  string
		value string
		found bool
	}{
		{"repo clone myorg/app", "myorg/app", true},
		{"repo clone myorg/app dir -- --depth 1", "myorg/app", true},
		{"repo view --web myorg/app", "myorg/app", true},
		{"repo view app", "", false},
		{"repo view", "", false},
		{"repo list myorg", "", false},
		{"api repos/myorg/app/pulls", "myorg/app", true},
		{"api /repos/myorg/app", "myorg/app", true},
		{"api --hostname ghe.example repos/team/x/issues", "ghe.example/team/x", true},
		{"api --hostname=ghe.example repos/team/x", "ghe.example/team/x", true},
		{"api user", "", false},
		{"api -- repos/myorg/app", "", false},
		{"pr view repos/myorg/app", "", false},
	}
	for _, tt := range tests {
		value, found := repoOperand(strings.Fields(tt.args))
		if found != tt.found || found && value != tt.value {
			t.Errorf("repoOperand(%s) = %q, %v; want %q, %v", tt.args, value, found, tt.value, tt.found)
		}
	}
}

func TestParseRepoArg(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`GH_HOSTS="github.com ghe.example ghe2.example:8443"`+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	env := &Env{Getenv: func(k string) string { return vars[k] }}
	tests := []struct {
		ghHost, value, host, owner string
		ok                         bool
	}{
		{"", "myorg/app", "github.com", "myorg", true},
		{"ghe.example", "team/x", "ghe.example", "team", true},
		{"not-github.example", "team/x", "github.com", "team", true},
		{"", "ghe.example/team/x", "ghe.example", "team", true},
		{"", "https://github.com/MyOrg/app.git", "github.com", "MyOrg", true},
		{"", "git@github.com:myorg/app.git", "github.com", "myorg", true},
		{"", "ssh://git@ghe2.example/team/x", "ghe2.example:8443", "team", true},
		{"", "evil.example/myorg/app", "evil.example", "myorg", true},
		{"", "app", "", "", false},
		{"", "a/b/c/d", "", "", false},
	}
	for _, tt := range tests {
		vars["GH_HOST"] = tt.ghHost
		repo, ok := parseRepoArg(env, cfg, tt.value)
		if ok != tt.ok || repo.Host != tt.host || repo.Owner != tt.owner {
			t.Errorf("parseRepoArg(%q) with GH_HOST=%q = %+v, %v; want host %q owner %q, %v", tt.value, tt.ghHost, repo, ok, tt.host, tt.owner, tt.ok)
		}
	}
}
