package github

import "testing"

func TestKindOf(t *testing.T) {
	tests := []struct{ token, want string }{
		{"github_pat_11ABCDEFG0123456789_abcdef", KindFineGrained},
		{"ghp_0123456789abcdefghij0123456789abcdef", KindClassic},
		{"gho_0123456789abcdef", KindOAuth},
		{"ghu_0123456789abcdef", KindUserToApp},
		{"ghs_0123456789abcdef", KindApp},
		{"ghr_0123456789abcdef", KindRefresh},
		{"0123456789abcdef0123456789abcdef01234567", ""},
		{"GHP_uppercase", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := KindOf(tt.token); got != tt.want {
			t.Errorf("KindOf(%.6q...) = %q, want %q", tt.token, got, tt.want)
		}
	}
}
