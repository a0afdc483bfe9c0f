#!/usr/bin/env bash
# Times one `get` of git-credential-jailrun next to git-credential-libsecret
# (built from git's contrib sources) and `secret-tool lookup`, all against
# the same private gnome-keyring on a private D-Bus session: never the
# user's own keyring. Prints the medians and the ratio to libsecret.
#
#   scripts/bench-helper.sh [RUNS]        (default 200 runs per command)
#
# Needs: go, gcc, make, pkg-config, libsecret-1-dev, hyperfine, dbus,
# gnome-keyring, libsecret-tools (sudo apt install …).
set -euo pipefail

if [ "${1:-}" = --inside ]; then
	# Inside dbus-run-session: a private bus, HOME and XDG_* in $work.
	work=$2 runs=$3
	cd "$work"
	printf 'bench-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
	for _ in $(seq 100); do # until the login collection answers
		secret-tool search --all xdg:schema none >/dev/null 2>&1 && break
		sleep 0.05
	done
	token() { head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 36; }
	# Three jailrun tokens, stored as the bash jailrun stores them.
	for name in github:classic github:fine-grained-myorg github:fine-grained-personal; do
		printf 'github_pat_%s' "$(token)" |
			secret-tool store --label="jailrun:$name" service "jailrun:$name" account "$USER"
	done
	printf 'protocol=https\nhost=example.com\nusername=u\npassword=%s\n\n' "$(token)" >store.req
	./git-credential-libsecret store <store.req >/dev/null
	./git-credential-jailrun store <store.req # same attributes: one item, read by both
	printf 'protocol=https\nhost=github.com\npath=myorg/repo.git\n\n' >github.req
	printf 'protocol=https\nhost=example.com\n\n' >plain.req

	# Each command must answer, or the timings mean nothing.
	grep -q '^password=github_pat_' <(./git-credential-jailrun get <github.req)
	grep -q '^password=github_pat_' <(./git-credential-jailrun-static get <github.req)
	grep -q '^password=' <(./git-credential-jailrun get <plain.req)
	grep -q '^password=' <(./git-credential-libsecret get <plain.req)
	secret-tool lookup service jailrun:github:classic account "$USER" | grep -q github_pat_

	# Short hyperfine rounds, the commands taking turns, so that load from
	# other processes falls on all of them alike; medians over all rounds.
	rounds=10
	for round in $(seq "$rounds"); do
		hyperfine --style none --warmup 5 --runs $(((runs + rounds - 1) / rounds)) --export-json "times-$round.json" \
			-n 'git-credential-jailrun get (github.com/myorg, routed)' './git-credential-jailrun get <github.req' \
			-n 'git-credential-jailrun get (example.com, stored)' './git-credential-jailrun get <plain.req' \
			-n 'git-credential-jailrun CGO_ENABLED=0 get (github.com/myorg, routed)' './git-credential-jailrun-static get <github.req' \
			-n 'git-credential-jailrun CGO_ENABLED=0 get (example.com, stored)' './git-credential-jailrun-static get <plain.req' \
			-n 'git-credential-jailrun CGO_ENABLED=0, no action (process start)' './git-credential-jailrun-static none <plain.req' \
			-n 'git-credential-libsecret get (example.com)' './git-credential-libsecret get <plain.req' \
			-n 'secret-tool lookup' "secret-tool lookup service jailrun:github:classic account $USER" >/dev/null
	done
	jq -rs '
		def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		[.[].results[]] | group_by(.command)
		| map({command: .[0].command, median: ([.[].times[]] | median), runs: ([.[].times[]] | length)})
		| (map(select(.command | startswith("git-credential-libsecret")))[0].median) as $lib
		| sort_by(.median)[]
		| "\(.median * 1e5 | round / 100) ms median  \(.median / $lib * 100 | round / 100)x libsecret  (\(.runs) runs)  \(.command)"' times-*.json
	exit 0
fi

cd "$(dirname "$0")/.."
runs=${1:-200}
for tool in go gcc make pkg-config hyperfine jq dbus-run-session gnome-keyring-daemon secret-tool; do
	command -v "$tool" >/dev/null || {
		echo "bench-helper: $tool not found; sudo apt install golang gcc make pkg-config hyperfine jq dbus gnome-keyring libsecret-tools" >&2
		exit 1
	}
done
pkg-config --exists libsecret-1 || { echo "bench-helper: libsecret-1 not found; sudo apt install libsecret-1-dev" >&2; exit 1; }
src=/usr/share/doc/git/contrib/credential/libsecret
[ -f "$src/git-credential-libsecret.c" ] || { echo "bench-helper: $src not found; sudo apt install git" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# As install.sh builds it, and without cgo: a static binary skips the
# dynamic loader and libc, which os/user and net pull in.
go build -trimpath -ldflags "-s -w" -o "$work/git-credential-jailrun" ./cmd/git-credential-jailrun
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/git-credential-jailrun-static" ./cmd/git-credential-jailrun
cp "$src/git-credential-libsecret.c" "$src/Makefile" "$work/"
make -s -C "$work" >/dev/null
mkdir -p "$work/home" "$work/data" "$work/config" "$work/cache" "$work/run"
chmod 700 "$work/run"
env -i PATH="$PATH" USER="${USER:-$(id -un)}" LANG=C.UTF-8 HOME="$work/home" \
	XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" XDG_RUNTIME_DIR="$work/run" \
	dbus-run-session -- bash "$PWD/scripts/bench-helper.sh" --inside "$work" "$runs"
