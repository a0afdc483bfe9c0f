#!/usr/bin/env bash
# Smoke check: real agents from npm start jailed. Not part of go test (it
# downloads the agents): run it by hand after changing the jail.
#
#   scripts/smoke-agents.sh [DIR]   # DIR keeps the npm install between runs
#
# For each agent it checks `jailrun AGENT --version` jailed, then starts the
# agent on a terminal (tmux) and prints its first screen, and checks that the
# agent could write its own state. HOME is a fresh directory.
set -euo pipefail
cd "$(dirname "$0")/.."
agents_dir=${1:-"$(mktemp -d)"}
work=$(mktemp -d)
trap 'tmux kill-session -t jailrun-smoke 2>/dev/null || true; rm -rf "$work"' EXIT

command -v tmux >/dev/null || { echo "smoke-agents: needs tmux (apt install tmux)"; exit 1; }
npm install --prefix "$agents_dir" --no-audit --no-fund --silent \
	@anthropic-ai/claude-code @openai/codex @google/gemini-cli >/dev/null
go build -o "$work/bin/jailrun" ./cmd/jailrun
go build -o "$work/bin/git-credential-jailrun" ./cmd/git-credential-jailrun
mkdir -p "$work/home" "$work/repo"
git -C "$work/repo" init -q

env_=(env -i "PATH=$work/bin:$agents_dir/node_modules/.bin:/usr/bin:/bin" "HOME=$work/home"
	"USER=$(id -un)" TERM=xterm-256color)
declare -A state=([claude]=.claude [codex]=.codex [gemini]=.gemini)
status=0
for agent in claude codex gemini; do
	echo "== $agent"
	out=$(cd "$work/repo" && "${env_[@]}" jailrun "$agent" --version 2>&1) || true
	echo "$out" | grep -v 'WARN: GitHub PAT'
	grep -q "\[$agent\] jailed" <<<"$out" || { echo "FAIL: $agent --version did not start jailed"; status=1; }
	tmux new-session -d -s jailrun-smoke -x 120 -y 35 -c "$work/repo" "${env_[*]} jailrun $agent; sleep 60"
	sleep 15
	tmux capture-pane -p -t jailrun-smoke | sed '/^$/d' | head -30
	tmux kill-session -t jailrun-smoke
	if [ -z "$(ls -A "$work/home/${state[$agent]}" 2>/dev/null)" ]; then
		echo "FAIL: $agent wrote nothing to ~/${state[$agent]}"
		status=1
	fi
done
exit $status
