package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/posener/complete"
)

type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: bash, zsh or fish."`
}

// completionScripts ask jailrun itself for completions: the shell runs it
// with COMP_LINE set, and Run answers before parsing (kongplete).
var completionScripts = map[string]string{
	"bash": "complete -o default -C %[1]s jailrun\n",
	"zsh":  "autoload -U +X bashcompinit && bashcompinit\ncomplete -o default -C %[1]s jailrun\n",
	"fish": `function __jailrun_complete
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    %[1]s
end
complete -f -c jailrun -a "(__jailrun_complete)"
`,
}

func (c *completionCmd) Run(env *Env) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the jailrun executable: %v", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	fmt.Fprintf(env.Stdout, completionScripts[c.Shell], shellQuote(self))
	return nil
}

// storedTokenNames completes --name with the names of the stored tokens,
// nothing when the keyring cannot be reached.
func storedTokenNames(env *Env) complete.Predictor {
	return complete.PredictFunc(func(complete.Args) []string {
		kr, err := env.OpenKeyring()
		if err != nil {
			return nil
		}
		defer kr.Close()
		tokens, err := kr.List()
		if err != nil {
			return nil
		}
		names := make([]string, len(tokens))
		for i, t := range tokens {
			names[i] = t.Name
		}
		return names
	})
}

// shellQuote quotes s for bash, zsh and fish alike.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
