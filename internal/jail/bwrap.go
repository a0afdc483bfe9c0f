package jail

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The descriptors bwrap reads, in the order of Command.ExtraFiles (the
// child's descriptor 3 onwards).
const (
	argsFD    = 3 // the arguments Args returns, NUL-separated (--args)
	seccompFD = 4 // the filter from SeccompProgram (--seccomp)
	infoFD    = 5 // where bwrap writes {"child-pid": N} (--info-fd)
)

// Args returns bwrap's options for p; Build passes them through a
// descriptor (--args), not bwrap's argv. The command, p.Argv, is not among
// them: bwrap takes it only from its own argv, after "--", as Flatpak
// passes it.
//
// The namespaces: always a user namespace of its own with every capability
// dropped, so that the jail of a user started as root confines as much as
// anyone's (as root, bwrap keeps every capability unless told otherwise,
// and with them the agent could unmount a mask); a new pid namespace in
// which the policy's command runs as pid 1 (--as-pid-1: it reaps, and its
// host pid is in --info-fd), ipc and uts namespaces of its own, and,
// unless p.ShareNet, a network namespace with only a loopback (which also
// cuts abstract unix sockets).
// --die-with-parent ends it with the supervisor. No --new-session: the
// agent keeps the terminal's job control; the seccomp filter forbids
// TIOCSTI instead, as Flatpak does.
//
// The mount order matters, each step overriding the ones before it:
//  1. --ro-bind / / shows the whole host read-only.
//  2. --dev /dev mounts a minimal /dev with no host device or socket.
//  3. --proc /proc mounts the new pid namespace's /proc.
//  4. Layers, outer path first, so that the most specific one wins: /tmp
//     and each p.Private become an empty writable tmpfs; each p.Write is
//     bound read-write; each p.Visible that a private tmpfs would hide is
//     bound back read-only (one that is shown already is left out, so it
//     never makes part of a writable tree read-only). For one path, a
//     write beats visible beats private. Each p.ReadOnly is bound back
//     read-only, and its directory bound read-write on itself first: a
//     mount point cannot be renamed or removed, so nothing in the jail
//     puts another directory (another .git, with another config) in its
//     place. A pin or a read-only path beats every other layer.
//  5. Caches: each jail-private cache directory bound over the user's.
//  6. Masks, which beat every layer: a directory becomes an empty tmpfs
//     remounted read-only, anything else is covered by /dev/null. A mask
//     that a private tmpfs hides already is left out, which also keeps
//     bwrap from creating a mount point for it.
//  7. Sockets: the one directory outside that holds p.Sockets and the
//     p.Files that lie in SocketDir, under the names they have there,
//     bound read-only as SocketDir, so that nothing in the jail can
//     replace them (one mount where a tmpfs and a bind for each took
//     eleven; connecting to a socket needs no write).
//  8. The other p.Files, each bound read-only over the file it replaces.
func Args(p Policy) ([]string, error) {
	if err := validate(p); err != nil {
		return nil, err
	}
	args := []string{"--die-with-parent", "--as-pid-1", "--unshare-user", "--cap-drop", "ALL",
		"--unshare-pid", "--unshare-ipc", "--unshare-uts"}
	if !p.ShareNet {
		args = append(args, "--unshare-net")
	}
	args = append(args,
		"--seccomp", strconv.Itoa(seccompFD),
		"--info-fd", strconv.Itoa(infoFD),
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
	)
	layers := sortedLayers(p)
	for i, l := range layers {
		switch outer := enclosing(layers[:i], l.path); {
		case l.kind == private:
			args = append(args, "--tmpfs", l.path)
		case l.kind == write && (outer == nil || outer.kind != write):
			args = append(args, "--bind", l.path, l.path)
		case l.kind == visible && outer != nil && outer.kind == private:
			args = append(args, "--ro-bind", l.path, l.path)
		case l.kind == pinned:
			args = append(args, "--bind", l.path, l.path)
		case l.kind == readOnly:
			args = append(args, "--ro-bind", l.path, l.path)
		}
	}
	for _, c := range p.Caches {
		args = append(args, "--bind", c.Host, c.Jail)
	}
	masks := slices.SortedFunc(slices.Values(p.Masks), func(a, b Mask) int { return cmp.Compare(a.Path, b.Path) })
	var masked []string
	for _, m := range masks {
		if outer := enclosing(layers, m.Path); (outer != nil && outer.kind == private) || insideAny(m.Path, masked) {
			continue
		}
		if m.Dir {
			args = append(args, "--tmpfs", m.Path, "--remount-ro", m.Path)
			masked = append(masked, m.Path)
		} else {
			args = append(args, "--ro-bind", "/dev/null", m.Path)
		}
	}
	if dir, _ := socketDirHost(p); dir != "" {
		args = append(args, "--ro-bind", dir, SocketDir)
	}
	for _, f := range p.Files {
		if !inSocketDir(f.Jail) {
			args = append(args, "--ro-bind", f.Host, f.Jail)
		}
	}
	if p.Dir != "" {
		args = append(args, "--chdir", p.Dir)
	}
	return args, nil
}

// Environ returns the environment of the jail's first process: p.Env
// without the variables named in p.Unsetenv or set by p.Setenv, followed by
// p.Setenv.
func Environ(p Policy) []string {
	drop := slices.Clone(p.Unsetenv)
	for _, kv := range p.Setenv {
		k, _, _ := strings.Cut(kv, "=")
		drop = append(drop, k)
	}
	env := slices.DeleteFunc(slices.Clone(p.Env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(drop, k)
	})
	return append(env, p.Setenv...)
}

type layerKind int

// Of layers of the same path, the greater kind wins and the others are
// left out.
const (
	private layerKind = iota
	visible
	write
	pinned   // a directory holding a ReadOnly path, bound read-write on itself
	readOnly // a ReadOnly path
)

type layer struct {
	path string
	kind layerKind
}

// sortedLayers returns /tmp, p.Private, p.Write, p.Visible, p.ReadOnly
// and the directories holding them in mount order: a path before the paths
// inside it.
func sortedLayers(p Policy) []layer {
	layers := []layer{{"/tmp", private}}
	for _, kind := range []struct {
		paths []string
		kind  layerKind
	}{{p.Private, private}, {p.Write, write}, {p.Visible, visible}, {p.ReadOnly, readOnly}} {
		for _, path := range kind.paths {
			layers = append(layers, layer{path, kind.kind})
		}
	}
	for _, path := range p.ReadOnly {
		layers = append(layers, layer{filepath.Dir(path), pinned})
	}
	slices.SortFunc(layers, func(a, b layer) int {
		return cmp.Or(cmp.Compare(a.path, b.path), cmp.Compare(b.kind, a.kind))
	})
	// Of the layers of one path, the first now is the kind that wins.
	return slices.CompactFunc(layers, func(a, b layer) bool { return a.path == b.path })
}

// enclosing returns the layer that decides what path shows when the given
// layers are mounted in order: the last one that path lies in, or nil for
// the read-only root.
func enclosing(layers []layer, path string) *layer {
	for i := len(layers) - 1; i >= 0; i-- {
		if inside(path, layers[i].path) {
			return &layers[i]
		}
	}
	return nil
}

// inside reports whether path is dir or lies under it.
func inside(path, dir string) bool {
	return path == dir || dir == "/" || strings.HasPrefix(path, dir+"/")
}

func insideAny(path string, dirs []string) bool {
	return slices.ContainsFunc(dirs, func(dir string) bool { return inside(path, dir) })
}

func inSocketDir(jailPath string) bool { return filepath.Dir(jailPath) == SocketDir }

// socketDirHost returns the directory outside that the jail shows as
// SocketDir: the one holding p.Sockets and the p.Files shown there, each
// under its name in the jail ("" for none of them).
func socketDirHost(p Policy) (string, error) {
	var entries [][2]string // host, jail
	for _, s := range p.Sockets {
		entries = append(entries, [2]string{s.Host, s.Jail})
	}
	for _, f := range p.Files {
		if inSocketDir(f.Jail) {
			entries = append(entries, [2]string{f.Host, f.Jail})
		}
	}
	dir := ""
	for _, e := range entries {
		if !inSocketDir(e[1]) {
			return "", fmt.Errorf("jail: socket %s must lie directly in %s", e[1], SocketDir)
		}
		if filepath.Base(e[0]) != filepath.Base(e[1]) {
			return "", fmt.Errorf("jail: %s is shown as %s; jailrun's files keep their names in %s", e[0], e[1], SocketDir)
		}
		if dir == "" {
			dir = filepath.Dir(e[0])
		} else if filepath.Dir(e[0]) != dir {
			return "", fmt.Errorf("jail: %s is not in %s; everything shown in %s comes from one directory", e[0], dir, SocketDir)
		}
	}
	return dir, nil
}

// validate rejects a policy bwrap would misread or that would reach the
// host where it must not.
func validate(p Policy) error {
	if len(p.Argv) == 0 || p.Argv[0] == "" {
		return errors.New("jail: no command to run")
	}
	paths := slices.Concat(p.Write, p.Visible, p.Private, p.ReadOnly)
	for _, m := range p.Masks {
		paths = append(paths, m.Path)
	}
	for _, s := range p.Sockets {
		paths = append(paths, s.Host, s.Jail)
	}
	for _, f := range p.Files {
		paths = append(paths, f.Host, f.Jail)
	}
	if p.Dir != "" {
		paths = append(paths, p.Dir)
	}
	for _, path := range paths {
		if !filepath.IsAbs(path) || filepath.Clean(path) != path {
			return fmt.Errorf("jail: %q is not an absolute clean path; resolve the policy first", path)
		}
	}
	pins := make([]string, 0, len(p.ReadOnly))
	for _, path := range p.ReadOnly {
		pins = append(pins, filepath.Dir(path))
	}
	for _, path := range slices.Concat(p.Write, p.Visible, p.Private, p.ReadOnly, pins) {
		if inside("/tmp", path) {
			return fmt.Errorf("jail: %s would replace the private /tmp; list the paths under it instead", path)
		}
	}
	if _, err := socketDirHost(p); err != nil {
		return err
	}
	if outer := enclosing(sortedLayers(p), SocketDir); len(p.Sockets)+len(p.Files) > 0 && outer.kind != private {
		return fmt.Errorf("jail: %s is bound from the host, where the jail's sockets cannot go; remove it from the policy", outer.path)
	}
	return nil
}
