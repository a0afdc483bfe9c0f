package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/safedir"
	"github.com/jailrun/jailrun/internal/saferead"
	"github.com/jailrun/jailrun/session"
)

// A name in a git directory that must not be created in the jail (see
// jail.GitProtected) but does not exist gets a placeholder for the
// session: an empty directory (hooks, info), a commondir holding "." (the
// git directory itself, which is what git assumes without one), or an
// empty file (config.worktree, gitdir: git reads neither in a main git
// directory). So does an agent's missing settings file (an empty JSON
// object, or an empty TOML file), which defines commands for later runs.
// The jail binds each read-only, and a mount point can be neither
// replaced nor removed, so the name stays what it was. Outside,
// git reads the same as without it. Each is recorded in a manifest in
// jailrun's state directory before the agent starts and removed when the
// session ends, or by the next launch after a crash — only while it is
// still the very file or empty directory jailrun made.

// placeholderContent is what a placeholder file holds: for an agent's
// JSON settings, an empty object.
func placeholderContent(name string) []byte {
	switch name {
	case "commondir":
		return []byte(".\n")
	case "settings.json", "settings.local.json", "cli.json", "mcp.json":
		return []byte("{}\n")
	}
	return nil
}

// placeholder is one path jailrun created, as the manifest records it.
type placeholder struct {
	Path string `json:"path"`
	Dir  bool   `json:"dir,omitempty"`
	Dev  uint64 `json:"dev"`
	Ino  uint64 `json:"ino"`
}

// manifestPrefix starts a manifest's name, followed by the session's pid.
const manifestPrefix = "placeholders-"

// placeholders are a session's, and where its manifest lies.
type placeholders struct {
	state *safedir.Dir
	name  string
	made  []placeholder
}

// makePlaceholders removes what sessions that ended left behind, then
// creates a placeholder for each missing path among protected (each named
// by one of jail.GitNames, or in dirs: a directory), recording it in the
// manifest as it goes. It returns what it made, to remove with remove.
func makePlaceholders(stateDir string, protected, dirs []string) (*placeholders, error) {
	state, err := safedir.Open(stateDir, 0o700)
	if err != nil {
		return nil, err
	}
	p := &placeholders{state: state, name: manifestPrefix + strconv.Itoa(os.Getpid()) + ".json"}
	removeEndedPlaceholders(state)
	for _, path := range slices.Concat(protected, dirs) {
		name := filepath.Base(path)
		isDir := slices.Contains(dirs, path)
		if !isDir && !slices.Contains(jail.GitNames, name) && !slices.Contains(jail.SettingsNames, name) {
			continue
		}
		if _, err := os.Lstat(filepath.Dir(path)); err != nil {
			continue // its directory is missing too: see docs/threat-model.md
		}
		made, err := create(path, isDir || slices.Contains(jail.GitDirNames, name))
		if err != nil {
			p.remove()
			return nil, fmt.Errorf("cannot protect %s for the jail: %v", path, err)
		}
		if made == nil {
			continue
		}
		p.made = append(p.made, *made)
		if err := p.save(); err != nil {
			p.remove()
			return nil, fmt.Errorf("cannot record the jail's placeholders in %s: %v", stateDir, err)
		}
	}
	return p, nil
}

// create makes the placeholder at path if nothing is there, without
// following a link, and returns it; nil when path exists.
func create(path string, dir bool) (*placeholder, error) {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	name := filepath.Base(path)
	if dir {
		err = root.Mkdir(name, 0o755)
	} else {
		var f *os.File
		if f, err = root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
			_, err = f.Write(placeholderContent(name))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	fi, err := root.Lstat(name)
	if err != nil {
		return nil, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	return &placeholder{Path: path, Dir: dir, Dev: uint64(st.Dev), Ino: st.Ino}, nil
}

// save writes the manifest whole.
func (p *placeholders) save() error {
	data, err := json.Marshal(p.made)
	if err != nil {
		return err
	}
	return p.state.WriteFile(p.name, data, 0o600)
}

// remove removes the session's placeholders and its manifest.
func (p *placeholders) remove() {
	if p == nil {
		return
	}
	for _, ph := range p.made {
		ph.remove()
	}
	_ = p.state.Remove(p.name)
	p.state.Close()
}

// remove removes ph if it is still the file jailrun made, holding what it
// wrote, or the directory, empty.
func (ph placeholder) remove() {
	root, err := os.OpenRoot(filepath.Dir(ph.Path))
	if err != nil {
		return
	}
	defer root.Close()
	name := filepath.Base(ph.Path)
	fi, err := root.Lstat(name)
	if err != nil {
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || uint64(st.Dev) != ph.Dev || st.Ino != ph.Ino || fi.IsDir() != ph.Dir {
		return
	}
	if !ph.Dir {
		data, err := saferead.ReadFile(ph.Path, 64)
		if err != nil || string(data) != string(placeholderContent(name)) {
			return
		}
	}
	_ = root.Remove(name) // a directory that is not empty stays
}

// removeEndedPlaceholders removes the placeholders of sessions whose
// process is gone, as a crash leaves them, and their manifests.
func removeEndedPlaceholders(state *safedir.Dir) {
	names, err := state.Names()
	if err != nil {
		return
	}
	for _, name := range names {
		pid, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, manifestPrefix), ".json"))
		if !strings.HasPrefix(name, manifestPrefix) || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue
		}
		data, err := state.ReadFile(name, saferead.DefaultLimit)
		var made []placeholder
		if err == nil && json.Unmarshal(data, &made) == nil {
			for _, ph := range made {
				ph.remove()
			}
		}
		_ = state.Remove(name)
	}
}

// hooksPathInside returns the directory that core.hooksPath names for the
// repository at loc when it lies inside its work tree (husky's .husky/_),
// where the jail could write hooks that run outside; "" otherwise. git
// reads its own config: no program runs for that.
func hooksPathInside(loc session.Location, home string) string {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "--git-dir="+loc.GitDir, "config", "--get", "core.hooksPath").Output()
	hooks := strings.TrimSpace(string(out))
	if err != nil || hooks == "" {
		return ""
	}
	if rest, ok := strings.CutPrefix(hooks, "~/"); ok && home != "" {
		hooks = filepath.Join(home, rest)
	}
	if !filepath.IsAbs(hooks) {
		hooks = filepath.Join(loc.Toplevel, hooks)
	}
	hooks = filepath.Clean(hooks)
	if rel, err := filepath.Rel(loc.Toplevel, hooks); err != nil || !filepath.IsLocal(rel) {
		return ""
	}
	return hooks
}

// gitTimeout bounds the git command a launch runs.
const gitTimeout = 5 * time.Second
