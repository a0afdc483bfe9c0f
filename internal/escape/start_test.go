//go:build linux

package escape_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/jailrun/jailrun/internal/ptytest"
	"golang.org/x/sys/unix"
)

// startLines matches the line every launch writes about the jail.
var startLines = regexp.MustCompile(`(?m)^\[[^]\n]*\] (jailed|NOT jailed): `)

// TestNesting checks that a jailrun started in the jail finds the broker
// and uses the jail it is in, even with the session's marker variable
// removed, and that the keyring commands there say it is out of reach.
// Unjailed, the same inner launch sets up a session of its own, so the
// first check can fail.
func TestNesting(t *testing.T) {
	w := newWorld(t)
	inner := `env -u _CREDENTIAL_GUARD_SANDBOXED jailrun run -- sh -c 'echo inner-ran'`
	for mode, want := range map[string]int{jailed: 1, unjailed: 2} {
		r := w.run(mode, w.repos["myorg"], inner)
		if got := len(startLines.FindAllString(r.stderr, -1)); r.code != 0 || !strings.Contains(r.stdout, "inner-ran") || got != want {
			t.Errorf("JAILRUN_JAIL=%s: a nested launch wrote %d jail lines, want %d (exit %d); stderr:\n%s", mode, got, want, r.code, w.redact(r.stderr))
		}
	}

	r := w.run(jailed, w.repos["myorg"], "jailrun token list")
	if r.code != 1 || !strings.Contains(r.stderr, "out of reach inside jailrun's jail") {
		t.Errorf("jailrun token list in the jail: exit %d; stderr:\n%s", r.code, w.redact(r.stderr))
	}
	if r := w.run(unjailed, w.repos["myorg"], "jailrun token list"); r.code != 0 || !strings.Contains(r.stdout, "github:fine-grained-myorg") {
		t.Errorf("jailrun token list unjailed: exit %d; stdout %q", r.code, r.stdout)
	}

	// status in the jail asks the broker, which serves the owner's token.
	// (The test's config lies in a /tmp the jail does not show, so the
	// repository is named.)
	r = w.run(jailed, w.repos["myorg"], "jailrun status -R "+w.srv.Host+"/myorg/r")
	if !strings.Contains(r.stdout, "Token:      github:fine-grained-myorg, from the jail's token broker") {
		t.Errorf("jailrun status in the jail: exit %d; stdout:\n%s\nstderr:\n%s", r.code, w.redact(r.stdout), w.redact(r.stderr))
	}
}

// TestJailDoesNotStart runs jailrun with a bwrap that cannot set a jail up,
// as on a machine whose kernel refuses user namespaces: by default the
// program runs with a NOT jailed line that says why; JAILRUN_JAIL=on stops
// before running it. The real bwrap starts the jail, so the checks can fail.
func TestJailDoesNotStart(t *testing.T) {
	w := newWorld(t)
	broken := t.TempDir()
	script := "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(broken, "bwrap"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + broken + string(filepath.ListSeparator) + os.Getenv("PATH")
	for _, env := range w.env {
		if p, ok := strings.CutPrefix(env, "PATH="); ok {
			path = "PATH=" + broken + string(filepath.ListSeparator) + p
		}
	}
	const agent = "echo agent-ran"
	r := w.run(unjailed, w.repos["myorg"], agent, "JAILRUN_JAIL=auto", path)
	if r.code != 0 || r.stdout != "agent-ran\n" || !strings.Contains(r.stderr, "] NOT jailed: bwrap cannot start a sandbox") ||
		strings.Contains(r.stderr, "] jailed") {
		t.Errorf("JAILRUN_JAIL=auto with a broken bwrap: exit %d, stdout %q; stderr:\n%s", r.code, r.stdout, w.redact(r.stderr))
	}
	r = w.run(unjailed, w.repos["myorg"], agent, "JAILRUN_JAIL=on", path)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "cannot start the jail (JAILRUN_JAIL=on)") ||
		strings.Contains(r.stderr, "] jailed") {
		t.Errorf("JAILRUN_JAIL=on with a broken bwrap: exit %d, stdout %q; stderr:\n%s", r.code, r.stdout, w.redact(r.stderr))
	}
	if r := w.run(jailed, w.repos["myorg"], agent); r.code != 0 || r.stdout != "agent-ran\n" {
		t.Errorf("with the real bwrap: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestStartedInHome starts the agent in the home directory, which outside a
// repository would be the directory it may write: the jail keeps home
// read-only all the same, and says so.
func TestStartedInHome(t *testing.T) {
	w := newWorld(t)
	const attack = "echo '# planted' >> .bashrc && echo planted"
	if r := w.run(unjailed, w.home, attack); r.stdout != "planted\n" {
		t.Fatalf("unjailed, writing ~/.bashrc failed (exit %d): the case proves nothing; stderr:\n%s", r.code, w.redact(r.stderr))
	}
	r := w.run(jailed, w.home, attack)
	if r.stdout == "planted\n" {
		t.Errorf("BREACH: started in HOME, the jailed program wrote ~/.bashrc")
	}
	if !strings.Contains(r.stderr, "holds your home directory, which stays read-only in the jail") {
		t.Errorf("the start lines do not say why HOME is read-only; stderr:\n%s", w.redact(r.stderr))
	}
}

// TestAgentState runs stand-ins for the agents jailrun knows, each writing
// its own state: in the jail each may write its own, not another's, and
// not its settings, which define commands (hooks, MCP servers) for its
// later runs, unjailed ones included. The settings file is missing when
// the jailed stand-in runs, so that it could be created.
func TestAgentState(t *testing.T) {
	w := newWorld(t)
	agents := filepath.Join(w.home, "agents")
	for _, dir := range []string{"agents", ".claude", ".codex", ".gemini"} {
		if err := os.MkdirAll(filepath.Join(w.home, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	own := map[string]string{"claude": "echo '{}' > ~/.claude.json && touch ~/.claude/state", "codex": "touch ~/.codex/state", "gemini": "touch ~/.gemini/state"}
	settings := map[string]string{"claude": ".claude/settings.json", "codex": ".codex/config.toml", "gemini": ".gemini/settings.json"}
	for name, write := range own {
		script := "#!/bin/sh\n" + write + " && echo own-state\ntouch ~/.codex/claude-was-here 2>/dev/null && echo other-state\n"
		if name == "codex" {
			script = "#!/bin/sh\n" + write + " && echo own-state\ntouch ~/.gemini/codex-was-here 2>/dev/null && echo other-state\n"
		}
		script += "echo '{\"hooks\": \"planted\"}' > ~/" + settings[name] + " 2>/dev/null && echo settings-written\n"
		if err := os.WriteFile(filepath.Join(agents, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := "PATH=" + agents + string(filepath.ListSeparator) + os.Getenv("PATH")
	for _, env := range w.env {
		if p, ok := strings.CutPrefix(env, "PATH="); ok {
			path = "PATH=" + agents + string(filepath.ListSeparator) + p
		}
	}
	for name := range own {
		for _, mode := range []string{unjailed, jailed} {
			r := w.launch(mode, w.repos["myorg"], []string{name}, path)
			wrote := strings.Contains(r.stdout, "own-state")
			other := strings.Contains(r.stdout, "other-state")
			planted := strings.Contains(r.stdout, "settings-written")
			settingsFile := filepath.Join(w.home, settings[name])
			switch {
			case mode == unjailed && !planted:
				t.Errorf("unjailed, %s could not write its settings: the case proves nothing", name)
			case mode == jailed && planted:
				t.Errorf("BREACH: jailed, %s wrote %s, which its later runs obey", name, settingsFile)
			}
			if mode == unjailed {
				os.Remove(settingsFile)
			} else if _, err := os.Lstat(settingsFile); err == nil {
				t.Errorf("%s is left after the jailed session: the placeholder was not removed", settingsFile)
			}
			switch {
			case !wrote:
				t.Errorf("JAILRUN_JAIL=%s: %s could not write its own state (exit %d); stderr:\n%s", mode, name, r.code, w.redact(r.stderr))
			case mode == unjailed && !other:
				t.Errorf("unjailed, %s could not write another agent's state: the case proves nothing", name)
			case mode == jailed && other:
				t.Errorf("BREACH: jailed, %s wrote another agent's state", name)
			}
		}
	}
}

// TestGitDirPlaceholders: during a jailed session the names a jail must not
// create exist as jailrun's placeholders, with which git outside works as
// before; after it, nothing of them is left.
func TestGitDirPlaceholders(t *testing.T) {
	w := newWorld(t)
	repo := w.repos["myorg"]
	outside := exec.Command("git", "-C", repo, "status", "--short")
	r := w.run(jailed, repo, `cat .git/commondir && test -d .git/info && test -f .git/gitdir`)
	if r.code != 0 || r.stdout != ".\n" {
		t.Errorf("in the jail: exit %d, commondir %q; stderr:\n%s", r.code, r.stdout, w.redact(r.stderr))
	}
	for _, name := range []string{"commondir", "gitdir", "config.worktree"} {
		if _, err := os.Lstat(filepath.Join(repo, ".git", name)); err == nil {
			t.Errorf(".git/%s is left after the session", name)
		}
	}
	outside.Env = w.env
	if out, err := outside.CombinedOutput(); err != nil {
		t.Errorf("git status outside after the session: %v\n%s", err, out)
	}
}

// TestPlantedGitDirRefused: a commondir that leads outside the repository
// (as a jail could have left before the placeholders) is refused with a
// line naming it, and the program does not run, jailed or unjailed in its
// place;
// with the jail off, jailrun does not read it and the program runs.
func TestPlantedGitDirRefused(t *testing.T) {
	w := newWorld(t)
	repo := w.repos["myorg"]
	planted := filepath.Join(repo, ".git", "commondir")
	if err := os.WriteFile(planted, []byte(filepath.Join(w.home, ".config")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(planted)
	// auto, which runs a program unjailed where the jail cannot start,
	// must not do so here.
	r := w.run("auto", repo, "echo program-ran")
	if r.code == 0 || strings.Contains(r.stdout, "program-ran") || !strings.Contains(r.stderr, planted+" points outside the repository's git directory") {
		t.Errorf("jailed: exit %d, stdout %q; stderr:\n%s", r.code, r.stdout, w.redact(r.stderr))
	}
	if r := w.run(unjailed, repo, "echo program-ran"); !strings.Contains(r.stdout, "program-ran") {
		t.Errorf("unjailed: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestTerminalRestored: an agent that turns echo and canonical mode off and
// takes the terminal exclusively, then ends, leaves the terminal as it
// found it. Unjailed, jailrun has become the program and cannot restore
// anything, so the case can fail.
func TestTerminalRestored(t *testing.T) {
	w := newWorld(t)
	_, tty := ptytest.Open(t)
	fd := int(tty.Fd())
	for _, mode := range []string{unjailed, jailed} {
		cmd := exec.Command(filepath.Join(w.bin, "jailrun"), "run", "--", "sh", "-c", "stty -echo -icanon && attack tiocexcl")
		cmd.Dir = w.repos["myorg"]
		cmd.Env = append(slices.Clip(w.env), "JAILRUN_JAIL="+mode)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: w.cred}
		if err := cmd.Run(); err != nil {
			t.Fatalf("JAILRUN_JAIL=%s: %v", mode, err)
		}
		tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		excl, err := unix.IoctlGetInt(fd, unix.TIOCGEXCL)
		if err != nil {
			t.Fatal(err)
		}
		restored := tio.Lflag&unix.ECHO != 0 && tio.Lflag&unix.ICANON != 0 && excl == 0
		switch {
		case mode == unjailed && restored:
			t.Error("unjailed, the terminal came back as it was: the case proves nothing")
		case mode == jailed && !restored:
			t.Errorf("jailed, the terminal stays changed: echo %v, canonical %v, exclusive %d",
				tio.Lflag&unix.ECHO != 0, tio.Lflag&unix.ICANON != 0, excl)
		}
		tio.Lflag |= unix.ECHO | unix.ICANON
		if err := unix.IoctlSetTermios(fd, unix.TCSETS, tio); err != nil {
			t.Fatal(err)
		}
		if err := unix.IoctlSetInt(fd, unix.TIOCNXCL, 0); err != nil {
			t.Fatal(err)
		}
	}
}
