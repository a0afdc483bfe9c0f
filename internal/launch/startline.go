package launch

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
)

// starter writes the session's start lines, each tagged with the
// program's name.
type starter struct {
	out io.Writer
	tag string
}

func (s *starter) warn(format string, args ...any) {
	fmt.Fprintf(s.out, "[%s] WARN: %s\n", s.tag, fmt.Sprintf(format, args...))
}

// note writes a line of information.
func (s *starter) note(format string, args ...any) {
	fmt.Fprintf(s.out, "[%s] %s\n", s.tag, fmt.Sprintf(format, args...))
}

// jailed says that the program runs jailed, writing only to the first of
// write (the repository, or the current directory) and its own state,
// whether its tokens stay outside (placeholders in the jail) or the
// broker hands it the real ones, and why the directory homeInside (if not
// "") is not writable.
func (s *starter) jailed(write []string, homeInside string, tokensOutside bool) {
	where := "its own state"
	if len(write) > 0 {
		where = write[0] + " and its own state"
	}
	tokens := "tokens stay outside"
	if !tokensOutside {
		tokens = "tokens from jailrun's broker; real token in the session"
	}
	s.note("jailed: writes only to %s; network through jailrun's proxy; %s", where, tokens)
	if homeInside != "" {
		s.note("NOTE: %s holds your home directory, which stays read-only in the jail; start the agent in a project directory to let it write there", homeInside)
	}
}

// notJailed says that the program runs without the jail, and why (why
// ends with what to do about it), and whether it holds the real token.
func (s *starter) notJailed(why string, realToken bool) {
	if realToken {
		why += "; real token in the session"
	}
	s.note("NOT jailed: %s", why)
}

// started writes the line naming the session's token, its kind and days to
// expiry, then a warning when it expires within warnDays or has expired,
// and a nudge away from a classic token.
func (s *starter) started(tok keyring.Token, warnDays int, now time.Time) {
	kind := github.KindOf(tok.Secret)
	if kind == "" {
		kind = tok.Meta.Kind
	}
	var details []string
	if kind != "" {
		details = append(details, kind)
	}
	left := tok.Meta.Expires.Sub(now)
	if !tok.Meta.Expires.IsZero() && left > 0 {
		details = append(details, "expires "+InDays(left))
	}
	line := "GitHub: PAT " + tok.Name
	if len(details) > 0 {
		line += " (" + strings.Join(details, ", ") + ")"
	}
	fmt.Fprintf(s.out, "[%s] %s\n", s.tag, line)
	switch {
	case tok.Meta.Expires.IsZero():
	case left <= 0:
		s.warn("%s expired on %s; GitHub will refuse it: create a new token, then: jailrun token rotate --name %s",
			tok.Name, tok.Meta.Expires.Local().Format("2006-01-02"), tok.Name)
	case left <= time.Duration(warnDays)*24*time.Hour:
		s.warn("%s expires %s; create a new token, then: jailrun token rotate --name %s", tok.Name, InDays(left), tok.Name)
	}
	if kind == github.KindClassic {
		fmt.Fprintf(s.out, "[%s] NOTE: %s is a classic PAT, good for every repository you can reach; "+
			"a fine-grained PAT per owner is safer: jailrun token add --name %sOWNER\n", s.tag, tok.Name, routing.ConventionPrefix)
	}
}

// startedApp writes the line naming the App that minted the session's
// token, the token's one repository, what it may write and how long it
// lives: "GitHub: app myorg → token for myorg/app (contents, issues, pull
// requests; 1 h)".
func (s *starter) startedApp(app *apptoken.Session, now time.Time) {
	var writes []string
	for name, level := range app.Permissions() {
		if level == "write" {
			writes = append(writes, strings.ReplaceAll(name, "_", " "))
		}
	}
	slices.Sort(writes)
	if len(writes) == 0 {
		writes = []string{"read only"}
	}
	tok := app.Token()
	life := tok.Meta.Expires.Sub(now).Round(time.Minute)
	lasts := fmt.Sprintf("%d min", int(life.Minutes()))
	if life >= time.Hour {
		lasts = fmt.Sprintf("%d h", int(life.Hours()))
	}
	fmt.Fprintf(s.out, "[%s] GitHub: app %s → token for %s (%s; %s)\n", s.tag, strings.TrimPrefix(tok.Name, apptoken.Namespace),
		app.Repo(), strings.Join(writes, ", "), lasts)
}

// InDays says how far away d is: "in 12 days", "in 1 day", "within a day".
func InDays(d time.Duration) string {
	switch days := int(d / (24 * time.Hour)); days {
	case 0:
		return "within a day"
	case 1:
		return "in 1 day"
	default:
		return fmt.Sprintf("in %d days", days)
	}
}
