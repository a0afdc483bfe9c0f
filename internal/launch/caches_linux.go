package launch

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/safedir"
)

// jailCache is one of the jail's own caches: a directory under jailrun's
// state, shown over the user's cache directory at path (when it exists),
// and named by the variables in env (KEY=SUBPATH, under the directory).
type jailCache struct {
	name string   // the directory's name under state/cache
	path string   // the user's cache directory, relative to HOME
	env  []string // variables that point tools at it, wherever the user's lies
}

// jailCaches are the caches programs outside read and execute from: build
// outputs and downloaded packages. XDG_CACHE_HOME covers go-build, pip,
// pre-commit, poetry and the rest that follow it; Go's module cache and
// checksum database follow GOPATH.
var jailCaches = []jailCache{
	{name: "cache", path: ".cache", env: []string{"XDG_CACHE_HOME=", "GOCACHE=go-build", "PIP_CACHE_DIR=pip"}},
	{name: "npm", path: ".npm", env: []string{"npm_config_cache="}},
	{name: "go", env: []string{"GOPATH=", "GOMODCACHE=pkg/mod"}},
	{name: "cargo-registry", path: ".cargo/registry"},
	{name: "cargo-git", path: ".cargo/git"},
	{name: "m2-repository", path: ".m2/repository"},
	{name: "gradle-caches", path: ".gradle/caches"},
}

// prepareCaches creates the jail's own caches under stateDir/cache, no
// link followed, and returns the binds over the user's caches, the
// variables that point at them and the directory to make writable. A
// cache the user shares with the jail (JAILRUN_ALLOW_WRITE names it or a
// directory holding it) stays the user's. What an earlier jail did to the
// caches' directories is undone first (see safedir.Reclaim): moved lists
// what was moved aside.
func prepareCaches(stateDir, home string, allowWrite []string) (caches []jail.Cache, setenv []string, write string, moved []string, err error) {
	state, err := safedir.Open(stateDir, 0o700)
	if err != nil {
		return nil, nil, "", nil, err
	}
	defer state.Close()
	reclaimed := func(d *safedir.Dir, name string) (*safedir.Dir, error) {
		aside, err := d.Reclaim(name, 0o700)
		if err != nil {
			return nil, err
		}
		if aside != "" {
			moved = append(moved, aside)
		}
		return d.Sub(name, 0o700)
	}
	root, err := reclaimed(state, "cache")
	if err != nil {
		return nil, nil, "", nil, err
	}
	defer root.Close()
	for _, c := range jailCaches {
		user := filepath.Join(home, c.path)
		if c.path != "" && shared(user, allowWrite) {
			continue
		}
		d, err := reclaimed(root, c.name)
		if err != nil {
			return nil, nil, "", nil, err
		}
		d.Close()
		dir := filepath.Join(root.Path, c.name)
		if c.path != "" {
			caches = append(caches, jail.Cache{Host: dir, Jail: user})
		}
		for _, kv := range c.env {
			key, sub, _ := strings.Cut(kv, "=")
			setenv = append(setenv, key+"="+filepath.Join(dir, sub))
		}
	}
	return caches, setenv, root.Path, moved, nil
}

// shared reports whether path is, or lies in, one of dirs.
func shared(path string, dirs []string) bool {
	return slices.ContainsFunc(dirs, func(d string) bool { return within(path, d) })
}
