package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Ruleset is a repository ruleset as the REST API creates it.
type Ruleset struct {
	Name         string     `json:"name"`
	Target       string     `json:"target"`      // "branch" or "tag"
	Enforcement  string     `json:"enforcement"` // "active"
	Conditions   Conditions `json:"conditions"`
	Rules        []Rule     `json:"rules"`
	BypassActors []struct{} `json:"bypass_actors"` // always empty: no one bypasses
}

// Conditions select the refs a ruleset applies to.
type Conditions struct {
	RefName RefNames `json:"ref_name"`
}

// RefNames are ref patterns; "~DEFAULT_BRANCH" and "~ALL" are GitHub's.
type RefNames struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

// Rule is one rule of a ruleset.
type Rule struct {
	Type       string `json:"type"`
	Parameters any    `json:"parameters,omitempty"`
}

// pullRequestParameters are the parameters of a "pull_request" rule.
type pullRequestParameters struct {
	RequiredApprovingReviewCount   int  `json:"required_approving_review_count"`
	DismissStaleReviewsOnPush      bool `json:"dismiss_stale_reviews_on_push"`
	RequireCodeOwnerReview         bool `json:"require_code_owner_review"`
	RequireLastPushApproval        bool `json:"require_last_push_approval"`
	RequiredReviewThreadResolution bool `json:"required_review_thread_resolution"`
}

// JailrunRulesets returns the two rulesets the bash jailrun created:
// jailrun-branch-protection (the default branch changes only through a
// pull request with one approval, is never force-pushed nor deleted) and
// jailrun-tag-protection (no tag is deleted).
func JailrunRulesets() []Ruleset {
	return []Ruleset{
		{
			Name:        "jailrun-branch-protection",
			Target:      "branch",
			Enforcement: "active",
			Conditions:  Conditions{RefNames{Include: []string{"~DEFAULT_BRANCH"}, Exclude: []string{}}},
			Rules: []Rule{
				{Type: "pull_request", Parameters: pullRequestParameters{RequiredApprovingReviewCount: 1, DismissStaleReviewsOnPush: true}},
				{Type: "non_fast_forward"},
				{Type: "deletion"},
			},
			BypassActors: []struct{}{},
		},
		{
			Name:         "jailrun-tag-protection",
			Target:       "tag",
			Enforcement:  "active",
			Conditions:   Conditions{RefNames{Include: []string{"~ALL"}, Exclude: []string{}}},
			Rules:        []Rule{{Type: "deletion"}},
			BypassActors: []struct{}{},
		},
	}
}

// rulesetPage is how many rulesets are asked for at once.
const rulesetPage = 100

// RulesetNames returns the names of the rulesets defined on the repository
// owner/repo itself (not those it inherits from its organisation).
func (c *Client) RulesetNames(ctx context.Context, token, owner, repo string) ([]string, error) {
	var names []string
	for page := 1; ; page++ {
		var batch []struct {
			Name string `json:"name"`
		}
		path := fmt.Sprintf("%s?includes_parents=false&per_page=%d&page=%d", repoPath(owner, repo, "rulesets"), rulesetPage, page)
		if _, err := c.do(ctx, token, http.MethodGet, path, nil, &batch); err != nil {
			return nil, err
		}
		for _, r := range batch {
			names = append(names, r.Name)
		}
		if len(batch) < rulesetPage {
			return names, nil
		}
	}
}

// CreateRuleset adds r to the repository owner/repo.
func (c *Client) CreateRuleset(ctx context.Context, token, owner, repo string, r Ruleset) error {
	_, err := c.do(ctx, token, http.MethodPost, repoPath(owner, repo, "rulesets"), r, nil)
	return err
}

// repoPath is the API path of a repository's sub-resource.
func repoPath(owner, repo, sub string) string {
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/" + sub
}
