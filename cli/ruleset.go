package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
	"github.com/jailrun/jailrun/session"
)

type rulesetCmd struct {
	Repo      string `arg:"" optional:"" placeholder:"[HOST/]OWNER/REPO" help:"Repository, on github.com unless HOST (one of GH_HOSTS) says otherwise (default: the origin remote of the current directory's repository)."`
	DryRun    bool   `help:"Show what would be created; change nothing."`
	TokenName string `placeholder:"NAME" help:"Stored token to use, with Administration: write on the repository (default: your gh login, from gh auth token)."`
}

func (c *rulesetCmd) Run(env *Env) error {
	if session.InSession(env.Getenv) {
		return errors.New("refusing to change rulesets from inside an agent session; run jailrun ruleset in your own shell")
	}
	if c.TokenName != "" {
		if err := keyring.ValidateName(c.TokenName); err != nil {
			return usageError{err.Error()}
		}
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	repo, err := c.target(cfg)
	if err != nil {
		return err
	}
	client, err := github.NewClient(github.APIBase(repo.Host, env.Getenv), env.Getenv)
	if err != nil {
		return err
	}
	ctx := context.Background()
	token, err := c.token(env, repo.Host)
	if err != nil && !c.DryRun {
		return err
	}
	var existing []string
	if err != nil {
		// A dry run shows the rulesets without a login; only which exist
		// already is unknown.
		fmt.Fprintf(env.Stderr, "jailrun: note: %v; showing every ruleset without checking which exist\n", err)
	} else if existing, err = client.RulesetNames(ctx, token, repo.Owner, repo.Name); err != nil {
		return fmt.Errorf("reading the rulesets of %s/%s: %w", repo.Owner, repo.Name, err)
	}
	fmt.Fprintf(env.Stdout, "%s/%s on %s:\n", repo.Owner, repo.Name, repo.Host)
	for _, rs := range github.JailrunRulesets() {
		switch {
		case slices.Contains(existing, rs.Name):
			fmt.Fprintf(env.Stdout, "  %s: already exists, left as it is\n", rs.Name)
		case c.DryRun:
			body, err := json.MarshalIndent(rs, "    ", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "  %s: would be created (dry run):\n    %s\n", rs.Name, body)
		default:
			if err := client.CreateRuleset(ctx, token, repo.Owner, repo.Name, rs); err != nil {
				return fmt.Errorf("creating ruleset %s on %s/%s: %w; the token needs Administration: write on the repository", rs.Name, repo.Owner, repo.Name, err)
			}
			fmt.Fprintf(env.Stdout, "  %s: created\n", rs.Name)
		}
	}
	return nil
}

// target is the repository named on the command line ([HOST/]OWNER/REPO),
// else the one the origin remote of the current directory's repository
// points at; either must be on a GitHub host.
func (c *rulesetCmd) target(cfg config.Config) (routing.Repo, error) {
	if c.Repo != "" {
		url := "https://" + c.Repo
		if strings.Count(c.Repo, "/") == 1 {
			url = "https://" + config.DefaultHost + "/" + c.Repo
		}
		repo, ok := routing.ParseRemote(url)
		if !ok || strings.HasSuffix(c.Repo, ".git") || strings.Count(c.Repo, "/") > 2 {
			return routing.Repo{}, usageError{fmt.Sprintf("%q is not [HOST/]OWNER/REPO, e.g. jailrun/jailrun", c.Repo)}
		}
		if !cfg.IsGitHubHost(repo.Host) {
			return routing.Repo{}, usageError{fmt.Sprintf("%s is not a GitHub host; add it to GH_HOSTS in the config", repo.Host)}
		}
		return repo, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "remote", "get-url", "origin").Output()
	if err != nil {
		return routing.Repo{}, errors.New("cannot find the repository: no origin remote here; name it: jailrun ruleset OWNER/REPO")
	}
	url := strings.TrimSpace(string(out))
	repo, ok := routing.ParseRemote(url)
	if !ok || !cfg.IsGitHubHost(repo.Host) {
		return routing.Repo{}, fmt.Errorf("the origin remote %s is not a repository on a GitHub host (GH_HOSTS); name it: jailrun ruleset OWNER/REPO", url)
	}
	return repo, nil
}

// token returns the stored token --token-name names, else the token of
// the user's gh login for host, read from gh's output (never from argv).
func (c *rulesetCmd) token(env *Env, host string) (string, error) {
	if c.TokenName != "" {
		kr, err := env.OpenKeyring()
		if err != nil {
			return "", err
		}
		defer kr.Close()
		t, err := getRegistered(kr, c.TokenName)
		return t.Secret, err
	}
	gh, err := exec.LookPath("gh")
	if err != nil {
		return "", errors.New("gh not found on PATH; install it and run gh auth login, or pass --token-name NAME of a token with Administration: write")
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, gh, "auth", "token", "--hostname", host)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	token := strings.TrimSpace(string(out))
	if err != nil || token == "" || strings.ContainsAny(token, " \t\n") {
		why, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if why != "" {
			why = ": " + why
		}
		return "", fmt.Errorf("gh auth token gave no token for %s%s; run gh auth login, or pass --token-name NAME", host, why)
	}
	return token, nil
}
