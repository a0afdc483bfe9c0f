//go:build linux

package linux_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/keyringtest"
	"github.com/jailrun/jailrun/platform/linux"
)

// openTest opens the keyring of the test's private bus.
func openTest(t testing.TB) *linux.Keyring {
	t.Helper()
	k, err := linux.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// secretTool runs secret-tool on the test's private bus; secrets go
// on stdin, never in argv. It returns stdout (a looked-up secret; for
// search, the label) and stderr (for search, the attributes). Its output may hold
// a secret: it is never printed.
func secretTool(t testing.TB, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("secret-tool not found: sudo apt install libsecret-tools")
		}
		t.Skip("secret-tool not found: sudo apt install libsecret-tools")
	}
	cmd := exec.Command("secret-tool", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("secret-tool %s: %v: %s", args[0], err, firstLine(errOut.String()))
	}
	return out.String(), errOut.String()
}

// firstLine keeps secret-tool's error message, never what follows.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// newSecret returns a random token-like secret.
func newSecret() string { return "ghp_" + rand.Text() }

func TestKeyring(t *testing.T) {
	keyringtest.Start(t)
	keyringtest.TestKeyring(t, func(t *testing.T) keyring.Keyring { return openTest(t) })
}

func TestSecretToolInterop(t *testing.T) {
	s := keyringtest.Start(t)
	k := openTest(t)
	user := keyring.Account()

	// Stored the bash jailrun's way, with the newline echo leaves.
	classic := newSecret()
	secretTool(t, classic+"\n", "store", "--label=jailrun:github:classic", "service", "jailrun:github:classic", "account", user)
	got, err := k.Get("github:classic")
	if err != nil {
		t.Fatalf("Get of a secret-tool item: %v", err)
	}
	if got.Secret != classic {
		t.Fatalf("Get of a secret-tool item: secret %s, want %s", keyring.Preview(got.Secret), keyring.Preview(classic))
	}
	list, err := k.List()
	if err != nil || len(list) != 1 || list[0].Name != "github:classic" || list[0].Secret != classic {
		t.Fatalf("List with a secret-tool item: %d tokens, error %v; want github:classic", len(list), err)
	}

	// Ours, read by secret-tool.
	fine := keyring.Token{Name: "github:fine-grained-acme", Secret: newSecret(),
		Meta: keyring.Meta{Kind: "fine-grained", Login: "octocat", Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}}
	if err := k.Put(fine); err != nil {
		t.Fatal(err)
	}
	if out, _ := secretTool(t, "", "lookup", "service", "jailrun:github:fine-grained-acme", "account", user); out != fine.Secret {
		t.Fatalf("secret-tool lookup of our item: %s, want %s", keyring.Preview(out), keyring.Preview(fine.Secret))
	}
	stdout, stderr := secretTool(t, "", "search", "service", "jailrun:github:fine-grained-acme", "account", user)
	out := stdout + stderr
	for _, want := range []string{
		"label = jailrun:github:fine-grained-acme",
		"schema = org.freedesktop.Secret.Generic",
		"attribute.jailrun.kind = fine-grained",
		"attribute.jailrun.login = octocat",
		"attribute.jailrun.expires = 2030-01-02T03:04:05Z",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("secret-tool search of our item lacks %q", want)
		}
	}

	// Rotating the secret-tool item replaces it: one item, new secret.
	rotated := keyring.Token{Name: "github:classic", Secret: newSecret(), Meta: keyring.Meta{Kind: "classic"}}
	if err := k.Put(rotated); err != nil {
		t.Fatal(err)
	}
	if n := s.Count(t, map[string]string{"service": "jailrun:github:classic"}); n != 1 {
		t.Fatalf("after rotating a secret-tool item: %d items, want 1", n)
	}
	if out, _ := secretTool(t, "", "lookup", "service", "jailrun:github:classic", "account", user); out != rotated.Secret {
		t.Fatalf("secret-tool lookup after rotation: %s, want %s", keyring.Preview(out), keyring.Preview(rotated.Secret))
	}
}

func TestCredentialInterop(t *testing.T) {
	keyringtest.Start(t)
	k := openTest(t)

	// Stored as git-credential-libsecret stores them.
	pw, portPW := newSecret(), newSecret()
	secretTool(t, pw, "store", "--label=Git: https://git.example/", "xdg:schema", "org.gnome.keyring.NetworkPassword",
		"protocol", "https", "server", "git.example", "user", "alice")
	secretTool(t, portPW, "store", "--label=Git: https://git.example:8443/", "xdg:schema", "org.gnome.keyring.NetworkPassword",
		"protocol", "https", "server", "git.example", "port", "8443", "user", "alice")
	for host, want := range map[string]string{"git.example": pw, "git.example:8443": portPW} {
		got, err := k.FindCredentials(keyring.Credential{Protocol: "https", Host: host})
		if err != nil || len(got) != 1 {
			t.Fatalf("FindCredentials(%s) of secret-tool items: %d found, error %v; want 1", host, len(got), err)
		}
		if got[0].Username != "alice" || got[0].Host != host || got[0].Password != want {
			t.Fatalf("FindCredentials(%s): %s@%s password %s, want alice@%s %s", host,
				got[0].Username, got[0].Host, keyring.Preview(got[0].Password), host, keyring.Preview(want))
		}
	}

	// Ours, as git-credential-libsecret would read them.
	c := keyring.Credential{Protocol: "https", Host: "ghe.example:8443", Path: "org/repo.git", Username: "bob",
		Password: newSecret(), PasswordExpiry: time.Unix(1900000000, 0), OAuthRefreshToken: "refresh-" + rand.Text()}
	if err := k.StoreCredential(c); err != nil {
		t.Fatal(err)
	}
	out, _ := secretTool(t, "", "lookup", "xdg:schema", "org.gnome.keyring.NetworkPassword",
		"protocol", "https", "server", "ghe.example", "port", "8443", "object", "org/repo.git", "user", "bob")
	if want := c.Password + "\npassword_expiry_utc=1900000000\noauth_refresh_token=" + c.OAuthRefreshToken; out != want {
		t.Fatalf("secret-tool lookup of our credential: %s (%d bytes), want %s (%d bytes)",
			keyring.Preview(out), len(out), keyring.Preview(want), len(want))
	}
	stdout, stderr := secretTool(t, "", "search", "protocol", "https", "server", "ghe.example", "user", "bob")
	if !strings.Contains(stdout+stderr, "label = Git: https://ghe.example:8443/org/repo.git\n") {
		t.Fatal("secret-tool search of our credential: label is not git-credential-libsecret's")
	}
}

// buildLibsecretHelper compiles git's own git-credential-libsecret from
// the source the git package ships, or skips the test.
func buildLibsecretHelper(t *testing.T) string {
	t.Helper()
	const source = "/usr/share/doc/git/contrib/credential/libsecret/git-credential-libsecret.c"
	if _, err := os.Stat(source); err != nil {
		t.Skip("no git-credential-libsecret source in the git package")
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "glib-2.0", "libsecret-1").Output()
	if err != nil {
		t.Skip("cannot build git-credential-libsecret: sudo apt install gcc pkg-config libsecret-1-dev")
	}
	bin := filepath.Join(t.TempDir(), "git-credential-libsecret")
	args := append([]string{"-o", bin, source}, strings.Fields(string(flags))...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Skipf("cannot build git-credential-libsecret: %v: %s", err, firstLine(string(out)))
	}
	return bin
}

// libsecretHelper runs git's git-credential-libsecret; its output may hold
// a password and is never printed.
func libsecretHelper(t *testing.T, bin, action, input string) string {
	t.Helper()
	cmd := exec.Command(bin, action)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git-credential-libsecret %s: %v", action, err)
	}
	return string(out)
}

func TestGitCredentialLibsecretInterop(t *testing.T) {
	bin := buildLibsecretHelper(t)
	keyringtest.Start(t)
	k := openTest(t)

	// Stored by git's helper, found by ours, port and path included.
	pw := newSecret()
	libsecretHelper(t, bin, "store", "protocol=https\nhost=git.example:8443\npath=org/repo.git\nusername=alice\npassword="+pw+"\n\n")
	got, err := k.FindCredentials(keyring.Credential{Protocol: "https", Host: "git.example:8443", Path: "org/repo.git"})
	if err != nil || len(got) != 1 || got[0].Username != "alice" || got[0].Password != pw {
		t.Fatalf("FindCredentials of git-credential-libsecret's item: %d found, error %v; want alice's", len(got), err)
	}
	if got, err := k.FindCredentials(keyring.Credential{Protocol: "https", Host: "git.example"}); err != nil || len(got) != 0 {
		t.Fatalf("FindCredentials without the port: %d found, error %v; want none", len(got), err)
	}

	// Stored by ours, served and erased by git's helper.
	c := keyring.Credential{Protocol: "https", Host: "ghe.example", Username: "bob", Password: newSecret()}
	if err := k.StoreCredential(c); err != nil {
		t.Fatal(err)
	}
	if out := libsecretHelper(t, bin, "get", "protocol=https\nhost=ghe.example\n\n"); out != "username=bob\npassword="+c.Password+"\n" {
		t.Fatalf("git-credential-libsecret get of our item: %d bytes, not bob's credential", len(out))
	}
	libsecretHelper(t, bin, "erase", "protocol=https\nhost=ghe.example\nusername=bob\n\n")
	if got, err := k.FindCredentials(keyring.Credential{Protocol: "https", Host: "ghe.example"}); err != nil || len(got) != 0 {
		t.Fatalf("FindCredentials after git-credential-libsecret erase: %d found, error %v; want none", len(got), err)
	}
}

func TestDuplicatesFromOtherTools(t *testing.T) {
	s := keyringtest.Start(t)
	k := openTest(t)
	user := keyring.Account()
	base := map[string]string{"service": "jailrun:github:dup", "account": user}
	older, newer := newSecret(), newSecret()
	secretTool(t, older, "store", "--label=old", "service", "jailrun:github:dup", "account", user, "copy", "1")
	time.Sleep(1100 * time.Millisecond) // modification times are in seconds
	secretTool(t, newer, "store", "--label=new", "service", "jailrun:github:dup", "account", user, "copy", "2")
	if n := s.Count(t, base); n != 2 {
		t.Fatalf("setup: %d items, want 2", n)
	}
	if got, err := k.Get("github:dup"); err != nil || got.Secret != newer {
		t.Fatalf("Get with duplicates: secret %s, error %v; want the newest, %s", keyring.Preview(got.Secret), err, keyring.Preview(newer))
	}
	if list, err := k.List(); err != nil || len(list) != 1 || list[0].Secret != newer {
		t.Fatalf("List with duplicates: %d tokens, error %v; want 1, the newest", len(list), err)
	}
	put := keyring.Token{Name: "github:dup", Secret: newSecret()}
	if err := k.Put(put); err != nil {
		t.Fatal(err)
	}
	if n := s.Count(t, base); n != 1 {
		t.Fatalf("after Put: %d items, want 1", n)
	}
	if got, err := k.Get("github:dup"); err != nil || got.Secret != put.Secret {
		t.Fatalf("Get after Put: secret %s, error %v", keyring.Preview(got.Secret), err)
	}
	if err := k.Delete("github:dup"); err != nil {
		t.Fatal(err)
	}
	if n := s.Count(t, base); n != 0 {
		t.Fatalf("after Delete: %d items, want 0", n)
	}
}

func TestConcurrentPutsAndGets(t *testing.T) {
	s := keyringtest.Start(t)
	const name = "github:raced"
	reader := openTest(t)
	secrets := []string{newSecret()}
	if err := reader.Put(keyring.Token{Name: name, Secret: secrets[0]}); err != nil {
		t.Fatal(err)
	}
	const writers, readers = 5, 40
	for range writers {
		secrets = append(secrets, newSecret())
	}
	var wg sync.WaitGroup
	for i := range writers {
		w := openTest(t)
		wg.Go(func() {
			if err := w.Put(keyring.Token{Name: name, Secret: secrets[i+1], Meta: keyring.Meta{Kind: strconv.Itoa(i)}}); err != nil {
				t.Errorf("Put %d: %v", i, err)
			}
		})
	}
	for range readers {
		wg.Go(func() {
			got, err := reader.Get(name)
			if err != nil {
				t.Errorf("Get while rotating: %v", err)
			} else if !slices.Contains(secrets, got.Secret) {
				t.Errorf("Get while rotating: secret %s was never stored", keyring.Preview(got.Secret))
			}
		})
	}
	wg.Wait()
	if n := s.Count(t, map[string]string{"service": "jailrun:" + name}); n != 1 {
		t.Fatalf("after concurrent Puts: %d items, want 1", n)
	}
	got, err := reader.Get(name)
	if err != nil || !slices.Contains(secrets[1:], got.Secret) {
		t.Fatalf("after concurrent Puts: Get %s, error %v; want one of the Puts' secrets", keyring.Preview(got.Secret), err)
	}
}

func TestConcurrentFirstPuts(t *testing.T) {
	s := keyringtest.Start(t)
	const name = "github:new"
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 10 {
		k := openTest(t)
		wg.Go(func() {
			<-start
			if err := k.Put(keyring.Token{Name: name, Secret: newSecret(), Meta: keyring.Meta{Login: strconv.Itoa(i)}}); err != nil {
				t.Errorf("Put %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := s.Count(t, map[string]string{"service": "jailrun:" + name}); n != 1 {
		t.Fatalf("after concurrent first Puts: %d items, want 1", n)
	}
}

func BenchmarkGet(b *testing.B) {
	keyringtest.Start(b)
	k := openTest(b)
	if err := k.Put(keyring.Token{Name: "github:bench", Secret: newSecret(), Meta: keyring.Meta{Kind: "classic"}}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := k.Get("github:bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList lists 10 tokens among 10 items of another application
// stored under the same account.
func BenchmarkList(b *testing.B) {
	keyringtest.Start(b)
	k := openTest(b)
	for i := range 10 {
		if err := k.Put(keyring.Token{Name: "github:bench-" + strconv.Itoa(i), Secret: newSecret()}); err != nil {
			b.Fatal(err)
		}
		secretTool(b, newSecret(), "store", "--label=other", "service", "other-app-"+strconv.Itoa(i), "account", keyring.Account())
	}
	for b.Loop() {
		if list, err := k.List(); err != nil || len(list) != 10 {
			b.Fatalf("List: %d tokens, error %v", len(list), err)
		}
	}
}

// BenchmarkOpenGet is what one git credential request costs: connect,
// open the session, read one token, close.
func BenchmarkOpenGet(b *testing.B) {
	keyringtest.Start(b)
	if err := openTest(b).Put(keyring.Token{Name: "github:bench", Secret: newSecret()}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		k, err := linux.Open()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Get("github:bench"); err != nil {
			b.Fatal(err)
		}
		k.Close()
	}
}
