// Command jailrun-init is the first process of jailrun's Linux jail,
// which jailrun starts; see package jailinit.
package main

import (
	"os"

	"github.com/jailrun/jailrun/internal/jailinit"
)

func main() { os.Exit(jailinit.Main(os.Args[1:], os.Stderr)) }
