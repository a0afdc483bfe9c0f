#!/bin/sh
# Build jailrun and git-credential-jailrun (and on Linux jailrun-init, the
# jail's first process) with the local Go toolchain and install them into
# $PREFIX/bin (default ~/.local/bin), their manual pages into
# $PREFIX/share/man/man1. Safe to run again.
# On macOS git-credential-jailrun is a link to jailrun, which acts as the
# helper under that name: the keychain trusts a program by its code
# signature, so one program means one access prompt, not one per binary.
set -eu

PREFIX=${PREFIX:-"$HOME/.local"}
BIN="$PREFIX/bin"
cd "$(dirname "$0")"

if ! command -v go >/dev/null 2>&1; then
	echo "install.sh: Go is not on PATH; install Go 1.26 or newer (https://go.dev/dl/) and run ./install.sh again" >&2
	exit 1
fi

# Linux builds are static: no libc to load at each start, which is most of a
# short process's time. The macOS Keychain needs cgo.
CMDS="jailrun git-credential-jailrun"
case "$(uname -s)" in
Linux)
	export CGO_ENABLED=0
	CMDS="$CMDS jailrun-init"
	;;
Darwin)
	export CGO_ENABLED=1
	CMDS=jailrun
	;;
esac

# On a cold module cache the first build downloads every module first,
# which can take a minute: say so rather than sit silent.
if ! GOFLAGS=-mod=mod GOPROXY=off go list -deps ./cmd/... >/dev/null 2>&1; then
	echo "install.sh: downloading the Go modules jailrun needs (first build; this can take a minute)…"
	go mod download
fi
echo "install.sh: building $CMDS with $(go env GOVERSION)…"

mkdir -p "$BIN"
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
DATE=$(git log -1 --format=%cs 2>/dev/null || true)
PKG=github.com/jailrun/jailrun/internal/version
for cmd in $CMDS; do
	# Build next to the target and rename, so a running copy is never half written.
	go build -trimpath -ldflags "-s -w -X $PKG.Version=$VERSION -X $PKG.Commit=$COMMIT -X $PKG.Date=$DATE" \
		-o "$BIN/.$cmd.new" "./cmd/$cmd"
	mv -f "$BIN/.$cmd.new" "$BIN/$cmd"
	echo "installed $BIN/$cmd"
done
if [ "$(uname -s)" = Darwin ]; then
	ln -sfn jailrun "$BIN/git-credential-jailrun"
	echo "installed $BIN/git-credential-jailrun -> jailrun"
fi

# Manual pages, written by jailrun from the model its --help comes from.
MAN="$PREFIX/share/man/man1"
mkdir -p "$MAN"
for page in jailrun git-credential-jailrun; do
	"$BIN/jailrun" man "$page" >"$MAN/.$page.1.new"
	mv -f "$MAN/.$page.1.new" "$MAN/$page.1"
done
echo "installed $MAN/jailrun.1 and git-credential-jailrun.1 (man jailrun)"

case ":$PATH:" in
*":$BIN:"*) ;;
*) echo "note: $BIN is not on your PATH; add it, e.g.: echo 'export PATH=\"$BIN:\$PATH\"' >> ~/.profile" ;;
esac

if [ "$(uname -s)" = Linux ]; then
	if ! command -v gnome-keyring-daemon >/dev/null 2>&1 && ! command -v keepassxc >/dev/null 2>&1 && ! command -v kwalletd6 >/dev/null 2>&1 && ! command -v kwalletd5 >/dev/null 2>&1; then
		echo "note: no Secret Service provider found; install one: sudo apt install gnome-keyring (or enable KeePassXC's or KWallet's Secret Service)"
	fi
	# The jail is bubblewrap; the same kind of run jailrun probes with.
	if ! command -v bwrap >/dev/null 2>&1; then
		echo "note: bubblewrap is not installed, so agents start NOT jailed; install it: sudo apt install bubblewrap (or sudo dnf install bubblewrap)"
	elif ! bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid --unshare-net true 2>/dev/null; then
		echo "note: bubblewrap cannot start a sandbox on this machine, so agents start NOT jailed; jailrun doctor says why and how to fix it"
	fi
fi
if ! command -v git >/dev/null 2>&1; then
	echo "note: git is not on PATH; jailrun's credential helper needs git 2.31 or newer"
fi
