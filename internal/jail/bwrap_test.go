package jail

import (
	"slices"
	"strings"
	"testing"
)

// head is what every jail starts with, network unshared.
var head = []string{
	"--die-with-parent", "--as-pid-1", "--unshare-user", "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
	"--seccomp", "4", "--info-fd", "5",
	"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
}

var sockets = []Socket{
	{Host: "/run/user/1000/jailrun-7/broker.sock", Jail: BrokerSocket},
	{Host: "/run/user/1000/jailrun-7/proxy.sock", Jail: ProxySocket},
}

// socketTail is the end of every case below that has sockets and runs true in the repo.
var socketTail = []string{
	"--ro-bind", "/run/user/1000/jailrun-7", "/tmp/.jailrun",
	"--chdir", "/home/u/repo",
}

// base is a `jailrun run -- true` in /home/u/repo as Resolve would give it.
func base() Policy {
	return Policy{
		Argv:    []string{"/usr/bin/jailrun", "relay", "--", "true"},
		Dir:     "/home/u/repo",
		Write:   []string{"/home/u/repo"},
		Visible: []string{"/home/u", "/usr/bin", "/usr/local/bin"},
		Private: []string{"/run", "/run/user/1000"},
		Masks: []Mask{
			{"/home/u/.ssh", true}, {"/home/u/.netrc", false}, {"/home/u/.config/gh", true},
			{"/run/docker.sock", false},
		},
		Sockets: sockets,
	}
}

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Policy)
		want   []string // between head and socketTail
	}{
		{"run", func(*Policy) {}, []string{
			"--bind", "/home/u/repo", "/home/u/repo",
			"--tmpfs", "/run", "--tmpfs", "/run/user/1000", "--tmpfs", "/tmp",
			"--tmpfs", "/home/u/.config/gh", "--remount-ro", "/home/u/.config/gh",
			"--ro-bind", "/dev/null", "/home/u/.netrc",
			"--tmpfs", "/home/u/.ssh", "--remount-ro", "/home/u/.ssh",
		}},
		{"claude", func(p *Policy) {
			p.Write = append(p.Write, "/home/u/.claude", "/home/u/.claude.json", "/home/u/.claude.json.backup")
		}, []string{
			"--bind", "/home/u/.claude", "/home/u/.claude",
			"--bind", "/home/u/.claude.json", "/home/u/.claude.json",
			"--bind", "/home/u/.claude.json.backup", "/home/u/.claude.json.backup",
			"--bind", "/home/u/repo", "/home/u/repo",
			"--tmpfs", "/run", "--tmpfs", "/run/user/1000", "--tmpfs", "/tmp",
			"--tmpfs", "/home/u/.config/gh", "--remount-ro", "/home/u/.config/gh",
			"--ro-bind", "/dev/null", "/home/u/.netrc",
			"--tmpfs", "/home/u/.ssh", "--remount-ro", "/home/u/.ssh",
		}},
		{"caches: the jail's own, over the user's, before the masks", func(p *Policy) {
			p.Caches = []Cache{
				{Host: "/home/u/.local/state/jailrun/cache/cache", Jail: "/home/u/.cache"},
				{Host: "/home/u/.local/state/jailrun/cache/npm", Jail: "/home/u/.npm"},
			}
			p.Masks = []Mask{{"/home/u/.ssh", true}}
			p.Private = nil
		}, []string{
			"--bind", "/home/u/repo", "/home/u/repo",
			"--tmpfs", "/tmp",
			"--bind", "/home/u/.local/state/jailrun/cache/cache", "/home/u/.cache",
			"--bind", "/home/u/.local/state/jailrun/cache/npm", "/home/u/.npm",
			"--tmpfs", "/home/u/.ssh", "--remount-ro", "/home/u/.ssh",
		}},
		{"masks: a file, a directory, one inside a masked directory", func(p *Policy) {
			p.Write, p.Visible, p.Private = []string{"/home/u/repo"}, nil, nil
			p.Masks = []Mask{{"/home/u/.gnupg/S.gpg-agent", false}, {"/home/u/.gnupg", true}, {"/home/u/.pypirc", false}}
		}, []string{
			"--bind", "/home/u/repo", "/home/u/repo", "--tmpfs", "/tmp",
			"--tmpfs", "/home/u/.gnupg", "--remount-ro", "/home/u/.gnupg",
			"--ro-bind", "/dev/null", "/home/u/.pypirc",
		}},
		{"JAILRUN_ALLOW_WRITE and JAILRUN_DENY_READ, one inside the writable repo", func(p *Policy) {
			p.Write = []string{"/home/u/repo", "/srv/data"}
			p.Visible, p.Private = nil, nil
			p.Masks = []Mask{{"/home/u/repo/.env", false}, {"/srv/secrets", true}}
		}, []string{
			"--bind", "/home/u/repo", "/home/u/repo", "--bind", "/srv/data", "/srv/data", "--tmpfs", "/tmp",
			"--ro-bind", "/dev/null", "/home/u/repo/.env",
			"--tmpfs", "/srv/secrets", "--remount-ro", "/srv/secrets",
		}},
		{"a worktree whose common .git lies elsewhere", func(p *Policy) {
			p.Write = []string{"/home/u/repo", "/home/u/main/.git"}
			p.Visible, p.Private, p.Masks = nil, nil, nil
		}, []string{
			"--bind", "/home/u/main/.git", "/home/u/main/.git",
			"--bind", "/home/u/repo", "/home/u/repo", "--tmpfs", "/tmp",
		}},
		{"HOME under /tmp", func(p *Policy) {
			// A CI runner: HOME and a PATH dir under /tmp, the repo in HOME,
			// a PATH dir inside HOME, another user's /tmp file masked.
			p.Write = []string{"/tmp/ci/home/repo", "/tmp/ci/home/.cache"}
			p.Visible = []string{"/tmp/ci/home", "/tmp/ci/bin", "/tmp/ci/home/bin", "/usr/bin"}
			p.Private = nil
			p.Masks = []Mask{{"/tmp/ci/home/.ssh", true}, {"/tmp/other/.netrc", false}}
			p.Dir = "/tmp/ci/home/repo"
		}, []string{
			"--tmpfs", "/tmp",
			"--ro-bind", "/tmp/ci/bin", "/tmp/ci/bin",
			"--ro-bind", "/tmp/ci/home", "/tmp/ci/home",
			"--bind", "/tmp/ci/home/.cache", "/tmp/ci/home/.cache",
			"--bind", "/tmp/ci/home/repo", "/tmp/ci/home/repo",
			"--tmpfs", "/tmp/ci/home/.ssh", "--remount-ro", "/tmp/ci/home/.ssh",
		}},
		{"repo under /tmp, a visible path inside it stays writable", func(p *Policy) {
			p.Write = []string{"/tmp/work/repo"}
			p.Visible = []string{"/home/u", "/tmp/work/repo/node_modules/.bin"}
			p.Private, p.Masks = nil, nil
			p.Dir = "/tmp/work/repo"
		}, []string{
			"--tmpfs", "/tmp", "--bind", "/tmp/work/repo", "/tmp/work/repo",
		}},
		{"the git config and hooks read-only, .git and a worktree's toplevel pinned", func(p *Policy) {
			p.Write = []string{"/home/u/wt", "/home/u/main/.git/worktrees/wt", "/home/u/main/.git"}
			p.ReadOnly = []string{"/home/u/wt/.git", "/home/u/main/.git/config", "/home/u/main/.git/hooks",
				"/home/u/main/.git/worktrees/wt/config.worktree"}
			p.Visible, p.Private, p.Masks = nil, nil, nil
		}, []string{
			"--bind", "/home/u/main/.git", "/home/u/main/.git",
			"--ro-bind", "/home/u/main/.git/config", "/home/u/main/.git/config",
			"--ro-bind", "/home/u/main/.git/hooks", "/home/u/main/.git/hooks",
			"--bind", "/home/u/main/.git/worktrees/wt", "/home/u/main/.git/worktrees/wt",
			"--ro-bind", "/home/u/main/.git/worktrees/wt/config.worktree", "/home/u/main/.git/worktrees/wt/config.worktree",
			"--bind", "/home/u/wt", "/home/u/wt",
			"--ro-bind", "/home/u/wt/.git", "/home/u/wt/.git",
			"--tmpfs", "/tmp",
		}},
		{"the same path writable and visible is bound once, writable", func(p *Policy) {
			p.Write = []string{"/tmp/w"}
			p.Visible = []string{"/tmp/w"}
			p.Private, p.Masks = nil, nil
		}, []string{"--tmpfs", "/tmp", "--bind", "/tmp/w", "/tmp/w"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.change(&p)
			got, err := Args(p)
			if err != nil {
				t.Fatal(err)
			}
			tail := slices.Clone(socketTail)
			if p.Dir != "/home/u/repo" {
				i := slices.Index(tail, "--chdir")
				tail[i+1] = p.Dir
			}
			want := slices.Concat(head, tc.want, tail)
			if !slices.Equal(got, want) {
				t.Errorf("Args:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(want, " "))
			}
		})
	}
}

func TestArgsShareNetNoSocketsNoDir(t *testing.T) {
	got, err := Args(Policy{Argv: []string{"true"}, ShareNet: true})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(slices.DeleteFunc(slices.Clone(head), func(a string) bool { return a == "--unshare-net" }),
		[]string{"--tmpfs", "/tmp"})
	if !slices.Equal(got, want) {
		t.Errorf("Args:\n got %q\nwant %q", got, want)
	}
}

// TestArgsFiles: jailrun's files are bound read-only, in SocketDir with
// the directory that holds them, over a host file after it.
func TestArgsFiles(t *testing.T) {
	got, err := Args(Policy{Argv: []string{"true"}, ShareNet: true, Files: []File{
		{Host: "/run/user/1000/jailrun-7/ca-bundle.pem", Jail: "/etc/ssl/certs/ca-certificates.crt"},
		{Host: "/run/user/1000/jailrun-7/ca-bundle.pem", Jail: SocketDir + "/ca-bundle.pem"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(slices.DeleteFunc(slices.Clone(head), func(a string) bool { return a == "--unshare-net" }), []string{
		"--tmpfs", "/tmp",
		"--ro-bind", "/run/user/1000/jailrun-7", "/tmp/.jailrun",
		"--ro-bind", "/run/user/1000/jailrun-7/ca-bundle.pem", "/etc/ssl/certs/ca-certificates.crt",
	})
	if !slices.Equal(got, want) {
		t.Errorf("Args:\n got %q\nwant %q", got, want)
	}
}

func TestArgsRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Policy)
		want   string
	}{
		{"no command", func(p *Policy) { p.Argv = nil }, "no command"},
		{"relative path", func(p *Policy) { p.Write = []string{"repo"} }, `"repo" is not an absolute clean path`},
		{"unclean path", func(p *Policy) { p.Masks = []Mask{{"/home/u/../v/.ssh", true}} }, "not an absolute clean path"},
		{"the root writable", func(p *Policy) { p.Write = []string{"/"} }, "/ would replace the private /tmp"},
		{"/tmp visible", func(p *Policy) { p.Visible = []string{"/tmp"} }, "/tmp would replace the private /tmp"},
		{"a read-only path directly in /tmp pins /tmp", func(p *Policy) { p.ReadOnly = []string{"/tmp/config"} }, "/tmp would replace the private /tmp"},
		{"socket outside SocketDir", func(p *Policy) { p.Sockets = []Socket{{"/run/b.sock", "/tmp/b.sock"}} }, "must lie directly in /tmp/.jailrun"},
		{"socket renamed", func(p *Policy) { p.Sockets = []Socket{{"/run/j/b.sock", BrokerSocket}} }, "keep their names"},
		{"SocketDir from two directories", func(p *Policy) {
			p.Files = []File{{"/run/other/ca-bundle.pem", SocketDir + "/ca-bundle.pem"}}
		}, "comes from one directory"},
		{"SocketDir bound from the host", func(p *Policy) { p.Visible = []string{"/tmp/.jailrun"} }, "/tmp/.jailrun is bound from the host"},
		{"relative file", func(p *Policy) { p.Files = []File{{"bundle.pem", "/etc/ssl/cert.pem"}} }, "not an absolute clean path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.change(&p)
			_, err := Args(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Args error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEnviron(t *testing.T) {
	got := Environ(Policy{
		Env:      []string{"PATH=/usr/bin", "SSH_AUTH_SOCK=/tmp/ssh-x/agent", "HTTPS_PROXY=http://corp:3128", "HOME=/home/u"},
		Setenv:   []string{"HTTPS_PROXY=http://127.0.0.1:9", "NODE_USE_ENV_PROXY=1"},
		Unsetenv: HiddenVariables,
	})
	want := []string{"PATH=/usr/bin", "HOME=/home/u", "HTTPS_PROXY=http://127.0.0.1:9", "NODE_USE_ENV_PROXY=1"}
	if !slices.Equal(got, want) {
		t.Errorf("Environ:\n got %q\nwant %q", got, want)
	}
}

func TestDefaults(t *testing.T) {
	masks := DefaultMasks("/home/u")
	for _, want := range []string{"/home/u/.ssh", "/home/u/.config/gh", "/home/u/.cargo/credentials*", "/home/u/.mozilla", "/run/docker.sock", "/var/run/docker.sock", "/home/u/Library/Keychains"} {
		if !slices.Contains(masks, want) {
			t.Errorf("DefaultMasks lacks %s", want)
		}
	}
	for agent, want := range map[string][]string{
		"run":           {},
		"claude":        {"/home/u/.claude", "/home/u/.claude.json*"},
		"kiro-cli-chat": {"/home/u/.kiro", "/home/u/.local/share/kiro-cli"},
	} {
		if got := AgentState(agent, "/home/u"); !slices.Equal(got, want) {
			t.Errorf("AgentState(%s) = %q, want %q", agent, got, want)
		}
	}
	env := map[string]string{
		"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/dbus-x,guid=1;unix:path=/home/u/.bus",
		"SSH_AUTH_SOCK":            "/home/u/.ssh-agent.sock",
		"XDG_RUNTIME_DIR":          "/run/user/1000",
	}
	getenv := func(k string) string { return env[k] }
	if got, want := SocketMasks(getenv), []string{"/home/u/.bus", "/home/u/.ssh-agent.sock"}; !slices.Equal(got, want) {
		t.Errorf("SocketMasks = %q, want %q", got, want)
	}
	if got, want := DefaultPrivate(getenv), []string{"/run", "/run/user/1000"}; !slices.Equal(got, want) {
		t.Errorf("DefaultPrivate = %q, want %q", got, want)
	}
}
