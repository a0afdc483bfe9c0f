package launch

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/jailrun/jailrun/internal/saferead"
)

// claudeSandboxNote returns the start-line note for Claude Code's own
// sandbox (Anthropic's sandbox-runtime, bubblewrap inside), or "" when none
// is needed. Inside the jail a nested bubblewrap cannot mount a new /proc,
// so the sandbox starts only in its weaker nested mode; the jail confines
// Claude Code either way. The settings are read from home's
// .claude/settings.json, the file /sandbox writes.
func claudeSandboxNote(home string) string {
	path := filepath.Join(home, ".claude", "settings.json")
	data, err := saferead.ReadFile(path, saferead.DefaultLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		return "WARN: " + path + " not read: " + err.Error()
	}
	var s struct {
		Sandbox struct {
			Enabled                   bool `json:"enabled"`
			EnableWeakerNestedSandbox bool `json:"enableWeakerNestedSandbox"`
		} `json:"sandbox"`
	}
	if json.Unmarshal(data, &s) != nil || !s.Sandbox.Enabled || s.Sandbox.EnableWeakerNestedSandbox {
		return ""
	}
	return `NOTE: Claude Code's own sandbox cannot start inside the jail, which confines Claude Code anyway; ` +
		`to keep both, add "enableWeakerNestedSandbox": true under "sandbox" in ~/.claude/settings.json`
}
