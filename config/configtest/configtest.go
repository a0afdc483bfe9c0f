// Package configtest writes jailrun config files for tests.
package configtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jailrun/jailrun/config"
)

// Write writes text as the config file that config.Load(getenv) reads,
// creating its directory, and returns the file's path.
func Write(t testing.TB, getenv func(string) string, text string) string {
	t.Helper()
	path := config.Path(getenv)
	if path == "" {
		t.Fatal("configtest: neither XDG_CONFIG_HOME nor HOME is an absolute directory")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
