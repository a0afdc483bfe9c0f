#!/usr/bin/env bash
# Times jailrun against the tools people would use instead, side by side in
# one run, on two private keyrings this script starts itself (never the
# user's own): each is a private dbus-daemon (no service directories, so
# nothing installed is activated) with gnome-keyring-daemon in a temporary
# HOME. Both hold 50 jailrun tokens; the "big" one also holds 1000 items of
# other applications (in its in-memory session collection), 10 of them
# under the same account attribute (as Git Credential Manager stores them),
# so that a search by account sees them.
#
# Prints one table of medians and ratios, each target next to its ratio:
#   git-credential-jailrun get   vs git-credential-libsecret (built from the
#                                   contrib source git ships), secret-tool
#                                   lookup, git credential-store (the floor),
#                                   gh auth git-credential
#   jailrun run -- true          vs secret-tool lookup + true (unjailed)
#   jailed jailrun run -- true   vs sandbox-runtime's `srt true` (when srt is
#                                   on PATH: npm i -g @anthropic-ai/sandbox-runtime)
#                                   and vs unjailed run + a bare bwrap
#   git-credential-jailrun get   inside the jail (through the token broker)
#                                   vs git-credential-libsecret get outside
#   50 git credential fill       inside the jail, through the session's git
#                                   configuration (git runs the helper through
#                                   sh, as it runs every helper), vs 50
#                                   git-credential-libsecret get outside; and
#                                   the floor: 50 fills in the jail answered by
#                                   a C helper that reads nothing (git + sh)
#   the supervisor's memory      VmRSS of jailrun while a jailed agent runs
#   get and jailrun token list   big keyring vs small keyring
#   gnome-keyring's own time     each call's median time from call to
#                                   answer, as the bus saw it, in 30 lookups
#                                   by git-credential-jailrun and by
#                                   git-credential-libsecret
#
#   scripts/bench.sh [RUNS]     (runs per command, default 150; ~5 minutes)
#
# Commands take turns in short hyperfine rounds so that load from other
# processes falls on all alike; medians are over all rounds. A row of 50
# calls runs a fifth as often (RUNS/5 times 50 calls). Ratios are printed
# to three places and judged unrounded.
set -euo pipefail

if [ "${1:-}" = --inside ]; then
	work=$2 runs=$3
	cd "$work"
	rounds=5
	per_round=$(((runs + rounds - 1) / rounds))
	per_round50=$(((per_round + 4) / 5))

	# start_keyring NAME: a private bus and gnome-keyring for NAME; sets bus_NAME.
	start_keyring() {
		local dir=$work/$1
		mkdir -p "$dir"/{home,data,config,cache,run}
		chmod 700 "$dir/run"
		cat >"$dir/bus.conf" <<-EOF
			<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
			 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
			<busconfig>
			  <type>session</type>
			  <listen>unix:path=$dir/run/bus</listen>
			  <auth>EXTERNAL</auth>
			  <policy context="default">
			    <allow send_destination="*" eavesdrop="true"/>
			    <allow eavesdrop="true"/>
			    <allow own="*"/>
			  </policy>
			</busconfig>
		EOF
		dbus-daemon --config-file="$dir/bus.conf" --nofork --print-address=3 3>"$dir/address" 2>"$dir/dbus.log" &
		pids+=($!)
		for _ in $(seq 100); do [ -s "$dir/address" ] && break; sleep 0.05; done
		local addr
		addr=$(head -n1 "$dir/address")
		[ -n "$addr" ] || { echo "bench: dbus-daemon did not start" >&2; exit 1; }
		printf -v "bus_$1" %s "$addr"
		printf 'bench-password' | env HOME="$dir/home" XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config" \
			XDG_CACHE_HOME="$dir/cache" XDG_RUNTIME_DIR="$dir/run" DBUS_SESSION_BUS_ADDRESS="$addr" \
			gnome-keyring-daemon --foreground --unlock --components=secrets >"$dir/keyring.log" 2>&1 &
		pids+=($!)
		for _ in $(seq 200); do # until the login collection answers
			in_keyring "$1" secret-tool search --all xdg:schema none >/dev/null 2>&1 && return
			sleep 0.05
		done
		echo "bench: gnome-keyring did not start: $(cat "$dir/keyring.log")" >&2
		exit 1
	}
	# in_keyring NAME CMD…: runs CMD against keyring NAME, in its HOME.
	in_keyring() {
		local dir=$work/$1 bus=bus_$1
		shift
		env HOME="$dir/home" XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config" \
			XDG_CACHE_HOME="$dir/cache" XDG_RUNTIME_DIR="$dir/run" DBUS_SESSION_BUS_ADDRESS="${!bus}" "$@"
	}
	# envs NAME: the same environment as a prefix for hyperfine's shell.
	envs() {
		local dir=$work/$1 bus=bus_$1
		echo "HOME=$dir/home XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config XDG_CACHE_HOME=$dir/cache XDG_RUNTIME_DIR=$dir/run DBUS_SESSION_BUS_ADDRESS=${!bus}"
	}
	secret() { head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 36; }

	pids=() gh_note=""
	# A command that fails stops the script (set -e): say which, from
	# hyperfine's log, not nothing.
	trap 'status=$?; kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null
		[ "$status" = 0 ] || echo "bench: failed (exit $status): $(tail -n 3 hyperfine.log 2>/dev/null)" >&2' EXIT
	echo "bench: starting two private keyrings and filling them" >&2
	start_keyring small
	start_keyring big
	for kr in small big; do
		# 50 jailrun tokens, through stdin; myorg's and a default among them.
		for name in classic fine-grained-myorg fine-grained-personal $(seq -f 'fine-grained-org%02g' 47); do
			printf 'github_pat_%s\n' "$(secret)" | in_keyring $kr ./jailrun token add --no-verify --name "github:$name" >/dev/null
		done
		# A stored credential that libsecret and jailrun both read (same attributes).
		printf 'protocol=https\nhost=example.com\nusername=u\npassword=%s\n\n' "$(secret)" >store.req
		in_keyring $kr ./git-credential-libsecret store <store.req >/dev/null
		# gh's token where gh keeps it: the keyring since gh 2.24 (service
		# gh:github.com), hosts.yml before.
		printf 'gho_%s' "$(secret)" | in_keyring $kr secret-tool store --label='gh:github.com ""' service gh:github.com username bench
		mkdir -p "$work/$kr/config/gh"
		printf 'github.com:\n    git_protocol: https\n    user: bench\n    users:\n        bench: {}\n' >"$work/$kr/config/gh/hosts.yml"
		if ! in_keyring $kr gh auth token >/dev/null 2>&1; then
			printf 'github.com:\n    git_protocol: https\n    user: bench\n    oauth_token: gho_%s\n' "$(secret)" >"$work/$kr/config/gh/hosts.yml"
			gh_note=" (gh $(gh --version | head -n1 | cut -d' ' -f3): token in hosts.yml)"
		fi
	done
	# 1000 items of other applications in the big keyring; every 100th
	# under the same account attribute as jailrun's tokens.
	in_keyring big ./fill
	printf 'protocol=https\nhost=github.com\npath=myorg/repo.git\n\n' >github.req
	printf 'protocol=https\nhost=example.com\n\n' >plain.req
	printf 'protocol=https\nhost=github.com\n\n' >gh.req
	printf 'https://u:%s@example.com\n' "$(secret)" >store.creds
	mkdir -p notrepo

	# Each command must answer, or its time means nothing.
	for kr in small big; do
		in_keyring $kr ./git-credential-jailrun get <github.req | grep -q '^password=github_pat_'
		in_keyring $kr ./git-credential-jailrun get <plain.req | grep -q '^password='
		[ "$(in_keyring $kr ./jailrun token list --json | jq length)" = 50 ]
	done
	in_keyring small ./git-credential-libsecret get <plain.req | grep -q '^password='
	in_keyring small secret-tool lookup service jailrun:github:classic account "$USER" | grep -q '^github_pat_'
	git credential-store --file store.creds get <plain.req | grep -q '^password='
	in_keyring small gh auth git-credential get <gh.req | grep -q '^password=gho_'
	(cd notrepo && in_keyring small ../jailrun run -- sh -c '[ -n "$GH_TOKEN" ]') 2>/dev/null
	(cd notrepo && in_keyring small JAILRUN_JAIL=on ../jailrun run -- sh -c \
		'git credential fill <../github.req | grep -q "^password=." &&
		git -c credential.helper= -c credential.helper="$PWD/../answer" credential fill <../plain.req | grep -q "^password=."') 2>/dev/null

	s=$(envs small) b=$(envs big) lookup="secret-tool lookup service jailrun:github:classic account $USER"
	srt='srt true'
	command -v srt >/dev/null || srt=/bin/true # no sandbox-runtime: its row and ratio say so
	srt_note=""
	command -v srt >/dev/null || srt_note=" (not installed: timed /bin/true)"
	commands=(
		'get routed' "$s ./git-credential-jailrun get <github.req"
		'get plain' "$s ./git-credential-jailrun get <plain.req"
		'start' "$s ./git-credential-jailrun none <plain.req"
		'empty go' './empty'
		'libsecret' "$s ./git-credential-libsecret get <plain.req"
		'secret-tool' "$s $lookup"
		'credential-store' 'git credential-store --file store.creds get <plain.req'
		'gh' "$s gh auth git-credential get <gh.req"
		'run' "cd notrepo && $s JAILRUN_JAIL=off ../jailrun run -- true"
		'run jailed' "cd notrepo && $s JAILRUN_JAIL=on ../jailrun run -- true"
		'bwrap' 'bwrap --ro-bind / / --unshare-net true'
		'srt' "$srt"
		'secret-tool+true' "$s $lookup >/dev/null && /bin/true"
		'list' "$s ./jailrun token list"
		'get routed big' "$b ./git-credential-jailrun get <github.req"
		'get plain big' "$b ./git-credential-jailrun get <plain.req"
		'list big' "$b ./jailrun token list"
	)
	args=()
	for ((i = 0; i < ${#commands[@]}; i += 2)); do
		args+=(-n "${commands[i]}" "${commands[i + 1]}")
	done
	# The supervisor's memory while the jailed program runs.
	(cd notrepo && in_keyring small JAILRUN_JAIL=on ../jailrun run -- sleep 2.5) 2>/dev/null &
	job=$!
	sleep 1.5
	supervisor_rss=$(awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$(pgrep -n -f 'jailrun run -- sleep 2.5')/status")
	wait $job
	echo "bench: timing, $rounds rounds of $per_round runs per command" >&2
	for round in $(seq $rounds); do
		hyperfine --style none --warmup 3 --runs "$per_round" --export-json "times-$round.json" "${args[@]}" >/dev/null 2>>hyperfine.log
		# The helper inside a jail asks the broker: timed by hyperfine run
		# in the jail itself, in the same rounds as the rest.
		(cd notrepo && in_keyring small JAILRUN_JAIL=on ../jailrun run -- sh -c '
			hyperfine --style none --warmup 3 --runs "$1" --export-json "inside-$3.json" \
				-n "get in jail" "../git-credential-jailrun --session get <../github.req" &&
			hyperfine --style none --warmup 1 --runs "$2" --export-json "inside50-$3.json" \
				-n "50 fills in jail" "for i in \$(seq 50); do git credential fill <../github.req >/dev/null; done" \
				-n "50 fills floor" "for i in \$(seq 50); do git -c credential.helper= -c credential.helper=$PWD/../answer credential fill <../plain.req >/dev/null; done"
		' sh "$per_round" "$per_round50" "$round") >/dev/null 2>>hyperfine.log
		hyperfine --style none --warmup 1 --runs "$per_round50" --export-json "times50-$round.json" \
			-n '50 libsecret' "$s sh -c 'for i in \$(seq 50); do ./git-credential-libsecret get <plain.req >/dev/null; done'" >/dev/null 2>>hyperfine.log
	done
	jq -rs --arg gh_note "$gh_note" --arg srt_note "$srt_note" --arg rss "$supervisor_rss" --arg machine "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)" '
		def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		def ms: . * 1e5 | round / 100 | tostring | . + " ms";
		def x: . * 1000 | round / 1000 | tostring | . + "×";
		([.[].results[]] | group_by(.command) | map({key: .[0].command, value: ([.[].times[]] | median)}) | from_entries) as $m
		| ([.[].results[] | select(.command == "run")] | map(.times | length) | add) as $n
		| ([.[].results[] | select(.command == "50 libsecret")] | map(.times | length) | add) as $n50
		| def row($name; $what): "\($what)\t\($m[$name] | ms)";
		  def ratio($a; $b; $what; $target): "\($what)\t\($m[$a] / $m[$b] | x)\t\($target)\t\(if $target == "" then "" elif $m[$a] / $m[$b] <= ($target | ltrimstr("≤ ") | rtrimstr("×") | tonumber) then "met" else "MISSED" end)";
		"# \($machine); \($n) runs each (rows of 50 calls: \($n50)), medians",
		"",
		"command (small keyring unless marked)\tmedian",
		row("get routed"; "git-credential-jailrun get (github.com/myorg, routed token)"),
		row("get plain"; "git-credential-jailrun get (example.com, stored credential)"),
		row("start"; "git-credential-jailrun, no action (process start)"),
		row("empty go"; "an empty static Go program (the floor of a Go start)"),
		row("libsecret"; "git-credential-libsecret get (example.com)"),
		row("secret-tool"; "secret-tool lookup"),
		row("credential-store"; "git credential-store get (plain file, the floor)"),
		row("gh"; "gh auth git-credential get\($gh_note)"),
		row("run"; "jailrun run -- true (JAILRUN_JAIL=off)"),
		row("run jailed"; "jailrun run -- true, jailed"),
		row("bwrap"; "bwrap --ro-bind / / --unshare-net true"),
		row("srt"; "srt true (sandbox-runtime)\($srt_note)"),
		row("get in jail"; "git-credential-jailrun get in the jail (broker)"),
		row("50 fills in jail"; "50 git credential fill in the jail"),
		row("50 fills floor"; "50 git credential fill in the jail, C helper (git + sh)"),
		row("50 libsecret"; "50 git-credential-libsecret get"),
		"supervisor VmRSS while the jailed program runs\t\($rss)",
		row("secret-tool+true"; "secret-tool lookup && true"),
		row("list"; "jailrun token list (50 tokens)"),
		row("get routed big"; "get routed, + 1000 other items"),
		row("get plain big"; "get plain, + 1000 other items"),
		row("list big"; "token list, + 1000 other items"),
		"",
		"ratio\tvalue\ttarget\tresult",
		ratio("get routed"; "libsecret"; "get routed / libsecret"; "≤ 0.45×"),
		ratio("get plain"; "libsecret"; "get plain / libsecret"; "≤ 0.45×"),
		ratio("secret-tool"; "libsecret"; "secret-tool lookup / libsecret"; ""),
		ratio("credential-store"; "libsecret"; "credential-store / libsecret"; ""),
		ratio("gh"; "libsecret"; "gh / libsecret"; ""),
		ratio("run"; "secret-tool+true"; "run -- true / (secret-tool lookup && true)"; "≤ 0.6×"),
		ratio("run jailed"; "srt"; "jailed run -- true / srt true"; "≤ 0.1×"),
		"jailed run / (unjailed run + bwrap)\t\($m["run jailed"] / ($m["run"] + $m["bwrap"]) | x)\t≤ 1.3×\t\(if $m["run jailed"] / ($m["run"] + $m["bwrap"]) <= 1.3 then "met" else "MISSED" end)",
		ratio("get in jail"; "libsecret"; "get in jail / libsecret"; ""),
		ratio("50 fills in jail"; "50 libsecret"; "50 fills in jail / 50 libsecret"; "≤ 0.5×"),
		ratio("50 fills floor"; "50 libsecret"; "50 fills floor (git + sh) / 50 libsecret"; ""),
		ratio("get routed big"; "get routed"; "get routed: big / small keyring"; "≤ 1.2×"),
		ratio("get plain big"; "get plain"; "get plain: big / small keyring"; "≤ 1.2×"),
		ratio("list big"; "list"; "token list: big / small keyring"; "≤ 1.5×")
	' times-*.json times50-*.json notrepo/inside-*.json notrepo/inside50-*.json | column -t -L -s $'\t'

	# keyring_times CMD: runs the shell command CMD 30 times on the small
	# keyring with dbus-monitor watching, and prints each call's median time.
	keyring_times() {
		in_keyring small dbus-monitor >monitor.txt 2>/dev/null &
		local monitor=$!
		sleep 0.5
		for _ in $(seq 30); do in_keyring small bash -c "$1" >/dev/null; done
		sleep 0.3
		kill "$monitor"
		wait "$monitor" 2>/dev/null || true
		awk -f keyring-time.awk monitor.txt
	}
	echo
	echo "gnome-keyring's time per call, from call to answer as the bus saw it (medians of 30 lookups; calls sent together overlap)"
	{
		echo "git-credential-jailrun get (routed)"
		keyring_times './git-credential-jailrun get <github.req' | sed 's/^/  /'
		echo "git-credential-libsecret get"
		keyring_times './git-credential-libsecret get <plain.req' | sed 's/^/  /'
	} | column -t -L -s $'\t'
	exit 0
fi

cd "$(dirname "$0")/.."
runs=${1:-150}
if ! command -v hyperfine >/dev/null; then
	echo "bench: installing hyperfine" >&2
	sudo apt-get install -y hyperfine >&2
fi
for tool in go gcc make pkg-config jq column dbus-daemon dbus-monitor gnome-keyring-daemon secret-tool git gh bwrap; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool not found; sudo apt install golang gcc make pkg-config jq bsdextrautils dbus gnome-keyring libsecret-tools git gh bubblewrap" >&2
		exit 1
	}
done
pkg-config --exists libsecret-1 || { echo "bench: libsecret-1 not found; sudo apt install libsecret-1-dev" >&2; exit 1; }
src=/usr/share/doc/git/contrib/credential/libsecret
[ -f "$src/git-credential-libsecret.c" ] || { echo "bench: $src not found; sudo apt install git" >&2; exit 1; }

# A short root keeps the bus socket paths under the 108-byte limit.
work=$(mktemp -d /tmp/jrbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
for cmd in jailrun git-credential-jailrun jailrun-init; do # as install.sh builds them
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/$cmd" "./cmd/$cmd"
done
# Fills a keyring with items of other applications: random secrets of no
# one, in gnome-keyring's in-memory session collection (a collection kept
# on disk rewrites its file for every item), so it takes a second.
cat >"$work/fill.go" <<'EOF'
package main

import (
	"crypto/rand"
	"fmt"
	"os"

	"github.com/godbus/dbus/v5"
)

func main() {
	conn, err := dbus.Connect(os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
	service := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	var output dbus.Variant
	var session dbus.ObjectPath
	if err := service.Call("org.freedesktop.Secret.Service.OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&output, &session); err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
	collection := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets/collection/session")
	for i := 1; i <= 1000; i++ {
		attrs := map[string]string{"xdg:schema": fmt.Sprintf("org.example.App%d", i%7), "id": fmt.Sprint(i)}
		if i%100 == 0 { // as Git Credential Manager stores them
			attrs = map[string]string{"service": fmt.Sprintf("git:https://host%d.example", i), "account": os.Getenv("USER")}
		}
		props := map[string]dbus.Variant{
			"org.freedesktop.Secret.Item.Label":      dbus.MakeVariant(fmt.Sprint("item ", i)),
			"org.freedesktop.Secret.Item.Attributes": dbus.MakeVariant(attrs),
		}
		secret := struct {
			Session     dbus.ObjectPath
			Parameters  []byte
			Value       []byte
			ContentType string
		}{session, nil, []byte(rand.Text()), "text/plain"}
		var item, prompt dbus.ObjectPath
		if err := collection.Call("org.freedesktop.Secret.Collection.CreateItem", 0, props, secret, false).Store(&item, &prompt); err != nil {
			fmt.Fprintln(os.Stderr, "fill:", err)
			os.Exit(1)
		}
	}
}
EOF
CGO_ENABLED=0 go build -o "$work/fill" "$work/fill.go"
printf 'package main\n\nfunc main() {}\n' >"$work/empty.go"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/empty" "$work/empty.go"
# Reads dbus-monitor's output and prints the median time from each kind of
# Secret Service call to its answer; the greeting (Get on the service) and
# item reads (Get on an item) are told apart.
cat >"$work/keyring-time.awk" <<'EOF'
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fields(    i, kv) {
	delete f
	for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) f[kv[1]] = kv[2]
}
/^method call / && / path=\/org\/freedesktop\/secrets[\/;]/ {
	fields()
	path = f["path"]; sub(/;$/, "", path)
	name = f["member"]
	if (name == "Get") name = path == "/org/freedesktop/secrets" ? "Get (greeting)" : "Get (item attributes)"
	call[f["sender"] " " f["serial"]] = f["time"] " " name
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
}
/^(method return|error) / {
	fields()
	key = f["destination"] " " f["reply_serial"]
	if (key in call) {
		split(call[key], c, " ")
		name = substr(call[key], length(c[1]) + 2)
		times[name] = times[name] " " (f["time"] - c[1]) * 1000
		delete call[key]
	}
}
END {
	for (i = 1; i <= n; i++) if (order[i] in times) printf "%s\t%.2f ms\n", order[i], median(times[order[i]])
}
EOF
cp "$src/git-credential-libsecret.c" "$src/Makefile" "$work/"
make -s -C "$work" >/dev/null
# The floor of a git credential fill: a helper that answers at once.
cat >"$work/answer.c" <<'EOF'
#include <stdio.h>
int main(void) {
	char line[4096];
	while (fgets(line, sizeof line, stdin) && line[0] != '\n')
		;
	fputs("username=u\npassword=p\n", stdout);
	return 0;
}
EOF
gcc -O2 -o "$work/answer" "$work/answer.c"
env -i PATH="$PATH" USER="${USER:-$(id -un)}" LANG=C.UTF-8 bash "$PWD/scripts/bench.sh" --inside "$work" "$runs"
