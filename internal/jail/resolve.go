package jail

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Request is what a launch knows before it looks at the file system.
type Request struct {
	Agent    string   // "claude", "codex", "gemini", "kiro-cli", "kiro-cli-chat", or "run"
	Home     string   // the user's home directory
	Argv     []string // the jail's first process and its arguments
	Dir      string   // its working directory
	Env      []string // its environment, before the jail unsets HiddenVariables
	Setenv   []string // KEY=VALUE entries the jail sets on top
	Write    []string // the repository (toplevel, .git, a worktree's common dir), JAILRUN_ALLOW_WRITE
	Visible  []string // jailrun's binaries and the agent's executable
	ReadOnly []string // paths inside Write that stay read-only (see GitProtected)
	DenyRead []string // JAILRUN_DENY_READ
	Sockets  []Socket // jailrun's broker and proxy sockets
	Files    []File   // jailrun's files; one over a host file that does not exist is dropped
	Caches   []Cache  // jail-private caches; those over a missing directory are dropped
	ShareNet bool
}

// Resolve reads the file system to turn r into a Policy: globs expanded,
// paths that do not exist dropped (a mask for them would make bwrap create
// them), every path made canonical. HOME, the PATH directories and the CA
// files named by SSL_CERT_FILE, SSL_CERT_DIR, NODE_EXTRA_CA_CERTS and
// GIT_SSL_CAINFO stay visible.
//
// A masked path that is a symlink: bwrap mounts on the link's target, so
// the target is what gets masked (under any name), and the link stays,
// leading to an empty file or directory. A dangling link is left alone.
// A write path that is a symlink is bound at its target likewise; the
// link keeps working since it leads there.
func Resolve(r Request) (Policy, error) {
	if !filepath.IsAbs(r.Home) {
		return Policy{}, fmt.Errorf("jail: home %q is not an absolute path; set HOME", r.Home)
	}
	env := envLookup(r.Env)
	existing := resolver{}.existing
	p := Policy{
		Argv:     r.Argv,
		Env:      r.Env,
		Setenv:   r.Setenv,
		Unsetenv: HiddenVariables,
		Sockets:  r.Sockets,
		ShareNet: r.ShareNet,
	}
	for _, f := range r.Files {
		if filepath.Dir(f.Jail) == SocketDir {
			p.Files = append(p.Files, f)
			continue
		}
		// bwrap mounts on a link's target; two links to one bundle are
		// one mount.
		if target := existing([]string{f.Jail}); len(target) == 1 && !slices.ContainsFunc(p.Files, func(g File) bool { return g.Jail == target[0] }) {
			p.Files = append(p.Files, File{Host: f.Host, Jail: target[0]})
		}
	}
	for _, c := range r.Caches {
		host, jail := existing([]string{c.Host}), existing([]string{c.Jail})
		if len(host) == 1 && len(jail) == 1 {
			p.Caches = append(p.Caches, Cache{Host: host[0], Jail: jail[0]})
		}
	}
	var err error
	if r.Dir != "" {
		if p.Dir, err = filepath.EvalSymlinks(r.Dir); err != nil {
			return Policy{}, fmt.Errorf("jail: working directory: %w", err)
		}
	}
	p.Write = existing(slices.Concat(r.Write, AgentState(r.Agent, r.Home)))
	visible := slices.Concat([]string{r.Home}, r.Visible, filepath.SplitList(env("PATH")))
	for _, name := range []string{"SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO"} {
		visible = append(visible, filepath.SplitList(env(name))...)
	}
	p.Visible = existing(visible)
	p.ReadOnly = existing(r.ReadOnly)
	p.Private = existing(DefaultPrivate(env))
	for _, path := range existing(slices.Concat(DefaultMasks(r.Home), SocketMasks(env), r.DenyRead)) {
		info, err := os.Stat(path)
		if err != nil {
			continue
		}
		p.Masks = append(p.Masks, Mask{Path: path, Dir: info.IsDir()})
	}
	return p, nil
}

// resolver resolves paths as filepath.EvalSymlinks does, remembering the
// directories it has resolved: a policy names scores of paths under a few
// directories, and resolving each alone would read every one of their
// components again.
type resolver map[string]resolved

type resolved struct {
	real string
	err  error
}

// existing expands the globs among paths and returns the canonical paths
// of those that exist, each once; relative entries are dropped.
func (r resolver) existing(paths []string) []string {
	var out []string
	for _, pattern := range paths {
		if !filepath.IsAbs(pattern) {
			continue
		}
		matches := []string{pattern}
		if strings.ContainsAny(pattern, `*?[\`) {
			var err error
			if matches, err = filepath.Glob(pattern); err != nil {
				continue // a malformed pattern matches nothing
			}
		}
		for _, m := range matches {
			real, err := r.eval(m)
			if err != nil {
				continue
			}
			if !slices.Contains(out, real) {
				out = append(out, real)
			}
		}
	}
	return out
}

// eval returns filepath.EvalSymlinks(path) for an absolute path: its
// directory resolved (once for all the paths in it), then its last
// component, followed if it is a link.
func (r resolver) eval(path string) (string, error) {
	if !filepath.IsAbs(path) || slices.Contains(strings.Split(path, "/"), "..") || strings.HasSuffix(path, "/") || strings.HasSuffix(path, "/.") {
		// ".." after a link is not the lexical parent, and a final "/"
		// or "/." asks for a directory, which Clean would forget.
		return filepath.EvalSymlinks(path)
	}
	path = filepath.Clean(path)
	if path == "/" {
		return path, nil
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	d, ok := r[dir]
	if !ok {
		d.real, d.err = r.eval(dir)
		r[dir] = d
	}
	if d.err != nil {
		return "", d.err
	}
	joined := filepath.Join(d.real, base)
	info, err := os.Lstat(joined)
	switch {
	case err != nil:
		return "", err
	case info.Mode()&fs.ModeSymlink != 0:
		return filepath.EvalSymlinks(joined)
	}
	return joined, nil
}

// envLookup returns a getenv over a KEY=VALUE list; the last entry wins,
// as in os/exec.
func envLookup(env []string) func(string) string {
	return func(key string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
				return v
			}
		}
		return ""
	}
}

// GitNames are the names in a git directory that decide which git
// directory git uses (commondir, gitdir) or what it runs and ignores
// (config, config.worktree, hooks, info), outside the jail too, on the
// user's next git command there. GitDirNames of them are directories.
var (
	GitNames    = []string{"config", "config.worktree", "commondir", "gitdir", "hooks", "info"}
	GitDirNames = []string{"hooks", "info"}
)

// GitProtected lists GitNames in each of a repository's git directories —
// gitDir, commonDir, and the linked worktrees' and submodules' that exist
// under commonDir/worktrees and commonDir/modules — and a worktree's or
// submodule's .git file in toplevel (rewritten, it names another git
// directory). Each must be read-only in the jail, and present: a missing
// one could be created there (a commondir planted in a main repository
// moves git's config elsewhere). gitDir and commonDir may be equal; "" is
// left out.
func GitProtected(toplevel, gitDir, commonDir string) []string {
	var paths []string
	if toplevel != "" {
		if fi, err := os.Lstat(filepath.Join(toplevel, ".git")); err == nil && fi.Mode().IsRegular() {
			paths = append(paths, filepath.Join(toplevel, ".git"))
		}
	}
	dirs := []string{commonDir, gitDir}
	if commonDir != "" {
		dirs = append(dirs, submoduleGitDirs(filepath.Join(commonDir, "modules"))...)
		dirs = append(dirs, worktreeGitDirs(filepath.Join(commonDir, "worktrees"))...)
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		for _, name := range GitNames {
			if p := filepath.Join(dir, name); !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

// worktreeGitDirs returns the linked worktrees' git directories in
// worktrees; a link is not followed.
func worktreeGitDirs(worktrees string) []string {
	var dirs []string
	entries, _ := os.ReadDir(worktrees)
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(worktrees, e.Name()))
		}
	}
	return dirs
}

// submoduleGitDirs returns the git directories under modules, git's
// directory of its submodules' git directories: each holds a HEAD, sits
// at the submodule's name (which may hold slashes) and has a modules
// directory of its own for nested submodules. Objects and refs are never
// walked.
func submoduleGitDirs(modules string) []string {
	var dirs []string
	entries, err := os.ReadDir(modules)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !e.IsDir() { // a link is not followed
			continue
		}
		dir := filepath.Join(modules, e.Name())
		if _, err := os.Lstat(filepath.Join(dir, "HEAD")); err == nil {
			dirs = append(dirs, dir)
			dirs = append(dirs, submoduleGitDirs(filepath.Join(dir, "modules"))...)
		} else {
			dirs = append(dirs, submoduleGitDirs(dir)...) // part of a name with slashes
		}
	}
	return dirs
}
