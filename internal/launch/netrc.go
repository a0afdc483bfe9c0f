package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jailrun/jailrun/internal/saferead"

	"github.com/jailrun/jailrun/internal/fserr"
	"github.com/jailrun/jailrun/session"
)

// maxNetrcSize bounds the .netrc read; real ones are a few lines.
const maxNetrcSize = 1 << 20

// NetrcEntries returns the .netrc libcurl reads and its entries that git
// would send to a GitHub host ("machine" names, "default"); none when
// there is no such file.
func NetrcEntries(getenv func(string) string, hosts []string) (path string, entries []string, err error) {
	path = session.NetrcPath(getenv)
	if path == "" {
		return "", nil, nil
	}
	data, err := saferead.ReadUserFile(path, maxNetrcSize)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, nil
	}
	if err != nil {
		return path, nil, fmt.Errorf("cannot read %s: %w", path, fserr.WithoutPath(err))
	}
	return path, session.NetrcHosts(data, hosts), nil
}

// NetrcProblem says what the .netrc entries do to a session, and what to
// do about them.
func NetrcProblem(path string, entries []string) (problem, fix string) {
	var names []string
	for _, e := range entries {
		if e == "default" {
			names = append(names, "a default entry")
		} else {
			names = append(names, "machine "+e)
		}
	}
	which := "that entry"
	if len(entries) > 1 {
		which = "those entries"
	}
	return fmt.Sprintf("%s has %s, whose credential git sends to GitHub before jailrun's token", path, strings.Join(names, " and ")),
		fmt.Sprintf("remove %s from %s, or start agents in jailrun's jail, which hides the file", which, path)
}

// warnNetrc writes one start line when the .netrc has an entry that git
// would send to a GitHub host.
func warnNetrc(w *starter, getenv func(string) string, hosts []string) {
	path, entries, err := NetrcEntries(getenv, hosts)
	switch {
	case err != nil:
		w.warn("%v; git may send its credentials to GitHub before jailrun's token", err)
	case len(entries) > 0:
		problem, fix := NetrcProblem(path, entries)
		w.warn("%s; %s", problem, fix)
	}
}
