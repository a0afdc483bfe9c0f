// Package version says which build of jailrun is running, for jailrun
// version and git-credential-jailrun --version.
package version

import (
	"runtime/debug"
	"strings"
)

// The release, its commit and its date (YYYY-MM-DD), set at build time
// by install.sh with -ldflags "-X
// github.com/jailrun/jailrun/internal/version.Version=v1.2.3" and the like.
// Where empty, the build information's module version and VCS stamp are
// used.
var Version, Commit, Date string

// String is "VERSION (COMMIT, DATE)", as gh prints its own; the commit and
// date come from the build's VCS stamp and are left out where unknown.
func String() string {
	info, _ := debug.ReadBuildInfo()
	if info != nil && Commit != "" {
		info.Settings = append(info.Settings, debug.BuildSetting{Key: "vcs.revision", Value: Commit})
	}
	if info != nil && Date != "" {
		info.Settings = append(info.Settings, debug.BuildSetting{Key: "vcs.time", Value: Date})
	}
	return format(Version, info)
}

// format writes the version of the build info describes; release, when
// set, wins over the module's version.
func format(release string, info *debug.BuildInfo) string {
	v, settings := release, map[string]string{}
	if info != nil {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings { // the last of a key wins
			settings[s.Key] = s.Value
		}
	}
	if v == "" {
		v = "dev"
	}
	var about []string
	if commit := settings["vcs.revision"]; commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if settings["vcs.modified"] == "true" {
			commit += "-dirty"
		}
		about = append(about, commit)
	}
	if date, _, _ := strings.Cut(settings["vcs.time"], "T"); date != "" {
		about = append(about, date)
	}
	if len(about) == 0 {
		return v
	}
	return v + " (" + strings.Join(about, ", ") + ")"
}
