package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/jailrun/jailrun/internal/audit"
	"github.com/jailrun/jailrun/internal/broker"
)

type auditCmd struct {
	JSON     bool `name:"json" help:"Print the sessions' audit lines as they are, one JSON object a line."`
	Sessions int  `short:"n" default:"5" help:"How many of the last sessions to show (0: all)."`
}

func (c auditCmd) Run(env *Env) error {
	if c.Sessions < 0 {
		return usageError{"-n must be 0 (all sessions) or more"}
	}
	path := broker.AuditPath(env.Getenv)
	if path == "" {
		return errors.New("cannot locate the audit log: set HOME (or XDG_STATE_HOME) to an absolute directory")
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(env.Stderr, "jailrun: no audit log at %s yet: no jailed session has run\n", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot open the audit log: %w", err)
	}
	defer f.Close()
	sessions, unreadable, err := audit.Read(f)
	if err != nil {
		return err
	}
	sessions = audit.Last(sessions, c.Sessions)
	if unreadable > 0 {
		fmt.Fprintf(env.Stderr, "jailrun: WARN: %d lines of %s are not audit lines; skipped\n", unreadable, path)
	}
	if !c.JSON {
		return audit.WriteText(env.Stdout, sessions)
	}
	for _, s := range sessions {
		for _, line := range s.Lines {
			if _, err := fmt.Fprintf(env.Stdout, "%s\n", line); err != nil {
				return err
			}
		}
	}
	return nil
}
