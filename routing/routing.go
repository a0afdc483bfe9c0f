// Package routing decides which token, if any, serves a request to a
// GitHub host, and reads the owner and repository out of paths and remote
// URLs. It is pure: the caller supplies the config and the token names
// present in the keyring.
package routing

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/jailrun/jailrun/config"
)

// Decision is the outcome: Token "" means serve nothing; Via says which
// step chose it (ViaRoute, ViaConvention, ViaDefault); Warning is a
// one-line message for stderr.
type Decision struct{ Token, Via, Warning string }

// The steps of Resolve that choose a token.
const (
	ViaRoute      = "route"      // an owner's route in GH_TOKEN_ROUTES
	ViaConvention = "convention" // github:fine-grained-OWNER
	ViaDefault    = "default"    // the active token, or a host's default route
)

// ConventionPrefix starts the token name that serves an owner by
// convention: github:fine-grained-OWNER.
const ConventionPrefix = config.Namespace + "fine-grained-"

// Resolve returns the token that serves a request for owner's repository
// on host, given the token names in the keyring; an owner that is "" or
// not a valid GitHub owner counts as unknown. Only https requests to a
// host in cfg.Hosts are served. In order: an explicit route for host and
// owner; on github.com only, the token github:fine-grained-OWNER; the
// host's default (the active token on github.com, a HOST=SHORT route
// elsewhere). A route or
// default naming a missing token serves nothing and warns: never a broader
// token instead. Hosts and owners fold ASCII case only; token names exactly,
// else case-insensitively, and the stored spelling is returned.
func Resolve(cfg config.Config, protocol, host, owner string, available []string) Decision {
	if !config.EqualFoldASCII(protocol, "https") || !cfg.IsGitHubHost(host) {
		return Decision{}
	}
	host = config.LowerASCII(host)
	if config.ValidOwner(owner) {
		for _, r := range cfg.Routes {
			if r.Owner != "" && config.EqualFoldASCII(r.Host, host) && config.EqualFoldASCII(r.Owner, owner) {
				if name, ok := find(available, r.Token); ok {
					return Decision{Token: name, Via: ViaRoute}
				}
				what, fix := "token", "jailrun token add --name "+r.Token
				if app, ok := strings.CutPrefix(r.Token, config.AppNamespace); ok {
					what, fix = "App", "jailrun app add --name "+app+" --app-id ID --key-file KEY.pem"
				}
				return Decision{Warning: fmt.Sprintf("route %s names %s %s, which is not in the keyring; add it: %s", r.String(), what, r.Token, fix)}
			}
		}
		// A token is made for one host: the convention names github.com's
		// tokens, so another host gets an owner's token only by a route.
		if host == config.DefaultHost {
			if name, ok := find(available, ConventionPrefix+owner); ok {
				return Decision{Token: name, Via: ViaConvention}
			}
		}
	}
	var want string
	if host == config.DefaultHost {
		want = cfg.ActiveToken()
	} else {
		for _, r := range cfg.Routes {
			if r.Owner == "" && config.EqualFoldASCII(r.Host, host) {
				want = r.Token
				break
			}
		}
		if want == "" {
			return Decision{}
		}
	}
	if name, ok := find(available, want); ok {
		return Decision{Token: name, Via: ViaDefault}
	}
	if host == config.DefaultHost && config.ValidOwner(owner) {
		// The owner's own fine-grained token is the narrow fix; the
		// default is mentioned, not recommended.
		return Decision{Warning: fmt.Sprintf("no token for %s's repositories (the default token, %s, is not in the keyring either); add one: jailrun token add --name %s%s",
			owner, want, ConventionPrefix, owner)}
	}
	return Decision{Warning: fmt.Sprintf("token %s, the default for %s, is not in the keyring; add it: jailrun token add --name %s", want, host, want)}
}

// Selectable reports whether some step of Resolve can ever choose the
// token called name: it is the active token, a route's, or of the form
// github:fine-grained-OWNER.
func Selectable(cfg config.Config, name string) bool {
	if config.EqualFoldASCII(name, cfg.ActiveToken()) {
		return true
	}
	for _, r := range cfg.Routes {
		if config.EqualFoldASCII(name, r.Token) {
			return true
		}
	}
	owner, ok := cutPrefixFold(name, ConventionPrefix)
	return ok && config.ValidOwner(owner)
}

// cutPrefixFold is strings.CutPrefix with ASCII letter case folded.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !config.EqualFoldASCII(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// find returns the entry of available equal to name, else the first one
// equal apart from letter case.
func find(available []string, name string) (string, bool) {
	folded := ""
	for _, a := range available {
		if a == name {
			return a, true
		}
		if folded == "" && config.EqualFoldASCII(a, name) {
			folded = a
		}
	}
	return folded, folded != ""
}

// OwnerFromPath returns the owner in a repository path as git sends it
// ("myorg/repo.git" → "myorg"), or "" when the path names no valid owner.
func OwnerFromPath(path string) string {
	owner, _, _ := strings.Cut(strings.TrimLeft(path, "/"), "/")
	if !config.ValidOwner(owner) {
		return ""
	}
	return owner
}

// Repo is a GitHub repository as a remote URL names it.
type Repo struct {
	Host  string // lower-cased; with ":port" for http(s), without for ssh (the SSH port is not the web host's)
	Owner string
	Name  string // without ".git"
}

// ParseRemote reads a remote URL: https://host[:port]/o/r(.git),
// http://…, ssh://[user@]host[:port]/o/r, git@host:o/r and git://host/o/r.
// It reports false for local paths, other schemes and paths that are not
// exactly OWNER/REPO. The caller decides what a scheme is allowed to get.
func ParseRemote(remote string) (Repo, bool) {
	var host, path string
	if scheme, _, ok := strings.Cut(remote, "://"); ok {
		u, err := url.Parse(remote)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return Repo{}, false
		}
		switch strings.ToLower(scheme) {
		case "https", "http":
			host = u.Host
		case "ssh", "git+ssh", "ssh+git", "git":
			host = u.Hostname()
		default:
			return Repo{}, false
		}
		path = u.Path
	} else {
		// scp-like [user@]host:path, which git recognises by a colon before any slash.
		colon := strings.IndexByte(remote, ':')
		if colon < 0 || strings.IndexByte(remote[:colon], '/') >= 0 {
			return Repo{}, false
		}
		host, path = remote[:colon], remote[colon+1:]
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
	}
	owner, name, ok := strings.Cut(strings.Trim(path, "/"), "/")
	name = strings.TrimSuffix(name, ".git")
	if !ok || host == "" || !config.ValidOwner(owner) || !validRepoName(name) {
		return Repo{}, false
	}
	return Repo{Host: config.LowerASCII(host), Owner: owner, Name: name}, true
}

// validRepoName reports whether s can be a GitHub repository name.
func validRepoName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
