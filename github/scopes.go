package github

import "strings"

// ScopeRisk is a classic token scope that an agent should not hold, and why.
type ScopeRisk struct {
	Scope, Why string
}

// dangerousScopes are the scopes that reach past pushing code and opening
// pull requests; every admin:* scope is dangerous too.
var dangerousScopes = map[string]string{
	"delete_repo":      "can delete repositories",
	"site_admin":       "administers the whole GitHub Enterprise Server",
	"delete:packages":  "can delete published packages",
	"workflow":         "can change GitHub Actions workflows; grant it only where branch protection requires review (jailrun ruleset)",
	"admin:enterprise": "administers the enterprise",
	"admin:org":        "administers the organisation, its members and teams",
}

// RiskyScopes returns the scopes among scopes that an agent's token should
// not have, in the order given.
func RiskyScopes(scopes []string) []ScopeRisk {
	var risks []ScopeRisk
	for _, s := range scopes {
		why, ok := dangerousScopes[s]
		if !ok && strings.HasPrefix(s, "admin:") {
			why, ok = "administers "+strings.ReplaceAll(strings.TrimPrefix(s, "admin:"), "_", " ")+"s", true
		}
		if ok {
			risks = append(risks, ScopeRisk{Scope: s, Why: why})
		}
	}
	return risks
}
