// Package egress turns the egress configuration (JAILRUN_EGRESS,
// JAILRUN_ALLOW_HOSTS, GH_HOSTS and the agent being started) into the
// jail proxy's Policy. It is pure: the same inputs give the same policy.
package egress

import (
	"fmt"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/placeholder"
	"github.com/jailrun/jailrun/internal/proxy"
)

// agentHosts are the hosts each agent needs to sign in and to reach its
// model, by the name jailrun starts it under. Each list but Kiro's was
// read from the agent's package under /opt/agents/node_modules (strings of
// the binary or grep of the JavaScript, December 2026). Telemetry, error
// reporting and self-update hosts are left out on purpose: signing in and
// reaching the model do not need them, and each is one more way out.
var agentHosts = map[string][]string{
	// @anthropic-ai/claude-code 2.x, bin/claude.exe: BASE_API_URL
	// api.anthropic.com; OAuth AUTHORIZE_URL and TOKEN_URL on
	// platform.claude.com, CLAUDE_AI_AUTHORIZE_URL on claude.com, the
	// claude.ai login. console.anthropic.com and statsig.anthropic.com are
	// on the list of https://code.claude.com/docs/en/network-config (the
	// page the binary links to) for versions still in use.
	"claude": {
		"api.anthropic.com",
		"platform.claude.com",
		"claude.ai",
		"claude.com",
		"console.anthropic.com",
		"statsig.anthropic.com",
	},
	// @openai/codex-linux-x64, vendor/…/bin/codex: api.openai.com/v1 (API
	// key), auth.openai.com/oauth/token (ChatGPT sign-in),
	// chatgpt.com/backend-api/codex (the ChatGPT plan's model endpoint),
	// the three hosts the binary's sign-in and model clients name.
	"codex": {
		"api.openai.com",
		"auth.openai.com",
		"chatgpt.com",
	},
	// @google/gemini-cli, bundle/*.js: generativelanguage.googleapis.com
	// (API key), cloudcode-pa.googleapis.com (Code Assist sign-in), the
	// OAuth hosts oauth2.googleapis.com and accounts.google.com, and
	// www.googleapis.com (userinfo, token certificates); see
	// https://geminicli.com/docs/get-started/authentication.
	"gemini": {
		"generativelanguage.googleapis.com",
		"cloudcode-pa.googleapis.com",
		"oauth2.googleapis.com",
		"accounts.google.com",
		"www.googleapis.com",
	},
	// Kiro CLI is not under /opt/agents (a native installer, not npm), so
	// these come from public descriptions of its sign-in and of Amazon Q
	// Developer CLI, whose successor it is, not from its binary: social
	// sign-in on prod.us-east-1.auth.desktop.kiro.dev, Builder ID and IAM
	// Identity Center on oidc.us-east-1.amazonaws.com, the model on
	// q.us-east-1.amazonaws.com and codewhisperer.us-east-1.amazonaws.com.
	// Unconfirmed: check them against kiro-cli's traffic. Other regions go
	// in JAILRUN_ALLOW_HOSTS.
	"kiro-cli":      kiroHosts,
	"kiro-cli-chat": kiroHosts,
}

var kiroHosts = []string{
	"prod.us-east-1.auth.desktop.kiro.dev",
	"oidc.us-east-1.amazonaws.com",
	"q.us-east-1.amazonaws.com",
	"codewhisperer.us-east-1.amazonaws.com",
}

// The npm registry is in no default list: an agent in list mode talks to
// its model and GitHub, not to a registry that runs install scripts and
// accepts a publish with any token a prompt carries. Add
// registry.npmjs.org to JAILRUN_ALLOW_HOSTS to install packages.

// DefaultHosts returns the hosts list mode allows without
// JAILRUN_ALLOW_HOSTS: for each GitHub host, the hosts its tokens go to
// and those serving its content (placeholder.TokenHosts and ContentHosts:
// github.com's API, uploads, codeload, raw and object hosts; a GHE.com
// tenant's api. and uploads. names; a GitHub Enterprise Server alone, its
// API being HOST/api/v3); then the agent's own hosts (none for an agent
// not in the table, such as `jailrun run`).
func DefaultHosts(ghHosts []string, agent string) []string {
	var hosts []string
	for _, h := range ghHosts {
		hosts = append(hosts, placeholder.TokenHosts(h)...)
		hosts = append(hosts, placeholder.ContentHosts(h)...)
	}
	return append(hosts, agentHosts[agent]...)
}

// Policy builds the proxy's policy for mode (config.EgressOpen or
// config.EgressList). Under open the GitHub hosts and allowHosts are
// listed (so a GHE server on a private network or a listed host's
// loopback is reachable) and every other public host is allowed; under
// list only DefaultHosts and allowHosts are. allowHosts are
// JAILRUN_ALLOW_HOSTS entries: host, host:port or *.domain[:port].
func Policy(mode string, ghHosts, allowHosts []string, agent string) (proxy.Policy, error) {
	switch mode {
	case config.EgressOpen:
		allow, err := proxy.NewAllowlist(append(append([]string{}, ghHosts...), allowHosts...)...)
		if err != nil {
			return nil, err
		}
		return proxy.Open{Allow: allow}, nil
	case config.EgressList:
		allow, err := proxy.NewAllowlist(append(DefaultHosts(ghHosts, agent), allowHosts...)...)
		if err != nil {
			return nil, err
		}
		return proxy.List{Allow: allow}, nil
	}
	return nil, fmt.Errorf("egress mode %q is neither %s nor %s; set %s to one of them", mode, config.EgressOpen, config.EgressList, proxy.EgressKey)
}
