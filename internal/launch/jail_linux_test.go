package launch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestInitArgv: the jail starts jailrun-init where it is installed next to
// jailrun, else jailrun in its role.
func TestInitArgv(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "jailrun")
	if got := initArgv(self); !slices.Equal(got, []string{self, "_jail-init"}) {
		t.Errorf("without jailrun-init: %q", got)
	}
	init := filepath.Join(dir, "jailrun-init")
	if err := os.WriteFile(init, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := initArgv(self); !slices.Equal(got, []string{init}) {
		t.Errorf("with jailrun-init: %q", got)
	}
}
