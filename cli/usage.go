package cli

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/alecthomas/kong"
)

// helpArgs turns the command lines that ask for help without --help into
// ones with it: bare jailrun, jailrun help [COMMAND…] and a command that
// only groups others (jailrun token). It reports false for any other.
func helpArgs(parser *kong.Kong, args []string) ([]string, bool) {
	switch {
	case len(args) == 0:
		return nil, true
	case args[0] == "help":
		return args[1:], true
	}
	ctx, err := kong.Trace(parser, args)
	if err != nil || ctx.Error != nil {
		return nil, false
	}
	node := ctx.Selected()
	if node != nil && len(node.Children) > 0 && args[len(args)-1] == node.Name {
		return args, true
	}
	return nil, false
}

// printHelp prints the help of the command path names (the whole program
// for none); an agent's own --help is not asked for.
func printHelp(parser *kong.Kong, path []string) error {
	ctx, err := kong.Trace(parser, path)
	if err != nil {
		return err
	}
	if ctx.Error != nil {
		return usageError{fmt.Sprintf("no help for %q: %v (see jailrun help)", strings.Join(path, " "), ctx.Error)}
	}
	return ctx.PrintUsage(false)
}

// helpPrinter is kong's help with each group of alternative flags (xor)
// shown as alternatives on the usage line: --name=NAME | --all.
func helpPrinter(options kong.HelpOptions, ctx *kong.Context) error {
	out := ctx.Stdout
	var buf bytes.Buffer
	ctx.Stdout = &buf
	err := kong.DefaultHelpPrinter(options, ctx)
	ctx.Stdout = out
	if err != nil {
		return err
	}
	text := buf.String()
	if node := ctx.Selected(); node != nil {
		usage, rest, _ := strings.Cut(text, "\n")
		text = showAlternatives(node, usage) + "\n" + rest
	}
	_, err = fmt.Fprint(out, text)
	return err
}

// showAlternatives rewrites the required flags of each xor group of node
// in usage as alternatives.
func showAlternatives(node *kong.Node, usage string) string {
	groups := map[string][]string{}
	var order []string
	for _, flag := range node.Flags {
		if !flag.Required {
			continue
		}
		for _, xor := range flag.Xor {
			if groups[xor] == nil {
				order = append(order, xor)
			}
			groups[xor] = append(groups[xor], flag.Summary())
		}
	}
	for _, xor := range order {
		if flags := groups[xor]; len(flags) > 1 {
			usage = strings.Replace(usage, strings.Join(flags, " "), strings.Join(flags, " | "), 1)
		}
	}
	return usage
}
