package routing

import (
	"strings"
	"testing"

	"github.com/jailrun/jailrun/config"
)

// testConfig parses a config the way users write it, so that the tests
// route with exactly what config.Parse produces.
func testConfig(t testing.TB, text string, getenv func(string) string) config.Config {
	t.Helper()
	c, err := config.Parse(strings.NewReader(text), getenv)
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	return c
}

const routedConfig = `
GH_HOSTS="github.com ghe.corp.example ghe2.corp.example:8443 ghe3.corp.example"
GH_TOKEN_NAME="classic"
GH_TOKEN_ROUTES="alice=fine-grained-personal MissingOrg=fine-grained-gone ghe.corp.example=ghe-classic ghe.corp.example/platform=ghe-platform ghe2.corp.example:8443=ghe2-default ghe3.corp.example=ghe3-missing"
`

func TestResolve(t *testing.T) {
	cfg := testConfig(t, routedConfig, nil)
	all := []string{
		"github:classic", "github:fine-grained-personal", "github:fine-grained-myorg",
		"github:Fine-Grained-MixedCase", "github:ghe-classic", "github:ghe-platform", "github:ghe2-default",
		"github:fine-grained-alice", "github:fine-grained-platform",
	}
	tests := []struct {
		name                   string
		protocol, host, owner  string
		available              []string
		token, warningContains string
	}{
		// step 1: explicit routes
		{"route", "https", "github.com", "alice", all, "github:fine-grained-personal", ""},
		{"route beats convention", "https", "github.com", "alice", all, "github:fine-grained-personal", ""},
		{"route owner case-insensitive", "https", "GitHub.com", "ALICE", all, "github:fine-grained-personal", ""},
		{"route to missing token warns and serves nothing", "https", "github.com", "missingorg", all, "",
			"route missingorg=fine-grained-gone names token github:fine-grained-gone, which is not in the keyring; add it: jailrun token add --name github:fine-grained-gone"},
		{"missing route token never falls back to convention", "https", "github.com", "MissingOrg",
			append([]string{"github:fine-grained-missingorg"}, all...), "", "not in the keyring"},
		{"GHE host/owner route", "https", "ghe.corp.example", "Platform", all, "github:ghe-platform", ""},
		{"GHE owner route only on its host", "https", "github.com", "platform", all, "github:fine-grained-platform", ""},
		{"route token matched case-insensitively", "https", "github.com", "alice", []string{"github:Fine-Grained-Personal"}, "github:Fine-Grained-Personal", ""},

		// step 2: convention
		{"convention", "https", "github.com", "myorg", all, "github:fine-grained-myorg", ""},
		{"convention owner case-insensitive", "https", "github.com", "MyOrg", all, "github:fine-grained-myorg", ""},
		{"convention returns stored spelling", "https", "github.com", "mixedcase", all, "github:Fine-Grained-MixedCase", ""},
		{"no convention on a GHE host: its default", "https", "ghe.corp.example", "alice", all, "github:ghe-classic", ""},

		// step 3: host defaults
		{"github.com default is the active token", "https", "github.com", "someone-else", all, "github:classic", ""},
		{"github.com default without owner", "https", "github.com", "", all, "github:classic", ""},
		{"invalid owner is unknown", "https", "github.com", "al ice", []string{"github:classic", "github:fine-grained-al ice"}, "github:classic", ""},
		{"missing active token: the owner's token is suggested", "https", "github.com", "someone-else", []string{"github:fine-grained-myorg"}, "",
			"no token for someone-else's repositories (the default token, github:classic, is not in the keyring either); add one: jailrun token add --name github:fine-grained-someone-else"},
		{"missing active token, no owner", "https", "github.com", "", []string{"github:fine-grained-myorg"}, "",
			"token github:classic, the default for github.com, is not in the keyring; add it: jailrun token add --name github:classic"},
		{"GHE default route", "https", "ghe.corp.example", "other", all, "github:ghe-classic", ""},
		{"GHE default with port", "https", "ghe2.corp.example:8443", "other", all, "github:ghe2-default", ""},
		{"GHE default, upper-case host", "https", "GHE2.CORP.EXAMPLE:8443", "", all, "github:ghe2-default", ""},
		{"GHE default route to missing token", "https", "ghe3.corp.example", "other", all, "",
			"token github:ghe3-missing, the default for ghe3.corp.example, is not in the keyring; add it: jailrun token add --name github:ghe3-missing"},

		// step 4: nothing
		{"GHE default missing: never the github.com token", "https", "ghe.corp.example", "", nil, "", "default for ghe.corp.example"},
		{"empty keyring", "https", "github.com", "alice", nil, "", "github:fine-grained-personal"},

		// never served
		{"plain http", "http", "github.com", "myorg", all, "", ""},
		{"ssh", "ssh", "github.com", "myorg", all, "", ""},
		{"empty protocol", "", "github.com", "myorg", all, "", ""},
		{"empty host", "https", "", "myorg", all, "", ""},
		{"look-alike suffix", "https", "github.com.evil.example", "myorg", all, "", ""},
		{"look-alike prefix", "https", "evil-github.com", "myorg", all, "", ""},
		{"subdomain", "https", "gist.github.com", "myorg", all, "", ""},
		{"unconfigured port on github.com", "https", "github.com:8443", "myorg", all, "", ""},
		{"explicit default port is a different host", "https", "github.com:443", "myorg", all, "", ""},
		{"GHE without its port", "https", "ghe2.corp.example", "other", all, "", ""},
		{"trailing dot", "https", "github.com.", "myorg", all, "", ""},
		{"unknown host", "https", "gitlab.com", "alice", all, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Resolve(cfg, tt.protocol, tt.host, tt.owner, tt.available)
			if d.Token != tt.token {
				t.Errorf("Token = %q, want %q", d.Token, tt.token)
			}
			if tt.warningContains == "" && d.Warning != "" || !strings.Contains(d.Warning, tt.warningContains) {
				t.Errorf("Warning = %q, want it to contain %q", d.Warning, tt.warningContains)
			}
			if strings.ContainsAny(d.Warning, "\r\n") {
				t.Errorf("Warning spans lines: %q", d.Warning)
			}
		})
	}
}

// The step-4 case above needs a GHE host with no default route; check that
// the fixture really has none, so that the test can fail.
func TestResolveNoDefault(t *testing.T) {
	cfg := testConfig(t, `GH_HOSTS="github.com ghe.example"`, nil)
	d := Resolve(cfg, "https", "ghe.example", "nobody", []string{"github:classic", "github:fine-grained-other"})
	if d != (Decision{}) {
		t.Errorf("Resolve = %+v, want nothing on a GHE host without a default route", d)
	}
}

func TestResolveActiveTokenFromEnv(t *testing.T) {
	cfg := testConfig(t, `GH_TOKEN_NAME="classic"`, func(k string) string {
		if k == "GH_TOKEN_NAME" {
			return "github:fine-grained-env"
		}
		return ""
	})
	d := Resolve(cfg, "https", "github.com", "", []string{"github:classic", "github:fine-grained-env"})
	if d.Token != "github:fine-grained-env" {
		t.Errorf("Token = %q, want the env's active token", d.Token)
	}
}

func TestResolveDefaultHosts(t *testing.T) {
	cfg := testConfig(t, "", nil)
	if d := Resolve(cfg, "https", "github.com", "x", []string{"github:classic"}); d.Token != "github:classic" {
		t.Errorf("default config: Token = %q, want github:classic", d.Token)
	}
	if d := Resolve(config.Config{}, "https", "github.com", "x", []string{"github:classic"}); d != (Decision{}) {
		t.Errorf("zero config: %+v, want nothing", d)
	}
}

func TestOwnerFromPath(t *testing.T) {
	for path, want := range map[string]string{
		"myorg/repo.git":             "myorg",
		"MyOrg/Repo":                 "MyOrg",
		"/myorg/repo.git":            "myorg",
		"myorg/repo.git/info/lfs":    "myorg",
		"myorg":                      "myorg",
		"":                           "",
		"/":                          "",
		"../etc/passwd":              "",
		"my.org/repo":                "",
		"my%2dorg/repo":              "",
		"my org/repo":                "",
		"user@host/repo":             "",
		"github.com/myorg/repo.git":  "",
		strings.Repeat("o", 101):     "",
		"enterprise_user-x/r":        "enterprise_user-x",
		"\u043c\u043e\u0451/r":       "",
		"myorg\n/r":                  "",
		"myorg/repo.git?query=value": "myorg",
	} {
		if got := OwnerFromPath(path); got != want {
			t.Errorf("OwnerFromPath(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestParseRemote(t *testing.T) {
	tests := []struct {
		url  string
		want Repo
		ok   bool
	}{
		{"https://github.com/myorg/repo.git", Repo{"github.com", "myorg", "repo"}, true},
		{"https://github.com/myorg/repo", Repo{"github.com", "myorg", "repo"}, true},
		{"https://github.com/myorg/repo/", Repo{"github.com", "myorg", "repo"}, true},
		{"https://GitHub.COM/MyOrg/Repo.git", Repo{"github.com", "MyOrg", "Repo"}, true},
		{"https://x-access-token@github.com/o/r.git", Repo{"github.com", "o", "r"}, true},
		{"https://ghe.corp.example:8443/team/svc.git", Repo{"ghe.corp.example:8443", "team", "svc"}, true},
		{"HTTPS://github.com/o/r", Repo{"github.com", "o", "r"}, true},
		{"http://github.com/o/r.git", Repo{"github.com", "o", "r"}, true},
		{"git@github.com:myorg/repo.git", Repo{"github.com", "myorg", "repo"}, true},
		{"git@github.com:/myorg/repo.git", Repo{"github.com", "myorg", "repo"}, true},
		{"github.com:myorg/repo", Repo{"github.com", "myorg", "repo"}, true},
		{"org-123@ssh.github.com:myorg/repo.git", Repo{"ssh.github.com", "myorg", "repo"}, true},
		{"ssh://git@github.com/myorg/repo.git", Repo{"github.com", "myorg", "repo"}, true},
		{"ssh://git@ghe.corp.example:2222/team/svc.git", Repo{"ghe.corp.example", "team", "svc"}, true},
		{"git+ssh://git@github.com/o/r", Repo{"github.com", "o", "r"}, true},
		{"git://github.com/o/r.git", Repo{"github.com", "o", "r"}, true},
		{"https://github.com/o/my.repo.git", Repo{"github.com", "o", "my.repo"}, true},
		{"https://github.com/o/.github", Repo{"github.com", "o", ".github"}, true},

		{"", Repo{}, false},
		{"/home/me/repo", Repo{}, false},
		{"./repo", Repo{}, false},
		{"../a:b/c", Repo{}, false},
		{"file:///home/me/o/r.git", Repo{}, false},
		{"ftp://github.com/o/r", Repo{}, false},
		{"https://github.com/o", Repo{}, false},
		{"https://github.com/o/r/tree/main", Repo{}, false},
		{"https://github.com/", Repo{}, false},
		{"https:///o/r", Repo{}, false},
		{"https://github.com/o/r?x=1", Repo{}, false},
		{"https://github.com/o/r#frag", Repo{}, false},
		{"https://github.com/o/.git", Repo{}, false},
		{"https://github.com/o/..", Repo{}, false},
		{"https://github.com/my.org/r", Repo{}, false},
		{"https://github.com/o%2Fx/r", Repo{}, false},
		{"https://github.com/o/r%20x", Repo{}, false},
		{"git@github.com:o", Repo{}, false},
		{"git@:o/r", Repo{}, false},
		{"git@github.com:o/r/x", Repo{}, false},
		{"https://github.com\\@evil.example/o/r", Repo{}, false},
		{"https://github.com%2eevil.example/o/r", Repo{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseRemote(tt.url)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseRemote(%q) = %+v, %v; want %+v, %v", tt.url, got, ok, tt.want, tt.ok)
		}
	}
}

// A parsed remote's owner routes like the path git sends for it.
func TestParseRemoteThenResolve(t *testing.T) {
	cfg := testConfig(t, routedConfig, nil)
	available := []string{"github:classic", "github:fine-grained-myorg", "github:ghe-platform"}
	for remote, want := range map[string]string{
		"git@github.com:MyOrg/app.git":                    "github:fine-grained-myorg",
		"https://ghe.corp.example/platform/app.git":       "github:ghe-platform",
		"https://github.com.evil.example/myorg/app.git":   "",
		"http://github.com/myorg/app.git":                 "",
		"https://github.com/someone/app.git":              "github:classic",
		"ssh://git@ghe2.corp.example:2222/o/r.git":        "", // SSH port dropped: ghe2 is only configured with :8443
		"https://ghe2.corp.example:8443/myorg/r.git":      "", // a github.com token never serves another host
		"https://ghe2.corp.example:8444/myorg/r.git":      "",
		"https://ghe3.corp.example/nobody-special/r.git":  "",
		"https://ghe.corp.example/nobody-special/x/y.git": "",
	} {
		repo, ok := ParseRemote(remote)
		protocol := "https"
		if strings.HasPrefix(remote, "http:") {
			protocol = "http"
		}
		var got string
		if ok {
			got = Resolve(cfg, protocol, repo.Host, repo.Owner, available).Token
		}
		if got != want {
			t.Errorf("%s: token %q, want %q", remote, got, want)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	cfg := testConfig(b, routedConfig, nil)
	available := make([]string, 0, 50)
	for i := range 48 {
		available = append(available, "github:fine-grained-org"+strings.Repeat("x", i))
	}
	available = append(available, "github:classic", "github:ghe-platform", "github:fine-grained-personal")
	cases := []struct{ name, host, owner string }{
		{"route", "github.com", "alice"},
		{"convention", "github.com", "orgxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
		{"default", "github.com", "nobody"},
		{"ghe", "ghe.corp.example", "platform"},
		{"refused", "github.com.evil.example", "alice"},
		{"missing-route-token", "github.com", "missingorg"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				Resolve(cfg, "https", c.host, c.owner, available)
			}
		})
	}
}

func BenchmarkParseRemote(b *testing.B) {
	for _, remote := range []string{
		"https://github.com/myorg/repo.git",
		"git@github.com:myorg/repo.git",
		"ssh://git@ghe.corp.example:2222/team/svc.git",
	} {
		b.Run(strings.SplitN(remote, ":", 2)[0], func(b *testing.B) {
			for b.Loop() {
				if _, ok := ParseRemote(remote); !ok {
					b.Fatal("ParseRemote failed")
				}
			}
		})
	}
}

// TestNoUnicodeFolding checks that hosts and owners fold ASCII only: a
// host or owner that Unicode folding would take for a configured one gets
// nothing.
func TestNoUnicodeFolding(t *testing.T) {
	cfg := config.Config{
		TokenName: "classic",
		Hosts:     []string{"github.com", "ghes.example"},
		Routes: []config.Route{
			{Host: "ghes.example", Token: "github:ghes-default"},
			{Host: "ghes.example", Owner: "kit", Token: "github:ghes-kit"},
		},
	}
	available := []string{"github:classic", "github:ghes-default", "github:ghes-kit", "github:fine-grained-kit"}
	tests := []struct{ host, owner, want string }{
		{"GHES.example", "KIT", "github:ghes-kit"},
		{"gheſ.example", "kit", ""},                         // U+017F long s
		{"ghes.example", "\u212Ait", "github:ghes-default"}, // an unreadable owner is unknown: the host default
		{"github.com", "\u212Ait", "github:classic"},
	}
	for _, tt := range tests {
		if got := Resolve(cfg, "https", tt.host, tt.owner, available); got.Token != tt.want {
			t.Errorf("Resolve(%q, %q) = %q, want %q", tt.host, tt.owner, got.Token, tt.want)
		}
	}
	if d := Resolve(cfg, "https", "github.com", "kit", []string{"github:FINE-GRAINED-\u212Ait"}); d.Token != "" {
		t.Errorf("token name github:FINE-GRAINED-\\u212Ait served for owner kit")
	}
	if r, ok := ParseRemote("https://\u212Airo.example/o/r"); ok && r.Host == "kiro.example" {
		t.Errorf("ParseRemote lower-cased the Kelvin sign to k")
	}
}

// TestConventionOnGitHubComOnly is the case of issue 11: a github.com
// token named after an owner never serves that owner on another host, even
// one without a default; a HOST/OWNER route does.
func TestConventionOnGitHubComOnly(t *testing.T) {
	hosts := `GH_HOSTS="github.com ghe.corp.example"` + "\n"
	available := []string{"github:fine-grained-myorg", "github:ghe-myorg"}
	cfg := testConfig(t, hosts, nil)
	if d := Resolve(cfg, "https", "ghe.corp.example", "myorg", available); d.Token != "" {
		t.Errorf("ghe.corp.example/myorg without a route: token %q, want none", d.Token)
	}
	if d := Resolve(cfg, "https", "github.com", "myorg", available); d.Token != "github:fine-grained-myorg" {
		t.Errorf("github.com/myorg: token %q, want github:fine-grained-myorg", d.Token)
	}
	cfg = testConfig(t, hosts+`GH_TOKEN_ROUTES="ghe.corp.example/myorg=ghe-myorg"`+"\n", nil)
	if d := Resolve(cfg, "https", "ghe.corp.example", "MyOrg", available); d.Token != "github:ghe-myorg" {
		t.Errorf("ghe.corp.example/myorg with its route: token %q, want github:ghe-myorg", d.Token)
	}
}

// TestResolveVia checks that each step names itself.
func TestResolveVia(t *testing.T) {
	cfg := testConfig(t, routedConfig, nil)
	all := []string{"github:classic", "github:fine-grained-personal", "github:fine-grained-myorg"}
	for owner, want := range map[string]string{"alice": ViaRoute, "myorg": ViaConvention, "other": ViaDefault} {
		if d := Resolve(cfg, "https", "github.com", owner, all); d.Via != want {
			t.Errorf("Resolve for %s: Via = %q, want %q", owner, d.Via, want)
		}
	}
	if d := Resolve(cfg, "https", "github.com", "other", nil); d.Via != "" {
		t.Errorf("Resolve with nothing stored: Via = %q, want none", d.Via)
	}
}

func TestSelectable(t *testing.T) {
	cfg := testConfig(t, routedConfig, nil)
	for name, want := range map[string]bool{
		"github:classic":                true, // the active token
		"github:ghe-platform":           true, // a route's
		"github:Fine-Grained-Personal":  true, // a route's, other case
		"github:fine-grained-myorg":     true, // the convention
		"github:fine-grained-":          false,
		"github:fine-grained-bad owner": false,
		"github:myorg":                  false,
		"other:thing":                   false,
	} {
		if got := Selectable(cfg, name); got != want {
			t.Errorf("Selectable(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMissingAppRouteSaysHowToAddIt(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`GH_TOKEN_ROUTES="myorg=app:myorg"`), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	d := Resolve(cfg, "https", "github.com", "myorg", nil)
	if d.Token != "" || !strings.Contains(d.Warning, "names App app:myorg") || !strings.Contains(d.Warning, "jailrun app add --name myorg --app-id ID") {
		t.Errorf("Resolve = %+v", d)
	}
}
