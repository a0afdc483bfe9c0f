package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestJailSettings(t *testing.T) {
	file := `JAILRUN_EGRESS="list"
JAILRUN_ALLOW_HOSTS="registry.npmjs.org *.Pages.Example:8443 127.0.0.1:3000 [::1]:8080 ::1 *.com http://x.example ghp_0123456789abcdef Kiro.example"
JAILRUN_ALLOW_WRITE="~/scratch /srv/data relative/dir"
JAILRUN_DENY_READ="~/secrets"
`
	c, err := Parse(strings.NewReader(file), env("HOME", "/home/u"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Egress != EgressList {
		t.Errorf("Egress = %q, want list", c.Egress)
	}
	if want := []string{"registry.npmjs.org", "*.pages.example:8443", "127.0.0.1:3000", "[::1]:8080", "::1"}; !reflect.DeepEqual(c.AllowHosts, want) {
		t.Errorf("AllowHosts = %q, want %q", c.AllowHosts, want)
	}
	if want := []string{"/home/u/scratch", "/srv/data"}; !reflect.DeepEqual(c.AllowWrite, want) {
		t.Errorf("AllowWrite = %q, want %q", c.AllowWrite, want)
	}
	if want := []string{"/home/u/secrets"}; !reflect.DeepEqual(c.DenyRead, want) {
		t.Errorf("DenyRead = %q, want %q", c.DenyRead, want)
	}
	warnings := strings.Join(c.Warnings, "\n")
	for _, want := range []string{`config line 2: JAILRUN_ALLOW_HOSTS entry "*.com"`, `entry "http://x.example" is a URL`, "looks like a token", "is not ASCII", `config line 3: JAILRUN_ALLOW_WRITE entry "relative/dir"`} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	if strings.Contains(warnings, "0123456789") {
		t.Errorf("a warning repeats a pasted token:\n%s", warnings)
	}
	if len(c.Warnings) != 5 {
		t.Errorf("%d warnings, want 5:\n%s", len(c.Warnings), warnings)
	}

	// The environment overrides the file; an unknown mode is the narrower one.
	c, err = Parse(strings.NewReader(file), env("HOME", "/home/u", "JAILRUN_EGRESS", "lsit", "JAILRUN_ALLOW_HOSTS", "a.example"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Egress != EgressList || !reflect.DeepEqual(c.AllowHosts, []string{"a.example"}) ||
		!strings.Contains(strings.Join(c.Warnings, "\n"), `environment variable JAILRUN_EGRESS is "lsit", neither open nor list; using list`) {
		t.Errorf("with the environment: %q %q %q", c.Egress, c.AllowHosts, c.Warnings)
	}
	c, err = Parse(strings.NewReader(file), env("JAILRUN_EGRESS", "OPEN"))
	if err != nil || c.Egress != EgressOpen {
		t.Errorf("JAILRUN_EGRESS=OPEN in the environment: %q, %v", c.Egress, err)
	}
}
