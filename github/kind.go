// Package github holds what jailrun knows of GitHub itself: the kinds of
// token it issues, the scopes an agent should not hold, and a small REST
// client that verifies a token and sets up repository rulesets.
package github

import "strings"

// Token kinds, as GitHub's token prefixes name them.
const (
	KindFineGrained = "fine-grained"
	KindClassic     = "classic"
	KindOAuth       = "oauth"
	KindUserToApp   = "github-app-user"
	KindApp         = "github-app-installation"
	KindRefresh     = "refresh"
)

var prefixes = []struct{ prefix, kind string }{
	{"github_pat_", KindFineGrained},
	{"ghp_", KindClassic},
	{"gho_", KindOAuth},
	{"ghu_", KindUserToApp},
	{"ghs_", KindApp},
	{"ghr_", KindRefresh},
}

// KindOf tells a token's kind from its prefix, offline; "" when it has
// none of GitHub's prefixes (a token of GitHub Enterprise Server before 3.x,
// or not a GitHub token at all).
func KindOf(token string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(token, p.prefix) {
			return p.kind
		}
	}
	return ""
}
