// Command darwincheck type-checks jailrun's macOS code on any system, with
// no macOS SDK: it copies go-keychain from the module cache (where go mod
// download verified it against go.sum) to a scratch directory, swaps its
// cgo files for stubs generated from them (see Stub) through a build
// overlay, and runs GOOS=darwin CGO_ENABLED=1 go vet on the module for
// arm64 and amd64, pointed at the copy by a scratch go.work.
//
// It then proves the check can fail: go doc -all of the stubbed package
// must equal the original's, and each mistake in plantedMistakes, planted
// in a copy of a file of platform/darwin, must make go vet fail.
//
// Run it from the module: go run ./internal/darwincheck. It is not part of
// any product binary.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

const keychainModule = "github.com/keybase/go-keychain"

// The files of the darwin code the self-test plants mistakes in.
const (
	darwinFile     = "platform/darwin/darwin.go"
	statusTestFile = "platform/darwin/status_test.go"
)

// cTypesDir is where, inside the copy of go-keychain, the package of
// stand-ins for C types is added; cTypesPath is its import path.
const (
	cTypesDir  = "internal/cstandin"
	cTypesPath = keychainModule + "/" + cTypesDir
)

// A plantedMistake changes a file of the darwin code so that it must not
// type-check.
type plantedMistake struct {
	name    string
	file    string
	find    *regexp.Regexp
	replace string
	want    string // part of go vet's complaint
}

var plantedMistakes = []plantedMistake{
	{"wrong method name", darwinFile, regexp.MustCompile(`\.SetMatchLimit\(`), ".SetMatchLimits(", "SetMatchLimits"},
	{"string for []byte", darwinFile, regexp.MustCompile(`SetData\(\[\]byte\(([^()]*)\)\)`), "SetData($1)", "cannot use"},
	{"misnamed error value", statusTestFile, regexp.MustCompile(`keychain\.ErrorItemNotFound\b`), "keychain.ErrItemNotFound", "ErrItemNotFound"},
	{"wrong result type", darwinFile, regexp.MustCompile(`\[\]keychain\.QueryResult\b`), "[]keychain.Item", "cannot use"},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "darwincheck:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := goOutput("", nil, "env", "GOMOD")
	if err != nil || root == "" || root == os.DevNull {
		return errors.New("not inside the jailrun module; run: go run ./internal/darwincheck from the repository")
	}
	root = filepath.Dir(root)
	scratch, err := os.MkdirTemp("", "darwincheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)

	w, err := prepare(root, scratch)
	if err != nil {
		return err
	}
	if err := w.sameDocs(); err != nil {
		return err
	}
	for _, arch := range []string{"arm64", "amd64"} {
		if out, err := w.vet(arch, nil); err != nil {
			return fmt.Errorf("GOOS=darwin GOARCH=%s go vet ./... failed:\n%s", arch, out)
		}
		fmt.Printf("ok  GOOS=darwin GOARCH=%s CGO_ENABLED=1 go vet ./... (go-keychain stubbed)\n", arch)
	}
	return w.selfTest()
}

// workspace is the scratch copy of go-keychain, its stubs and the go.work
// and overlay that point a build at them.
type workspace struct {
	root     string // the jailrun module
	scratch  string
	original string // the verified copy of go-keychain
	stubbed  string // the same with its cgo files replaced by stubs
	overlay  map[string]string
	goWork   string
}

func prepare(root, scratch string) (*workspace, error) {
	var mod struct{ Dir, Version, Sum, Error string }
	out, err := goOutput(root, nil, "mod", "download", "-json", keychainModule)
	if jerr := json.Unmarshal([]byte(out), &mod); jerr != nil || err != nil || mod.Error != "" {
		return nil, fmt.Errorf("go mod download %s failed (%v %s); check the network or GOPROXY", keychainModule, err, mod.Error)
	}
	w := &workspace{
		root:     root,
		scratch:  scratch,
		original: filepath.Join(scratch, "go-keychain"),
		stubbed:  filepath.Join(scratch, "go-keychain-stubbed"),
		overlay:  map[string]string{},
		goWork:   filepath.Join(scratch, "go.work"),
	}
	for _, dir := range []string{w.original, w.stubbed} {
		if err := copyTree(mod.Dir, dir); err != nil {
			return nil, err
		}
	}
	if err := w.stub(); err != nil {
		return nil, err
	}
	goVersion, err := goOutput(root, nil, "list", "-m", "-f", "{{.GoVersion}}")
	if err != nil {
		return nil, err
	}
	work := fmt.Sprintf("go %s\n\nuse %s\n\nreplace %s %s => %s\n", goVersion, root, keychainModule, mod.Version, w.original)
	return w, os.WriteFile(w.goWork, []byte(work), 0o644)
}

// stub replaces the cgo files of the stubbed copy's root package and maps
// the original's files to them in the overlay.
func (w *workspace) stub() error {
	entries, err := os.ReadDir(w.stubbed)
	if err != nil {
		return err
	}
	all := map[string]Kind{}
	var cTypes []string
	pkg := ""
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		path := filepath.Join(w.stubbed, e.Name())
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Contains(src, []byte(`import "C"`)) {
			continue
		}
		stub, kinds, types, err := Stub(e.Name(), src, cTypesPath)
		if err != nil {
			return fmt.Errorf("stubbing %s: %v", e.Name(), err)
		}
		for n, k := range kinds {
			if prev, ok := all[n]; ok && prev != k {
				return fmt.Errorf("stubbing %s: C.%s is a type in one file and a value in another", e.Name(), n)
			}
			all[n] = k
		}
		cTypes = append(cTypes, types...)
		if err := os.WriteFile(path, stub, 0o644); err != nil {
			return err
		}
		w.overlay[filepath.Join(w.original, e.Name())] = path
		pkg = packageName(stub)
	}
	if pkg == "" {
		return fmt.Errorf("%s has no cgo files to stub; has go-keychain changed?", keychainModule)
	}
	slices.Sort(cTypes)
	generated := map[string][]byte{
		"zz_cstandins.go":                     StandIns(pkg, all),
		filepath.Join(cTypesDir, "ctypes.go"): CTypes(filepath.Base(cTypesDir), slices.Compact(cTypes)),
	}
	for name, src := range generated {
		path := filepath.Join(w.stubbed, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, src, 0o644); err != nil {
			return err
		}
		// The overlay adds files, not directories: vet runs in each package's.
		target := filepath.Join(w.original, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		w.overlay[target] = path
	}
	return nil
}

// sameDocs requires go doc -all of the stubbed package, its stand-ins named
// back to C.x, to equal the original's.
func (w *workspace) sameDocs() error {
	env := []string{"GOOS=darwin", "CGO_ENABLED=1", "GOWORK=off", "GOFLAGS=-mod=mod"}
	want, err := goOutput(w.original, env, "doc", "-all", ".")
	if err != nil {
		return fmt.Errorf("go doc of go-keychain: %v", err)
	}
	got, err := goOutput(w.stubbed, env, "doc", "-all", ".")
	if err != nil {
		return fmt.Errorf("go doc of the stubbed go-keychain: %v", err)
	}
	got = strings.ReplaceAll(got, standInPrefix, "C.")
	if got != want {
		return fmt.Errorf("go doc -all of the stubbed go-keychain differs from the original's; the stub generator lost or changed a declaration:\n%s", firstDifference(want, got))
	}
	fmt.Printf("ok  go doc -all of the stubbed go-keychain equals the original's (%d lines)\n", strings.Count(want, "\n"))
	return nil
}

// vet runs go vet on the module for darwin/arch through the overlay, with
// extra files overlaid, and returns its output.
func (w *workspace) vet(arch string, extra map[string]string) (string, error) {
	replace := map[string]string{}
	for k, v := range w.overlay {
		replace[k] = v
	}
	for k, v := range extra {
		replace[k] = v
	}
	overlay, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", err
	}
	path := filepath.Join(w.scratch, "overlay.json")
	if err := os.WriteFile(path, overlay, 0o644); err != nil {
		return "", err
	}
	env := []string{"GOOS=darwin", "GOARCH=" + arch, "CGO_ENABLED=1", "GOWORK=" + w.goWork}
	return goOutput(w.root, env, "vet", "-overlay="+path, "./...")
}

// selfTest plants each mistake in a copy of its file and requires go vet
// to fail on it, for the planted reason.
func (w *workspace) selfTest() error {
	for i, m := range plantedMistakes {
		src, err := os.ReadFile(filepath.Join(w.root, m.file))
		if err != nil {
			return err
		}
		if !m.find.Match(src) {
			return fmt.Errorf("self-test %q finds nothing to change in %s; update plantedMistakes", m.name, m.file)
		}
		planted := filepath.Join(w.scratch, fmt.Sprintf("planted%d.go", i))
		if err := os.WriteFile(planted, m.find.ReplaceAll(src, []byte(m.replace)), 0o644); err != nil {
			return err
		}
		out, err := w.vet("arm64", map[string]string{filepath.Join(w.root, m.file): planted})
		if err == nil {
			return fmt.Errorf("self-test %q: go vet passed a planted mistake; the darwin check sees nothing", m.name)
		}
		if !strings.Contains(out, m.want) {
			return fmt.Errorf("self-test %q: go vet failed without mentioning %q:\n%s", m.name, m.want, out)
		}
		fmt.Printf("ok  planted %s is caught: %s\n", m.name, firstLineWith(out, m.want))
	}
	return nil
}

// goOutput runs the go command in dir with env added and returns its
// trimmed combined output.
func goOutput(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// copyTree copies the regular files under src to dst, writable.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

func packageName(src []byte) string {
	for line := range strings.SplitSeq(string(src), "\n") {
		if name, ok := strings.CutPrefix(line, "package "); ok {
			return strings.TrimSpace(name)
		}
	}
	return ""
}

func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d: original %q, stub %q", i+1, wl, gl)
		}
	}
	return ""
}

func firstLineWith(out, part string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, part) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
