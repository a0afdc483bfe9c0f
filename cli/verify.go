package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/internal/launch"
	"github.com/jailrun/jailrun/keyring"
)

type tokenVerifyCmd struct {
	Name string `placeholder:"NAME" predictor:"token" xor:"which" required:"" help:"Name of the stored token to check with GitHub."`
	All  bool   `xor:"which" required:"" help:"Check every stored github: token."`
	JSON bool   `name:"json" help:"Print a JSON array of what GitHub said of each token, for scripts."`
}

// verification is what GitHub said of one stored token and what jailrun
// advises about it; token verify --json prints a list of them.
type verification struct {
	Name     string     `json:"name"`
	Status   string     `json:"status"` // ok, warn (advice has a WARN) or fail (Error)
	Login    string     `json:"login,omitempty"`
	Kind     string     `json:"kind,omitempty"`
	Expires  *time.Time `json:"expires,omitempty"`
	Scopes   []string   `json:"scopes,omitempty"` // classic tokens only
	Advice   []string   `json:"advice,omitempty"` // "WARN: …" and "hint: …" lines
	Error    string     `json:"error,omitempty"`
	validity string
}

func (c *tokenVerifyCmd) Run(env *Env) error {
	if !c.All {
		if err := keyring.ValidateName(c.Name); err != nil {
			return usageError{err.Error()}
		}
		if !isGitHubToken(c.Name) {
			return usageError{fmt.Sprintf("%s is not a GitHub token; only %s names are verified", c.Name, config.Namespace)}
		}
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	kr, err := env.OpenKeyring()
	if err != nil {
		return err
	}
	defer kr.Close()
	var tokens []keyring.Token
	if c.All {
		all, err := kr.List()
		if err != nil {
			return err
		}
		for _, t := range all {
			if isGitHubToken(t.Name) {
				tokens = append(tokens, t)
			}
		}
		if len(tokens) == 0 {
			return fmt.Errorf("no %s tokens stored; add one: jailrun token add --name github:fine-grained-myorg", config.Namespace)
		}
	} else {
		t, err := getRegistered(kr, c.Name)
		if err != nil {
			return err
		}
		tokens = []keyring.Token{t}
	}
	var results []verification
	var failed []error
	for _, t := range tokens {
		v, err := verifyStored(env, cfg, kr, t)
		v.Status = statusOK
		for _, a := range v.Advice {
			if strings.HasPrefix(a, "WARN") {
				v.Status = statusWarn
			}
		}
		if err != nil {
			v.Status, v.Error = statusFail, err.Error()
			failed = append(failed, fmt.Errorf("%s: %w", t.Name, err))
		}
		results = append(results, v)
	}
	if c.JSON {
		out, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", out)
	} else {
		for _, v := range results {
			if v.Error != "" {
				continue
			}
			fmt.Fprintf(env.Stdout, "%s: verified as %s (%s), %s\n", v.Name, v.Login, kindText(v.Kind), v.validity)
			if v.Scopes != nil {
				fmt.Fprintf(env.Stdout, "  scopes: %s\n", strings.Join(v.Scopes, ", "))
			}
			for _, a := range v.Advice {
				fmt.Fprintf(env.Stdout, "  %s\n", a)
			}
		}
	}
	switch {
	case len(failed) == 1 && !c.All:
		return failed[0]
	case len(failed) > 0:
		for _, err := range failed {
			if !c.JSON {
				fmt.Fprintf(env.Stderr, "jailrun: %v\n", err)
			}
		}
		return fmt.Errorf("%d of %d tokens failed verification", len(failed), len(tokens))
	}
	return nil
}

// verifyStored asks GitHub about a stored token and records the learnt
// metadata with the item.
func verifyStored(env *Env, cfg config.Config, kr keyring.Store, t keyring.Token) (verification, error) {
	v := verification{Name: t.Name}
	host := apiHost(cfg, t.Name)
	info, err := askGitHub(env, host, t.Secret)
	if errors.Is(err, github.ErrRejected) {
		return v, fmt.Errorf("%w; create a new token on %s and run: jailrun token rotate --name %s", err, host, t.Name)
	}
	if err != nil {
		return v, err
	}
	meta := metaOf(t.Secret, info)
	v.Login, v.Kind, v.Scopes = meta.Login, meta.Kind, info.Scopes
	if !meta.Expires.IsZero() {
		v.Expires = &meta.Expires
	}
	v.validity = describeValidity(meta.Expires, time.Now())
	v.Advice = advice(cfg, host, t.Name, meta, info.Scopes)
	if meta.Kind != t.Meta.Kind || meta.Login != t.Meta.Login || !meta.Expires.Equal(t.Meta.Expires) {
		t.Meta = meta
		if err := kr.Put(t); err != nil {
			return v, fmt.Errorf("verified, but recording the expiry in the keyring failed: %w", err)
		}
	}
	return v, nil
}

// advice warns about what the guide advises against: expiry soon, past or
// never, risky scopes, classic tokens. Each line starts "WARN: " or "hint: ".
func advice(cfg config.Config, host, name string, meta keyring.Meta, scopes []string) []string {
	var lines []string
	rotate := "create a new token and run: jailrun token rotate --name " + name
	switch left := time.Until(meta.Expires); {
	case meta.Expires.IsZero():
		lines = append(lines, "WARN: the token never expires; tokens for agents should expire in 30 days")
	case left <= 0:
		lines = append(lines, "WARN: expired; GitHub will refuse it; "+rotate)
	case left <= time.Duration(cfg.ExpiryWarnDays)*24*time.Hour:
		lines = append(lines, fmt.Sprintf("WARN: expires %s; %s", launch.InDays(left), rotate))
	}
	for _, r := range github.RiskyScopes(scopes) {
		lines = append(lines, fmt.Sprintf("WARN: scope %s %s; remove it from the token on %s", r.Scope, r.Why, host))
	}
	if meta.Kind == github.KindClassic {
		lines = append(lines, fmt.Sprintf("hint: a classic token reaches every repository its account can; a fine-grained token per organisation limits an agent to what it needs: https://%s/settings/personal-access-tokens/new", host))
	}
	return lines
}

// newTokenMeta returns the metadata to store with a token about to be
// stored under name: unless noVerify, it asks GitHub who the token is and
// when it expires. A rejected token is an error; when GitHub cannot be
// asked, a WARN says so and only the kind is known.
func newTokenMeta(env *Env, name, secret string, noVerify bool) (keyring.Meta, error) {
	meta := keyring.Meta{Kind: github.KindOf(secret)}
	if noVerify || !isGitHubToken(name) {
		return meta, nil
	}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "jailrun: WARN: not verified: %v; storing the token without its expiry\n", err)
		return meta, nil
	}
	host := apiHost(cfg, name)
	info, err := askGitHub(env, host, secret)
	switch {
	case errors.Is(err, github.ErrRejected):
		return meta, fmt.Errorf("%s rejected the token (revoked or expired); nothing stored; copy it again, or store it unverified with --no-verify", host)
	case err != nil:
		fmt.Fprintf(env.Stderr, "jailrun: WARN: not verified: %v; storing the token without its expiry; later: jailrun token verify --name %s\n", err, name)
		return meta, nil
	}
	meta = metaOf(secret, info)
	fmt.Fprintf(env.Stdout, "verified as %s (%s), %s\n", info.Login, kindText(meta.Kind), describeValidity(meta.Expires, time.Now()))
	if info.Scopes != nil {
		fmt.Fprintf(env.Stderr, "  scopes: %s\n", strings.Join(info.Scopes, ", "))
	}
	for _, a := range advice(cfg, host, name, meta, info.Scopes) {
		fmt.Fprintf(env.Stderr, "  %s\n", a)
	}
	return meta, nil
}

// currentExpiry describes when the token t expires: from its metadata, or,
// when that does not say and verify allows, by asking GitHub.
func currentExpiry(env *Env, t keyring.Token, verify bool) string {
	if !t.Meta.Expires.IsZero() {
		return describeValidity(t.Meta.Expires, time.Now())
	}
	cfg, err := config.Load(env.Getenv)
	if !verify || !isGitHubToken(t.Name) || err != nil {
		return "expiry unknown"
	}
	info, err := askGitHub(env, apiHost(cfg, t.Name), t.Secret)
	switch {
	case errors.Is(err, github.ErrRejected):
		return "rejected by GitHub (revoked or expired)"
	case err != nil:
		return "expiry unknown (GitHub could not be asked)"
	}
	return describeValidity(info.Expires, time.Now())
}

// askGitHub asks the API of host who secret belongs to.
func askGitHub(env *Env, host, secret string) (github.TokenInfo, error) {
	client, err := github.NewClient(github.APIBase(host, env.Getenv), env.Getenv)
	if err != nil {
		return github.TokenInfo{}, err
	}
	return client.User(context.Background(), secret)
}

// apiHost returns the GitHub host whose API knows the token called name:
// the host of the first route that sends requests to it, else github.com.
func apiHost(cfg config.Config, name string) string {
	for _, r := range cfg.Routes {
		if r.Token == name {
			return r.Host
		}
	}
	return config.DefaultHost
}

// metaOf is the metadata to store for secret, from what GitHub said.
func metaOf(secret string, info github.TokenInfo) keyring.Meta {
	return keyring.Meta{Expires: info.Expires, Kind: github.KindOf(secret), Login: info.Login}
}

// isGitHubToken reports whether name is in the github: namespace.
func isGitHubToken(name string) bool { return strings.HasPrefix(name, config.Namespace) }

// kindText names a token kind for people.
func kindText(kind string) string {
	if kind == "" {
		return "token of unknown kind"
	}
	return kind + " token"
}

// describeValidity says when a token expires: "expires 2026-12-01 (in 12
// days)", "expired on 2026-11-01" or "no expiry".
func describeValidity(expires, now time.Time) string {
	date := expires.Local().Format("2006-01-02")
	switch left := expires.Sub(now); {
	case expires.IsZero():
		return "no expiry"
	case left <= 0:
		return "expired on " + date
	default:
		return "expires " + date + " (" + launch.InDays(left) + ")"
	}
}
