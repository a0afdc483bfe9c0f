package fserr_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/jailrun/jailrun/internal/fserr"
)

func TestWithoutPath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	_, openErr := os.Open(missing)
	linkErr := os.Symlink(dir, dir)
	other := errors.New("not a file system error")
	for _, c := range []struct {
		name string
		err  error
		want string
		is   error
	}{
		{"path error", openErr, "no such file or directory", fs.ErrNotExist},
		{"link error", linkErr, "file exists", fs.ErrExist},
		{"other error", other, "not a file system error", other},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := fserr.WithoutPath(c.err)
			if got == nil || got.Error() != c.want {
				t.Fatalf("WithoutPath(%v) = %v, want %q", c.err, got, c.want)
			}
			if !errors.Is(got, c.is) {
				t.Errorf("WithoutPath(%v) lost %v from its chain", c.err, c.is)
			}
		})
	}
}
