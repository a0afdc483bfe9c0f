package credential

import (
	"strings"
	"testing"
)

func TestHas(t *testing.T) {
	tests := []struct {
		input     string
		key       string
		want      bool
		wantValue string
	}{
		{"username=\n", "username", true, ""},
		{"username=bob\n", "username", true, "bob"},
		{"protocol=https\n", "username", false, ""},
		{"username=\nurl=https://example.com\n", "username", false, ""},
		{"url=https://bob@example.com\n", "username", true, "bob"},
		{"url=https://@example.com\n", "username", true, ""},
		{"url=https://bob:@example.com\n", "password", true, ""},
		{"url=https://bob@example.com\n", "password", false, ""},
		{"url=https://example.com\npassword=\n", "password", true, ""},
		{"wwwauth[]=username=x\n", "username", false, ""},
	}
	for _, tt := range tests {
		req, err := ReadRequest(strings.NewReader(tt.input))
		if err != nil {
			t.Fatalf("ReadRequest(%q) error = %v", tt.input, err)
		}
		if got := req.Has(tt.key); got != tt.want {
			t.Errorf("ReadRequest(%q).Has(%q) = %v, want %v", tt.input, tt.key, got, tt.want)
		}
		value := map[string]string{"username": req.Username, "password": req.Password}[tt.key]
		if value != tt.wantValue {
			t.Errorf("ReadRequest(%q): %s = %q, want %q", tt.input, tt.key, value, tt.wantValue)
		}
	}
}
