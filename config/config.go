// Package config reads the jailrun config file, the bash jailrun's
// KEY="value" lines, without ever executing it, and applies the
// environment overrides the bash jailrun honoured.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/jailrun/jailrun/internal/saferead"

	"github.com/jailrun/jailrun/internal/fserr"
)

// Namespace is the namespace of every GitHub token name: the short name
// "classic" is the token github:classic.
const Namespace = "github:"

// DefaultTokenName is the short name of the active token when neither the
// config file nor the environment names one.
const DefaultTokenName = "classic"

// DefaultHost is the only GitHub host when GH_HOSTS is not set.
const DefaultHost = "github.com"

// DefaultExpiryWarnDays is how many days before a token expires jailrun
// starts warning, unless GH_TOKEN_EXPIRY_WARN_DAYS says otherwise.
const DefaultExpiryWarnDays = 7

const (
	maxFileSize = 1 << 20 // a config file is a few hundred bytes; refuse anything huge
	maxLineLen  = 16 << 10
)

// Config is what the config file and the environment say.
type Config struct {
	TokenName      string   // short name of the active token, GH_TOKEN_NAME; default "classic"
	Routes         []Route  // GH_TOKEN_ROUTES in order
	Hosts          []string // GH_HOSTS, lower-cased, "host" or "host:port"; default ["github.com"]
	ExpiryWarnDays int      // GH_TOKEN_EXPIRY_WARN_DAYS, default 7
	Egress         string   // JAILRUN_EGRESS: EgressOpen (default) or EgressList
	AllowHosts     []string // JAILRUN_ALLOW_HOSTS, lower-cased: host[:port], *.domain[:port], IP literals
	AllowWrite     []string // JAILRUN_ALLOW_WRITE: absolute paths, ~/ expanded
	DenyRead       []string // JAILRUN_DENY_READ: absolute paths, ~/ expanded
	PushProtect    []string // GH_PUSH_PROTECT: ref globs a jailed push may not touch; nil for the default branch and tags
	Repos          []string // JAILRUN_REPOS: OWNER/REPO the jailed API may write to besides the clone's own
	APIAllow       []string // JAILRUN_API_ALLOW: METHOD:/path rules the jailed API may write besides everyday work
	AppPermissions string   // JAILRUN_APP_PERMISSIONS: what an App's session token may do, "NAME:read|write …"; "" for the default
	Warnings       []string // one line each: unknown keys, deprecated keys, ignored env
}

// Route sends the requests for one owner on one host (or, with Owner "",
// every request to a host other than github.com) to one token.
type Route struct {
	Host  string // lower-cased GitHub host ("github.com" when the entry named no host)
	Owner string // lower-cased owner; "" for a host's default route (HOST=SHORT)
	Token string // the full token name, "github:" + SHORT
}

// String returns the route as it is written in GH_TOKEN_ROUTES.
func (r Route) String() string {
	short := strings.TrimPrefix(r.Token, Namespace)
	switch {
	case r.Owner == "":
		return r.Host + "=" + short
	case r.Host == DefaultHost:
		return r.Owner + "=" + short
	}
	return r.Host + "/" + r.Owner + "=" + short
}

// ActiveToken returns the full name of the active token, "github:" + TokenName.
func (c Config) ActiveToken() string { return Namespace + c.TokenName }

// IsGitHubHost reports whether host ("host" or "host:port") is one of
// c.Hosts: an exact match apart from ASCII letter case, port included.
func (c Config) IsGitHubHost(host string) bool {
	return slices.ContainsFunc(c.Hosts, func(h string) bool { return EqualFoldASCII(h, host) })
}

// Path returns the config file path, ${XDG_CONFIG_HOME:-$HOME/.config}/jailrun/config,
// or "" when neither variable gives an absolute directory.
func Path(getenv func(string) string) string {
	if dir := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "jailrun", "config")
	}
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, ".config", "jailrun", "config")
	}
	return ""
}

// Load reads the config file at Path(getenv) and applies the environment
// overrides. A missing file gives the defaults; a file that cannot be read
// or parsed is an error naming its path.
func Load(getenv func(string) string) (Config, error) {
	path := Path(getenv)
	if path == "" {
		return Config{}, errors.New("cannot locate the jailrun config: set HOME (or XDG_CONFIG_HOME) to an absolute directory")
	}
	data, err := saferead.ReadUserFile(path, saferead.DefaultLimit)
	if errors.Is(err, fs.ErrNotExist) {
		legacy := LegacyPath(getenv)
		if _, err := os.Stat(legacy); err == nil {
			return loadLegacy(legacy, getenv)
		}
		return parse(strings.NewReader(""), getenv, path)
	}
	if errors.Is(err, saferead.ErrNotRegular) {
		return Config{}, fmt.Errorf("the jailrun config %s is %s; it must be a file of KEY=\"value\" lines", path, saferead.Kind(path))
	}
	if err != nil {
		return Config{}, fmt.Errorf("cannot read the jailrun config %s: %w; fix or remove it", path, fserr.WithoutPath(err))
	}
	return parse(bytes.NewReader(data), getenv, path)
}

// Parse reads KEY="value" lines from r and applies the environment
// overrides looked up with getenv (nil means an empty environment).
// Errors and warnings name the line ("config line 3: …").
func Parse(r io.Reader, getenv func(string) string) (Config, error) {
	return parse(r, getenv, "config")
}

// setting is the value a key had on the last line that assigned it.
type setting struct {
	value string
	line  int
}

func parse(r io.Reader, getenv func(string) string, source string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("cannot read %s: %v", source, err)
	}
	if len(data) > maxFileSize {
		return Config{}, fmt.Errorf("%s is larger than %d bytes; is it the right file?", source, maxFileSize)
	}
	var warnings []string
	warn := func(line int, format string, args ...any) {
		warnings = append(warnings, fmt.Sprintf("%s line %d: ", source, line)+fmt.Sprintf(format, args...))
	}
	settings := map[string]setting{}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // a byte order mark some Windows editors add
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		if len(line) > maxLineLen {
			return Config{}, fmt.Errorf("%s line %d: longer than %d bytes", source, n, maxLineLen)
		}
		key, value, literalDollar, err := parseLine(string(bytes.TrimSuffix(line, []byte("\r"))))
		if err != nil {
			return Config{}, fmt.Errorf("%s line %d: %v", source, n, err)
		}
		switch {
		case key == "":
			continue
		case knownKeys[key]:
			settings[key] = setting{value, n}
		case bashOnlyKeys[key]:
			warn(n, "%s is a bash jailrun setting that this jailrun ignores", key)
			continue
		default:
			if near := nearestKey(key); near != "" {
				warn(n, "unknown key %s, ignored; did you mean %s?", key, near)
			} else {
				warn(n, "unknown key %s, ignored", key)
			}
			continue
		}
		if literalDollar {
			warn(n, "the value of %s contains $ or a backtick, which is kept as written: the config is never executed", key)
		}
	}

	c := Config{Hosts: []string{DefaultHost}, TokenName: DefaultTokenName, ExpiryWarnDays: DefaultExpiryWarnDays}
	at := func(key string) string { return fmt.Sprintf("%s line %d", source, settings[key].line) }

	if s, ok := settings["GH_HOSTS"]; ok && strings.TrimSpace(s.value) != "" {
		if c.Hosts, err = parseHosts(s.value); err != nil {
			return Config{}, fmt.Errorf("%s: GH_HOSTS %v", at("GH_HOSTS"), err)
		}
	}

	tokenName, fromEnv := getenv("GH_TOKEN_NAME"), true
	if tokenName == "" {
		tokenName, fromEnv = settings["GH_TOKEN_NAME"].value, false
	}
	if s, ok := settings["GH_KEYCHAIN_SERVICE"]; ok {
		switch {
		case tokenName != "":
			warn(s.line, "GH_KEYCHAIN_SERVICE is deprecated and ignored because GH_TOKEN_NAME is set; remove it")
		case s.value == "":
			warn(s.line, "GH_KEYCHAIN_SERVICE is deprecated; remove it")
		default:
			if c.TokenName, err = shortName(s.value); err != nil {
				return Config{}, fmt.Errorf("%s: GH_KEYCHAIN_SERVICE %v", at("GH_KEYCHAIN_SERVICE"), err)
			}
			warn(s.line, "GH_KEYCHAIN_SERVICE is deprecated; write GH_TOKEN_NAME=%q instead", c.TokenName)
		}
	}
	if tokenName != "" {
		if c.TokenName, err = shortName(tokenName); err != nil {
			if fromEnv {
				return Config{}, fmt.Errorf("environment variable GH_TOKEN_NAME %v", err)
			}
			return Config{}, fmt.Errorf("%s: GH_TOKEN_NAME %v", at("GH_TOKEN_NAME"), err)
		}
	}

	if s, ok := settings["GH_TOKEN_ROUTES"]; ok {
		if c.Routes, err = parseRoutes(s.value, c.Hosts); err != nil {
			return Config{}, fmt.Errorf("%s: GH_TOKEN_ROUTES %v", at("GH_TOKEN_ROUTES"), err)
		}
	}

	if s, ok := settings["GH_TOKEN_EXPIRY_WARN_DAYS"]; ok && s.value != "" {
		days, err := strconv.Atoi(s.value)
		if err != nil || days < 0 {
			return Config{}, fmt.Errorf("%s: GH_TOKEN_EXPIRY_WARN_DAYS must be a whole number of days, 0 or more", at("GH_TOKEN_EXPIRY_WARN_DAYS"))
		}
		c.ExpiryWarnDays = days
	}

	if s, ok := settings["GH_PUSH_PROTECT"]; ok {
		c.PushProtect = strings.Fields(s.value)
	}
	c.AppPermissions = settings["JAILRUN_APP_PERMISSIONS"].value
	if v := getenv("JAILRUN_APP_PERMISSIONS"); v != "" {
		c.AppPermissions = v
	}

	warnings = append(warnings, parseJail(&c, settings, getenv, source)...)

	for _, key := range fileOnlyKeys {
		if getenv(key) != "" {
			warnings = append(warnings, fmt.Sprintf("environment variable %s is ignored; set it in the jailrun config file", key))
		}
	}
	c.Warnings = warnings
	return c, nil
}

// knownKeys are the keys this jailrun reads from the file.
var knownKeys = map[string]bool{
	"GH_TOKEN_NAME":             true,
	"GH_TOKEN_ROUTES":           true,
	"GH_HOSTS":                  true,
	"GH_TOKEN_EXPIRY_WARN_DAYS": true,
	"GH_KEYCHAIN_SERVICE":       true, // deprecated spelling of GH_TOKEN_NAME
	"JAILRUN_EGRESS":            true,
	"JAILRUN_ALLOW_HOSTS":       true,
	"JAILRUN_ALLOW_WRITE":       true,
	"JAILRUN_DENY_READ":         true,
	"GH_PUSH_PROTECT":           true,
	"JAILRUN_REPOS":             true,
	"JAILRUN_API_ALLOW":         true,
	"JAILRUN_APP_PERMISSIONS":   true,
}

// nearestKey returns the known key that key is most likely a misspelling
// of (letter case, or at most two edits), or "".
func nearestKey(key string) string {
	best, bestDistance := "", 3
	for known := range knownKeys {
		if known == "GH_KEYCHAIN_SERVICE" {
			continue // deprecated: never suggested
		}
		d := editDistance(strings.ToUpper(key), known)
		if d < bestDistance || d == bestDistance && known < best {
			best, bestDistance = known, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current := make([]int, len(b)+1)
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous = current
	}
	return previous[len(b)]
}

// fileOnlyKeys are settings that only the file sets; the environment
// variable of the same name is ignored (with a warning).
var fileOnlyKeys = []string{"GH_TOKEN_ROUTES", "GH_HOSTS", "GH_TOKEN_EXPIRY_WARN_DAYS", "GH_KEYCHAIN_SERVICE", "GH_PUSH_PROTECT"}

// bashOnlyKeys are settings of the bash jailrun (AWS profiles, sandbox)
// that a shared config file may hold and this jailrun does not use.
var bashOnlyKeys = map[string]bool{
	"ALLOWED_AWS_PROFILES":            true,
	"DEFAULT_AWS_PROFILE":             true,
	"SANDBOX_EXTRA_DENY_READ":         true,
	"SANDBOX_EXTRA_ALLOW_WRITE":       true,
	"SANDBOX_EXTRA_ALLOW_WRITE_FILES": true,
	"SANDBOX_PASSTHROUGH_ENV":         true,
	"SANDBOX_SECRET_INJECT":           true,
}

// parseLine reads one line as a shell would read a single assignment,
// without expanding or executing anything. It returns key "" for blank and
// comment lines. literalDollar reports an unescaped $ or backtick outside
// single quotes: a shell would have expanded it, this parser keeps it.
func parseLine(line string) (key, value string, literalDollar bool, err error) {
	s := strings.TrimLeft(line, " \t")
	if s == "" || s[0] == '#' {
		return "", "", false, nil
	}
	if rest, ok := strings.CutPrefix(s, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimLeft(rest, " \t")
	}
	eq := strings.IndexByte(s, '=')
	if eq <= 0 || !isName(s[:eq]) {
		return "", "", false, errors.New(`expected KEY="value"`)
	}
	key, s = s[:eq], s[eq+1:]

	var b strings.Builder
	i := 0
word:
	for i < len(s) {
		switch c := s[i]; c {
		case ' ', '\t':
			break word
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", "", false, errors.New("unterminated single quote; close it on the same line")
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 2
		case '"':
			i++
			for {
				if i >= len(s) {
					return "", "", false, errors.New("unterminated double quote; close it on the same line")
				}
				c := s[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '$' || c == '`' {
					literalDollar = true
				}
				b.WriteByte(c)
				i++
			}
		case '\\':
			if i+1 >= len(s) {
				return "", "", false, errors.New("ends with a backslash; continuation lines are not supported")
			}
			b.WriteByte(s[i+1])
			i += 2
		case ';', '&', '|', '<', '>', '(', ')':
			return "", "", false, fmt.Errorf("%q outside quotes is shell syntax, which the config does not run; quote the value", c)
		default:
			if c == '$' || c == '`' {
				literalDollar = true
			}
			b.WriteByte(c)
			i++
		}
	}
	if rest := strings.TrimLeft(s[i:], " \t"); rest != "" && rest[0] != '#' {
		return "", "", false, errors.New("unexpected text after the value; quote a value that contains spaces")
	}
	return key, b.String(), literalDollar, nil
}

// isName reports whether s is a shell variable name.
func isName(s string) bool {
	for i, c := range []byte(s) {
		if !(c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}
