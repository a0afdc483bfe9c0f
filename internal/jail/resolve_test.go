package jail

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGitProtectedSubmodules(t *testing.T) {
	common := t.TempDir()
	for _, dir := range []string{"modules/lib", "modules/path/to/sub", "modules/lib/modules/inner", "modules/lib/objects/ab"} {
		if err := os.MkdirAll(filepath.Join(common, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"", "modules/lib", "modules/path/to/sub", "modules/lib/modules/inner"} {
		if err := os.WriteFile(filepath.Join(common, dir, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := GitProtected("", common, common)
	for _, dir := range []string{"", "modules/lib", "modules/path/to/sub", "modules/lib/modules/inner"} {
		for _, name := range []string{"config", "config.worktree", "commondir", "gitdir", "hooks", "info"} {
			if want := filepath.Join(common, dir, name); !slices.Contains(got, want) {
				t.Errorf("GitProtected misses %s; got %q", want, got)
			}
		}
	}
	if slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, "objects") }) {
		t.Errorf("GitProtected names paths in objects: %q", got)
	}
}
