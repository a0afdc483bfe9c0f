package session

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/jailrun/jailrun/internal/gittest"
)

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRemotes(t *testing.T) {
	root := t.TempDir()
	repo := mkdir(t, filepath.Join(root, "repo"))
	gittest.Git(t, repo, "init", "--quiet", "--initial-branch=main")
	gittest.Git(t, repo, "remote", "add", "upstream", "git@github.com:other/x.git")
	gittest.Git(t, repo, "remote", "add", "origin", "https://github.com/myorg/app.git")
	gittest.Git(t, repo, "remote", "add", "we-ird", `ssh://git@github.com/sp ace/"q".git`)
	gittest.Git(t, repo, "config", "--add", "remote.origin.url", "https://example.com/second-url.git")
	gittest.Git(t, repo, "config", "remote.origin.pushurl", "https://github.com/pushes/here.git")
	gittest.Git(t, repo, "config", "branch.main.remote", "origin")
	gittest.Git(t, repo, "commit", "--quiet", "--allow-empty", "-m", "first")

	want := []Remote{
		{"origin", "https://github.com/myorg/app.git"},
		{"upstream", "git@github.com:other/x.git"},
		{"we-ird", `ssh://git@github.com/sp ace/"q".git`},
	}
	// git itself must agree on the first url of each remote.
	for _, r := range want {
		if got := gittest.Git(t, repo, "config", "--get-all", "remote."+r.Name+".url"); strings.Split(got, "\n")[0] != r.URL {
			t.Fatalf("test setup: git says remote %s has url %q", r.Name, got)
		}
	}

	worktree := filepath.Join(root, "wt")
	gittest.Git(t, repo, "worktree", "add", "--quiet", "-b", "side", worktree)
	sub := mkdir(t, filepath.Join(repo, "a", "b"))

	for name, dir := range map[string]string{"top": repo, "subdir": sub, "linked worktree": filepath.Join(worktree), "inside .git": filepath.Join(repo, ".git", "refs")} {
		t.Run(name, func(t *testing.T) {
			got, err := Remotes(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Remotes(%s) =\n %q\nwant\n %q", dir, got, want)
			}
		})
	}
}

func TestRemotesOutsideRepo(t *testing.T) {
	got, err := Remotes(t.TempDir())
	if err != nil || got != nil {
		t.Errorf("Remotes outside a repository = %q, %v; want none", got, err)
	}
}

func TestRemotesNoRemote(t *testing.T) {
	repo := t.TempDir()
	gittest.Git(t, repo, "init", "--quiet")
	got, err := Remotes(repo)
	if err != nil || len(got) != 0 {
		t.Errorf("Remotes without remotes = %q, %v", got, err)
	}
}

func TestRemotesSubmodule(t *testing.T) {
	root := t.TempDir()
	upstream := mkdir(t, filepath.Join(root, "up"))
	gittest.Git(t, upstream, "init", "--quiet", "--initial-branch=main")
	gittest.Git(t, upstream, "commit", "--quiet", "--allow-empty", "-m", "first")
	super := mkdir(t, filepath.Join(root, "super"))
	gittest.Git(t, super, "init", "--quiet")
	gittest.Git(t, super, "remote", "add", "origin", "https://github.com/super/s.git")
	gittest.Git(t, super, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet", upstream, "mod")

	got, err := Remotes(filepath.Join(super, "mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Remote{{"origin", upstream}}; !slices.Equal(got, want) {
		t.Errorf("submodule remotes = %q, want %q", got, want)
	}
}

func TestParseRemotes(t *testing.T) {
	config := `
[core]
	url = https://not-a-remote.example/
[remote "origin"] url = "https://github.com/a/b.git" ; comment
[Remote "tab"]
	URL	=	 git@github.com:t/t.git	# comment
[remote "esc\"aped"]
	url = https://github.com/e/\"x\".git
[remote.legacy]
	url = https://github.com/l/l.git
[remote "nourl"]
	fetch = +refs/heads/*:refs/remotes/nourl/*
[remote "origin"]
	url = https://github.com/ignored/second.git
`
	want := []Remote{
		{"origin", "https://github.com/a/b.git"},
		{"tab", "git@github.com:t/t.git"},
		{`esc"aped`, `https://github.com/e/"x".git`},
		{"legacy", "https://github.com/l/l.git"},
	}
	if got := parseRemotes([]byte(config)); !slices.Equal(got, want) {
		t.Errorf("parseRemotes =\n %q\nwant\n %q", got, want)
	}
}

func BenchmarkRemotes(b *testing.B) {
	dir := b.TempDir()
	gittest.Git(b, dir, "init", "--quiet")
	gittest.Git(b, dir, "remote", "add", "origin", "https://github.com/myorg/app.git")
	sub := filepath.Join(dir, "a", "b", "c")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r, err := Remotes(sub); err != nil || len(r) != 1 {
			b.Fatal(r, err)
		}
	}
}

// TestLocateTrustsOnlyTheRepository: a linked worktree and a submodule are
// located as git locates them; what a jail could have planted so that the
// next launch makes another directory writable — a commondir in the main
// git directory, a .git file or link that leads elsewhere, a FIFO where a
// commondir belongs — is an error naming the file, never a Location.
func TestLocateTrustsOnlyTheRepository(t *testing.T) {
	root := t.TempDir()
	main := mkdir(t, filepath.Join(root, "main"))
	gittest.Git(t, main, "init", "--quiet", "--initial-branch=main")
	gittest.Git(t, main, "commit", "--quiet", "--allow-empty", "-m", "first")
	gittest.Git(t, main, "worktree", "add", "--quiet", filepath.Join(root, "wt"))
	super := mkdir(t, filepath.Join(root, "super"))
	gittest.Git(t, super, "init", "--quiet")
	gittest.Git(t, super, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet", main, "mod")

	for dir, want := range map[string]Location{
		main:                        {main, filepath.Join(main, ".git"), filepath.Join(main, ".git")},
		filepath.Join(root, "wt"):   {filepath.Join(root, "wt"), filepath.Join(main, ".git", "worktrees", "wt"), filepath.Join(main, ".git")},
		filepath.Join(super, "mod"): {filepath.Join(super, "mod"), filepath.Join(super, ".git", "modules", "mod"), filepath.Join(super, ".git", "modules", "mod")},
	} {
		if got, err := Locate(dir); err != nil || got != want {
			t.Errorf("Locate(%s) = %+v, %v; want %+v", dir, got, err, want)
		}
	}

	elsewhere := mkdir(t, filepath.Join(root, "elsewhere"))
	planted := mkdir(t, filepath.Join(root, "planted"))
	for name, plant := range map[string]func() (string, error){
		"a commondir in the main git directory": func() (string, error) {
			dir := mkdir(t, filepath.Join(planted, "a"))
			gittest.Git(t, dir, "init", "--quiet")
			path := filepath.Join(dir, ".git", "commondir")
			return path, os.WriteFile(path, []byte(elsewhere+"\n"), 0o644)
		},
		"a worktree's commondir pointing elsewhere": func() (string, error) {
			path := filepath.Join(main, ".git", "worktrees", "wt", "commondir")
			return path, os.WriteFile(path, []byte(elsewhere+"\n"), 0o644)
		},
		"a FIFO at commondir": func() (string, error) {
			dir := mkdir(t, filepath.Join(planted, "b"))
			gittest.Git(t, dir, "init", "--quiet")
			path := filepath.Join(dir, ".git", "commondir")
			return path, syscall.Mkfifo(path, 0o600)
		},
		"a .git file pointing elsewhere": func() (string, error) {
			dir := mkdir(t, filepath.Join(planted, "c"))
			path := filepath.Join(dir, ".git")
			return path, os.WriteFile(path, []byte("gitdir: "+elsewhere+"\n"), 0o644)
		},
		"a submodule's git directory that is a link": func() (string, error) {
			mkdir(t, filepath.Join(super, ".git", "modules"))
			if err := os.Symlink(filepath.Join(main, ".git"), filepath.Join(super, ".git", "modules", "linked")); err != nil {
				return "", err
			}
			path := filepath.Join(mkdir(t, filepath.Join(super, "linked")), ".git")
			return path, os.WriteFile(path, []byte("gitdir: ../.git/modules/linked\n"), 0o644)
		},
		"a submodule's git directory beneath a link": func() (string, error) {
			if err := os.Symlink(root, filepath.Join(super, ".git", "modules", "up")); err != nil {
				return "", err
			}
			path := filepath.Join(mkdir(t, filepath.Join(super, "under")), ".git")
			return path, os.WriteFile(path, []byte("gitdir: ../.git/modules/up/main/.git\n"), 0o644)
		},
		"a .git link": func() (string, error) {
			dir := mkdir(t, filepath.Join(planted, "d"))
			path := filepath.Join(dir, ".git")
			return path, os.Symlink(filepath.Join(main, ".git"), path)
		},
	} {
		path, err := plant()
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(path)
		if filepath.Base(dir) == ".git" || filepath.Base(filepath.Dir(dir)) == "worktrees" {
			dir = filepath.Dir(dir)
			if filepath.Base(dir) == "worktrees" {
				dir = filepath.Join(root, "wt")
			}
		}
		loc, err := Locate(dir)
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: Locate(%s) = %+v, %v; want a one-line error naming %s", name, dir, loc, err, path)
		}
		if name == "a worktree's commondir pointing elsewhere" {
			os.WriteFile(path, []byte("../..\n"), 0o644)
		}
	}
}
