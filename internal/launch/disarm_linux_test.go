package launch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/session"
)

func TestInertOnly(t *testing.T) {
	kept, inert, err := inertOnly([]byte("[core]\n\tbare = false\n\tfsmonitor = evil\n[remote \"o\\\"r\"]\n\turl = \"a b\"\n" +
		"[alias]\n\tst = status\n[gpg \"ssh\"]\n\tdefaultKeyCommand = evil\n[core]\n\talternateRefsCommand = evil\n"))
	if err != nil || inert {
		t.Fatalf("inert %v, %v", inert, err)
	}
	out, err := gitConfigList(kept)
	if want := "core.bare\nfalse\x00remote.o\"r.url\na b\x00"; out != want || err != nil {
		t.Errorf("kept %q, which git reads as %q (%v); want %q", kept, out, err, want)
	}
	if _, inert, err := inertOnly([]byte("[core]\n\tbare = false\n[submodule \"x\"]\n\tactive = true\n")); !inert || err != nil {
		t.Errorf("git init's and submodule's keys: inert %v, %v", inert, err)
	}
}

// TestDisarm: what the red team planted in git directories that a
// session made — a link for config or hooks into the user's files, a
// config.worktree, a commondir to a config of the agent's, a .git link, a
// FIFO — is moved aside without following a link or hanging, and git
// outside runs none of it; the user's files stay as they were.
func TestDisarm(t *testing.T) {
	since := time.Now().Add(-time.Second)
	top, home := t.TempDir(), t.TempDir()
	gittest.Git(t, top, "init", "--quiet")
	secret := filepath.Join(home, ".ssh", "id_ed25519")
	os.MkdirAll(filepath.Dir(secret), 0o700)
	os.WriteFile(secret, []byte("key"), 0o600)
	gitconfig := filepath.Join(home, ".gitconfig")
	os.WriteFile(gitconfig, []byte("[alias]\n\tx = !true\n"), 0o644)
	marker := filepath.Join(top, "ran")
	fsmonitor := "touch " + marker + "; false"
	nested := func(name string) string {
		dir := filepath.Join(top, name)
		gittest.Git(t, top, "init", "--quiet", name)
		return filepath.Join(dir, ".git")
	}
	g := nested("links")
	os.Remove(filepath.Join(g, "config"))
	os.Symlink(gitconfig, filepath.Join(g, "config"))
	os.RemoveAll(filepath.Join(g, "hooks"))
	os.Symlink(filepath.Dir(secret), filepath.Join(g, "hooks"))
	g = nested("worktree-config")
	gittest.Git(t, filepath.Dir(g), "config", "extensions.worktreeConfig", "true")
	gittest.Git(t, filepath.Dir(g), "config", "core.repositoryformatversion", "1")
	os.WriteFile(filepath.Join(g, "config.worktree"), []byte("[core]\n\tfsmonitor = \""+fsmonitor+"\"\n"), 0o644)
	g = nested("commondir")
	evil := filepath.Join(top, ".git", "x")
	os.MkdirAll(evil, 0o755)
	os.WriteFile(filepath.Join(evil, "config"), []byte("[core]\n\tfsmonitor = \""+fsmonitor+"\"\n"), 0o644)
	os.WriteFile(filepath.Join(g, "commondir"), []byte("../../.git/x\n"), 0o644)
	g = nested("linked")
	gittest.Git(t, filepath.Dir(g), "config", "core.fsmonitor", fsmonitor)
	os.Rename(g, filepath.Join(top, "evil"))
	os.Symlink("../evil", g)
	g = nested("fifo")
	os.Remove(filepath.Join(g, "config"))
	syscall.Mkfifo(filepath.Join(g, "config"), 0o600)

	loc := session.Location{Toplevel: top, GitDir: filepath.Join(top, ".git"), CommonDir: filepath.Join(top, ".git")}
	done := make(chan []disarmed, 1)
	go func() { done <- disarmNewGitDirs(loc, since, t.TempDir()) }()
	var got []disarmed
	select {
	case got = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("disarming hung")
	}
	if len(got) != 5 {
		t.Errorf("disarmed %+v, want the 5 nested git directories", got)
	}
	for _, name := range []string{"links", "worktree-config", "commondir", "linked"} {
		cmd := exec.Command("git", "status", "--short")
		cmd.Dir, cmd.Env = filepath.Join(top, name), append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		cmd.Run()
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("git status in %s ran the planted program", name)
			os.Remove(marker)
		}
	}
	if data, err := os.ReadFile(secret); err != nil || string(data) != "key" {
		t.Errorf("%s, behind a hooks link, is %q, %v", secret, data, err)
	}
	if data, _ := os.ReadFile(gitconfig); string(data) != "[alias]\n\tx = !true\n" {
		t.Errorf("%s, behind a config link, became %q", gitconfig, data)
	}
}

// TestDisarmLooksIntoHiddenDirectories: a nested repository in a
// directory the agent made unreadable to its owner (mode 0311) was out of
// the walk's sight; now the directory is opened to the owner, the nested
// repository disarmed, and git outside runs nothing of it. A directory the
// session did not make stays as it is, reported. Run by root, the walk
// drops the capabilities that let root read any directory.
func TestDisarmLooksIntoHiddenDirectories(t *testing.T) {
	top := t.TempDir()
	gittest.Git(t, top, "init", "--quiet")
	old := filepath.Join(top, "old")
	os.Mkdir(old, 0o700)
	os.Chmod(old, 0o311)
	time.Sleep(20 * time.Millisecond) // its ctime before since
	since := time.Now()
	time.Sleep(20 * time.Millisecond)
	marker := filepath.Join(top, "ran")
	hidden := filepath.Join(top, "hide", "deeper")
	gittest.Git(t, top, "init", "--quiet", filepath.Join("hide", "deeper", "n"))
	gittest.Git(t, filepath.Join(hidden, "n"), "config", "core.fsmonitor", "touch "+marker+"; false")
	// A hook in a hooks directory closed to its owner (git needs only
	// search permission to run it), and a git directory closed whole.
	gittest.Git(t, top, "init", "--quiet", "hooked")
	hooks := filepath.Join(top, "hooked", ".git", "hooks")
	os.WriteFile(filepath.Join(hooks, "pre-commit"), []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755)
	gittest.Git(t, top, "init", "--quiet", "closed")
	gittest.Git(t, filepath.Join(top, "closed"), "config", "core.fsmonitor", "touch "+marker+"; false")
	for d, mode := range map[string]os.FileMode{hidden: 0o311, filepath.Join(top, "hide"): 0o311, hooks: 0o311, filepath.Join(top, "closed", ".git"): 0} {
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(old, 0o700) })
	loc := session.Location{Toplevel: top, GitDir: filepath.Join(top, ".git"), CommonDir: filepath.Join(top, ".git")}
	state := t.TempDir()
	done := make(chan []disarmed, 1)
	go func() {
		// Not unlocked: the thread, whose capabilities may be fewer, ends
		// with the goroutine.
		runtime.LockOSThread()
		if os.Geteuid() == 0 {
			if err := dropDACCapabilities(); err != nil {
				t.Error(err)
				done <- nil
				return
			}
		}
		done <- disarmNewGitDirs(loc, since, state)
	}()
	got := <-done
	var lines []string
	for _, d := range got {
		lines = append(lines, d.line())
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{
		"the agent made " + filepath.Join(top, "hide") + " unreadable (mode 0311)",
		"the agent made " + hidden + " unreadable (mode 0311)",
		"the git directory " + filepath.Join(hidden, "n", ".git"),
		"could not look into " + old,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the walk said:\n%s\nwant a line with %q", text, want)
		}
	}
	if fi, err := os.Stat(hidden); err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("%s is %v, %v; want it opened to its owner (0711)", hidden, fi.Mode(), err)
	}
	if fi, _ := os.Lstat(old); fi.Mode().Perm() != 0o311 {
		t.Errorf("%s, which the session did not make, is %v now", old, fi.Mode())
	}
	for _, dir := range []string{filepath.Join(hidden, "n"), filepath.Join(top, "hooked"), filepath.Join(top, "closed")} {
		// git as an ordinary user runs it: without root's capabilities.
		args := []string{"git", "-c", "user.name=a", "-c", "user.email=a@example.com", "commit", "--quiet", "--allow-empty", "-m", "x"}
		if os.Geteuid() == 0 {
			args = append([]string{"setpriv", "--inh-caps=-all", "--bounding-set=-all"}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		cmd.Run()
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("git commit in %s ran the planted program", dir)
			os.Remove(marker)
		}
	}
}

// dropDACCapabilities takes CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH out of
// the calling thread's effective set, as an ordinary user has neither.
func dropDACCapabilities() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[0].Effective &^= 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH
	return unix.Capset(&hdr, &data[0])
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

// TestCachesReclaimed: caches an earlier jail opened to others or
// replaced with a link are jailrun's again at the next launch, which
// neither fails (in auto mode, the program would then run unjailed) nor
// follows the link.
func TestCachesReclaimed(t *testing.T) {
	state, home := t.TempDir(), t.TempDir()
	if _, _, _, _, err := prepareCaches(state, home, nil); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(state, "cache")
	os.Chmod(cache, 0o777)
	os.Chmod(filepath.Join(cache, "go"), 0o777)
	os.Remove(filepath.Join(cache, "npm"))
	os.Symlink(home, filepath.Join(cache, "npm"))
	_, _, _, moved, err := prepareCaches(state, home, nil)
	if err != nil || len(moved) != 1 || !strings.HasPrefix(moved[0], filepath.Join(cache, "npm.moved-aside-")) {
		t.Fatalf("moved %q, %v; want the npm link moved aside", moved, err)
	}
	for _, dir := range []string{cache, filepath.Join(cache, "go"), filepath.Join(cache, "npm")} {
		if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want a directory of mode 0700", dir, fi, err)
		}
	}
	if target, err := os.Readlink(moved[0]); err != nil || target != home {
		t.Errorf("the link moved aside leads to %q, %v", target, err)
	}
}
