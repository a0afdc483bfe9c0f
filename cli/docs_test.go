package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/gittest"
	"github.com/jailrun/jailrun/internal/testbin"
)

// TestDocsSamples runs what the README and docs show an agent's start
// line to be, and compares: a sample that drifts from the program fails.
func TestDocsSamples(t *testing.T) {
	w := newWorld(t, testbin.Dir(t), true)
	w.agent("claude", "exit 0\n")
	// A day and an hour: "in N days" stays N however long the test takes.
	w.put("github:fine-grained-myorg", "github_pat_", time.Now().Add(30*24*time.Hour+time.Hour))
	myorg := filepath.Join(w.home, "src", "myorg", "app")
	gittest.InitWorkRepo(t, myorg, "https://github.com/myorg/app.git")
	acme := filepath.Join(w.home, "src", "acme", "x")
	gittest.InitWorkRepo(t, acme, "https://github.com/acme/x.git")

	samples := []struct {
		doc, contains string // the sample: the doc's line that has contains
		dir           string
		setup         func()
	}{
		{doc: "../README.md", contains: "[claude] GitHub: PAT github:fine-grained-myorg", dir: myorg},
		{doc: "../docs/sessions.md", contains: "[claude] WARN: GitHub PAT not configured: no token for acme's", dir: acme},
		{doc: "../docs/sessions.md", contains: "[claude] GitHub: PAT github:fine-grained-myorg", dir: myorg, setup: func() {
			w.put("github:fine-grained-myorg", "github_pat_", time.Now().Add(12*24*time.Hour+time.Hour))
		}},
	}
	for _, s := range samples {
		text, err := os.ReadFile(s.doc)
		if err != nil {
			t.Fatal(err)
		}
		var sample string
		for line := range strings.SplitSeq(string(text), "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, s.contains) {
				sample = line
			}
		}
		if sample == "" {
			t.Errorf("%s has no sample line starting %q", s.doc, s.contains)
			continue
		}
		if s.setup != nil {
			s.setup()
		}
		r := w.run(s.dir, []string{"TZ=UTC"}, "claude")
		if !strings.Contains(r.stderr, sample+"\n") {
			t.Errorf("%s shows\n  %s\nbut jailrun claude prints\n  %s", s.doc, sample, strings.ReplaceAll(strings.TrimSpace(r.stderr), "\n", "\n  "))
		}
	}
}
