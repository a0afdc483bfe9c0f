package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jailrun/jailrun/keyring"
)

// tokenPrefixes start GitHub's tokens; a "name" with one of them is a
// pasted secret, which must not be used as a name or repeated in a message.
var tokenPrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}

// LooksLikeToken reports whether s holds what starts a GitHub token.
func LooksLikeToken(s string) bool {
	return slices.ContainsFunc(tokenPrefixes, func(p string) bool { return strings.Contains(s, p) })
}

var errPastedToken = errors.New("looks like a token, not a token name; store the token with `jailrun token add --name github:NAME` and write NAME here")

// shortName validates a token name given short ("fine-grained-myorg") or
// in full ("github:fine-grained-myorg") and returns the short name.
func shortName(name string) (string, error) {
	if LooksLikeToken(name) {
		return "", errPastedToken
	}
	short := strings.TrimPrefix(name, Namespace)
	if short == "" {
		return "", errors.New(`is empty; name a token, e.g. "fine-grained-myorg"`)
	}
	if err := keyring.ValidateName(Namespace + short); err != nil {
		return "", fmt.Errorf("is invalid: %v", err)
	}
	if strings.Contains(short, ":") {
		return "", fmt.Errorf("is outside the github: namespace (%q); use a short name such as \"fine-grained-myorg\"", name)
	}
	return short, nil
}

// parseHosts validates the space-separated GH_HOSTS value and returns the
// hosts lower-cased, without duplicates.
func parseHosts(value string) ([]string, error) {
	var hosts []string
	for _, h := range strings.Fields(value) {
		if LooksLikeToken(h) {
			return nil, errPastedToken
		}
		h = LowerASCII(h)
		if err := validateHost(h); err != nil {
			return nil, fmt.Errorf("entry %q %v", h, err)
		}
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

// validateHost checks a lower-cased "host" or "host:port" as git sends it.
func validateHost(h string) error {
	switch {
	case strings.Contains(h, "://"):
		return errors.New("is a URL; give the host name only, e.g. ghe.example.com")
	case strings.ContainsAny(h, "/@?#"):
		return errors.New("is not a host name; give the host only, with an optional :port")
	}
	name, port, hasPort := strings.Cut(h, ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return errors.New("has an invalid port; use host:PORT with PORT 1-65535")
		}
	}
	if len(name) > 253 {
		return errors.New("is longer than 253 characters")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.IndexFunc(label, func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') }) >= 0 {
			return errors.New("is not a valid host name")
		}
	}
	return nil
}

// ValidOwner reports whether s can be a GitHub user or organisation name:
// letters, digits, '-' and '_' (enterprise managed users), at most 100 bytes.
// It never contains '.', ':' or '/', which is what tells owners from hosts.
func ValidOwner(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseRoutes validates the space-separated GH_TOKEN_ROUTES entries,
// [HOST/]OWNER=SHORT or HOST=SHORT, against the GitHub hosts.
func parseRoutes(value string, hosts []string) ([]Route, error) {
	var routes []Route
	for entry := range strings.FieldsSeq(value) {
		if LooksLikeToken(entry) {
			return nil, fmt.Errorf("entry %d %v", len(routes)+1, errPastedToken)
		}
		r, err := parseRoute(entry, hosts)
		if err != nil {
			return nil, fmt.Errorf("entry %q %v", entry, err)
		}
		for _, prev := range routes {
			if prev.Host == r.Host && prev.Owner == r.Owner {
				return nil, fmt.Errorf("entry %q repeats a route for the same host and owner; keep one", entry)
			}
		}
		routes = append(routes, r)
	}
	return routes, nil
}

// AppNamespace starts the name of a GitHub App a route may name
// (OWNER=app:NAME): the session then gets a token the App mints.
const AppNamespace = "app:"

// AppName returns the keychain name app:NAME of the App called name
// (NAME or app:NAME), and whether NAME is a plain name (no colon).
func AppName(name string) (string, bool) {
	full := AppNamespace + strings.TrimPrefix(name, AppNamespace)
	return full, keyring.ValidateName(full) == nil && strings.Count(full, ":") == 1
}

// routeTarget reads the right side of a route: a token's short name, or
// app:NAME.
func routeTarget(right string) (string, error) {
	if strings.HasPrefix(right, AppNamespace) {
		full, ok := AppName(right)
		if !ok {
			return "", fmt.Errorf("names an App %q that is not a plain name like app:myorg", right)
		}
		return full, nil
	}
	short, err := shortName(right)
	if err != nil {
		return "", fmt.Errorf("names a token that %v", err)
	}
	return Namespace + short, nil
}

func parseRoute(entry string, hosts []string) (Route, error) {
	left, right, ok := strings.Cut(entry, "=")
	if !ok || left == "" || right == "" {
		return Route{}, errors.New("is not OWNER=SHORT, HOST/OWNER=SHORT or HOST=SHORT")
	}
	token, err := routeTarget(right)
	if err != nil {
		return Route{}, err
	}
	r := Route{Host: DefaultHost, Token: token}
	left = LowerASCII(left)
	if host, owner, ok := strings.Cut(left, "/"); ok {
		r.Host, r.Owner = host, owner
		if !ValidOwner(owner) {
			return Route{}, errors.New("has an invalid owner; owners are letters, digits, '-' and '_'")
		}
	} else if strings.ContainsAny(left, ".:") {
		r.Host = left
		if left == DefaultHost {
			return Route{}, fmt.Errorf("sets github.com's default, which is GH_TOKEN_NAME; write GH_TOKEN_NAME=%q instead", strings.TrimPrefix(token, Namespace))
		}
	} else {
		r.Owner = left
		if !ValidOwner(left) {
			return Route{}, errors.New("has an invalid owner; owners are letters, digits, '-' and '_'")
		}
	}
	if err := validateHost(r.Host); err != nil {
		return Route{}, fmt.Errorf("has a host that %v", err)
	}
	if !slices.Contains(hosts, r.Host) {
		return Route{}, fmt.Errorf("names host %s, which is not in GH_HOSTS; add it there", r.Host)
	}
	return r, nil
}
