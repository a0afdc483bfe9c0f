package session

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/jailrun/jailrun/config"
)

// NetrcPath returns the .netrc that libcurl, and so git, reads: $HOME/.netrc,
// or "" when HOME is not an absolute directory.
func NetrcPath(getenv func(string) string) string {
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, ".netrc")
	}
	return ""
}

// NetrcHosts returns the entries of a .netrc file that libcurl would use
// for one of the GitHub hosts: the name of each "machine" whose name is a
// host's (port aside, letter case folded as ASCII), and "default" for a
// default entry. git lets libcurl send such a credential before asking any
// helper, and cannot turn that off. Passwords are never returned.
//
// It reads the file as libcurl does: tokens separated by blanks, a token
// in double quotes with \ escapes, a # starting a comment to the end of
// the line, and "macdef" skipping a macro up to the next empty line.
func NetrcHosts(data []byte, hosts []string) []string {
	var found []string
	add := func(entry string) {
		for _, f := range found {
			if f == entry {
				return
			}
		}
		found = append(found, entry)
	}
	tokens := netrcTokens(data)
	for i := 0; i < len(tokens); i++ {
		switch tokens[i] {
		case "default":
			add("default")
		case "machine":
			if i+1 == len(tokens) {
				break
			}
			i++
			for _, h := range hosts {
				name, _, _ := strings.Cut(h, ":")
				if config.EqualFoldASCII(tokens[i], name) {
					add(tokens[i])
				}
			}
		case "login", "password", "account":
			i++ // the value, which may itself read "machine"
		}
	}
	return found
}

// netrcTokens splits a .netrc file into its tokens, comments and macro
// definitions left out.
func netrcTokens(data []byte) []string {
	var tokens []string
	for len(data) > 0 {
		c := data[0]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			data = data[1:]
		case c == '#':
			_, data, _ = bytes.Cut(data, []byte("\n"))
		case c == '"':
			var b strings.Builder
			i := 1
			for ; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' && i+1 < len(data) {
					i++
				}
				b.WriteByte(data[i])
			}
			tokens = append(tokens, b.String())
			data = data[min(i+1, len(data)):]
		default:
			end := bytes.IndexAny(data, " \t\n\r\f\v")
			if end < 0 {
				end = len(data)
			}
			tok := string(data[:end])
			data = data[end:]
			if tok == "macdef" {
				// The macro's name, then its lines up to an empty line.
				if _, rest, ok := bytes.Cut(data, []byte("\n")); ok {
					data = rest
				} else {
					data = nil
				}
				if _, rest, ok := bytes.Cut(data, []byte("\n\n")); ok {
					data = rest
				} else {
					data = nil
				}
				continue
			}
			tokens = append(tokens, tok)
		}
	}
	return tokens
}
