package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// env returns a getenv over a fixed map.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// fakeToken is shaped like a GitHub token; it must never show in a message.
var fakeToken = "ghp_" + strings.Repeat("Z9y8", 9)

func defaults() Config {
	return Config{TokenName: "classic", Hosts: []string{"github.com"}, ExpiryWarnDays: 7, Egress: EgressOpen}
}

func with(f func(*Config)) Config {
	c := defaults()
	f(&c)
	return c
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		env      func(string) string
		want     Config
		warnings []string // substrings, one per warning, in order
	}{
		{name: "empty", input: "", want: defaults()},
		{name: "comments and blanks", input: "# jailrun\n\n   \t\n  # indented comment\n", want: defaults()},
		{name: "guide line", input: `GH_TOKEN_NAME="fine-grained-myorg"  # or classic` + "\n",
			want: with(func(c *Config) { c.TokenName = "fine-grained-myorg" })},
		{name: "export single quotes", input: "export GH_TOKEN_NAME='fine-grained-x'\n",
			want: with(func(c *Config) { c.TokenName = "fine-grained-x" })},
		{name: "bare value and CRLF", input: "GH_TOKEN_NAME=fine-grained-x\r\nGH_TOKEN_EXPIRY_WARN_DAYS=3\r\n",
			want: with(func(c *Config) { c.TokenName = "fine-grained-x"; c.ExpiryWarnDays = 3 })},
		{name: "byte order mark", input: "\ufeffGH_TOKEN_NAME=x\r\n",
			want: with(func(c *Config) { c.TokenName = "x" })},
		{name: "no final newline", input: "GH_TOKEN_NAME=x",
			want: with(func(c *Config) { c.TokenName = "x" })},
		{name: "full name accepted", input: `GH_TOKEN_NAME="github:fine-grained-x"`,
			want: with(func(c *Config) { c.TokenName = "fine-grained-x" })},
		{name: "last assignment wins", input: "GH_TOKEN_NAME=a\nGH_TOKEN_NAME=b\n",
			want: with(func(c *Config) { c.TokenName = "b" })},
		{name: "empty name is the default", input: `GH_TOKEN_NAME=""`, want: defaults()},
		{name: "env overrides file", input: "GH_TOKEN_NAME=from-file\n", env: env("GH_TOKEN_NAME", "from-env"),
			want: with(func(c *Config) { c.TokenName = "from-env" })},
		{name: "env full name", env: env("GH_TOKEN_NAME", "github:fine-grained-e"),
			want: with(func(c *Config) { c.TokenName = "fine-grained-e" })},
		{name: "dollar kept literally, with a warning", input: `GH_TOKEN_NAME="$USER"`,
			want:     with(func(c *Config) { c.TokenName = "$USER" }),
			warnings: []string{"config line 1: the value of GH_TOKEN_NAME contains $"}},
		{name: "backticks kept literally, with a warning", input: "GH_TOKEN_NAME=`id`",
			want:     with(func(c *Config) { c.TokenName = "`id`" }),
			warnings: []string{"line 1: the value of GH_TOKEN_NAME contains $ or a backtick"}},
		{name: "single-quoted dollar is literal in a shell too", input: `GH_TOKEN_NAME='$(id)'`,
			want: with(func(c *Config) { c.TokenName = "$(id)" })},
		{name: "escaped dollar is literal in a shell too", input: `GH_TOKEN_NAME="\$x"`,
			want: with(func(c *Config) { c.TokenName = "$x" })},
		{name: "unknown key", input: "# c\nGH_TOKEN=whatever\nFOO_BAR=1\n",
			want:     defaults(),
			warnings: []string{"config line 2: unknown key GH_TOKEN", "config line 3: unknown key FOO_BAR"}},
		{name: "bash jailrun keys", input: "ALLOWED_AWS_PROFILES=\"default\"\nSANDBOX_EXTRA_DENY_READ=\"\"\n",
			want:     defaults(),
			warnings: []string{"line 1: ALLOWED_AWS_PROFILES is a bash jailrun setting", "line 2: SANDBOX_EXTRA_DENY_READ is a bash jailrun setting"}},
		{name: "keychain service migrates", input: `GH_KEYCHAIN_SERVICE="github:fine-grained-old"`,
			want:     with(func(c *Config) { c.TokenName = "fine-grained-old" }),
			warnings: []string{`line 1: GH_KEYCHAIN_SERVICE is deprecated; write GH_TOKEN_NAME="fine-grained-old" instead`}},
		{name: "keychain service without prefix", input: `GH_KEYCHAIN_SERVICE=old`,
			want:     with(func(c *Config) { c.TokenName = "old" }),
			warnings: []string{"GH_KEYCHAIN_SERVICE is deprecated"}},
		{name: "keychain service loses to file name", input: "GH_KEYCHAIN_SERVICE=github:old\nGH_TOKEN_NAME=new\n",
			want:     with(func(c *Config) { c.TokenName = "new" }),
			warnings: []string{"line 1: GH_KEYCHAIN_SERVICE is deprecated and ignored because GH_TOKEN_NAME is set"}},
		{name: "keychain service loses to env name", input: "GH_KEYCHAIN_SERVICE=github:old\n", env: env("GH_TOKEN_NAME", "e"),
			want:     with(func(c *Config) { c.TokenName = "e" }),
			warnings: []string{"ignored because GH_TOKEN_NAME is set"}},
		{name: "ignored env", env: env("GH_HOSTS", "evil.example", "GH_TOKEN_ROUTES", "x=y"),
			want:     defaults(),
			warnings: []string{"environment variable GH_TOKEN_ROUTES is ignored", "environment variable GH_HOSTS is ignored"}},
		{name: "hosts lower-cased, deduplicated, ports kept",
			input: `GH_HOSTS="GitHub.com ghe.corp.example:8443 github.com 127.0.0.1:9000 localhost"`,
			want: with(func(c *Config) {
				c.Hosts = []string{"github.com", "ghe.corp.example:8443", "127.0.0.1:9000", "localhost"}
			})},
		{name: "hosts replace the default", input: `GH_HOSTS=ghe.corp.example`,
			want: with(func(c *Config) { c.Hosts = []string{"ghe.corp.example"} })},
		{name: "blank hosts are the default", input: `GH_HOSTS="  "`, want: defaults()},
		{name: "design routes",
			input: "GH_HOSTS=\"github.com ghe.corp.example\"\nGH_TOKEN_ROUTES=\"alice=fine-grained-personal ghe.corp.example=ghe-classic\"\n",
			want: with(func(c *Config) {
				c.Hosts = []string{"github.com", "ghe.corp.example"}
				c.Routes = []Route{
					{Host: "github.com", Owner: "alice", Token: "github:fine-grained-personal"},
					{Host: "ghe.corp.example", Token: "github:ghe-classic"},
				}
			})},
		{name: "routes before hosts, mixed case, host/owner, ports",
			input: "GH_TOKEN_ROUTES='MyOrg=fine-grained-myorg GHE.Corp.Example:8443/Team=github:ghe-team github.com/Bob=bob ghe.corp.example:8443=ghe-default'\n" +
				"GH_HOSTS='github.com ghe.corp.example:8443'\n",
			want: with(func(c *Config) {
				c.Hosts = []string{"github.com", "ghe.corp.example:8443"}
				c.Routes = []Route{
					{Host: "github.com", Owner: "myorg", Token: "github:fine-grained-myorg"},
					{Host: "ghe.corp.example:8443", Owner: "team", Token: "github:ghe-team"},
					{Host: "github.com", Owner: "bob", Token: "github:bob"},
					{Host: "ghe.corp.example:8443", Token: "github:ghe-default"},
				}
			})},
		{name: "empty routes", input: `GH_TOKEN_ROUTES=""`, want: defaults()},
		{name: "expiry days zero", input: "GH_TOKEN_EXPIRY_WARN_DAYS=0", want: with(func(c *Config) { c.ExpiryWarnDays = 0 })},
		{name: "expiry days quoted", input: `GH_TOKEN_EXPIRY_WARN_DAYS="30"`, want: with(func(c *Config) { c.ExpiryWarnDays = 30 })},
		{name: "trailing comment after quotes", input: `GH_TOKEN_NAME='x'	# tab then comment`,
			want: with(func(c *Config) { c.TokenName = "x" })},
		{name: "hash inside a word is not a comment", input: `GH_TOKEN_NAME=a#b`,
			want: with(func(c *Config) { c.TokenName = "a#b" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.input), tt.env)
			if err != nil {
				t.Fatalf("Parse: unexpected error: %v", err)
			}
			warnings := got.Warnings
			got.Warnings = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got  %+v\n want %+v", got, tt.want)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d matching %q", warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		env   func(string) string
		want  string // substring of the error
	}{
		{"command substitution line", "# ok\n$(rm -rf ~)\n", nil, "config line 2: expected KEY="},
		{"command substitution value", "GH_TOKEN_NAME=$(rm -rf ~)", nil, `config line 1: '(' outside quotes is shell syntax`},
		{"quoted command substitution", `GH_TOKEN_NAME="$(rm -rf ~)"`, nil, "config line 1: GH_TOKEN_NAME is invalid"},
		{"backtick command", "GH_TOKEN_NAME=`rm -rf ~`", nil, "config line 1: unexpected text after the value"},
		{"command after semicolon", "GH_TOKEN_NAME=x; rm -rf ~", nil, `';' outside quotes`},
		{"pipe", "GH_TOKEN_NAME=x|sh", nil, `'|' outside quotes`},
		{"redirect", "GH_TOKEN_NAME=x>/tmp/f", nil, `'>' outside quotes`},
		{"background", "GH_TOKEN_NAME=x&", nil, `'&' outside quotes`},
		{"unterminated double", "\nGH_TOKEN_NAME=\"x\n", nil, "config line 2: unterminated double quote"},
		{"unterminated single", "GH_TOKEN_NAME='x", nil, "config line 1: unterminated single quote"},
		{"escaped closing quote", `GH_TOKEN_NAME="x\"`, nil, "unterminated double quote"},
		{"trailing backslash", `GH_TOKEN_NAME=x\`, nil, "continuation lines are not supported"},
		{"space after equals", "GH_TOKEN_NAME= x", nil, "unexpected text after the value"},
		{"spaces around equals", "GH_TOKEN_NAME = x", nil, "expected KEY="},
		{"unquoted space", "GH_TOKEN_NAME=a b", nil, "quote a value that contains spaces"},
		{"no equals", "GH_TOKEN_NAME", nil, "expected KEY="},
		{"export only", "export", nil, "expected KEY="},
		{"bad key", "1KEY=x", nil, "expected KEY="},
		{"append operator", "GH_HOSTS+=x", nil, "expected KEY="},
		{"name with space", `GH_TOKEN_NAME="a b"`, nil, "config line 1: GH_TOKEN_NAME is invalid"},
		{"name with control char", "GH_TOKEN_NAME=\"a\tb\"", nil, "GH_TOKEN_NAME is invalid"},
		{"bare CR in value", "GH_TOKEN_NAME=a\rb\n", nil, "GH_TOKEN_NAME is invalid"},
		{"other namespace", `GH_TOKEN_NAME="gitlab:x"`, nil, "outside the github: namespace"},
		{"empty after namespace", `GH_TOKEN_NAME="github:"`, nil, "GH_TOKEN_NAME is empty"},
		{"long name", "GH_TOKEN_NAME=" + strings.Repeat("n", 200), nil, "GH_TOKEN_NAME is invalid"},
		{"bad env name", "", env("GH_TOKEN_NAME", "a b"), "environment variable GH_TOKEN_NAME is invalid"},
		{"bad keychain service", `GH_KEYCHAIN_SERVICE="a b"`, nil, "config line 1: GH_KEYCHAIN_SERVICE is invalid"},
		{"host URL", `GH_HOSTS="https://ghe.example"`, nil, `config line 1: GH_HOSTS entry "https://ghe.example" is a URL`},
		{"host path", `GH_HOSTS="ghe.example/api"`, nil, "is not a host name"},
		{"host user", `GH_HOSTS="me@ghe.example"`, nil, "is not a host name"},
		{"host port zero", `GH_HOSTS="ghe.example:0"`, nil, "invalid port"},
		{"host port too big", `GH_HOSTS="ghe.example:65536"`, nil, "invalid port"},
		{"host port leading zero", `GH_HOSTS="ghe.example:0443"`, nil, "invalid port"},
		{"host empty port", `GH_HOSTS="ghe.example:"`, nil, "invalid port"},
		{"host two ports", `GH_HOSTS="ghe.example:1:2"`, nil, "invalid port"},
		{"host trailing dot", `GH_HOSTS="github.com."`, nil, "not a valid host name"},
		{"host underscore", `GH_HOSTS="ghe_x.example"`, nil, "not a valid host name"},
		{"host label dash", `GH_HOSTS="-ghe.example"`, nil, "not a valid host name"},
		{"host unicode", `GH_HOSTS="gіthub.com"`, nil, "not a valid host name"},
		{"route without equals", `GH_TOKEN_ROUTES="alice"`, nil, `config line 1: GH_TOKEN_ROUTES entry "alice" is not OWNER=SHORT`},
		{"route empty owner", `GH_TOKEN_ROUTES="=x"`, nil, `entry "=x" is not OWNER=SHORT`},
		{"route empty token", `GH_TOKEN_ROUTES="alice="`, nil, `entry "alice=" is not OWNER=SHORT`},
		{"route empty owner after host", `GH_TOKEN_ROUTES="github.com/=x"`, nil, "invalid owner"},
		{"route bad owner", `GH_TOKEN_ROUTES="al!ce=x"`, nil, `entry "al!ce=x" has an invalid owner`},
		{"route nested path", `GH_TOKEN_ROUTES="github.com/a/b=x"`, nil, "invalid owner"},
		{"route bad token", `GH_TOKEN_ROUTES="alice=gitlab:x"`, nil, "outside the github: namespace"},
		{"route host not configured", `GH_TOKEN_ROUTES="ghe.example=x"`, nil, "names host ghe.example, which is not in GH_HOSTS"},
		{"route host/owner not configured", `GH_TOKEN_ROUTES="ghe.example/team=x"`, nil, "not in GH_HOSTS"},
		{"route port differs", "GH_HOSTS=\"ghe.example:8443\"\nGH_TOKEN_ROUTES=\"ghe.example=x\"", nil, "config line 2: GH_TOKEN_ROUTES entry"},
		{"route owner needs github.com", "GH_HOSTS=ghe.example\nGH_TOKEN_ROUTES=alice=x", nil, "names host github.com, which is not in GH_HOSTS"},
		{"route github.com default", `GH_TOKEN_ROUTES="github.com=x"`, nil, `write GH_TOKEN_NAME="x" instead`},
		{"route duplicate", `GH_TOKEN_ROUTES="alice=x Alice=y"`, nil, `entry "Alice=y" repeats a route`},
		{"route URL", `GH_TOKEN_ROUTES="https://ghe.example/org=x"`, nil, "invalid owner"},
		{"expiry negative", "GH_TOKEN_EXPIRY_WARN_DAYS=-1", nil, "config line 1: GH_TOKEN_EXPIRY_WARN_DAYS must be a whole number"},
		{"expiry word", "GH_TOKEN_EXPIRY_WARN_DAYS=week", nil, "GH_TOKEN_EXPIRY_WARN_DAYS must be"},
		{"expiry overflow", "GH_TOKEN_EXPIRY_WARN_DAYS=99999999999999999999", nil, "GH_TOKEN_EXPIRY_WARN_DAYS must be"},
		{"1 MB line", "GH_TOKEN_NAME=" + strings.Repeat("a", 1_000_000) + "\n", nil, "config line 1: longer than"},
		{"file over 1 MiB", strings.Repeat("# filler line\n", 80_000), nil, "config is larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.input), tt.env)
			if err == nil {
				t.Fatalf("Parse: no error, got %+v; want one containing %q", c, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("Parse error spans lines: %q", err)
			}
		})
	}
}

// A token pasted where a name belongs is refused without being repeated.
func TestPastedTokenNeverInMessages(t *testing.T) {
	inputs := []struct {
		name, input string
		env         func(string) string
	}{
		{"name", `GH_TOKEN_NAME="` + fakeToken + `"`, nil},
		{"full name", `GH_TOKEN_NAME="github:` + fakeToken + `"`, nil},
		{"env name", "", env("GH_TOKEN_NAME", fakeToken)},
		{"keychain service", `GH_KEYCHAIN_SERVICE="` + fakeToken + `"`, nil},
		{"route token", `GH_TOKEN_ROUTES="alice=` + fakeToken + `"`, nil},
		{"route owner", `GH_TOKEN_ROUTES="` + fakeToken + `=x"`, nil},
		{"host", `GH_HOSTS="` + fakeToken + `"`, nil},
		{"malformed line", fakeToken, nil},
		{"text after value", "GH_TOKEN_NAME=x " + fakeToken, nil},
		{"fine-grained prefix", `GH_TOKEN_NAME="github_pat_11AAAAAA_` + strings.Repeat("q", 40) + `"`, nil},
	}
	for _, tt := range inputs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.input), tt.env)
			if err == nil {
				t.Fatal("Parse accepted a token where a name belongs")
			}
			if strings.Contains(err.Error(), fakeToken) || strings.Contains(err.Error(), "github_pat_11AAAAAA") {
				t.Errorf("error repeats the token (%d bytes)", len(err.Error()))
			}
		})
	}
	// An unknown key holding a token is a warning that names only the key.
	c, err := Parse(strings.NewReader("GH_TOKEN="+fakeToken+"\n"), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(c.Warnings) != 1 || strings.Contains(c.Warnings[0], fakeToken) || !strings.Contains(c.Warnings[0], "GH_TOKEN") {
		t.Errorf("warnings: want one naming GH_TOKEN without its value; got %d", len(c.Warnings))
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line, key, value string
		dollar           bool
	}{
		{"", "", "", false},
		{"   # comment", "", "", false},
		{"K=v", "K", "v", false},
		{"  export\tK=v", "K", "v", false},
		{"exportK=v", "exportK", "v", false},
		{"export=v", "export", "v", false},
		{"K=", "K", "", false},
		{`K=""`, "K", "", false},
		{"K=   # empty with comment", "K", "", false},
		{`K="a b"`, "K", "a b", false},
		{`K='a "b" \n'`, "K", `a "b" \n`, false},
		{`K="a \"b\" \\ \$ \` + "`" + ` \n \x"`, "K", `a "b" \ $ ` + "`" + ` \n \x`, false},
		{`K=a\ b\"c`, "K", `a b"c`, false},
		{`K=pre"mid"'post'`, "K", "premidpost", false},
		{`K="$HOME"`, "K", "$HOME", true},
		{`K=$HOME`, "K", "$HOME", true},
		{"K=\"`id`\"", "K", "`id`", true},
		{`K='$HOME'`, "K", "$HOME", false},
		{`K="\$HOME"`, "K", "$HOME", false},
		{`K=\$HOME`, "K", "$HOME", false},
		{`K='#x' # y`, "K", "#x", false},
		{`K="a;b|c&d(e)<f>"`, "K", "a;b|c&d(e)<f>", false},
		{`_k9=1`, "_k9", "1", false},
	}
	for _, tt := range tests {
		key, value, dollar, err := parseLine(tt.line)
		if err != nil || key != tt.key || value != tt.value || dollar != tt.dollar {
			t.Errorf("parseLine(%q) = %q, %q, %v, %v; want %q, %q, %v, nil", tt.line, key, value, dollar, err, tt.key, tt.value, tt.dollar)
		}
	}
}

func TestActiveTokenAndIsGitHubHost(t *testing.T) {
	c, err := Parse(strings.NewReader(`GH_HOSTS="github.com GHE.example:8443"`+"\nGH_TOKEN_NAME=fine-grained-x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ActiveToken(); got != "github:fine-grained-x" {
		t.Errorf("ActiveToken = %q", got)
	}
	for host, want := range map[string]bool{
		"github.com": true, "GitHub.COM": true, "ghe.example:8443": true, "GHE.EXAMPLE:8443": true,
		"": false, "github.com:443": false, "github.com:8443": false, "ghe.example": false,
		"github.com.evil.example": false, "evil-github.com": false, "api.github.com": false,
		"ghe.example:8443.evil": false, " github.com": false, "github.com.": false,
	} {
		if got := c.IsGitHubHost(host); got != want {
			t.Errorf("IsGitHubHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestPath(t *testing.T) {
	tests := []struct {
		env  func(string) string
		want string
	}{
		{env("XDG_CONFIG_HOME", "/x/cfg", "HOME", "/home/u"), "/x/cfg/jailrun/config"},
		{env("HOME", "/home/u"), "/home/u/.config/jailrun/config"},
		{env("XDG_CONFIG_HOME", "relative", "HOME", "/home/u"), "/home/u/.config/jailrun/config"},
		{env("HOME", "relative"), ""},
		{env(), ""},
	}
	for _, tt := range tests {
		if got := Path(tt.env); got != tt.want {
			t.Errorf("Path = %q, want %q", got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Run("missing file is the defaults with env overrides", func(t *testing.T) {
		c, err := Load(env("XDG_CONFIG_HOME", t.TempDir(), "GH_TOKEN_NAME", "from-env"))
		if err != nil {
			t.Fatal(err)
		}
		if want := with(func(c *Config) { c.TokenName = "from-env" }); !reflect.DeepEqual(c, want) {
			t.Errorf("Load = %+v, want %+v", c, want)
		}
	})
	t.Run("file is read and messages name its path", func(t *testing.T) {
		home := t.TempDir()
		path := filepath.Join(home, ".config", "jailrun", "config")
		writeFile(t, path, "GH_TOKEN_NAME=\"fine-grained-myorg\"\nFOO=1\n")
		c, err := Load(env("HOME", home))
		if err != nil {
			t.Fatal(err)
		}
		if c.TokenName != "fine-grained-myorg" {
			t.Errorf("TokenName = %q", c.TokenName)
		}
		if len(c.Warnings) != 1 || c.Warnings[0] != path+" line 2: unknown key FOO, ignored" {
			t.Errorf("Warnings = %q", c.Warnings)
		}
		writeFile(t, path, "\n\nGH_TOKEN_NAME='x\n")
		if _, err := Load(env("HOME", home)); err == nil || !strings.HasPrefix(err.Error(), path+" line 3: unterminated") {
			t.Errorf("Load error = %v, want it to start with the path and line 3", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "jailrun", "config")
		if err := os.MkdirAll(path, 0o700); err != nil {
			t.Fatal(err)
		}
		_, err := Load(env("XDG_CONFIG_HOME", dir))
		if err == nil || !strings.Contains(err.Error(), path+" is a directory") {
			t.Errorf("Load error = %v, want it to say %s is a directory", err, path)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads files whatever their mode")
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "jailrun", "config")
		writeFile(t, path, "GH_TOKEN_NAME=x\n")
		if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
		_, err := Load(env("XDG_CONFIG_HOME", dir))
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Load error = %v, want it to name %s", err, path)
		}
	})
	t.Run("no home", func(t *testing.T) {
		if _, err := Load(env()); err == nil || !strings.Contains(err.Error(), "set HOME") {
			t.Errorf("Load error = %v, want it to ask for HOME", err)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownKeyDidYouMean(t *testing.T) {
	for input, want := range map[string]string{
		"GH_TOKEN_ROUTE=x\n":    "config line 1: unknown key GH_TOKEN_ROUTE, ignored; did you mean GH_TOKEN_ROUTES?",
		"gh_hosts=github.com\n": "config line 1: unknown key gh_hosts, ignored; did you mean GH_HOSTS?",
		"JAILRUN_EGRES=x\n":     "config line 1: unknown key JAILRUN_EGRES, ignored; did you mean JAILRUN_EGRESS?",
		"SOMETHING_ELSE=1\n":    "config line 1: unknown key SOMETHING_ELSE, ignored",
	} {
		c, err := Parse(strings.NewReader(input), nil)
		if err != nil {
			t.Fatalf("Parse(%q): %v", input, err)
		}
		if len(c.Warnings) != 1 || c.Warnings[0] != want {
			t.Errorf("Parse(%q) warnings = %q, want %q", input, c.Warnings, want)
		}
	}
}

func TestAppRoutes(t *testing.T) {
	cfg, err := Parse(strings.NewReader(`GH_HOSTS="github.com ghe.example"`+"\n"+`GH_TOKEN_ROUTES="myorg=app:myorg ghe.example/team=app:ghe-team"`+"\n"+`JAILRUN_APP_PERMISSIONS="contents:write"`+"\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.Routes); got != "[myorg=app:myorg ghe.example/team=app:ghe-team]" || cfg.Routes[0].Token != "app:myorg" {
		t.Errorf("routes %s (%q)", got, cfg.Routes[0].Token)
	}
	if cfg.AppPermissions != "contents:write" {
		t.Errorf("JAILRUN_APP_PERMISSIONS %q", cfg.AppPermissions)
	}
	for _, bad := range []string{"myorg=app:", "myorg=app:a:b"} {
		if _, err := Parse(strings.NewReader(`GH_TOKEN_ROUTES="`+bad+`"`), func(string) string { return "" }); err == nil {
			t.Errorf("route %q parsed", bad)
		}
	}
}
