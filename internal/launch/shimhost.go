package launch

import "github.com/jailrun/jailrun/config"

// hostnameFlag returns the value of gh's --hostname flag in args, in the
// forms gh accepts (--hostname x, --hostname=x, and -h x, -hx, -h=x for
// `gh auth` commands, where -h is the host). The last one wins; "--" ends
// the flags.
func hostnameFlag(args []string) (string, bool) {
	short := ""
	if len(args) > 0 && args[0] == "auth" {
		short = "-h"
	}
	return flagValue(args, short, "--hostname")
}

// otherTarget returns a host other than host that a gh command names as
// its target, through --hostname or GH_HOST, or "" when every named host
// is host. gh sends GH_ENTERPRISE_TOKEN to any host but github.com, so the
// shim hands gh a GHE token only when nothing points it elsewhere.
func otherTarget(getenv func(string) string, args []string, host string) string {
	named := []string{getenv("GH_HOST")}
	if h, ok := hostnameFlag(args); ok {
		named = append(named, h)
	}
	for _, h := range named {
		if h != "" && !config.EqualFoldASCII(h, host) {
			return h
		}
	}
	return ""
}
