package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jailrun/jailrun/internal/ptytest"
	"github.com/jailrun/jailrun/internal/testbin"
	"github.com/jailrun/jailrun/platform/linux"
)

// TestHeadlessRecipe pastes the README's "Headless Linux" line into a
// shell on a terminal, with nothing running but what the line starts, types
// the keyring password at its prompt and, in the shell it opens, adds a
// token. The line must be the one jailrun's errors give.
func TestHeadlessRecipe(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Headless Linux")
	_, block, _ := strings.Cut(section, "```sh\n")
	recipe, _, _ := strings.Cut(block, "\n```")
	if recipe != linux.HeadlessRecipe {
		t.Fatalf("the README's headless recipe is not the one errors give:\nREADME: %s\nerrors: %s", recipe, linux.HeadlessRecipe)
	}
	for _, program := range []string{"dbus-run-session", "gnome-keyring-daemon", "stty"} {
		if _, err := exec.LookPath(program); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found; CI must run the headless recipe", program)
			}
			t.Skipf("%s not found: install dbus and gnome-keyring to run the headless recipe", program)
		}
	}
	bin := testbin.Dir(t)
	root, err := os.MkdirTemp("", "jrhl") // short: sockets live under it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "LANG=C.UTF-8", "USER=jailrun-test",
		"JAILRUN_GITHUB_API=https://127.0.0.1:1"}
	for _, v := range []string{"HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"} {
		dir := filepath.Join(root, strings.ToLower(v))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		env = append(env, v+"="+dir)
	}
	// The shell the recipe opens runs what a user would type first.
	const token = "ghp_headlessRecipe0123456789"
	shell := filepath.Join(root, "first-commands")
	script := "#!/bin/sh\nprintf '%s\\n' " + token + " | jailrun token add --no-verify --name github:fine-grained-myorg\n"
	if err := os.WriteFile(shell, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", recipe)
	cmd.Env = append(env, "SHELL="+shell)
	term := ptytest.Start(t, cmd)
	term.WaitFor(t, "Keyring password: ", 1)
	const password = "headless-password"
	term.Type(t, password+"\r")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the recipe: %v; the screen:\n%s", err, term.Output())
	}
	term.WaitFor(t, "Saved github:fine-grained-myorg (ghp_headl...)", 1)
	if strings.Contains(term.Output(), password) {
		t.Errorf("the terminal showed the keyring password:\n%s", term.Output())
	}
}
