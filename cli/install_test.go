package cli_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestInstallSaysWhatItDoes runs install.sh on an empty module cache with
// the module proxy turned off: before the download fails, it has said what
// it was doing, where it used to sit silent for half a minute.
func TestInstallSaysWhatItDoes(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command("sh", "../install.sh")
	cmd.Env = append(cmd.Environ(), "PREFIX="+tmp, "GOMODCACHE="+tmp+"/modcache", "GOPROXY=off", "GOFLAGS=-modcacherw")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("install.sh built with no module cache and no proxy; output:\n%s", out)
	}
	if !strings.HasPrefix(string(out), "install.sh: downloading the Go modules jailrun needs") {
		t.Errorf("install.sh did not say it was downloading first; output:\n%s", out)
	}
}
