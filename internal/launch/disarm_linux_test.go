package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jailrun/jailrun/session"
)

func TestRunsProgram(t *testing.T) {
	for key, want := range map[string]bool{
		"core.fsmonitor":                       true,
		"core.hookspath":                       true,
		"filter.lfs.smudge":                    true,
		"diff.my.driver.textconv":              true,
		"includeif.gitdir:~/a.b/.path":         true,
		"credential.https://x.example.helper":  true,
		"pager.log":                            true,
		"user.email":                           false,
		"core.autocrlf":                        false,
		"remote.origin.url":                    false,
		"credential.https://x.example.usehttp": false,
	} {
		if got := runsProgram(key, "x"); got != want {
			t.Errorf("runsProgram(%s) = %v, want %v", key, got, want)
		}
	}
	if !runsProgram("alias.st", "!sh -c evil") || runsProgram("alias.st", "status") {
		t.Error("a ! alias runs a program; a plain one does not")
	}
}

// BenchmarkDisarmWalk times the walk at a session's end over a work tree
// of 20,000 files in 400 directories with nothing to disarm.
func BenchmarkDisarmWalk(b *testing.B) {
	top := b.TempDir()
	os.MkdirAll(filepath.Join(top, ".git"), 0o755)
	for d := range 400 {
		dir := filepath.Join(top, fmt.Sprintf("d%03d", d))
		os.MkdirAll(dir, 0o755)
		for f := range 50 {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", f)), nil, 0o644)
		}
	}
	loc := session.Location{Toplevel: top, GitDir: filepath.Join(top, ".git"), CommonDir: filepath.Join(top, ".git")}
	since := time.Now()
	for b.Loop() {
		if got := disarmNewGitDirs(loc, since, b.TempDir()); len(got) != 0 {
			b.Fatal(got)
		}
	}
}
