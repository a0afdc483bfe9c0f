// Command git-credential-jailrun is jailrun's git credential helper:
// `git config --global credential.helper jailrun`. See package helper.
package main

import (
	"os"

	"github.com/jailrun/jailrun/helper"
)

func main() { os.Exit(helper.Main()) }
