package launch

import "testing"

func TestHostnameFlag(t *testing.T) {
	tests := []struct {
		args  []string
		want  string
		found bool
	}{
		{[]string{"api", "--hostname", "ghe.example", "user"}, "ghe.example", true},
		{[]string{"api", "--hostname=ghe.example", "user"}, "ghe.example", true},
		{[]string{"auth", "token", "-h", "evil.example"}, "evil.example", true},
		{[]string{"auth", "token", "-hevil.example"}, "evil.example", true},
		{[]string{"auth", "status", "-h=evil.example"}, "evil.example", true},
		{[]string{"api", "-H", "Accept: x", "user"}, "", false},
		{[]string{"pr", "list", "-h"}, "", false}, // -h is help outside `gh auth`
		{[]string{"api", "--", "--hostname", "x"}, "", false},
		{[]string{"api", "--hostname", "a", "--hostname", "b"}, "b", true},
	}
	for _, tt := range tests {
		got, found := hostnameFlag(tt.args)
		if got != tt.want || found != tt.found {
			t.Errorf("hostnameFlag(%q) = %q, %v; want %q, %v", tt.args, got, found, tt.want, tt.found)
		}
	}
}

func TestOtherTarget(t *testing.T) {
	env := func(ghHost string) func(string) string {
		return func(k string) string {
			if k == "GH_HOST" {
				return ghHost
			}
			return ""
		}
	}
	tests := []struct {
		ghHost string
		args   []string
		want   string
	}{
		{"", []string{"auth", "token"}, ""},
		{"", []string{"auth", "token", "--hostname", "evil.example"}, "evil.example"},
		{"", []string{"api", "--hostname", "GHE.corp.example", "user"}, ""},
		{"evil.example", []string{"api", "user"}, "evil.example"},
		{"ghe.corp.example", []string{"api", "user"}, ""},
		{"", []string{"api", "--hostname", "gheſ.corp.example"}, "gheſ.corp.example"},
	}
	for _, tt := range tests {
		if got := otherTarget(env(tt.ghHost), tt.args, "ghe.corp.example"); got != tt.want {
			t.Errorf("otherTarget(GH_HOST=%q, %q) = %q, want %q", tt.ghHost, tt.args, got, tt.want)
		}
	}
}
