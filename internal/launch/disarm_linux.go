package launch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/jailrun/jailrun/internal/safedir"
	"github.com/jailrun/jailrun/internal/saferead"
	"github.com/jailrun/jailrun/session"
)

// runsPrograms are the git config keys (as git config --get-regexp names
// them: section and key lower-cased) whose values git runs, or that pull in
// more config: what a git directory the jail created must not keep.
var runsPrograms = []string{
	"core.fsmonitor", "core.hookspath", "core.sshcommand", "core.pager", "core.editor",
	"core.askpass", "core.gitproxy", "sequence.editor", "diff.external", "gpg.program", "gpg.*.program",
	"diff.*.textconv", "diff.*.command", "merge.*.driver", "filter.*.clean", "filter.*.smudge",
	"filter.*.process", "credential.helper", "credential.*.helper", "include.path", "includeif.*.path",
	"pager.*", "uploadpack.packobjectshook",
}

// disarmNewGitDirs finds the git directories in the work tree of loc that
// the session (which started at since) created or whose config or hooks it
// changed — a nested .git directory or file, a new or changed entry under
// .git/modules or .git/worktrees — and moves what in them runs a program
// (runsPrograms, "!" aliases, hooks) into a directory of its own under
// stateDir/disarmed. It returns the git directories disarmed.
func disarmNewGitDirs(loc session.Location, since time.Time, stateDir string) []disarmed {
	var gitDirs []string
	_ = filepath.WalkDir(loc.Toplevel, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case p == loc.GitDir || p == loc.CommonDir:
			return filepath.SkipDir
		case d.Name() != ".git" || p == filepath.Join(loc.Toplevel, ".git"):
			return nil
		}
		dir := p
		if !d.IsDir() {
			data, err := saferead.ReadFile(p, maxGitFile)
			target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
			if err != nil || !ok {
				return nil
			}
			if dir = strings.TrimSpace(target); !filepath.IsAbs(dir) {
				dir = filepath.Join(filepath.Dir(p), dir)
			}
		}
		gitDirs = append(gitDirs, filepath.Clean(dir))
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	for _, sub := range []string{"modules", "worktrees"} {
		entries, _ := os.ReadDir(filepath.Join(loc.CommonDir, sub))
		for _, e := range entries {
			if e.IsDir() {
				gitDirs = append(gitDirs, filepath.Join(loc.CommonDir, sub, e.Name()))
			}
		}
	}
	var done []disarmed
	for _, dir := range gitDirs {
		if !changedSince(dir, since) {
			continue
		}
		if aside := disarm(dir, stateDir); aside != "" {
			done = append(done, disarmed{gitDir: dir, aside: aside})
		}
	}
	return done
}

// disarmed is a git directory whose program-running settings were moved
// aside, and where to.
type disarmed struct{ gitDir, aside string }

func (d disarmed) line() string {
	return fmt.Sprintf("the agent made or changed the git directory %s; what in it would run a program outside (hooks, core.fsmonitor, aliases…) is now in %s: read it before you put any back", d.gitDir, d.aside)
}

// maxGitFile bounds a .git file.
const maxGitFile = 64 << 10

// changedSince reports whether dir, its config or its hooks directory was
// created or changed at or after since (ctime and birth time, which no
// program can set back).
func changedSince(dir string, since time.Time) bool {
	for _, p := range []string{dir, filepath.Join(dir, "config"), filepath.Join(dir, "hooks")} {
		var st unix.Statx_t
		if unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_CTIME|unix.STATX_BTIME, &st) != nil {
			continue
		}
		born := time.Unix(st.Btime.Sec, int64(st.Btime.Nsec))
		changed := time.Unix(st.Ctime.Sec, int64(st.Ctime.Nsec))
		if p == dir && st.Mask&unix.STATX_BTIME != 0 && !born.Before(since) || p != dir && !changed.Before(since) {
			return true
		}
	}
	return false
}

// disarm moves what in the git directory dir runs a program into a new
// directory under stateDir/disarmed, returned; "" when there was nothing.
func disarm(dir, stateDir string) string {
	var keep []string // key=value lines moved aside
	out, _ := gitConfig(dir, "--get-regexp", ".")
	for line := range strings.Lines(out) {
		key, value, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if !runsProgram(key, value) {
			continue
		}
		keep = append(keep, key+" = "+value)
		_, _ = gitConfig(dir, "--unset-all", key)
	}
	hooks := filepath.Join(dir, "hooks")
	var hookNames []string
	if entries, err := os.ReadDir(hooks); err == nil {
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".sample") {
				hookNames = append(hookNames, e.Name())
			}
		}
	}
	if len(keep) == 0 && len(hookNames) == 0 {
		return ""
	}
	state, err := safedir.Open(filepath.Join(stateDir, "disarmed"), 0o700)
	if err != nil {
		return ""
	}
	defer state.Close()
	aside, err := state.MkdirPrivate(time.Now().UTC().Format("20060102T150405Z") + "-")
	if err != nil {
		return ""
	}
	_ = os.WriteFile(filepath.Join(aside, "where"), []byte(dir+"\n"), 0o600)
	_ = os.WriteFile(filepath.Join(aside, "config"), []byte(strings.Join(keep, "\n")+"\n"), 0o600)
	for _, name := range hookNames {
		if err := os.Rename(filepath.Join(hooks, name), filepath.Join(aside, "hook-"+name)); err != nil {
			// Another file system: a name git never looks up disarms it too.
			_ = os.Rename(filepath.Join(hooks, name), filepath.Join(hooks, name+".disarmed-by-jailrun"))
		}
	}
	return aside
}

// runsProgram reports whether the config entry key (as git config
// --get-regexp names it) makes git run a program or read more config.
func runsProgram(key, value string) bool {
	if strings.HasPrefix(key, "alias.") {
		return strings.HasPrefix(strings.TrimSpace(value), "!")
	}
	for _, pattern := range runsPrograms {
		if ok, _ := path.Match(pattern, key); ok {
			return true
		}
		// A subsection may hold dots (includeif.gitdir:~/a.b.path).
		if before, after, ok := strings.Cut(pattern, ".*."); ok && strings.HasPrefix(key, before+".") && strings.HasSuffix(key, "."+after) {
			return true
		}
	}
	return false
}

// gitConfig runs git config on the config file of the git directory dir,
// which reads no include and runs nothing.
func gitConfig(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"config", "--file", filepath.Join(dir, "config")}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		err = nil // nothing matched
	}
	return string(out), err
}
