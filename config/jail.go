package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"unicode"
)

// Egress modes (JAILRUN_EGRESS).
const (
	EgressOpen = "open" // any public host (the default)
	EgressList = "list" // only GitHub, the agent's own hosts and JAILRUN_ALLOW_HOSTS
)

// jailKeys are the jail's settings: the file sets them and the
// environment variable of the same name, when not empty, overrides it.
var jailKeys = []string{"JAILRUN_EGRESS", "JAILRUN_ALLOW_HOSTS", "JAILRUN_ALLOW_WRITE", "JAILRUN_DENY_READ", "JAILRUN_REPOS", "JAILRUN_API_ALLOW"}

// parseJail sets c's jail settings from the file's settings and the
// environment; a value it cannot use is a warning, never an error, so a
// typo there does not stop token commands. where names the line or the
// variable a value came from.
func parseJail(c *Config, settings map[string]setting, getenv func(string) string, source string) (warnings []string) {
	value := func(key string) (string, string) {
		if v := getenv(key); v != "" {
			return v, "environment variable " + key
		}
		return settings[key].value, fmt.Sprintf("%s line %d: %s", source, settings[key].line, key)
	}
	warn := func(where, format string, args ...any) {
		warnings = append(warnings, where+" "+fmt.Sprintf(format, args...))
	}

	c.Egress = EgressOpen
	if v, where := value("JAILRUN_EGRESS"); v != "" {
		switch mode := strings.ToLower(v); mode {
		case EgressOpen, EgressList:
			c.Egress = mode
		default:
			// Fail closed: a mistyped "list" must not open the network.
			c.Egress = EgressList
			warn(where, "is %q, neither open nor list; using list, the narrower", v)
		}
	}

	v, where := value("JAILRUN_ALLOW_HOSTS")
	for _, e := range strings.Fields(v) {
		if LooksLikeToken(e) {
			warn(where, "has an entry that %v; it is ignored", errPastedToken)
			continue
		}
		if strings.IndexFunc(e, func(r rune) bool { return r > unicode.MaxASCII }) >= 0 {
			// Unicode case folding would turn e.g. the Kelvin sign into k.
			warn(where, "entry %q is not ASCII; write the name as clients send it (xn--…); it is ignored", e)
			continue
		}
		e = strings.ToLower(e)
		if err := validateAllowedHost(e); err != nil {
			warn(where, "entry %q %v; it is ignored", e, err)
			continue
		}
		c.AllowHosts = append(c.AllowHosts, e)
	}

	v, where = value("JAILRUN_REPOS")
	for _, e := range strings.Fields(v) {
		owner, repo, ok := strings.Cut(e, "/")
		if !ok || !ValidOwner(owner) || repo == "" || strings.ContainsAny(repo, "/ ") {
			warn(where, "entry %q is not OWNER/REPO; it is ignored", e)
			continue
		}
		c.Repos = append(c.Repos, strings.ToLower(e))
	}
	v, where = value("JAILRUN_API_ALLOW")
	for _, e := range strings.Fields(v) {
		if method, path, ok := strings.Cut(e, ":"); !ok || method == "" || !strings.HasPrefix(path, "/") {
			warn(where, "entry %q is not METHOD:/path (e.g. POST:/repos/*/*/releases); it is ignored", e)
			continue
		}
		c.APIAllow = append(c.APIAllow, e)
	}

	home := getenv("HOME")
	for _, key := range []string{"JAILRUN_ALLOW_WRITE", "JAILRUN_DENY_READ"} {
		v, where := value(key)
		for _, p := range strings.Fields(v) {
			if rest, ok := strings.CutPrefix(p, "~/"); ok && filepath.IsAbs(home) {
				p = filepath.Join(home, rest)
			}
			if !filepath.IsAbs(p) {
				warn(where, "entry %q is not an absolute path (or ~/…); it is ignored", p)
				continue
			}
			p = filepath.Clean(p)
			if key == "JAILRUN_ALLOW_WRITE" {
				c.AllowWrite = append(c.AllowWrite, p)
			} else {
				c.DenyRead = append(c.DenyRead, p)
			}
		}
	}
	return warnings
}

// validateAllowedHost checks a lower-cased JAILRUN_ALLOW_HOSTS entry:
// host[:port], *.domain[:port], an IP literal, IPv4:port or [IPv6]:port.
func validateAllowedHost(e string) error {
	rest, pattern := strings.CutPrefix(e, "*.")
	if _, err := netip.ParseAddr(rest); err == nil && !strings.Contains(rest, "%") {
		if pattern {
			return fmt.Errorf("puts *. before an IP address; write the address alone")
		}
		return nil
	}
	if strings.HasPrefix(rest, "[") {
		if ap, err := netip.ParseAddrPort(rest); err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" || pattern {
			return fmt.Errorf("is not [IPv6]:port")
		}
		return nil
	}
	if pattern && !strings.Contains(strings.Split(rest, ":")[0], ".") {
		return fmt.Errorf("is a pattern for a top-level domain; write *.example.com")
	}
	return validateHost(rest)
}
