package session

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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
