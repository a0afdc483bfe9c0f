package jail

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stderr  string
		sysctls Sysctls
		why     string
		fix     string
	}{
		{"Ubuntu 24.04 AppArmor", "bwrap: setting up uid map: Permission denied\n",
			Sysctls{AppArmorRestrictUserns: "1", MaxUserNamespaces: "63000"},
			"AppArmor forbids bwrap a user namespace", "apparmor_restrict_unprivileged_userns=0"},
		{"AppArmor, loopback", "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted",
			Sysctls{AppArmorRestrictUserns: "1"}, "AppArmor", "/etc/apparmor.d/bwrap"},
		{"Debian's switch off", "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.",
			Sysctls{UnprivilegedUsernsClone: "0", MaxUserNamespaces: "63000"},
			"kernel.unprivileged_userns_clone=0", "sysctl -w kernel.unprivileged_userns_clone=1"},
		{"no user namespaces at all", "bwrap: Creating new namespace failed: No space left on device",
			Sysctls{MaxUserNamespaces: "0", AppArmorRestrictUserns: "1"},
			"user.max_user_namespaces=0", "sysctl -w user.max_user_namespaces="},
		{"another failure while AppArmor restricts", "bwrap: Can't find source path /nonexistent: No such file or directory",
			Sysctls{AppArmorRestrictUserns: "1"},
			"bwrap cannot start a sandbox: bwrap: Can't find source path /nonexistent", "to see why"},
		{"no message", "", Sysctls{}, "without a message", "to see why"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := classify(tc.stderr, tc.sysctls)
			if !strings.Contains(u.Why, tc.why) || !strings.Contains(u.Fix, tc.fix) {
				t.Errorf("classify = %q, want why containing %q and fix containing %q", u.Error(), tc.why, tc.fix)
			}
			if strings.Contains(u.Error(), "\n") {
				t.Errorf("classify = %q, want one line", u.Error())
			}
		})
	}
}
