package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/jailrun/jailrun/internal/fserr"
)

// legacyFile is the bash jailrun's later settings file, config.toml beside
// the config file. jailrun reads its [global] gh_token_name and never
// writes it; Migrate turns it into a config file.
type legacyFile struct {
	Global struct {
		GHTokenName string `toml:"gh_token_name"`
	} `toml:"global"`
}

// LegacyPath returns where the bash jailrun's config.toml would be.
func LegacyPath(getenv func(string) string) string {
	path := Path(getenv)
	if path == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(path), "config.toml")
}

// loadLegacy reads config.toml at path as the config file it stands for.
func loadLegacy(path string, getenv func(string) string) (Config, error) {
	text, err := legacyAsConfig(path)
	if err != nil {
		return Config{}, err
	}
	cfg, err := parse(strings.NewReader(text), getenv, path)
	if err != nil {
		return Config{}, err
	}
	cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("read %s (the bash jailrun's format), which jailrun never changes; to move to the config file: jailrun config migrate", path))
	return cfg, nil
}

// legacyAsConfig returns the config-file lines that say what config.toml at
// path says.
func legacyAsConfig(path string) (string, error) {
	var f legacyFile
	if _, err := toml.DecodeFile(path, &f); err != nil {
		return "", fmt.Errorf("cannot read %s: %v; fix it, or write the config file instead", path, err)
	}
	if f.Global.GHTokenName == "" {
		return "", nil
	}
	name, err := shortName(f.Global.GHTokenName)
	if err == nil && strings.ContainsAny(name, "\"\\$`'") {
		err = errors.New("has quotes, backslashes or dollars")
	}
	if err != nil {
		return "", fmt.Errorf("%s: [global] gh_token_name %v", path, err)
	}
	return fmt.Sprintf("GH_TOKEN_NAME=%q\n", name), nil
}

// Migrate writes the config file from the bash jailrun's config.toml and
// returns its path. It never overwrites an existing config file.
func Migrate(getenv func(string) string) (string, error) {
	path, legacy := Path(getenv), LegacyPath(getenv)
	if path == "" {
		return "", errors.New("cannot locate the jailrun config: set HOME (or XDG_CONFIG_HOME) to an absolute directory")
	}
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("%s exists already; edit it instead", path)
	}
	if _, err := os.Stat(legacy); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("nothing to migrate: %s does not exist", legacy)
	}
	text, err := legacyAsConfig(legacy)
	if err != nil {
		return "", err
	}
	header := "# jailrun settings, migrated from config.toml. KEY=\"value\" lines; read, never executed.\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("cannot write %s: %w", path, fserr.WithoutPath(err))
	}
	if _, err := f.WriteString(header + text); err != nil {
		f.Close()
		return "", fmt.Errorf("cannot write %s: %v", path, err)
	}
	return path, f.Close()
}
