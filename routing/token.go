package routing

import (
	"errors"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/keyring"
)

// Token returns Resolve's decision for owner's repository on host, given
// the tokens in kr, and the token it picks (zero when it picks none).
// Reading one token costs a few calls, listing them a call per item; so
// first the token is read that Resolve picks if every name it may pick
// exists, which is its pick whenever that token exists. Only when it is
// missing does kr list its tokens: for Resolve's next steps, and for a
// name stored in other letter case.
func Token(kr keyring.Store, cfg config.Config, protocol, host, owner string) (keyring.Token, Decision, error) {
	candidates := []string{cfg.ActiveToken(), ConventionPrefix + owner}
	for _, r := range cfg.Routes {
		candidates = append(candidates, r.Token)
	}
	guess := Resolve(cfg, protocol, host, owner, candidates)
	if guess.Token == "" {
		return keyring.Token{}, guess, nil // no name can be picked, whatever kr holds
	}
	tok, err := kr.Get(guess.Token)
	if !errors.Is(err, keyring.ErrNotFound) {
		return tok, guess, err
	}
	tokens, err := kr.List()
	if err != nil {
		return keyring.Token{}, Decision{}, err
	}
	names := make([]string, len(tokens))
	for i, t := range tokens {
		names[i] = t.Name
	}
	d := Resolve(cfg, protocol, host, owner, names)
	for _, t := range tokens {
		if t.Name == d.Token {
			return t, d, nil
		}
	}
	return keyring.Token{}, d, nil
}
