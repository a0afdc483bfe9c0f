// Command jailrun starts AI coding agents with narrow GitHub tokens from the
// OS keychain, and manages those tokens. See README.md.
package main

import (
	"os"

	"github.com/jailrun/jailrun/cli"
)

func main() { os.Exit(cli.Main()) }
