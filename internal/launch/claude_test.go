package launch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
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

// TestClaudeSettingsPlanted: a jail could leave a FIFO at the settings
// file (every later launch hung, deaf to Ctrl-C) or a link to /dev/zero
// (read until memory ran out); each is a one-line warning now.
func TestClaudeSettingsPlanted(t *testing.T) {
	for name, plant := range map[string]func(path string) error{
		"fifo":      func(path string) error { return syscall.Mkfifo(path, 0o600) },
		"/dev/zero": func(path string) error { return os.Symlink("/dev/zero", path) },
		"huge": func(path string) error {
			f, err := os.Create(path)
			if err == nil {
				err = f.Truncate(1 << 30) // sparse
				f.Close()
			}
			return err
		},
	} {
		home := t.TempDir()
		path := filepath.Join(home, ".claude", "settings.json")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := plant(path); err != nil {
			t.Fatal(err)
		}
		done := make(chan string, 1)
		go func() { done <- claudeSandboxNote(home) }()
		select {
		case got := <-done:
			if !strings.HasPrefix(got, "WARN: "+path+" not read: ") || strings.Contains(got, "\n") {
				t.Errorf("%s: note %q, want a one-line warning", name, got)
			}
		case <-time.After(10 * time.Second): // a hang, not a slow read
			t.Fatalf("%s: reading the settings hung", name)
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

// TestJailWritesResolvesLinks: a directory that is a link to HOME, or a
// home that is a link, is judged as the jail binds it: HOME, never made
// writable.
func TestJailWritesResolvesLinks(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	os.Mkdir(home, 0o700)
	if err := os.Symlink(home, filepath.Join(root, "to-home")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ cwd, home string }{
		{filepath.Join(root, "to-home"), home},
		{home, filepath.Join(root, "to-home")},
	} {
		env := &Env{Getwd: func() (string, error) { return tc.cwd, nil },
			Getenv: func(k string) string { return map[string]string{"HOME": tc.home}[k] }}
		_, _, write, homeInside, err := jailWrites(env)
		if err != nil || len(write) != 0 || homeInside != home {
			t.Errorf("in %s with HOME %s: writes %q, home inside %q, %v; want none and %s", tc.cwd, tc.home, write, homeInside, err, home)
		}
	}
}
