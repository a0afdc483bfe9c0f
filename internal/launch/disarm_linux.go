package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/jailrun/jailrun/internal/audit"
	"github.com/jailrun/jailrun/internal/fserr"
	"github.com/jailrun/jailrun/internal/safedir"
	"github.com/jailrun/jailrun/internal/saferead"
	"github.com/jailrun/jailrun/session"
)

// inertConfig are the git config keys (as git config --list names them:
// section and key lower-cased) that a git directory the jail created may
// keep: what git init, git clone and git submodule write, none of which
// runs a program, pulls in more config or sends git elsewhere. Every
// other key is moved aside: a list of what runs programs would miss some
// (gpg.ssh.defaultkeycommand, core.alternaterefscommand, …).
var inertConfig = []string{
	"core.repositoryformatversion", "core.filemode", "core.bare", "core.logallrefupdates",
	"core.ignorecase", "core.precomposeunicode", "core.symlinks", "core.worktree",
	"extensions.objectformat", "remote.*.url", "remote.*.fetch", "branch.*.remote", "branch.*.merge",
	"submodule.*.url", "submodule.*.active", "user.name", "user.email",
}

// disarmNewGitDirs finds the git directories in the work tree of loc that
// the session (which started at since) created or changed — a nested .git
// directory, file or link, a new or changed entry under .git/modules or
// .git/worktrees — and moves what in them would have git run a program
// or look elsewhere (see disarm) into a directory of its own under
// stateDir/disarmed. A directory the session made that its owner may not
// read is opened to the owner first (see reopen): an agent could hide a
// git directory in one. It returns what it disarmed and reopened, and the
// directories it could not look into, where a git directory may hide.
func disarmNewGitDirs(loc session.Location, since time.Time, stateDir string) []disarmed {
	var found, done []disarmed
	top, common := resolved(loc.Toplevel), resolved(loc.CommonDir)
	reopened := map[string]bool{}
	var visit fs.WalkDirFunc
	visit = func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && d != nil && d.IsDir() && errors.Is(err, fs.ErrPermission) && !reopened[p] && len(reopened) < maxDisarmed:
			if before, ok := reopen(p, since, 0o500); ok {
				reopened[p] = true
				done = append(done, disarmed{gitDir: p, reopened: true, before: before, after: before | 0o500})
				return filepath.WalkDir(p, visit)
			}
			fallthrough
		case err != nil:
			if d != nil && d.IsDir() || p == loc.Toplevel {
				done = append(done, disarmed{gitDir: p, unread: fserr.WithoutPath(err).Error()})
			}
			return nil
		case p == loc.GitDir || p == loc.CommonDir:
			return filepath.SkipDir
		case d.Name() != ".git" || p == filepath.Join(loc.Toplevel, ".git"):
			return nil
		}
		dir := p
		if d.Type().IsRegular() {
			data, err := saferead.ReadFile(p, maxGitFile)
			target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
			if err != nil || !ok {
				return nil
			}
			if dir = strings.TrimSpace(target); !filepath.IsAbs(dir) {
				dir = filepath.Join(filepath.Dir(p), dir)
			}
			// Only the jail's writable places can hold what the agent
			// wrote; a git directory elsewhere is someone else's.
			if real := resolved(dir); !within(real, top) && !within(real, common) {
				return nil
			}
		}
		found = append(found, disarmed{gitDir: filepath.Clean(dir)})
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	}
	_ = filepath.WalkDir(loc.Toplevel, visit)
	for _, sub := range []string{"modules", "worktrees"} {
		entries, _ := os.ReadDir(filepath.Join(loc.CommonDir, sub))
		for _, e := range entries {
			found = append(found, disarmed{gitDir: filepath.Join(loc.CommonDir, sub, e.Name()), worktree: sub == "worktrees"})
		}
	}
	for _, d := range found {
		if len(done) >= maxDisarmed {
			break
		}
		if !changedSince(d.gitDir, since) {
			continue
		}
		if d.aside = disarm(d.gitDir, loc.CommonDir, d.worktree, stateDir, since); d.aside != "" {
			done = append(done, d)
		}
	}
	return done
}

// maxDisarmed bounds the git directories disarmed at a session's end.
const maxDisarmed = 1000

// disarmed is a git directory whose settings that run programs were moved
// aside, and where to; or a directory the walk could not read (unread),
// or opened to read it (reopened, with its mode before).
type disarmed struct {
	gitDir, aside string
	worktree      bool // an entry of .git/worktrees
	unread        string
	reopened      bool // opened to its owner, from mode before to after
	before, after fs.FileMode
}

func (d disarmed) line() string {
	switch {
	case d.unread != "":
		return fmt.Sprintf("could not look into %s for git directories the agent made (%s): check it before you run git there", d.gitDir, d.unread)
	case d.reopened:
		return fmt.Sprintf("the agent made %s unreadable (mode %04o), which could hide a git directory; it is open to you again (%04o) and was looked into", d.gitDir, d.before, d.after)
	}
	return fmt.Sprintf("the agent made or changed the git directory %s; what in it would run a program outside (hooks, core.fsmonitor, aliases…) is now in %s: read it before you put any back", d.gitDir, d.aside)
}

// record is d's audit line.
func (d disarmed) record() audit.Record {
	switch {
	case d.unread != "":
		return audit.Record{Op: "disarm", Path: d.gitDir, Result: "unread", Reason: d.unread}
	case d.reopened:
		return audit.Record{Op: "disarm", Path: d.gitDir, Result: "reopened", Reason: fmt.Sprintf("mode %04o, which its owner may not read, made %04o", d.before, d.after)}
	}
	return audit.Record{Op: "disarm", Path: d.gitDir, Result: "disarmed", Reason: "settings that run programs moved to " + d.aside}
}

// reopen adds the owner permission bits to the directory at p when it
// lacks any of them, the session made or changed it (its ctime is since
// or later) and it is the caller's, never following a link; it returns
// the mode p had.
func reopen(p string, since time.Time, bits uint32) (fs.FileMode, bool) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || int(st.Uid) != os.Getuid() || time.Unix(st.Ctim.Unix()).Before(since) {
		return 0, false
	}
	mode := st.Mode & 0o7777
	if mode&bits == bits {
		return 0, false
	}
	// The descriptor's own name: chmod on it changes the directory opened,
	// whatever p names by now.
	if unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", fd), mode|bits) != nil {
		return 0, false
	}
	return fs.FileMode(mode), true
}

// maxGitFile bounds a .git file or a commondir.
const maxGitFile = 64 << 10

// maxGitConfig bounds a git config file disarm reads.
const maxGitConfig = 1 << 20

// changedSince reports whether dir or a file in it that disarm looks at
// was created or changed at or after since (ctime and birth time, which
// no program can set back).
func changedSince(dir string, since time.Time) bool {
	for _, name := range []string{"", "config", "config.worktree", "commondir", "hooks"} {
		var st unix.Statx_t
		if unix.Statx(unix.AT_FDCWD, filepath.Join(dir, name), unix.AT_SYMLINK_NOFOLLOW, unix.STATX_CTIME|unix.STATX_BTIME, &st) != nil {
			continue
		}
		born := time.Unix(st.Btime.Sec, int64(st.Btime.Nsec))
		changed := time.Unix(st.Ctime.Sec, int64(st.Ctime.Nsec))
		if name == "" && st.Mask&unix.STATX_BTIME != 0 && !born.Before(since) || name != "" && !changed.Before(since) {
			return true
		}
	}
	return false
}

// disarm moves aside, into a new directory under stateDir/disarmed that it
// returns ("" when there was nothing), what in the git directory dir would
// have git outside run a program or read its settings elsewhere: dir
// itself when it is a link; config and config.worktree, each replaced by
// its inertConfig entries (a link, or a file that is not a regular one,
// goes whole); a commondir that names anything but dir itself or, for an
// entry of .git/worktrees, the repository's common dir; and hooks: the
// hooks in it, or the whole of it when it is a link or cannot be read. A
// git or hooks directory the session closed to its owner is opened again
// first (see reopen). It follows no link and runs git only on copies of
// its own.
func disarm(dir, commonDir string, worktree bool, stateDir string, since time.Time) string {
	type move struct{ from, name string }
	var moves []move
	rewrite := map[string][]byte{}
	// A git directory or hooks directory the agent closed to its owner
	// still works for git (a hook needs only search permission): opened
	// again, its contents can be read and moved.
	for _, d := range []string{dir, filepath.Join(dir, "hooks")} {
		reopen(d, since, 0o700)
	}
	if fi, err := os.Lstat(dir); err != nil {
		return ""
	} else if !fi.IsDir() {
		moves = append(moves, move{dir, "git-dir"})
	} else {
		for _, name := range []string{"config", "config.worktree"} {
			p := filepath.Join(dir, name)
			fi, err := os.Lstat(p)
			if err != nil {
				continue
			}
			data, rerr := saferead.ReadFile(p, maxGitConfig)
			kept, inert, ferr := inertOnly(data)
			switch {
			case !fi.Mode().IsRegular() || rerr != nil || ferr != nil:
				moves = append(moves, move{p, name})
			case !inert:
				moves = append(moves, move{p, name})
				rewrite[p] = kept
			}
		}
		if p := filepath.Join(dir, "commondir"); exists(p) {
			data, err := saferead.ReadFile(p, maxGitFile)
			target := strings.TrimSpace(string(data))
			if !filepath.IsAbs(target) {
				target = filepath.Join(dir, target)
			}
			if err != nil || filepath.Clean(target) != dir && !(worktree && filepath.Clean(target) == filepath.Clean(commonDir)) {
				moves = append(moves, move{p, "commondir"})
			}
		}
		hooks := filepath.Join(dir, "hooks")
		if fi, err := os.Lstat(hooks); err == nil && !fi.IsDir() {
			moves = append(moves, move{hooks, "hooks"})
		} else if entries, err := os.ReadDir(hooks); err == nil {
			for _, e := range entries {
				if !strings.HasSuffix(e.Name(), ".sample") {
					moves = append(moves, move{filepath.Join(hooks, e.Name()), "hook-" + e.Name()})
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			moves = append(moves, move{hooks, "hooks"}) // unread: whole
		}
	}
	if len(moves) == 0 {
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
	for _, m := range moves {
		// A rename moves a link, not what it leads to. On another file
		// system, a name git never looks up disarms it too.
		if err := os.Rename(m.from, filepath.Join(aside, m.name)); err != nil {
			_ = os.Rename(m.from, m.from+".disarmed-by-jailrun")
		}
		if kept, ok := rewrite[m.from]; ok {
			if f, err := os.OpenFile(m.from, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644); err == nil {
				_, _ = f.Write(kept)
				f.Close()
			}
		}
	}
	return aside
}

// exists reports whether path names anything, a link included.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// inertOnly returns the inertConfig entries of the git config text data,
// as a config file, and whether that is all it holds.
func inertOnly(data []byte) (kept []byte, inert bool, err error) {
	out, err := gitConfigList(data)
	if err != nil {
		return nil, false, err
	}
	inert = true
	var b strings.Builder
	for _, entry := range strings.Split(strings.TrimSuffix(out, "\x00"), "\x00") {
		key, value, _ := strings.Cut(entry, "\n")
		if key == "" {
			continue
		}
		if !isInert(key) {
			inert = false
			continue
		}
		section, name := key[:strings.IndexByte(key, '.')], key[strings.LastIndexByte(key, '.')+1:]
		if sub := key[len(section) : len(key)-len(name)]; sub != "." {
			fmt.Fprintf(&b, "[%s %s]\n", section, quoted(sub[1:len(sub)-1]))
		} else {
			fmt.Fprintf(&b, "[%s]\n", section)
		}
		fmt.Fprintf(&b, "\t%s = %s\n", name, quoted(value))
	}
	return []byte(b.String()), inert, nil
}

// isInert reports whether the config key (as git config --list names it)
// is one of inertConfig.
func isInert(key string) bool {
	for _, pattern := range inertConfig {
		before, after, sub := strings.Cut(pattern, ".*.")
		if !sub && key == pattern || sub && strings.HasPrefix(key, before+".") && strings.HasSuffix(key, "."+after) && len(key) > len(before)+len(after)+2 {
			return true
		}
	}
	return false
}

// quoted is s as a quoted git config value or subsection name.
func quoted(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`).Replace(s) + `"`
}

// gitConfigList is git config --list -z of the config text data, read
// from standard input: no file of the agent's is opened, no include read.
func gitConfigList(data []byte) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "config", "--file", "-", "--list", "-z")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	return string(out), err
}
