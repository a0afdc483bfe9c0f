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

// TestResolverAgreesWithEvalSymlinks: the resolver, which remembers the
// directories it has resolved, answers as filepath.EvalSymlinks does for
// links to directories and files, relative and absolute, chained,
// dangling and looping, and for ".." after a link.
func TestResolverAgreesWithEvalSymlinks(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"real/sub", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "real/sub/file"), nil, 0o644)
	for link, target := range map[string]string{
		"dirlink":       "real",
		"abslink":       filepath.Join(root, "real/sub"),
		"real/sub/up":   "../../other",
		"filelink":      "real/sub/file",
		"chain":         "dirlink",
		"dangling":      "nowhere",
		"loop":          "loop",
		"other/back":    "../dirlink/sub",
		"real/sub/self": ".",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	r := resolver{}
	for _, p := range []string{
		"real", "real/sub/file", "dirlink", "dirlink/sub", "dirlink/sub/file", "abslink/file",
		"real/sub/up", "dirlink/sub/up/back/file", "filelink", "chain/sub/file", "dangling", "loop",
		"missing/x", "dirlink/..", "dirlink/sub/../sub/file", "real/sub/self/self/file", "filelink/x",
		"real//sub/./file", "", "real/sub/file/", "real/sub/file/.", "filelink/", "filelink/.", "dirlink/", "dirlink/.",
	} {
		path := root + "/" + p // as written, not cleaned
		want, wantErr := filepath.EvalSymlinks(path)
		got, err := r.eval(path)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("eval(%s) = %q, %v; EvalSymlinks = %q, %v", p, got, err, want, wantErr)
		}
	}
}
