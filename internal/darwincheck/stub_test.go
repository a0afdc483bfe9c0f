package main

import (
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"strings"
	"testing"
)

const cgoSample = `//go:build darwin

package sample

/*
#include <Security/Security.h>
*/
import "C"
import (
	"fmt"
	"unsafe"
)

// Code is a status.
type Code int

// ErrParam is errSecParam.
var ErrParam = Code(C.errSecParam)

var refs = map[Code]C.CFTypeRef{ErrParam: C.CFTypeRef(C.kSecClass)}

// Release releases ref.
func Release(ref C.CFTypeRef) {
	// a comment inside the body goes with it
	C.CFRelease(ref)
	_ = unsafe.Pointer(nil)
}

// Status describes c.
func (c Code) Status(s C.OSStatus) string { return fmt.Sprint(int(s)) }

func local(x C.int) {}
`

func TestStub(t *testing.T) {
	stub, standIns, cTypes, err := Stub("sample.go", []byte(cgoSample), "example.com/ctypes")
	if err != nil {
		t.Fatalf("Stub: %v", err)
	}
	src := string(stub)
	if _, err := parser.ParseFile(token.NewFileSet(), "stub.go", stub, 0); err != nil {
		t.Fatalf("stub does not parse: %v\n%s", err, src)
	}
	for _, want := range []string{
		"//go:build darwin",
		`C "example.com/ctypes"`,
		"var ErrParam = Code(_C_errSecParam)",
		"var refs = map[Code]C.CFTypeRef{ErrParam: C.CFTypeRef(_C_kSecClass)}",
		"// Release releases ref.\nfunc Release(ref C.CFTypeRef) {\n\tpanic(\"stub\")",
		"func (c Code) Status(s C.OSStatus) string {",
		"func local(x _C_int) {",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("stub lacks %q:\n%s", want, src)
		}
	}
	for _, gone := range []string{"Security.h", `import "C"`, "unsafe", "fmt", "CFRelease", "inside the body"} {
		if strings.Contains(src, gone) {
			t.Errorf("stub still has %q:\n%s", gone, src)
		}
	}
	wantStandIns := map[string]Kind{"errSecParam": Value, "kSecClass": Value, "int": Type}
	if !maps.Equal(standIns, wantStandIns) {
		t.Errorf("stand-ins = %v, want %v", standIns, wantStandIns)
	}
	if want := []string{"CFTypeRef", "OSStatus"}; !slices.Equal(cTypes, want) {
		t.Errorf("C types = %v, want %v", cTypes, want)
	}
}

func TestStubRefusesPlainGo(t *testing.T) {
	if _, _, _, err := Stub("plain.go", []byte("package p\n"), "example.com/ctypes"); err == nil {
		t.Fatal("Stub of a file without import \"C\" succeeded, want an error")
	}
}

func TestStandIns(t *testing.T) {
	got := string(StandIns("sample", map[string]Kind{"kSecClass": Value, "int": Type}))
	for _, want := range []string{"package sample\n", "type _C_int uintptr\n", "var _C_kSecClass uintptr\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("StandIns lacks %q:\n%s", want, got)
		}
	}
}
