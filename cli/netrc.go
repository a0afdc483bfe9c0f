package cli

import "github.com/jailrun/jailrun/internal/launch"

// checkNetrc is doctor's check of the .netrc.
func checkNetrc(env *Env, hosts []string) check {
	ch := check{Name: "netrc"}
	path, entries, err := launch.NetrcEntries(env.Getenv, hosts)
	switch {
	case err != nil:
		ch.Status, ch.Detail, ch.Hint = statusWarn, err.Error(), "make it readable, or remove it"
	case len(entries) > 0:
		ch.Status = statusWarn
		ch.Detail, ch.Hint = launch.NetrcProblem(path, entries)
	default:
		ch.Status, ch.Detail = statusOK, "no .netrc entry for a GitHub host"
	}
	return ch
}
