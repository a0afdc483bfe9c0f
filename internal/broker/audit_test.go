package broker

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestAuditPath(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/jailrun/audit.log"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/h"}, "/h/.local/state/jailrun/audit.log"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/jailrun/audit.log"},
		{map[string]string{"HOME": "h"}, ""},
		{nil, ""},
	} {
		if got := AuditPath(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("AuditPath(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestOpenAuditCreatesPrivateFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "jailrun", "audit.log")
	for _, line := range []string{"one\n", "two\n"} {
		f, err := OpenAudit(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(line); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "one\ntwo\n" {
		t.Errorf("audit log = %q, %v; want both lines appended", data, err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir, filepath.Dir(filepath.Dir(path)): 0o700 | os.ModeDir} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, want)
		}
	}
}

// TestOpenAuditFollowsNoLink plants a symbolic link (and other traps) where
// the audit log or its directory goes, and checks that OpenAudit refuses
// it and writes nothing through it.
func TestOpenAuditFollowsNoLink(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		plant      func(t *testing.T, stateHome, victim string)
	}{
		{"linked directory", "symbolic link", func(t *testing.T, stateHome, victim string) {
			must(t, os.Symlink(victim, filepath.Join(stateHome, "jailrun")))
		}},
		{"linked file", "symbolic link", func(t *testing.T, stateHome, victim string) {
			must(t, os.Mkdir(filepath.Join(stateHome, "jailrun"), 0o700))
			must(t, os.Symlink(filepath.Join(victim, "audit.log"), filepath.Join(stateHome, "jailrun", "audit.log")))
		}},
		{"dangling link", "symbolic link", func(t *testing.T, stateHome, victim string) {
			must(t, os.Mkdir(filepath.Join(stateHome, "jailrun"), 0o700))
			must(t, os.Symlink(filepath.Join(victim, "new"), filepath.Join(stateHome, "jailrun", "audit.log")))
		}},
		{"hard link", "other links", func(t *testing.T, stateHome, victim string) {
			must(t, os.Mkdir(filepath.Join(stateHome, "jailrun"), 0o700))
			must(t, os.Link(filepath.Join(victim, "audit.log"), filepath.Join(stateHome, "jailrun", "audit.log")))
		}},
		{"fifo", "not a regular file", func(t *testing.T, stateHome, victim string) {
			must(t, os.Mkdir(filepath.Join(stateHome, "jailrun"), 0o700))
			must(t, syscall.Mkfifo(filepath.Join(stateHome, "jailrun", "audit.log"), 0o600))
		}},
		{"file for directory", "not a directory", func(t *testing.T, stateHome, victim string) {
			must(t, os.WriteFile(filepath.Join(stateHome, "jailrun"), nil, 0o600))
		}},
		{"directory others can write", "chmod go-w", func(t *testing.T, stateHome, victim string) {
			must(t, os.Mkdir(filepath.Join(stateHome, "jailrun"), 0o700))
			must(t, os.Chmod(filepath.Join(stateHome, "jailrun"), 0o777))
		}},
		{"state home others can write", "chmod go-w", func(t *testing.T, stateHome, victim string) {
			must(t, os.Chmod(stateHome, 0o777))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stateHome, victim := filepath.Join(t.TempDir(), "state"), t.TempDir()
			must(t, os.Mkdir(stateHome, 0o700))
			must(t, os.WriteFile(filepath.Join(victim, "audit.log"), []byte("victim\n"), 0o600))
			tc.plant(t, stateHome, victim)
			f, err := OpenAudit(filepath.Join(stateHome, "jailrun", "audit.log"))
			if err == nil {
				f.Close()
				t.Fatal("OpenAudit succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.want)
			}
			entries, _ := os.ReadDir(victim)
			data, _ := os.ReadFile(filepath.Join(victim, "audit.log"))
			if len(entries) != 1 || string(data) != "victim\n" {
				t.Errorf("the link's target changed: %d entries, audit.log %q", len(entries), data)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpenAuditRotates: a log at the size cap becomes audit.log.1,
// replacing the older one, and the new log's first line says so.
func TestOpenAuditRotates(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	path := filepath.Join(dir, "jailrun", "audit.log")
	f, err := OpenAudit(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxAuditSize) // sparse: as full as a flood would make it
	f.Close()
	os.WriteFile(path+".1", []byte("older\n"), 0o600)
	f, err = OpenAudit(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, err := os.Stat(path + ".1"); err != nil || fi.Size() != MaxAuditSize {
		t.Errorf("audit.log.1: %v, want the full log", err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"op":"rotated"`) || !strings.Contains(string(data), "(6 bytes) was dropped") || strings.Count(string(data), "\n") != 1 {
		t.Errorf("new audit.log = %q, want one line about the rotation", data)
	}
}
