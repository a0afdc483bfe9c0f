package config

import "unicode/utf8"

// EqualFoldASCII reports whether a and b are equal apart from the case of
// ASCII letters. Hosts, owners and token names fold ASCII only: a string
// with a byte outside ASCII equals nothing, so that "ſ" (U+017F) never
// stands for "s" nor "K" (U+212A, Kelvin) for "k", as Unicode folding has it.
func EqualFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf || lowerASCII(x) != lowerASCII(y) {
			return false
		}
	}
	return true
}

// LowerASCII returns s with its ASCII letters in lower case and every
// other byte as it is, so that no Unicode mapping turns a foreign letter
// into an ASCII one.
func LowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
