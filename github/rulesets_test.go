package github_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/github/githubtest"
)

func TestRulesetNamesPaginates(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddToken(secret, githubtest.User{Login: "alice", Repos: []string{"acme/app"}})
	var want []string
	for i := range 130 {
		name := fmt.Sprintf("rs-%d", i)
		srv.AddRuleset("acme/app", name)
		want = append(want, name)
	}
	got, err := client(t, srv).RulesetNames(context.Background(), secret, "Acme", "App")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %d names, want %d", len(got), len(want))
	}
}

func TestCreateRuleset(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddToken(secret, githubtest.User{Login: "alice", Repos: []string{"acme/app"}})
	c := client(t, srv)
	rs := github.JailrunRulesets()
	if len(rs) != 2 || rs[0].Name != "jailrun-branch-protection" || rs[1].Name != "jailrun-tag-protection" {
		t.Fatalf("JailrunRulesets() = %+v", rs)
	}
	for _, r := range rs {
		if err := c.CreateRuleset(context.Background(), secret, "acme", "app", r); err != nil {
			t.Fatal(err)
		}
	}
	created := srv.Created("acme/app")
	if len(created) != 2 {
		t.Fatalf("created %d rulesets, want 2", len(created))
	}
	branch := created[0]
	if branch["target"] != "branch" || branch["enforcement"] != "active" {
		t.Errorf("branch ruleset %v", branch)
	}
	var types []string
	for _, r := range branch["rules"].([]any) {
		rule := r.(map[string]any)
		types = append(types, rule["type"].(string))
		if rule["type"] == "pull_request" {
			if n := rule["parameters"].(map[string]any)["required_approving_review_count"]; n != 1.0 {
				t.Errorf("required approvals %v, want 1", n)
			}
		}
	}
	if want := []string{"pull_request", "non_fast_forward", "deletion"}; !slices.Equal(types, want) {
		t.Errorf("branch rules %q, want %q", types, want)
	}
	include := branch["conditions"].(map[string]any)["ref_name"].(map[string]any)["include"].([]any)
	if len(include) != 1 || include[0] != "~DEFAULT_BRANCH" {
		t.Errorf("branch ruleset applies to %v", include)
	}
	tag := created[1]
	if tag["target"] != "tag" || len(tag["rules"].([]any)) != 1 || tag["rules"].([]any)[0].(map[string]any)["type"] != "deletion" {
		t.Errorf("tag ruleset %v", tag)
	}
	if _, ok := tag["rules"].([]any)[0].(map[string]any)["parameters"]; ok {
		t.Errorf("deletion rule sent parameters: %v", tag)
	}
	// GitHub refuses a second ruleset of the same name; the error says so.
	err := c.CreateRuleset(context.Background(), secret, "acme", "app", rs[0])
	if err == nil {
		t.Fatal("a duplicate ruleset was accepted")
	}
	t.Log(err)
}

func TestRulesetsOfUnknownRepo(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddToken(secret, githubtest.User{Login: "alice"})
	_, err := client(t, srv).RulesetNames(context.Background(), secret, "acme", "secret-repo")
	if err == nil {
		t.Fatal("no error for a repository the token cannot see")
	}
	if want := "GitHub API GET /repos/acme/secret-repo/rulesets answered 404 Not Found: Not Found; check the name, and that the token can see it"; err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
}
