package saferead

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	os.WriteFile(regular, []byte("ok\n"), 0o600)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(regular, link)
	zero := filepath.Join(dir, "zero")
	os.Symlink("/dev/zero", zero)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 2048), 0o600)

	if data, err := ReadFile(regular, 100); err != nil || string(data) != "ok\n" {
		t.Errorf("regular: %q, %v", data, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 100); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v, want fs.ErrNotExist", err)
	}
	for _, path := range []string{fifo, link, zero, dir, "/dev/null"} {
		if _, err := ReadFile(path, 100); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: %v, want ErrNotRegular", path, err)
		}
	}
	if _, err := ReadFile(big, 1024); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v, want ErrTooLarge", err)
	}
	if data, err := ReadFile(big, 2048); err != nil || len(data) != 2048 {
		t.Errorf("big at its size: %d bytes, %v", len(data), err)
	}

	// The user's own files may be links; what they lead to is checked.
	if data, err := ReadUserFile(link, 100); err != nil || string(data) != "ok\n" {
		t.Errorf("ReadUserFile(link): %q, %v", data, err)
	}
	for _, path := range []string{fifo, zero} {
		if _, err := ReadUserFile(path, 100); !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadUserFile(%s): %v, want ErrNotRegular", path, err)
		}
	}
}
