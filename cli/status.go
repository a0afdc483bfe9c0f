package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/internal/broker"
	"github.com/jailrun/jailrun/internal/launch"
	"github.com/jailrun/jailrun/routing"
)

type statusCmd struct {
	Repo string `short:"R" name:"repo" placeholder:"[HOST/]OWNER/REPO" help:"Report for this repository instead of the current directory's clone."`
	JSON bool   `name:"json" help:"Print the report as a JSON object, for scripts."`
}

// statusReport is what jailrun status finds: never the secret.
type statusReport struct {
	Repository string     `json:"repository,omitempty"` // HOST/OWNER/REPO, "" outside a clone
	Host       string     `json:"host"`
	Token      string     `json:"token,omitempty"`  // the name git and gh would get, "" for none
	Via        string     `json:"via,omitempty"`    // route, convention or default
	Reason     string     `json:"reason,omitempty"` // why there is no token
	Kind       string     `json:"kind,omitempty"`
	Login      string     `json:"login,omitempty"`
	Expires    *time.Time `json:"expires,omitempty"`
	Jailed     bool       `json:"jailed"`
	Problems   []check    `json:"problems"`
}

// viaText says why a step of routing chose a token.
var viaText = map[string]string{
	routing.ViaRoute:      "by a route in GH_TOKEN_ROUTES",
	routing.ViaConvention: "by convention (github:fine-grained-OWNER)",
	routing.ViaDefault:    "the default (the active token, GH_TOKEN_NAME)",
	viaBroker:             "from the jail's token broker, routed with the configuration read at launch",
}

// viaBroker is Via inside a jail, where the broker routes, not status.
const viaBroker = "broker"

func (c *statusCmd) Run(env *Env) error {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return err
	}
	r := statusReport{Host: config.DefaultHost, Problems: []check{}}
	var owner string
	var repoErr error
	if c.Repo != "" {
		repo, err := parseRepoFlag(c.Repo)
		if err != nil {
			return err
		}
		r.Repository, r.Host, owner = repo.Host+"/"+repo.Owner+"/"+repo.Name, repo.Host, repo.Owner
	} else if cwd, err := env.Getwd(); err == nil {
		repo, ok, err := launch.RepoOf(cfg, cwd)
		repoErr = err
		if ok {
			r.Repository, r.Host, owner = repo.Host+"/"+repo.Owner+"/"+repo.Name, repo.Host, repo.Owner
		}
	}
	if repoErr != nil {
		r.Problems = append(r.Problems, check{Name: "repository", Status: statusWarn, Detail: repoErr.Error()})
	}
	r.tokenFor(env, cfg, owner)
	r.jailFor(env)
	if c.JSON {
		out, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, string(out))
	} else {
		r.print(env)
	}
	for _, p := range r.Problems {
		if p.Status == statusFail {
			return exitStatus(ExitError)
		}
	}
	return nil
}

// parseRepoFlag reads -R's OWNER/REPO or HOST/OWNER/REPO.
func parseRepoFlag(s string) (routing.Repo, error) {
	parts := strings.Split(s, "/")
	if len(parts) == 2 {
		parts = append([]string{config.DefaultHost}, parts...)
	}
	if len(parts) != 3 || parts[0] == "" || !config.ValidOwner(parts[1]) || parts[2] == "" {
		return routing.Repo{}, usageError{fmt.Sprintf("-R %q is not OWNER/REPO or HOST/OWNER/REPO", s)}
	}
	return routing.Repo{Host: config.LowerASCII(parts[0]), Owner: parts[1], Name: parts[2]}, nil
}

// tokenFor fills in the token git and gh would get for owner on r.Host;
// inside a jail, the broker's answer, since the keyring is out of reach.
func (r *statusReport) tokenFor(env *Env, cfg config.Config, owner string) {
	if socket, ok := launch.JailBroker(env.Getenv); ok {
		r.tokenFromBroker(socket, owner)
		return
	}
	kr, err := env.OpenKeyring()
	if err != nil {
		r.Problems = append(r.Problems, failed("keychain", err))
		return
	}
	defer kr.Close()
	tok, d, err := routing.Token(kr, cfg, "https", r.Host, owner)
	switch {
	case err != nil:
		r.Problems = append(r.Problems, failed("keychain", err))
		return
	case tok.Secret == "":
		p := check{Name: "token", Status: statusWarn, Detail: "git and gh get no token here"}
		switch {
		case d.Warning != "":
			p.Detail, p.Hint, _ = strings.Cut(d.Warning, "; ")
			if hint, fix, ok := strings.Cut(p.Hint, ": jailrun "); ok {
				p.Hint, p.Fix = hint, "jailrun "+fix
			}
		case owner != "":
			p.Hint = fmt.Sprintf("add one (or route %s in GH_TOKEN_ROUTES)", r.Host)
			p.Fix = "jailrun token add --name " + routing.ConventionPrefix + owner
		default:
			p.Hint = fmt.Sprintf("route %s in GH_TOKEN_ROUTES (%s=NAME)", r.Host, r.Host)
		}
		r.Reason = p.Detail
		// Outside a clone, a default token never chosen is information.
		if owner != "" || cfg.TokenName != config.DefaultTokenName || r.Host != config.DefaultHost {
			r.Problems = append(r.Problems, p)
			if p.Fix != "" {
				r.Reason += "; " + p.Hint + ": " + p.Fix
			}
		}
		return
	}
	r.Token, r.Via, r.Kind, r.Login = tok.Name, d.Via, tok.Meta.Kind, tok.Meta.Login
	if r.Kind == "" {
		r.Kind = github.KindOf(tok.Secret)
	}
	if !tok.Meta.Expires.IsZero() {
		r.Expires = &tok.Meta.Expires
	}
	if isGitHubToken(tok.Name) {
		if ch := checkExpiry(cfg, tok, env.Now()); ch.Status != statusOK {
			r.Problems = append(r.Problems, ch)
		}
	}
}

// tokenFromBroker fills in the token the jail's broker at socket serves
// for owner on r.Host, as the gh shim asks for it.
func (r *statusReport) tokenFromBroker(socket, owner string) {
	c, err := broker.Dial(socket)
	if err != nil {
		r.Problems = append(r.Problems, failed("token broker", err))
		return
	}
	defer c.Close()
	a, err := c.GH(r.Host, owner)
	switch {
	case err != nil:
		r.Problems = append(r.Problems, failed("token broker", err))
		r.Reason = "the jail's token broker did not answer"
	case a.Token.Secret == "":
		r.Reason = "the jail's token broker serves none here"
		if a.Warning != "" {
			r.Reason += ": " + a.Warning
		}
	default:
		r.Token, r.Via, r.Kind, r.Login = a.Token.Name, viaBroker, a.Token.Meta.Kind, a.Token.Meta.Login
		if !a.Token.Meta.Expires.IsZero() {
			r.Expires = &a.Token.Meta.Expires
		}
	}
}

// jailFor says whether a session started now would be jailed.
func (r *statusReport) jailFor(env *Env) {
	ch := checkJail(env)
	r.Jailed = ch.Status == statusOK && !strings.HasPrefix(ch.Detail, "off")
	if ch.Status != statusOK {
		r.Problems = append(r.Problems, ch)
	}
}

// print writes the report for people.
func (r *statusReport) print(env *Env) {
	if r.Repository != "" {
		fmt.Fprintf(env.Stdout, "Repository: %s\n", r.Repository)
	} else {
		fmt.Fprintf(env.Stdout, "Repository: none (not in a clone of a GitHub repository); %s\n", r.Host)
	}
	if r.Token != "" {
		fmt.Fprintf(env.Stdout, "Token:      %s, %s\n", r.Token, viaText[r.Via])
		details := []string{kindText(r.Kind)}
		if r.Login != "" {
			details = append(details, "acts as "+r.Login)
		}
		switch {
		case apptoken.Is(r.Token):
			details = []string{"a GitHub App: sessions here get a token it mints for this repository alone, for an hour"}
		case r.Expires != nil:
			details = append(details, describeValidity(*r.Expires, env.Now()))
		default:
			details = append(details, "expiry unknown")
		}
		fmt.Fprintf(env.Stdout, "            %s\n", strings.Join(details, ", "))
	} else {
		fmt.Fprintf(env.Stdout, "Token:      none: %s\n", r.Reason)
	}
	if r.Jailed {
		fmt.Fprintln(env.Stdout, "Jail:       agents start jailed")
	} else {
		fmt.Fprintln(env.Stdout, "Jail:       agents start NOT jailed")
	}
	for _, p := range r.Problems {
		printCheck(env, p)
	}
}
