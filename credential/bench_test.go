package credential

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func benchmarkReadRequest(b *testing.B, input string, wantErr bool) {
	b.ReportAllocs()
	r := strings.NewReader(input)
	for b.Loop() {
		r.Reset(input)
		if _, err := ReadRequest(r); (err != nil) != wantErr {
			b.Fatalf("ReadRequest error = %v, want error: %v", err, wantErr)
		}
	}
}

// BenchmarkReadRequest reads what git sends a helper for a push.
func BenchmarkReadRequest(b *testing.B) {
	benchmarkReadRequest(b, "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=github.com\n"+
		"path=alice/repo.git\nwwwauth[]=Basic realm=\"GitHub\"\n\n", false)
}

// BenchmarkReadRequestURL reads a request given as url=.
func BenchmarkReadRequestURL(b *testing.B) {
	benchmarkReadRequest(b, "url=https://alice@ghe.example:8443/org/repo%20name.git\n\n", false)
}

// BenchmarkReadRequestLongLine rejects a 10 MB line.
func BenchmarkReadRequestLongLine(b *testing.B) {
	benchmarkReadRequest(b, "wwwauth[]="+strings.Repeat("a", 10<<20)+"\n", true)
}

// BenchmarkWriteResponse writes a typical answer to get.
func BenchmarkWriteResponse(b *testing.B) {
	resp := Response{Username: "x-access-token", Password: "github_pat_" + strings.Repeat("A", 82), PasswordExpiryUTC: "1893456000"}
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WriteResponse(io.Writer(&buf), resp); err != nil {
			b.Fatal(err)
		}
	}
}
