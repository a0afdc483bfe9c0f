package credential

import (
	"errors"
	"strings"
)

// applyURL replaces everything read so far with the parts of u, as git's
// credential_from_url does for a url= line: PROTOCOL://[USER[:PASS]@]HOST/PATH,
// where a '?' or '#' also ends HOST, the user name, password and host are
// percent-decoded, and PATH is percent-decoded without its leading and
// trailing slashes.
//
// Git's decoding has a quirk kept here on purpose, so that a request means
// to jailrun what it means to git: the bytes of a part before its first ':'
// are copied without decoding ("h%41:1" stays "h%41:1", "h:%41" becomes
// "h:A"). %00 is never decoded.
func (r *Request) applyURL(u string) error {
	*r = Request{URL: u}
	protoEnd := strings.Index(u, "://")
	if protoEnd <= 0 {
		return errors.New("has no scheme; want PROTOCOL://HOST[/PATH]")
	}
	r.Protocol = u[:protoEnd]
	rest := u[protoEnd+len("://"):]
	at := strings.IndexByte(rest, '@')
	colon := strings.IndexByte(rest, ':')
	slash := strings.IndexAny(rest, "/?#")
	if slash < 0 {
		slash = len(rest)
	}
	host := rest[:slash]
	switch {
	case at < 0 || slash <= at: // HOST
	case colon < 0 || at <= colon: // USER@HOST
		r.Username = urlDecode(rest[:at])
		r.markSent("username")
		host = rest[at+1 : slash]
	default: // USER:PASS@HOST
		r.Username = urlDecode(rest[:colon])
		r.Password = urlDecode(rest[colon+1 : at])
		r.markSent("username")
		r.markSent("password")
		host = rest[at+1 : slash]
	}
	r.Host = urlDecode(host)
	if path := strings.TrimLeft(rest[slash:], "/"); path != "" {
		path = urlDecode(path)
		for len(path) > 1 && path[len(path)-1] == '/' {
			path = path[:len(path)-1]
		}
		r.Path = path
	}
	for _, part := range []struct{ name, value string }{
		{"user name", r.Username}, {"password", r.Password}, {"host", r.Host}, {"path", r.Path},
	} {
		if strings.ContainsAny(part.value, "\r\n") {
			return errors.New("decodes to a " + part.name + " with a line break")
		}
	}
	return nil
}

// urlDecode percent-decodes s as git's url_decode_mem does, including its
// quirk of leaving everything before the first ':' (at index > 0) as is.
func urlDecode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	if i := strings.IndexByte(s, ':'); i > 0 {
		b.WriteString(s[:i])
		s = s[i:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, okHi := unhex(s[i+1])
			lo, okLo := unhex(s[i+2])
			if v := hi<<4 | lo; okHi && okLo && v != 0 {
				b.WriteByte(v)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unhex returns the value of the hexadecimal digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
