package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLegacyTOML(t *testing.T) {
	tests := []struct {
		name, toml, wantToken, wantErr string
	}{
		{"short name", "[global]\ngh_token_name = \"fine-grained-x\"\n", "github:fine-grained-x", ""},
		{"full name", "[global]\ngh_token_name = 'github:fine-grained-y'\n", "github:fine-grained-y", ""},
		{"no name", "[global]\nother = 1\n", "github:classic", ""},
		{"no global table", "[sandbox]\nx = 1\n", "github:classic", ""},
		{"not toml", "[global\n", "", "cannot read"},
		{"pasted token", "[global]\ngh_token_name = \"ghp_abcdef\"\n", "", "looks like a token"},
		{"shell characters", "[global]\ngh_token_name = \"a$b\"\n", "", "dollars"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "jailrun"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "jailrun", "config.toml"), []byte(tt.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"XDG_CONFIG_HOME": dir}
			cfg, err := Load(func(k string) string { return env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if got := cfg.ActiveToken(); got != tt.wantToken {
				t.Errorf("ActiveToken() = %q, want %q", got, tt.wantToken)
			}
			if len(cfg.Warnings) == 0 || !strings.Contains(cfg.Warnings[len(cfg.Warnings)-1], "jailrun config migrate") {
				t.Errorf("Warnings = %q, want one pointing at jailrun config migrate", cfg.Warnings)
			}

			// Migrate writes a config file that says the same, once.
			path, err := Migrate(func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("Migrate() error = %v", err)
			}
			migrated, err := Load(func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("Load() after Migrate error = %v", err)
			}
			if got := migrated.ActiveToken(); got != tt.wantToken {
				t.Errorf("after Migrate, ActiveToken() = %q, want %q (file %s)", got, tt.wantToken, path)
			}
			if _, err := Migrate(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "exists already") {
				t.Errorf("second Migrate() error = %v, want 'exists already'", err)
			}
		})
	}
}

func TestLegacyEnvOverride(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "jailrun"), 0o755)
	os.WriteFile(filepath.Join(dir, "jailrun", "config.toml"), []byte("[global]\ngh_token_name = \"fine-grained-x\"\n"), 0o644)
	env := map[string]string{"XDG_CONFIG_HOME": dir, "GH_TOKEN_NAME": "classic"}
	cfg, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ActiveToken(); got != "github:classic" {
		t.Errorf("ActiveToken() = %q, want the environment's github:classic", got)
	}
}
