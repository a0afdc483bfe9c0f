package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jailrun/jailrun/cli"
	"github.com/jailrun/jailrun/internal/testbin"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testbin.HideInstalled()
	testscript.Main(testbin.RemovingAfter(m), map[string]func(){
		"jailrun": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs each script in testdata/script against the jailrun
// command, each with a private gnome-keyring of its own.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ks := keyringtest.Start(t)
			testscript.Run(t, testscript.Params{
				Files: []string{file},
				Setup: func(e *testscript.Env) error {
					e.Vars = append(e.Vars, ks.Env()...)
					// No request may leave the machine: verification meets a closed port.
					e.Setenv("JAILRUN_GITHUB_API", "https://127.0.0.1:1")
					return nil
				},
			})
		})
	}
}

// TestNoSecretService runs the scripts in testdata/nokeyring where the
// session bus has no Secret Service, or points nowhere.
func TestNoSecretService(t *testing.T) {
	bus := keyringtest.StartBusOnly(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/nokeyring",
		Setup: func(e *testscript.Env) error {
			e.Vars = append(e.Vars, bus.Env()...)
			e.Setenv("NOWHERE", "unix:path="+filepath.Join(e.WorkDir, "no-such-socket"))
			return nil
		},
	})
}

// TestNoCollection runs testdata/nocollection with gnome-keyring started
// as on a headless machine without a password: it has no collection.
func TestNoCollection(t *testing.T) {
	ks := keyringtest.StartWithoutCollection(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/nocollection",
		Setup: func(e *testscript.Env) error {
			e.Vars = append(e.Vars, ks.Env()...)
			e.Setenv("JAILRUN_GITHUB_API", "https://127.0.0.1:1")
			return nil
		},
	})
}
