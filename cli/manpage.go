package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/jailrun/jailrun/helper"
	"github.com/jailrun/jailrun/internal/version"
)

// manCmd writes a manual page in roff, from the same model as --help, so
// the two never disagree. install.sh installs them.
type manCmd struct {
	Page string `arg:"" enum:"jailrun,git-credential-jailrun" default:"jailrun" help:"The page: jailrun or git-credential-jailrun."`
}

func (c *manCmd) Run(env *Env, kctx *kong.Context) error {
	if c.Page == helper.Program {
		writeHelperManPage(env.Stdout)
		return nil
	}
	writeManPage(env.Stdout, kctx.Model)
	return nil
}

// writeManPage writes jailrun(1): each command with its usage, help,
// examples and flags.
func writeManPage(w io.Writer, app *kong.Application) {
	fmt.Fprintf(w, ".TH JAILRUN 1 \"\" \"jailrun %s\" \"User Commands\"\n", roff(version.String()))
	fmt.Fprintf(w, ".SH NAME\njailrun \\- %s\n", roff(app.Help))
	fmt.Fprintf(w, ".SH SYNOPSIS\n.B jailrun\n\\fICOMMAND\\fR [\\fIFLAGS\\fR]\n")
	fmt.Fprintf(w, ".SH GLOBAL FLAGS\n")
	writeFlags(w, app.Flags)
	fmt.Fprintf(w, ".SH COMMANDS\n")
	for _, node := range app.Leaves(true) {
		fmt.Fprintf(w, ".SS \"%s\"\n%s\n", roff("jailrun "+showAlternatives(node, node.Summary())), roff(node.Help))
		if node.Detail != "" {
			fmt.Fprintf(w, ".PP\n.nf\n%s\n.fi\n", roff(node.Detail))
		}
		writeFlags(w, node.Flags)
	}
	fmt.Fprint(w, `.SH EXIT STATUS
0 success; 1 the command failed (one line on stderr says why and what to do);
2 the command line was wrong; 130 Ctrl-C at a prompt. Launched agents return
their own status.
.SH FILES
.TP
~/.config/jailrun/config
KEY="value" lines, read and never executed (jailrun config path).
.SH SEE ALSO
git-credential-jailrun(1), gh(1), git-credential(7), bwrap(1)
`)
}

// writeFlags lists flags, hidden ones and --help left out.
func writeFlags(w io.Writer, flags []*kong.Flag) {
	for _, f := range flags {
		if f.Hidden || f.Name == "help" {
			continue
		}
		name := "--" + f.Name
		if f.Short != 0 {
			name = "-" + string(f.Short) + ", " + name
		}
		if !f.IsBool() {
			name += "=" + f.FormatPlaceHolder()
		}
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", roff(name), roff(f.Help))
	}
}

// writeHelperManPage writes git-credential-jailrun(1) from its --help.
func writeHelperManPage(w io.Writer) {
	fmt.Fprintf(w, ".TH GIT-CREDENTIAL-JAILRUN 1 \"\" \"jailrun %s\" \"User Commands\"\n", roff(version.String()))
	fmt.Fprintf(w, ".SH NAME\ngit-credential-jailrun \\- jailrun's git credential helper\n")
	fmt.Fprintf(w, ".SH DESCRIPTION\n.nf\n%s\n.fi\n.SH SEE ALSO\njailrun(1), git-credential(7), gitcredentials(7)\n", roff(helper.Help))
}

// roff escapes text for a roff line: backslashes, and a leading dot or
// quote that roff would take for a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
