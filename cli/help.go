package cli

// Examples shown under each command's --help (kong's HelpProvider).

func (tokenCmd) Help() string {
	return `Tokens are named namespace:key; github:fine-grained-OWNER serves OWNER's
repositories without configuration. See docs/github-tokens.md.`
}

func (tokenAddCmd) Help() string {
	return `Examples:
  jailrun token add --name github:fine-grained-myorg     # type or paste; input is hidden
  pass show gh/myorg | jailrun token add --name github:fine-grained-myorg
  jailrun token add --no-verify --name github:classic    # offline: store without asking GitHub`
}

func (tokenRotateCmd) Help() string {
	return `The item is updated in place: the name always holds a token.

Examples:
  jailrun token rotate --name github:fine-grained-myorg
  pass show gh/myorg-new | jailrun token rotate --yes --name github:fine-grained-myorg`
}

func (tokenDeleteCmd) Help() string {
	return `Examples:
  jailrun token delete --name github:fine-grained-oldorg
  jailrun token delete --yes --name github:fine-grained-oldorg`
}

func (tokenListCmd) Help() string {
	return `Prints each token's name, preview, kind, login and expiry, sorted by
name; never a whole token. A hint on stderr names tokens that no route or
convention can select.

Examples:
  jailrun token list
  jailrun token list --json | jq -r '.[] | select(.expires) | "\(.name) \(.expires)"'`
}

func (tokenVerifyCmd) Help() string {
	return `Asks GitHub's API (JAILRUN_GITHUB_API, or https://HOST/api/v3 for
GitHub Enterprise) and stores what it learns. Exits 1 when a token is
rejected or GitHub cannot be reached.

Examples:
  jailrun token verify --name github:classic
  jailrun token verify --all --json`
}

func (configCmd) Help() string {
	return `The file holds KEY="value" lines and is never executed. See docs/configuration.md.

Examples:
  jailrun config path
  GH_TOKEN_NAME=fine-grained-myorg jailrun config show
  jailrun config migrate      # from the bash jailrun's config.toml`
}

func (agentCmd) Help() string {
	return `Every argument after the agent's name is the agent's own, --help included:
jailrun claude --help is the agent's help, this is jailrun's. jailrun's own
settings for a launch go before the name, or in the environment:

  --no-jail                 start without the jail (as JAILRUN_JAIL=off does)
  JAILRUN_JAIL=auto|on|off  auto (default): jailed where bubblewrap works, else
                            a NOT jailed warning; on: jailed or an error
  GH_TOKEN_NAME=NAME        the active token for this run, github:NAME
  GH_TOKEN_ROUTES=…         owner=NAME routes; see docs/configuration.md

jailrun status shows which token the agent would get here, and whether it
would start jailed.

Examples:
  jailrun claude
  jailrun codex --model o4-mini
  GH_TOKEN_NAME=fine-grained-personal jailrun gemini
  jailrun --no-jail kiro-cli`
}

func (runCmd) Help() string {
	return `Examples:
  jailrun run -- aider --model sonnet
  jailrun run -- bash            # a shell with the session's GitHub setup
  jailrun run -- gh pr list`
}

func (doctorCmd) Help() string {
	return `Exits 1 when a check FAILs.

Examples:
  jailrun doctor
  jailrun doctor --json`
}

func (rulesetCmd) Help() string {
	return `Run it outside agent sessions, with a token that may administer the repository.

Examples:
  jailrun ruleset --dry-run
  jailrun ruleset myorg/app --token-name github:classic`
}

func (completionCmd) Help() string {
	return `Completes commands, flags, agents and, for --name, the stored token names
(jailrun answers the shell itself, so new tokens complete at once).

Install it for your shell, then start a new shell:
  bash:  echo 'eval "$(jailrun completion bash)"' >> ~/.bashrc
  zsh:   echo 'eval "$(jailrun completion zsh)"' >> ~/.zshrc
  fish:  echo 'jailrun completion fish | source' >> ~/.config/fish/config.fish

To try it in the current shell only:
  eval "$(jailrun completion bash)"`
}
