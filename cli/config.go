package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/jailrun/jailrun/config"
)

type configCmd struct {
	Path    configPathCmd    `cmd:"" help:"Print where the configuration file is."`
	Show    configShowCmd    `cmd:"" help:"Print the settings in effect, after the environment's overrides."`
	Migrate configMigrateCmd `cmd:"" help:"Write the config file from the bash jailrun's config.toml."`
}

type configMigrateCmd struct{}

func (configMigrateCmd) Run(env *Env) error {
	path, err := config.Migrate(env.Getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Wrote %s from %s; config.toml is left as it was.\n", path, config.LegacyPath(env.Getenv))
	return nil
}

type configPathCmd struct{}

type configShowCmd struct {
	JSON bool `name:"json" help:"Print the settings as a JSON object, for scripts."`
}

// shownConfig is config show --json's object.
type shownConfig struct {
	Path           string       `json:"path"`
	Present        bool         `json:"present"`
	TokenName      string       `json:"token_name"`   // GH_TOKEN_NAME
	ActiveToken    string       `json:"active_token"` // github:TOKEN_NAME
	Routes         []shownRoute `json:"routes"`
	Hosts          []string     `json:"hosts"`
	ExpiryWarnDays int          `json:"expiry_warn_days"`
	Warnings       []string     `json:"warnings"`
}

// shownRoute is one GH_TOKEN_ROUTES entry; Owner "" is the host's default.
type shownRoute struct {
	Host  string `json:"host"`
	Owner string `json:"owner,omitempty"`
	Token string `json:"token"`
}

func (configPathCmd) Run(env *Env) error {
	fmt.Fprintln(env.Stdout, config.Path(env.Getenv))
	return nil
}

func (c configShowCmd) Run(env *Env) error {
	if c.JSON {
		return showConfigJSON(env)
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	path := config.Path(env.Getenv)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		path += " (not present: defaults apply)"
	}
	fmt.Fprintf(env.Stdout, "# %s\n", path)
	active := fmt.Sprintf("GH_TOKEN_NAME=%q", cfg.TokenName)
	if env.Getenv("GH_TOKEN_NAME") != "" {
		active += "  # from the environment"
	}
	fmt.Fprintln(env.Stdout, active)
	var routes []string
	for _, r := range cfg.Routes {
		routes = append(routes, r.String())
	}
	fmt.Fprintf(env.Stdout, "GH_TOKEN_ROUTES=%q\n", strings.Join(routes, " "))
	fmt.Fprintf(env.Stdout, "GH_HOSTS=%q\n", strings.Join(cfg.Hosts, " "))
	fmt.Fprintf(env.Stdout, "GH_TOKEN_EXPIRY_WARN_DAYS=%q\n", fmt.Sprint(cfg.ExpiryWarnDays))
	return nil
}

// showConfigJSON prints the settings in effect as a JSON object; its
// warnings are in it, not on stderr.
func showConfigJSON(env *Env) error {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return err
	}
	path := config.Path(env.Getenv)
	_, statErr := os.Stat(path)
	shown := shownConfig{
		Path: path, Present: statErr == nil,
		TokenName: cfg.TokenName, ActiveToken: cfg.ActiveToken(),
		Routes: []shownRoute{}, Hosts: cfg.Hosts, ExpiryWarnDays: cfg.ExpiryWarnDays,
		Warnings: append([]string{}, cfg.Warnings...),
	}
	for _, r := range cfg.Routes {
		shown.Routes = append(shown.Routes, shownRoute{Host: r.Host, Owner: r.Owner, Token: r.Token})
	}
	out, err := json.MarshalIndent(shown, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, string(out))
	return nil
}

// loadConfig reads the user's configuration and prints its warnings.
func loadConfig(env *Env) (config.Config, error) {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return cfg, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(env.Stderr, "jailrun: WARN: %s\n", w)
	}
	return cfg, nil
}
