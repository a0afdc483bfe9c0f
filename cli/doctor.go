package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/launch"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/platform/linux"
)

type doctorCmd struct {
	JSON bool `name:"json" help:"Print the checks as a JSON array, for scripts."`
}

// Check statuses, one vocabulary for doctor, status and token verify;
// lines for people show warn and fail in capitals.
const (
	statusOK   = "ok"
	statusWarn = "warn"
	statusFail = "fail"
)

// check is one line of doctor's report: what was found and, for a
// problem, what to do (Hint, in words) and the command that does it (Fix).
type check struct {
	Name   string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
	Fix    string `json:"fix,omitempty"` // a command to run, or empty
}

// minGit is the first git that reads GIT_CONFIG_COUNT, which sessions use.
var minGit = [2]int{2, 31}

// commandTimeout bounds each program doctor and ruleset run.
const commandTimeout = 10 * time.Second

func (c *doctorCmd) Run(env *Env) error {
	gitPath, gitCheck := checkGit()
	checks := []check{gitCheck}
	checks = append(checks, checkProgram("git-credential-jailrun", statusFail,
		"git and agent sessions need it; install it and put ~/.local/bin on PATH", "PREFIX=~/.local ./install.sh"))
	checks = append(checks, checkProgram("gh", statusWarn,
		"agents use gh for pull requests and issues; install it (https://cli.github.com)", "sudo apt install gh"))
	tokens, keychainOK, keychain := checkKeychain(env)
	checks = append(checks, keychain...)
	cfg, configOK, configChecks := checkConfig(env)
	checks = append(checks, configChecks...)
	if keychainOK && configOK {
		checks = append(checks, checkTokens(cfg, tokens)...)
	}
	if configOK {
		checks = append(checks, checkNetrc(env, cfg.Hosts))
	}
	if gitPath != "" {
		checks = append(checks, checkCredentialHelpers(gitPath, cfg))
	}
	checks = append(checks, checkJail(env))

	failed := 0
	for _, ch := range checks {
		if ch.Status == statusFail {
			failed++
		}
	}
	if c.JSON {
		out, err := json.MarshalIndent(checks, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, string(out))
	} else {
		for _, ch := range checks {
			printCheck(env, ch)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%s failed; fix what the FAIL lines say", plural(failed, "check"))
	}
	return nil
}

// printCheck writes ch as one line: status, name, detail and fix.
func printCheck(env *Env, ch check) {
	status := ch.Status
	if status != statusOK {
		status = strings.ToUpper(status)
	}
	line := fmt.Sprintf("%-4s  %s: %s", status, ch.Name, ch.Detail)
	switch {
	case ch.Hint != "" && ch.Fix != "":
		line += " — " + ch.Hint + ": " + ch.Fix
	case ch.Hint != "" || ch.Fix != "":
		line += " — " + ch.Hint + ch.Fix
	}
	fmt.Fprintln(env.Stdout, line)
}

// checkGit finds git on PATH and checks its version; it returns git's path,
// "" when there is none.
func checkGit() (string, check) {
	ch := check{Name: "git"}
	path, err := exec.LookPath("git")
	if err != nil {
		ch.Status, ch.Detail, ch.Hint, ch.Fix = statusFail, "not found on PATH", "install git 2.31 or later", "sudo apt install git"
		return "", ch
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	version := strings.TrimPrefix(strings.TrimSpace(string(out)), "git version ")
	major, minor, ok := gitVersion(version)
	switch {
	case err != nil || !ok:
		ch.Status, ch.Detail, ch.Fix = statusFail, fmt.Sprintf("%s does not say its version", path), ""
		ch.Hint = "reinstall git 2.31 or later"
	case major < minGit[0] || major == minGit[0] && minor < minGit[1]:
		ch.Status, ch.Detail, ch.Hint = statusFail, fmt.Sprintf("%s is %s; sessions need 2.31 or later (GIT_CONFIG_COUNT)", path, version), "upgrade git"
	default:
		ch.Status, ch.Detail = statusOK, fmt.Sprintf("%s %s", path, version)
	}
	return path, ch
}

// gitVersion reads major and minor out of "2.43.0", "2.39.5 (Apple Git-154)"
// or "2.45.1.windows.1".
func gitVersion(v string) (major, minor int, ok bool) {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return 0, 0, false
	}
	parts := strings.SplitN(fields[0], ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return major, minor, err1 == nil && err2 == nil
}

// checkProgram looks for program on PATH; missing is status, with hint
// and fix.
func checkProgram(program, status, hint, fix string) check {
	path, err := exec.LookPath(program)
	if err != nil {
		return check{Name: program, Status: status, Detail: "not found on PATH", Hint: hint, Fix: fix}
	}
	return check{Name: program, Status: statusOK, Detail: path}
}

// checkKeychain opens the keychain and lists the tokens. On Linux it
// reports the session bus, the Secret Service provider and the unlocked
// collection separately, naming the first that is missing and its fix.
func checkKeychain(env *Env) ([]keyring.Token, bool, []check) {
	kr, err := env.OpenKeyring()
	var tokens []keyring.Token
	var storeErr error
	if err == nil {
		tokens, err = kr.List()
		if err == nil {
			storeErr = canStore(kr)
		}
		kr.Close()
	}
	if runtime.GOOS != "linux" {
		if err != nil {
			return nil, false, []check{failed("keychain", err)}
		}
		return tokens, true, []check{{Name: "keychain", Status: statusOK, Detail: plural(len(tokens), "token") + " stored"}}
	}
	bus := check{Name: "session bus", Status: statusOK, Detail: "reachable"}
	provider := check{Name: "Secret Service provider", Status: statusOK, Detail: "answers with an encrypted session"}
	switch {
	case err == nil:
		unlocked := check{Name: "collection unlocked", Status: statusOK, Detail: plural(len(tokens), "token") + " stored"}
		if storeErr != nil {
			return tokens, true, []check{bus, provider, failed("default collection", storeErr)}
		}
		return tokens, true, []check{bus, provider, unlocked}
	case errors.Is(err, linux.ErrNoBus):
		return nil, false, []check{failed(bus.Name, err)}
	case errors.Is(err, linux.ErrNoProvider), errors.Is(err, linux.ErrUnsupported):
		return nil, false, []check{bus, failed(provider.Name, err)}
	case errors.Is(err, linux.ErrLocked), errors.Is(err, linux.ErrDismissed):
		return nil, false, []check{bus, provider, failed("collection unlocked", err)}
	}
	return nil, false, []check{bus, failed("keychain", err)}
}

// failed is a FAIL check from a keychain error, which says what failed
// and, after "; ", what to do.
func failed(name string, err error) check {
	detail, hint, _ := strings.Cut(err.Error(), "; ")
	return check{Name: name, Status: statusFail, Detail: detail, Hint: hint}
}

// checkConfig loads the config; its warnings are WARN lines.
func checkConfig(env *Env) (config.Config, bool, []check) {
	path := config.Path(env.Getenv)
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return cfg, false, []check{{Name: "config", Status: statusFail, Detail: err.Error()}}
	}
	detail := path
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		detail += " not present; defaults apply"
	}
	checks := []check{{Name: "config", Status: statusOK, Detail: detail}}
	for _, w := range cfg.Warnings {
		checks = append(checks, check{Name: "config", Status: statusWarn, Detail: w, Hint: "edit " + path})
	}
	return cfg, true, checks
}

// checkTokens checks the active token, each GitHub token's expiry and the
// tokens that routes name.
func checkTokens(cfg config.Config, tokens []keyring.Token) []check {
	stored := func(name string) (keyring.Token, bool) {
		for _, t := range tokens {
			if config.EqualFoldASCII(t.Name, name) {
				return t, true
			}
		}
		return keyring.Token{}, false
	}
	var checks []check
	active := cfg.ActiveToken()
	switch t, ok := stored(active); {
	case ok:
		checks = append(checks, check{Name: "active token", Status: statusOK, Detail: t.Name})
	case len(tokens) == 0:
		checks = append(checks, check{Name: "tokens", Status: statusWarn,
			Detail: "none stored; agents start without a GitHub token",
			Fix:    "jailrun token add --name github:fine-grained-OWNER"})
	case cfg.TokenName != config.DefaultTokenName:
		// Chosen in the config or the environment, yet missing: a mistake.
		checks = append(checks, check{Name: "active token", Status: statusWarn,
			Detail: active + " is not in the keyring; outside routes and github:fine-grained-OWNER, agents start without a GitHub token",
			Fix:    "jailrun token add --name " + active})
	default:
		checks = append(checks, check{Name: "active token", Status: statusOK,
			Detail: "none; routes and github:fine-grained-OWNER tokens serve their owners, other repositories get no token"})
	}
	now := time.Now()
	for _, t := range tokens {
		switch {
		case isGitHubToken(t.Name):
			checks = append(checks, checkExpiry(cfg, t, now))
		case apptoken.Is(t.Name):
			checks = append(checks, checkApp(t))
		}
	}
	missing := 0
	for _, r := range cfg.Routes {
		if _, ok := stored(r.Token); !ok {
			missing++
			checks = append(checks, check{Name: "route", Status: statusFail,
				Detail: fmt.Sprintf("%s names %s, which is not in the keyring; git gets no token there", routeText(r), r.Token),
				Fix:    "jailrun token add --name " + r.Token})
		}
	}
	if len(cfg.Routes) > 0 && missing == 0 {
		checks = append(checks, check{Name: "routes", Status: statusOK, Detail: plural(len(cfg.Routes), "route") + ", every token present"})
	}
	return checks
}

// checkExpiry reports when a stored token expires, as far as the keyring
// knows: no network.
func checkExpiry(cfg config.Config, t keyring.Token, now time.Time) check {
	ch := check{Name: "token " + t.Name, Status: statusOK, Detail: describeValidity(t.Meta.Expires, now)}
	const newToken = "create a new token, then"
	rotate := "jailrun token rotate --name " + t.Name
	switch left := t.Meta.Expires.Sub(now); {
	case t.Meta.Expires.IsZero() && t.Meta.Login == "":
		ch.Status, ch.Detail, ch.Fix = statusWarn, "expiry unknown", "jailrun token verify --name "+t.Name
	case t.Meta.Expires.IsZero():
		ch.Status, ch.Detail, ch.Hint, ch.Fix = statusWarn, "never expires", "tokens for agents should expire in 30 days; "+newToken, rotate
	case left <= 0:
		ch.Status, ch.Hint, ch.Fix = statusFail, newToken, rotate
	case left <= time.Duration(cfg.ExpiryWarnDays)*24*time.Hour:
		ch.Status, ch.Hint, ch.Fix = statusWarn, newToken, rotate
	}
	return ch
}

// checkApp reports whether a stored App's item holds an id and a key that
// parses: no network.
func checkApp(t keyring.Token) check {
	app, _, err := apptoken.Decode(t.Secret)
	if err != nil {
		return check{Name: t.Name, Status: statusFail, Detail: err.Error(),
			Fix: "jailrun app add --name " + strings.TrimPrefix(t.Name, apptoken.Namespace) + " --app-id ID --key-file KEY.pem"}
	}
	return check{Name: t.Name, Status: statusOK, Detail: fmt.Sprintf("GitHub App %d on %s; its session tokens last an hour", app.ID, app.Host)}
}

// routeText writes a route as GH_TOKEN_ROUTES spells it.
func routeText(r config.Route) string {
	short := strings.TrimPrefix(r.Token, config.Namespace)
	switch {
	case r.Owner == "":
		return r.Host + "=" + short
	case r.Host == config.DefaultHost:
		return r.Owner + "=" + short
	}
	return r.Host + "/" + r.Owner + "=" + short
}

// checkCredentialHelpers lists the credential helpers git is configured
// with for GitHub hosts, other than jailrun's: sessions reset them. A
// helper for another host only (gcloud's for its source host) is none of
// jailrun's business and goes unmentioned.
func checkCredentialHelpers(gitPath string, cfg config.Config) check {
	ch := check{Name: "credential helpers", Status: statusOK}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, gitPath, "config", "--get-regexp", `^credential\..*helper$`).Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: none set
		ch.Status, ch.Detail = statusWarn, "git config could not be read: "+err.Error()
		return ch
	}
	var others []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		key, value, _ := strings.Cut(line, " ")
		if strings.TrimSpace(value) == "" || isJailrunHelper(value) || !helperForGitHub(key, cfg) {
			continue
		}
		others = append(others, fmt.Sprintf("%s=%s", key, value))
	}
	if len(others) == 0 {
		ch.Detail = "none besides jailrun's"
		return ch
	}
	ch.Status = statusWarn
	ch.Detail = "agent sessions reset " + strings.Join(others, ", ") + ", so git there uses only jailrun's tokens"
	ch.Hint, ch.Fix = "to serve the same tokens outside sessions", "git config --global credential.helper jailrun"
	return ch
}

// helperForGitHub reports whether the helper configured under key
// (credential.helper or credential.URL.helper) can serve one of cfg's
// GitHub hosts. A URL it cannot read counts as one: saying too much beats
// hiding a helper that git would run.
func helperForGitHub(key string, cfg config.Config) bool {
	pattern, ok := strings.CutPrefix(key, "credential.")
	if !ok || key == "credential.helper" {
		return true
	}
	pattern = strings.TrimSuffix(pattern, ".helper")
	if !strings.Contains(pattern, "://") {
		pattern = "https://" + pattern
	}
	u, err := url.Parse(pattern)
	if err != nil || u.Host == "" || strings.Contains(u.Host, "*") {
		return true
	}
	if u.Scheme != "https" {
		return false // sessions serve GitHub over https only
	}
	return cfg.IsGitHubHost(u.Host)
}

// isJailrunHelper reports whether a credential.helper value runs
// git-credential-jailrun.
func isJailrunHelper(value string) bool {
	fields := strings.Fields(value)
	if len(fields) == 0 {
		return false
	}
	program := fields[0]
	return program == "jailrun" || filepath.Base(program) == "git-credential-jailrun"
}

// checkJail says whether agents would start jailed: ok where bubblewrap
// starts a sandbox, else WARN (FAIL when JAILRUN_JAIL=on asks for the
// jail) with the fix.
func checkJail(env *Env) check {
	ch := check{Name: "jail"}
	mode, err := launch.ParseJailMode(env.Getenv(launch.JailVar))
	if err != nil {
		ch.Status, ch.Detail, ch.Hint = statusFail, err.Error(), "set "+launch.JailVar+" to auto, on or off"
		return ch
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	jailed, err := launch.WouldJail(ctx, mode, env.Getenv)
	switch {
	case jailed:
		ch.Status, ch.Detail = statusOK, "agents start jailed (bubblewrap works here)"
	case mode == launch.JailOff:
		ch.Status, ch.Detail = statusOK, "off ("+launch.JailVar+"=off): agents start without the jail"
	default:
		ch.Status, ch.Detail = statusWarn, "agents start NOT jailed: "
		if mode == launch.JailOn {
			ch.Status, ch.Detail = statusFail, "agents cannot start ("+launch.JailVar+"=on): "
		}
		var unavailable *jail.Unavailable
		if errors.As(err, &unavailable) {
			ch.Detail += unavailable.Why
			ch.Hint = unavailable.Fix
		} else {
			why, hint, _ := strings.Cut(err.Error(), "; ")
			ch.Detail += why
			ch.Hint = hint
		}
	}
	return ch
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
