package cli

import (
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

type configShowCmd struct{}

func (configPathCmd) Run(env *Env) error {
	fmt.Fprintln(env.Stdout, config.Path(env.Getenv))
	return nil
}

func (configShowCmd) Run(env *Env) error {
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
