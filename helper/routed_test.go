package helper

import (
	"strings"
	"testing"
)

// TestRoutedGetReadsOneToken checks that a get whose routed token exists
// reads that token alone (listing costs a call per keyring item), and that
// listing still decides when it is missing or spelt in other letter case.
func TestRoutedGetReadsOneToken(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": configHome(t, testConfig)}
	for _, tc := range []struct {
		name, input, want string
		lists             int
	}{
		{"convention", "protocol=https\nhost=github.com\npath=myorg/repo.git\n\n", myorg, 0},
		{"explicit route", "protocol=https\nhost=github.com\npath=alice/dots\n\n", personal, 0},
		{"host default", "protocol=https\nhost=github.com\n\n", classic, 0},
		{"enterprise default", "protocol=https\nhost=ghe.corp.example\n\n", ghe, 0},
		{"no token for the owner", "protocol=https\nhost=github.com\npath=someoneelse/x\n\n", classic, 1},
		{"enterprise, no route for the owner", "protocol=https\nhost=ghe.corp.example\npath=team/repo\n\n", ghe, 0},
		{"owner in other letter case", "protocol=https\nhost=github.com\npath=MyOrg/repo.git\n\n", myorg, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr := newFake()
			r := run(t, kr, env, tc.input, "get")
			if got := r.stdout; got == "" || !strings.Contains(got, "password="+tc.want+"\n") {
				t.Errorf("stdout = %q, want the token %s", redact(got), redact(tc.want))
			}
			if kr.lists != tc.lists {
				t.Errorf("List called %d times, want %d", kr.lists, tc.lists)
			}
		})
	}
}
