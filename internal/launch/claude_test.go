package launch

import (
	"os"
	"path/filepath"
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
