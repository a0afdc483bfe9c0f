package testbin

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHideInstalled(t *testing.T) {
	installed, other := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(installed, "git-credential-jailrun"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(other, "git"), []byte("#!/bin/sh\n"), 0o755)
	t.Setenv("PATH", installed+string(filepath.ListSeparator)+other)
	HideInstalled()
	if got := os.Getenv("PATH"); got != other {
		t.Errorf("PATH = %q, want only %q", got, other)
	}
}
