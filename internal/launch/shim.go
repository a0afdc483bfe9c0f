package launch

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/broker"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
	"github.com/jailrun/jailrun/session"
)

// ShimName is the name under which the jailrun executable acts as the gh
// shim: a link called gh in the session's shim directory.
const ShimName = "gh"

// ErrGHNotInstalled is PrepareShim's error when there is no gh to run.
var ErrGHNotInstalled = errors.New("gh (GitHub CLI) is not installed; install it: https://cli.github.com")

// PrepareShim plans to run the real gh with args and the token for the
// repository the command is about: the -R/--repo flag, else GH_REPO, else
// the remotes of the repository in the current directory (origin first).
// Problems other than a missing gh are warnings: gh runs without a token.
func PrepareShim(env *Env, args []string) (*Plan, error) {
	w := &starter{out: env.Stderr, tag: ShimName}
	self, _ := executable() // a gh that is jailrun itself would run this shim in a loop
	gh, err := lookPath(ShimName, env.Getenv("PATH"), session.ShimDir(env.Getenv), self)
	if err != nil {
		return nil, ErrGHNotInstalled
	}
	plan := &Plan{Tag: ShimName, Path: gh, Argv: append([]string{ShimName}, args...)}
	shimToken(env, w, plan, args)
	plan.Env = session.GHEnviron(env.Environ(), plan.TokenHost, plan.Token.Secret)
	return plan, nil
}

// shimToken sets plan's config, the host gh will talk to and the token
// routed for the repository the command is about; no token, with a
// warning, when there is none.
func shimToken(env *Env, w *starter, plan *Plan, args []string) {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		w.warn("GitHub PAT not used: %v", err)
		return
	}
	plan.Config = cfg
	repo := shimRepo(env, cfg, args)
	host, owner := repo.Host, repo.Owner
	plan.TokenHost = host
	if socket := env.Getenv(session.BrokerVar); socket != "" {
		plan.Token = brokerToken(w, socket, host, owner)
		return
	}
	kr, err := env.OpenKeyring()
	if err != nil {
		w.warn("GitHub PAT not available: %v", err)
		return
	}
	defer kr.Close()
	tok, d, err := routing.Token(kr, cfg, "https", host, owner)
	switch {
	case err != nil:
		w.warn("GitHub PAT not available: %v", err)
		return
	case d.Warning != "":
		w.warn("GitHub PAT not configured: %s", d.Warning)
	case tok.Secret != "" && host != config.DefaultHost:
		if other := otherTarget(env.Getenv, args, host); other != "" {
			w.warn("GitHub PAT not used: gh is pointed at %s, and the token is for %s only", other, host)
			return
		}
	}
	if apptoken.Is(tok.Name) { // never the App's key: a token it mints for this repository
		ctx, cancel := context.WithTimeout(context.Background(), apptoken.Timeout)
		defer cancel()
		if tok, err = apptoken.Serve(ctx, tok, cfg, session.StateDir(env.Getenv), env.Getenv, owner, repo.Name); err != nil {
			w.warn("GitHub App token not available: %v", err)
			return
		}
	}
	plan.Token = tok
}

// brokerToken asks the jail's token broker for owner's token on host.
func brokerToken(w *starter, socket, host, owner string) keyring.Token {
	c, err := broker.Dial(socket)
	if err != nil {
		w.warn("GitHub PAT not available: %v", err)
		return keyring.Token{}
	}
	defer c.Close()
	a, err := c.GH(host, owner)
	switch {
	case err != nil:
		w.warn("GitHub PAT not available: %v", err)
	case a.Warning != "":
		w.warn("GitHub PAT not configured: %s", a.Warning)
	}
	return a.Token
}

// defaultHost is the host gh uses without a repository: GH_HOST when it is
// a GitHub host, else github.com.
func defaultHost(env *Env, cfg config.Config) string {
	if h := env.Getenv("GH_HOST"); h != "" && cfg.IsGitHubHost(h) {
		return config.LowerASCII(h)
	}
	return config.DefaultHost
}

// shimRepo returns the host and owner of the repository a gh command is
// about: -R/--repo, GH_REPO, a repository operand, --hostname, else the
// current repository's remotes. An owner "" means gh's default host
// without a repository; a repository given with -R or GH_REPO in a form gh
// does not take gets host "" and so no token.
func shimRepo(env *Env, cfg config.Config, args []string) routing.Repo {
	value, named := repoFlag(args)
	if !named {
		value = env.Getenv("GH_REPO")
		named = value != ""
	}
	if named {
		repo, _ := parseRepoArg(env, cfg, value)
		return repo
	}
	if value, ok := repoOperand(args); ok {
		if repo, ok := parseRepoArg(env, cfg, value); ok {
			return repo
		}
	}
	if h, ok := hostnameFlag(args); ok {
		return routing.Repo{Host: config.LowerASCII(h)}
	}
	if cwd, err := env.Getwd(); err == nil {
		remotes, _ := session.Remotes(cwd) // an unreadable config: gh will say so itself
		if repo, ok := githubRepo(cfg, remotes); ok {
			return repo
		}
	}
	return routing.Repo{Host: defaultHost(env, cfg)}
}

// repoFlag returns the value of gh's -R/--repo flag in args, in any of the
// forms gh accepts: -R x, -Rx, -R=x, --repo x, --repo=x. The last one wins,
// as in gh; "--" ends the flags.
func repoFlag(args []string) (string, bool) { return flagValue(args, "-R", "--repo") }

// flagValue returns the value of the gh flag long (--name), or short (-x;
// "" for none), in args, in the forms gh accepts: -x v, -xv, -x=v,
// --name v, --name=v. The last one wins, as in gh; "--" ends the flags.
func flagValue(args []string, short, long string) (string, bool) {
	value, found := "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return value, found
		case a == long || short != "" && a == short:
			if i+1 < len(args) {
				value, found = args[i+1], true
				i++
			}
		case strings.HasPrefix(a, long+"="):
			value, found = a[len(long)+1:], true
		case short != "" && strings.HasPrefix(a, short):
			value, found = strings.TrimPrefix(a[len(short):], "="), true
		}
	}
	return value, found
}

// repoSubcommands are the `gh repo` commands whose first operand is a
// repository.
var repoSubcommands = map[string]bool{
	"archive": true, "clone": true, "create": true, "delete": true, "edit": true, "fork": true,
	"set-default": true, "sync": true, "unarchive": true, "view": true,
}

// repoOperand returns the repository a gh command names as an operand
// instead of with -R: `gh repo clone|view|fork|… [HOST/]OWNER/REPO`, or
// `gh api [--hostname HOST] repos/OWNER/REPO/…` (as HOST/OWNER/REPO).
func repoOperand(args []string) (string, bool) {
	if len(args) < 2 {
		return "", false
	}
	switch args[0] {
	case "repo":
		if !repoSubcommands[args[1]] {
			return "", false
		}
		for _, a := range args[2:] {
			if a == "--" || !strings.HasPrefix(a, "-") {
				return a, strings.Contains(a, "/")
			}
		}
	case "api":
		if slices.Contains(args[1:], "--") {
			return "", false
		}
		host, _ := hostnameFlag(args)
		for _, a := range args[1:] {
			if rest, ok := strings.CutPrefix(strings.TrimPrefix(a, "/"), "repos/"); ok {
				owner, rest, _ := strings.Cut(rest, "/")
				name, _, _ := strings.Cut(rest, "/")
				if host == "" {
					return owner + "/" + name, true
				}
				return host + "/" + owner + "/" + name, true
			}
		}
	}
	return "", false
}

// parseRepoArg reads a repository as gh takes it: OWNER/REPO (on GH_HOST
// or github.com), HOST/OWNER/REPO, or a URL.
func parseRepoArg(env *Env, cfg config.Config, value string) (routing.Repo, bool) {
	if strings.Contains(value, "://") || strings.Contains(value, "@") {
		return remoteRepo(cfg, value)
	}
	parts := strings.Split(value, "/")
	switch len(parts) {
	case 2:
		parts = append([]string{defaultHost(env, cfg)}, parts...)
	case 3:
	default:
		return routing.Repo{}, false
	}
	return routing.ParseRemote("https://" + strings.Join(parts, "/"))
}
