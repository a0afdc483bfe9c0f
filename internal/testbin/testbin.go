// Package testbin builds jailrun's commands for tests that run them as
// programs: each once per test binary, side by side in one directory as
// install.sh installs them.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// startEnv is the environment the test binary started with: tests move
// HOME and XDG_CACHE_HOME, and with them the build cache.
var startEnv = os.Environ()

// made is set once dir has made the directory, for RemovingAfter.
var made atomic.Bool

// dir makes the directory the commands are built in, on its first call.
var dir = sync.OnceValues(func() (string, error) {
	made.Store(true)
	return os.MkdirTemp("", "jrbin")
})

// builds builds each command of cmd/ into dir, once.
var builds = map[string]func() (string, error){
	"jailrun":                sync.OnceValues(func() (string, error) { return buildWith("jailrun", "jailrun-init") }),
	"git-credential-jailrun": sync.OnceValues(func() (string, error) { return build("git-credential-jailrun") }),
}

// buildWith builds cmd and the commands it runs next to itself: jailrun
// starts its jail with jailrun-init.
func buildWith(cmd string, others ...string) (string, error) {
	for _, o := range others {
		if _, err := build(o); err != nil {
			return "", err
		}
	}
	return build(cmd)
}

func build(cmd string) (string, error) {
	d, err := dir()
	if err != nil {
		return "", err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	path := filepath.Join(d, cmd)
	c := exec.Command(goTool, "build", "-o", path, "github.com/jailrun/jailrun/cmd/"+cmd)
	c.Env = startEnv
	if out, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", cmd, err, out)
	}
	return path, nil
}

// Path returns the built command cmd (a directory of cmd/), building it
// on the first call of the test binary; a failed build fails t.
func Path(t testing.TB, cmd string) string {
	t.Helper()
	b, ok := builds[cmd]
	if !ok {
		t.Fatalf("testbin: no command %s", cmd)
	}
	path, err := b()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Dir returns the directory that holds every built command, building
// those not built yet.
func Dir(t testing.TB) string {
	t.Helper()
	for cmd := range builds {
		Path(t, cmd)
	}
	d, _ := dir()
	return d
}

// RemovingAfter returns m whose Run, after the tests, removes what Path
// built; TestMain runs it in m's place.
func RemovingAfter(m interface{ Run() int }) interface{ Run() int } {
	return removing{m}
}

type removing struct{ m interface{ Run() int } }

func (r removing) Run() int {
	code := r.m.Run()
	if made.Load() {
		if d, err := dir(); err == nil {
			os.RemoveAll(d)
		}
	}
	return code
}

// HideInstalled takes out of PATH every directory that holds an installed
// jailrun or git-credential-jailrun (install.sh's ~/.local/bin, say), so
// that a test that expects a command to be missing, or runs the commands
// it built, behaves the same in a user's login shell as in CI. TestMain
// calls it first. It does nothing in a command that testscript runs
// through the test binary: that one's PATH is the script's own.
func HideInstalled() {
	if !strings.HasSuffix(filepath.Base(os.Args[0]), ".test") {
		return
	}
	var kept []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if !holdsInstalled(d) {
			kept = append(kept, d)
		}
	}
	os.Setenv("PATH", strings.Join(kept, string(filepath.ListSeparator)))
}

// holdsInstalled says whether dir holds one of jailrun's commands.
func holdsInstalled(dir string) bool {
	for cmd := range builds {
		if fi, err := os.Stat(filepath.Join(dir, cmd)); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}
