package config

import (
	"strings"
	"testing"
)

// TestRouteString checks that each route prints as the entry that set it.
func TestRouteString(t *testing.T) {
	entries := []string{"alice=fine-grained-personal", "ghe.corp.example/acme=ghe-acme", "ghe.corp.example=ghe-classic"}
	text := `GH_HOSTS="github.com ghe.corp.example"` + "\n" + `GH_TOKEN_ROUTES="` + strings.Join(entries, " ") + `"` + "\n"
	cfg, err := Parse(strings.NewReader(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Routes) != len(entries) {
		t.Fatalf("parsed %d routes, want %d", len(cfg.Routes), len(entries))
	}
	for i, r := range cfg.Routes {
		if got := r.String(); got != entries[i] {
			t.Errorf("route %d String() = %q, want %q", i, got, entries[i])
		}
	}
}
