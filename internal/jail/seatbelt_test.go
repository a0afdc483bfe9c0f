package jail

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/seatbelt")

// macBase is a `jailrun run -- true` in /Users/u/repo on macOS as Resolve
// and the darwin launcher would give it: canonical paths (/private/var for
// /var), the session's own temporary directory writable, the sockets in
// the session's directory.
func macBase() Policy {
	const session = "/private/var/folders/xy/abc123/T/jailrun-7"
	return Policy{
		Argv:    []string{"/usr/bin/true"},
		Dir:     "/Users/u/repo",
		Write:   []string{"/Users/u/repo", "/Users/u/.cache", "/Users/u/.npm", session + "/tmp"},
		Visible: []string{"/Users/u", "/usr/bin", "/opt/homebrew/bin"},
		Masks: []Mask{
			{"/Users/u/.ssh", true}, {"/Users/u/.netrc", false}, {"/Users/u/.config/gh", true},
			{"/Users/u/Library/Keychains", true},
		},
		Sockets: []Socket{{Host: session + "/broker.sock", Jail: BrokerSocket}},
	}
}

func TestSeatbelt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Policy)
	}{
		{"run", func(*Policy) {}},
		{"claude", func(p *Policy) {
			p.Write = append(p.Write, "/Users/u/.claude", "/Users/u/.claude.json", "/Users/u/.claude.json.backup")
		}},
		{"masks-file-dir", func(p *Policy) {
			// A file and a directory, one inside a masked directory, one
			// in the writable repository: its directories there may not
			// be renamed.
			p.Masks = []Mask{{"/Users/u/.gnupg/S.gpg-agent", false}, {"/Users/u/.gnupg", true},
				{"/Users/u/.pypirc", false}, {"/Users/u/repo/config/.env", false}}
		}},
		{"allow-write-deny-read", func(p *Policy) {
			// JAILRUN_ALLOW_WRITE=/srv/data, JAILRUN_DENY_READ=/srv/data/secrets and
			// /Users/u/repo/.env; a Linux-style private directory with a
			// write path inside it.
			p.Write = append(p.Write, "/srv/data", "/run/user/501/app")
			p.Private = []string{"/run/user/501"}
			p.Masks = append(p.Masks, Mask{"/srv/data/secrets", true}, Mask{"/Users/u/repo/.env", false})
		}},
		{"quote-backslash", func(p *Policy) {
			p.Write = []string{`/Users/u/my "repo" \ x`}
			p.Masks = []Mask{{`/Users/u/a"b\c.txt`, false}, {`/Users/u/dir") (allow default`, true}}
		}},
		{"share-net", func(p *Policy) { p.ShareNet = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := macBase()
			tc.change(&p)
			port := 49152
			if p.ShareNet {
				port = 0
			}
			got, err := Seatbelt(p, port)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "seatbelt", tc.name+".sb")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v; run go test ./internal/jail -run TestSeatbelt -update to write it", err)
			}
			if got != string(want) {
				t.Errorf("Seatbelt differs from %s (go test -run TestSeatbelt -update rewrites it after a review of the diff):\n%s", golden, got)
			}
		})
	}
}

// TestSeatbeltOrder checks what the golden files could hide after an
// -update: in SBPL the last matching rule wins, so each refusal must come
// after the allow it narrows.
func TestSeatbeltOrder(t *testing.T) {
	p := macBase()
	p.Masks = append(p.Masks, Mask{"/Users/u/repo/.env", false})
	got, err := Seatbelt(p, 49152)
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][2]string{
		{"(deny default)", "(allow process-exec)"},
		{"(allow process-exec)", "(deny process-exec\n  (literal \"/usr/bin/security\")"},
		{"(allow mach-lookup\n", "(deny mach-lookup\n  (global-name \"com.apple.SecurityServer\")"},
		{"(allow file-read*)", "(deny file-read*\n"},
		{"(deny file-read*\n", "  (subpath \"/Users/u/Library/Keychains\")"},
		{"(allow file-write*\n  (subpath \"/Users/u/repo\")", "(deny file-write*\n"},
		{"(deny file-write*\n", "  (literal \"/Users/u/repo/.env\")\n)\n(deny file-write-unlink"},
		{"(deny file-write*\n", "(deny file-write-unlink\n  (literal \"/Users/u/repo\")"},
	} {
		before, after := strings.Index(got, order[0]), strings.LastIndex(got, order[1])
		if before < 0 || after < 0 || before > after {
			t.Errorf("the profile lacks %q before %q:\n%s", order[0], order[1], got)
		}
	}
	for _, never := range []string{"(allow default)", "(allow mach-lookup)", "(allow network-outbound)", "(allow file-write*)",
		`"com.apple.coreservices.launchservicesd"`, "kern.procargs"} {
		if strings.Contains(got, never) {
			t.Errorf("the profile has %s:\n%s", never, got)
		}
	}
}

func TestSeatbeltRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Policy)
		port   int
		want   string
	}{
		{"no command", func(p *Policy) { p.Argv = nil }, 1, "no command"},
		{"relative path", func(p *Policy) { p.Write = []string{"repo"} }, 1, `"repo" is not an absolute clean path`},
		{"unclean mask", func(p *Policy) { p.Masks = []Mask{{"/Users/u/../v/.ssh", true}} }, 1, "not an absolute clean path"},
		{"newline", func(p *Policy) { p.Write = []string{"/Users/u/a\n(allow default)"} }, 1, "control character"},
		{"socket with a tab", func(p *Policy) { p.Sockets = []Socket{{Host: "/tmp/a\tb"}} }, 1, "control character"},
		{"the whole disk writable", func(p *Policy) { p.Write = []string{"/"} }, 1, "whole disk writable"},
		{"no proxy port", func(*Policy) {}, 0, "proxy port 0 is not a TCP port"},
		{"port out of range", func(*Policy) {}, 65536, "proxy port 65536"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := macBase()
			tc.change(&p)
			_, err := Seatbelt(p, tc.port)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Seatbelt error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSBPLString(t *testing.T) {
	for in, want := range map[string]string{
		`/a/b`:        `"/a/b"`,
		`/a "b"`:      `"/a \"b\""`,
		`/a\b`:        `"/a\\b"`,
		`/a\") (x "\`: `"/a\\\") (x \"\\"`,
	} {
		if got := sbplString(in); got != want {
			t.Errorf("sbplString(%q) = %s, want %s", in, got, want)
		}
	}
}
