package launch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestClaudeSandboxNote(t *testing.T) {
	for _, tc := range []struct {
		settings string // "" for no file
		note     bool
	}{
		{"", false},
		{`{}`, false},
		{`{"sandbox": {"enabled": false}}`, false},
		{`{"sandbox": {"enabled": true}}`, true},
		{`{"sandbox": {"enabled": true, "enableWeakerNestedSandbox": true}}`, false},
		{`not json`, false},
	} {
		home := t.TempDir()
		if tc.settings != "" {
			if err := os.MkdirAll(filepath.Join(home, ".claude"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(home, ".claude", "settings.json"), []byte(tc.settings), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		got := claudeSandboxNote(home)
		if (got != "") != tc.note || tc.note && !strings.Contains(got, "enableWeakerNestedSandbox") {
			t.Errorf("settings %q: note %q, want a note: %v", tc.settings, got, tc.note)
		}
	}
}

func TestWithoutHome(t *testing.T) {
	for _, tc := range []struct {
		write         []string
		kept          []string
		dropped, home string
	}{
		{[]string{"/home/u/src/app", "/home/u/src/app/.git"}, []string{"/home/u/src/app", "/home/u/src/app/.git"}, "", "/home/u"},
		{[]string{"/home/u", "/home/u/.git"}, []string{"/home/u/.git"}, "/home/u", "/home/u"},
		{[]string{"/home"}, nil, "/home", "/home/u"},
		{[]string{"/"}, nil, "/", "/home/u"},
		{[]string{"/home/user2"}, []string{"/home/user2"}, "", "/home/u"},
	} {
		kept, dropped := withoutHome(tc.write, tc.home)
		if !slices.Equal(kept, tc.kept) || dropped != tc.dropped {
			t.Errorf("withoutHome(%q, %q) = %q, %q; want %q, %q", tc.write, tc.home, kept, dropped, tc.kept, tc.dropped)
		}
	}
}
