package jailinit

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestEnvThroughTheGate(t *testing.T) {
	for _, env := range [][]string{nil, {"A=1"}, {"A=1", "EMPTY=", "B=two words\nand a line"}} {
		b, err := EncodeEnv(env)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readEnv(bytes.NewReader(b))
		if err != nil || !slices.Equal(got, env) && len(got)+len(env) > 0 {
			t.Errorf("%q came through as %q (%v)", env, got, err)
		}
		if _, err := readEnv(bytes.NewReader(b[:len(b)-1])); len(env) > 0 && err == nil {
			t.Errorf("%q cut short was read", env)
		}
	}
	if _, err := EncodeEnv([]string{"A=1\x00B=2"}); err == nil {
		t.Error("an entry with a NUL was encoded")
	}
	if _, err := EncodeEnv([]string{"A=" + strings.Repeat("x", MaxEnv)}); err == nil {
		t.Error("an environment over MaxEnv was encoded")
	}
	if _, err := readEnv(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff})); err == nil {
		t.Error("a length over MaxEnv was read")
	}
}
