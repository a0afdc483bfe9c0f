package session

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jailrun/jailrun/internal/saferead"

	"github.com/jailrun/jailrun/internal/fserr"
)

// Remote is one remote of a repository, as its config names it.
type Remote struct {
	Name string
	URL  string // the first url of the remote
}

// maxConfigSize bounds the repository config read; real ones are a few KB.
const maxConfigSize = 1 << 20

// maxGitFileSize bounds a .git file or a commondir: one path.
const maxGitFileSize = 64 << 10

// Remotes returns the remotes of the git repository that contains dir
// (a work tree, a linked worktree or a submodule), origin first and the
// others in the order of its config; none outside a repository. It reads
// .git and the config file directly, without running git, and does not
// follow include directives.
func Remotes(dir string) ([]Remote, error) {
	configPath, err := findConfig(dir)
	if configPath == "" || err != nil {
		return nil, err
	}
	data, err := saferead.ReadFile(configPath, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("cannot read the repository config %s: %w", configPath, fserr.WithoutPath(err))
	}
	remotes := parseRemotes(data)
	for i, r := range remotes {
		if r.Name == "origin" {
			copy(remotes[1:i+1], remotes[:i])
			remotes[0] = r
			break
		}
	}
	return remotes, nil
}

// Location is where a repository's files lie.
type Location struct {
	Toplevel  string // the work tree's top directory, the one holding .git
	GitDir    string // its git directory: .git, or where a .git file points
	CommonDir string // the directory with the config and objects; a linked worktree's lies elsewhere
}

// Locate walks up from dir to the first directory with a .git and returns
// where that repository's files lie; the zero Location when there is none.
//
// The jail makes what Locate returns writable, and an agent in an earlier
// jail could write the files it reads, so it trusts only what a jail cannot
// forge: a .git that is a link, a .git file whose git directory is neither
// a linked worktree's (that names this .git file back) nor a submodule's
// (under an enclosing repository's .git/modules), and a commondir that
// names anything but the git directory itself or, for a linked worktree,
// the repository it belongs to, are errors that name the file.
func Locate(dir string) (Location, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Location{}, err
	}
	for {
		dotGit := filepath.Join(dir, ".git")
		fi, err := os.Lstat(dotGit)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			return Location{}, fmt.Errorf("%s is a symbolic link, which jailrun does not follow to the repository's git directory: if you did not make it, remove it", dotGit)
		case err == nil && fi.IsDir():
			return located(dir, dotGit)
		case err == nil:
			gitDir, err := readGitFile(dotGit)
			if err != nil {
				return Location{}, err
			}
			if gitDir, err = trustGitFile(dir, dotGit, gitDir); err != nil {
				return Location{}, err
			}
			return located(dir, gitDir)
		case !errors.Is(err, fs.ErrNotExist):
			return Location{}, fmt.Errorf("cannot inspect %s: %w", dotGit, fserr.WithoutPath(err))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return Location{}, nil
		}
		dir = parent
	}
}

// findConfig returns the path of the config file of the repository that
// contains dir, "" when there is none.
func findConfig(dir string) (string, error) {
	loc, err := Locate(dir)
	if loc.CommonDir == "" || err != nil {
		return "", err
	}
	return filepath.Join(loc.CommonDir, "config"), nil
}

// readGitFile reads a .git file ("gitdir: PATH", as worktrees and
// submodules have) and returns the git directory it names.
func readGitFile(path string) (string, error) {
	data, err := saferead.ReadFile(path, maxGitFileSize)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, fserr.WithoutPath(err))
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	gitDir, ok := strings.CutPrefix(strings.TrimSpace(string(line)), "gitdir:")
	if !ok {
		return "", fmt.Errorf("%s is not a git link file (no gitdir: line)", path)
	}
	gitDir = strings.TrimSpace(gitDir)
	if !filepath.IsAbs(gitDir) {
		gitDir = filepath.Join(filepath.Dir(path), gitDir)
	}
	return gitDir, nil
}

// trustGitFile checks that the git directory gitDir, which the .git file
// dotGit of the work tree top names, belongs to it: a linked worktree's
// git directory names dotGit back in its gitdir file, and a submodule's
// lies under an enclosing repository's .git/modules. It returns gitDir
// with every link resolved: the path the jail is to make writable.
func trustGitFile(top, dotGit, gitDir string) (string, error) {
	gitDir = filepath.Clean(gitDir)
	refused := func(why string) (string, error) {
		return "", fmt.Errorf("%s points to %s, which %s, and jailrun will not make it writable: "+
			"if you did not make this .git file, remove it", dotGit, gitDir, why)
	}
	real, err := filepath.EvalSymlinks(gitDir)
	if err != nil {
		return refused("cannot be resolved (" + fserr.WithoutPath(err).Error() + ")")
	}
	if data, err := saferead.ReadFile(filepath.Join(real, "gitdir"), maxGitFileSize); err == nil {
		back := strings.TrimSpace(string(data))
		if !filepath.IsAbs(back) {
			back = filepath.Join(real, back)
		}
		if filepath.Clean(back) == dotGit {
			return real, nil
		}
	}
	// A submodule's git directory lies under an enclosing repository's
	// .git/modules, itself and all the way there no link: a link planted
	// there could lead anywhere.
	for dir := filepath.Dir(top); ; dir = filepath.Dir(dir) {
		modules := filepath.Join(dir, ".git", "modules")
		if rel, err := filepath.Rel(modules, gitDir); err == nil && filepath.IsLocal(rel) {
			dotGitDir, err := os.Lstat(filepath.Join(dir, ".git"))
			realModules, rerr := filepath.EvalSymlinks(modules)
			head, herr := os.Lstat(filepath.Join(real, "HEAD"))
			if err != nil || rerr != nil || herr != nil || !dotGitDir.IsDir() || real != filepath.Join(realModules, rel) || !head.Mode().IsRegular() {
				return refused("is a link, lies beneath one, or is not a git directory")
			}
			return real, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return refused("is neither a linked worktree's git directory nor a submodule's")
}

// located completes the Location of the work tree top whose git directory
// is gitDir: a linked worktree's common directory is the one its commondir
// file names.
func located(top, gitDir string) (Location, error) {
	loc := Location{Toplevel: top, GitDir: gitDir, CommonDir: gitDir}
	data, err := saferead.ReadFile(filepath.Join(gitDir, "commondir"), maxGitFileSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return loc, nil
	case err != nil:
		return Location{}, fmt.Errorf("cannot read %s: %w", filepath.Join(gitDir, "commondir"), fserr.WithoutPath(err))
	}
	loc.CommonDir = strings.TrimSpace(string(data))
	if !filepath.IsAbs(loc.CommonDir) {
		loc.CommonDir = filepath.Join(gitDir, loc.CommonDir)
	}
	loc.CommonDir = filepath.Clean(loc.CommonDir)
	worktreeOf := filepath.Dir(filepath.Dir(gitDir)) // C for a linked worktree's C/worktrees/NAME
	if loc.CommonDir != filepath.Clean(gitDir) &&
		!(filepath.Base(filepath.Dir(gitDir)) == "worktrees" && loc.CommonDir == worktreeOf) {
		return Location{}, fmt.Errorf("%s points outside the repository's git directory, to %s, and jailrun will not make that writable: "+
			"a normal repository has no such file, so if you did not make it, remove it", filepath.Join(gitDir, "commondir"), loc.CommonDir)
	}
	return loc, nil
}

// parseRemotes reads the [remote "NAME"] sections of a git config file
// and returns each remote's first url, in the order of the file.
func parseRemotes(data []byte) []Remote {
	var remotes []Remote
	seen := map[string]int{}
	current := "" // the remote whose section is open, "" for other sections
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxConfigSize)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			var rest string
			current, rest = parseSection(line)
			line = strings.TrimSpace(rest) // a key may follow the header on its line
		}
		if current == "" || line == "" {
			continue
		}
		key, value, hasValue := strings.Cut(line, "=")
		if !hasValue || !strings.EqualFold(strings.TrimSpace(key), "url") {
			continue
		}
		url := configValue(value)
		if i, ok := seen[current]; ok {
			if remotes[i].URL == "" {
				remotes[i].URL = url
			}
			continue
		}
		seen[current] = len(remotes)
		remotes = append(remotes, Remote{Name: current, URL: url})
	}
	return remotes
}

// parseSection reads a section header at the start of line and returns the
// remote it opens ("" for any other section) and the text after it.
func parseSection(line string) (remote, rest string) {
	end := strings.IndexByte(line, ']')
	if end < 0 {
		return "", ""
	}
	header, rest := line[1:end], line[end+1:]
	name, sub, quoted := strings.Cut(header, " ")
	if quoted {
		sub = strings.TrimSpace(sub)
		if strings.HasPrefix(sub, `"`) && strings.HasSuffix(sub, `"`) && len(sub) >= 2 {
			sub = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(sub[1 : len(sub)-1])
		} else {
			return "", rest
		}
	} else if n, s, ok := strings.Cut(header, "."); ok { // deprecated [remote.name]
		name, sub = n, strings.ToLower(s)
	}
	if !strings.EqualFold(name, "remote") || sub == "" {
		return "", rest
	}
	return sub, rest
}

// configValue decodes a git config value: surrounding blanks dropped,
// double quotes joined, backslash escapes applied, and a comment (# or ;
// outside quotes) cut off.
func configValue(raw string) string {
	var b strings.Builder
	inQuote := false
	pendingSpace := ""
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			i++
			b.WriteString(pendingSpace)
			pendingSpace = ""
			switch raw[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(raw[i])
			}
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == '#' || c == ';'):
			return b.String()
		case !inQuote && (c == ' ' || c == '\t'):
			if b.Len() > 0 {
				pendingSpace += string(c)
			}
		default:
			b.WriteString(pendingSpace)
			pendingSpace = ""
			b.WriteByte(c)
		}
	}
	return b.String()
}
