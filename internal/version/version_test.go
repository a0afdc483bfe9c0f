package version

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "false"},
	}}
	dirty := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		name, release string
		info          *debug.BuildInfo
		want          string
	}{
		{"release and stamp", "v1.2.3", stamped, "v1.2.3 (0123456789ab, 2026-12-01)"},
		{"stamp only", "", stamped, "dev (0123456789ab, 2026-12-01)"},
		{"dirty, no date", "", dirty, "dev (0123456789ab-dirty)"},
		{"module version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}}, "v0.9.0"},
		{"nothing known", "", nil, "dev"},
	}
	for _, tt := range tests {
		if got := format(tt.release, tt.info); got != tt.want {
			t.Errorf("%s: format = %q, want %q", tt.name, got, tt.want)
		}
	}
}
