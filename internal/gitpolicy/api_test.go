package gitpolicy

import (
	"strings"
	"testing"
)

var session = API{Repos: []string{"myorg/app"}, Protect: DefaultProtect}

func TestDecideREST(t *testing.T) {
	for _, tc := range []struct {
		method, path, ref string
		ok                bool
		says              string
	}{
		{"GET", "/repos/someone/else/hooks", "", true, ""},
		{"HEAD", "/user", "", true, ""},
		{"POST", "/repos/myorg/app/pulls", "", true, ""},
		{"POST", "/repos/MyOrg/App/issues/3/comments", "", true, ""},
		{"PATCH", "/repos/myorg/app/issues/3", "", true, ""},
		{"POST", "/repos/myorg/app/pulls/3/reviews", "", true, ""},
		{"DELETE", "/repos/myorg/app/issues/3/labels/bug", "", true, ""},
		{"POST", "/repos/myorg/app/git/refs", "refs/heads/feature", true, ""},
		{"POST", "/repos/myorg/app/git/refs", "refs/heads/main", false, "main is protected"},
		{"PATCH", "/repos/myorg/app/git/refs/heads/main", "", false, "main is protected"},
		{"DELETE", "/repos/myorg/app/git/refs/tags/v1", "", false, "v1 is protected"},
		{"PATCH", "/repos/myorg/app/git/refs/heads/feature", "", true, ""},
		{"PATCH", "/repos/myorg/app/git/refs/refs/heads/main", "", false, "names refs/ twice"},
		{"PUT", "/repos/myorg/app/contents/README.md", "", false, "main is protected"},
		{"PUT", "/repos/myorg/app/contents/README.md", "refs/heads/main", false, "main is protected"},
		{"PUT", "/repos/myorg/app/contents/a/b.go", "refs/heads/feature", true, ""},
		{"PUT", "/repos/myorg/app/pulls/3/merge", "", false, "merging"},
		{"POST", "/repos/myorg/app/merges", "", false, "merging"},
		{"DELETE", "/repos/myorg/app", "", false, "deleting a repository"},
		{"PATCH", "/repos/myorg/app", "", false, "settings"},
		{"POST", "/repos/myorg/app/hooks", "", false, "webhooks"},
		{"POST", "/repos/myorg/app/keys", "", false, "deploy keys"},
		{"PUT", "/repos/myorg/app/actions/secrets/X", "", false, "secrets"},
		{"PUT", "/repos/myorg/app/collaborators/eve", "", false, "collaborators"},
		{"POST", "/repos/myorg/app/actions/workflows/ci.yml/dispatches", "", false, "workflows"},
		{"POST", "/repos/myorg/app/releases", "", false, "JAILRUN_API_ALLOW=\"POST:/repos/myorg/app/releases\""},
		{"POST", "/repos/myorg/other/issues", "", false, "myorg/other is not one of the session's repositories"},
		{"POST", "/orgs/myorg/repos", "", false, "not work in the session's repositories"},
		{"PATCH", "/user", "", false, "not work in the session's repositories"},
		{"POST", "/gists", "", false, "not work in the session's repositories"},
	} {
		ok, why := session.DecideREST(RESTWrite{Method: tc.method, Path: tc.path, Ref: tc.ref}, "refs/heads/main")
		if ok != tc.ok || !strings.Contains(why, tc.says) {
			t.Errorf("%s %s (ref %q) = %v %q, want %v saying %q", tc.method, tc.path, tc.ref, ok, why, tc.ok, tc.says)
		}
	}
	if ok, _ := session.DecideREST(RESTWrite{Method: "PUT", Path: "/repos/myorg/app/contents/x"}, ""); ok {
		t.Errorf("a contents write to an unknown default branch passed")
	}
	for event, want := range map[string]bool{"COMMENT": true, "REQUEST_CHANGES": true, "": true, "APPROVE": false, "approve": false,
		"APPROVE ": false, "APPROVED": false, "APPROVE\x00": false, "DISMISS": false} {
		for _, path := range []string{"/repos/myorg/app/pulls/3/reviews", "/repos/myorg/app/pulls/3/reviews/9/events"} {
			ok, why := session.DecideREST(RESTWrite{Method: "POST", Path: path, Event: event}, "refs/heads/main")
			if ok != want || !want && !strings.Contains(why, "approving a pull request is for a person") {
				t.Errorf("POST %s with event %q = %v %q, want %v", path, event, ok, why, want)
			}
		}
	}
}

func TestBodyEvent(t *testing.T) {
	for _, tc := range []struct {
		method, path, body, event string
		needed, fails             bool
	}{
		{"POST", "/repos/o/r/pulls/3/reviews", `{"body":"ok","event":"APPROVE"}`, "APPROVE", true, false},
		{"POST", "/repos/o/r/pulls/3/reviews/9/events", `{"event":"COMMENT","body":"x"}`, "COMMENT", true, false},
		{"POST", "/repos/o/r/pulls/3/reviews", `{"body":"pending"}`, "", true, false},
		{"POST", "/repos/o/r/pulls/3/reviews", ``, "", true, false},
		{"POST", "/repos/o/r/pulls/3/reviews", `{"event":"COMMENT","Event":"APPROVE"}`, "", true, true},
		{"POST", "/repos/o/r/pulls/3/reviews", `{"event":"COMMENT","event":"APPROVE"}`, "", true, true},
		{"POST", "/repos/o/r/pulls/3/reviews", `{"event":["APPROVE"]}`, "", true, true},
		{"POST", "/repos/o/r/pulls/3/reviews", `not json`, "", true, true},
		{"PUT", "/repos/o/r/pulls/3/reviews/9", `{"body":"x"}`, "", false, false},
		{"POST", "/repos/o/r/pulls/3/comments", `{"event":"APPROVE"}`, "", false, false},
		{"POST", "/repos/o/r/pulls/3/reviews/9/dismissals", `{"message":"x"}`, "", false, false},
	} {
		event, needed, err := BodyEvent(tc.method, tc.path, []byte(tc.body))
		if event != tc.event || needed != tc.needed || (err != nil) != tc.fails {
			t.Errorf("BodyEvent(%s %s %s) = %q %v %v", tc.method, tc.path, tc.body, event, needed, err)
		}
	}
}

func TestAllowRules(t *testing.T) {
	p := session
	for _, s := range []string{"POST:/repos/*/*/releases", "*:/user/**"} {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		p.Allow = append(p.Allow, r)
	}
	for path, want := range map[string]bool{
		"/repos/myorg/app/releases":   true,
		"/repos/x/y/releases":         true,
		"/repos/myorg/app/releases/1": false,
		"/user":                       true,
		"/user/emails":                true,
		"/users/x":                    false,
	} {
		if ok, _ := p.DecideREST(RESTWrite{Method: "POST", Path: path}, "refs/heads/main"); ok != want {
			t.Errorf("POST %s allowed %v, want %v", path, ok, want)
		}
	}
	for _, bad := range []string{"POST", "POST:repos", ":/x"} {
		if _, err := ParseRule(bad); err == nil {
			t.Errorf("ParseRule(%q) passed", bad)
		}
	}
}

func TestBodyRef(t *testing.T) {
	for _, tc := range []struct {
		method, path, body, ref string
		needed, fails           bool
	}{
		{"PUT", "/repos/o/r/contents/a.txt", `{"message":"m","content":"eA==","branch":"feature"}`, "refs/heads/feature", true, false},
		{"PUT", "/repos/o/r/contents/a.txt", `{"message":"m","content":"eA=="}`, "", true, false},
		{"DELETE", "/repos/o/r/contents/a.txt", `{"branch":"refs/heads/x"}`, "refs/heads/x", true, false},
		{"PUT", "/repos/o/r/contents/a.txt", `not json`, "", true, true},
		{"POST", "/repos/o/r/git/refs", `{"ref":"refs/heads/main","sha":"1"}`, "refs/heads/main", true, false},
		{"POST", "/repos/o/r/git/refs", `{"sha":"1"}`, "", true, true},
		{"POST", "/repos/o/r/pulls", `{}`, "", false, false},
		{"PUT", "/repos/o/r/contents/a", `{"branch":"main","Branch":"feature"}`, "", true, true},
		{"PUT", "/repos/o/r/contents/a", `{"branch":"heads/main"}`, "", true, true},
		{"PUT", "/repos/o/r/contents/a", `{"branch":"refs/heads/tags/v1"}`, "", true, true},
		{"POST", "/repos/o/r/git/refs", `{"ref":"refs/tags/v1","REF":"refs/heads/ok"}`, "", true, true},
	} {
		ref, needed, err := BodyRef(tc.method, tc.path, []byte(tc.body))
		if ref != tc.ref || needed != tc.needed || (err != nil) != tc.fails {
			t.Errorf("BodyRef(%s %s %s) = %q %v %v", tc.method, tc.path, tc.body, ref, needed, err)
		}
	}
}

func TestDecideGraphQL(t *testing.T) {
	for _, tc := range []struct {
		body      string
		write, ok bool
		says      string
	}{
		{`{"query":"query { viewer { login } }"}`, false, true, ""},
		{`{"query":"{ repository(owner:\"o\", name:\"r\") { id } }"}`, false, true, ""},
		{`{"query":"mutation CreatePR($input: CreatePullRequestInput!) { createPullRequest(input: $input) { pullRequest { url } } }","variables":{}}`, true, true, ""},
		{`{"query":"mutation { a: addComment(input:{}) { clientMutationId } b: addReaction(input:{}) { clientMutationId } }"}`, true, true, ""},
		{`{"query":"mutation { mergePullRequest(input:{pullRequestId:\"x\"}) { clientMutationId } }"}`, true, false, "mergePullRequest"},
		{`{"query":"mutation { addComment(input:{}) { clientMutationId } deleteRef(input:{}) { clientMutationId } }"}`, true, false, "deleteRef"},
		{`{"query":"mutation { ...F } fragment F on Mutation { deleteRepository: updateRef(input:{}) { clientMutationId } }"}`, true, false, "updateRef"},
		{`{"query":"mutation { ... on Mutation { mergePullRequest(input:{}) { clientMutationId } } }"}`, true, false, "mergePullRequest"},
		{`{"query":"mutation { ...Missing }"}`, true, false, "missing fragment"},
		{`{"query":"query A { viewer { login } } mutation B { deleteRepository(input:{}) { clientMutationId } }","operationName":"A"}`, true, false, "deleteRepository"},
		{`{"query":"subscription { x }"}`, true, false, "subscriptions"},
		{`{"query":"mutation {"}`, true, false, "does not parse"},
		{`[{"query":"query { viewer { login } }"}]`, true, false, "not one JSON object"},
		{`{}`, true, false, "not one JSON object"},
		{`{"query":"mutation { mergePullRequest(input:{}) { clientMutationId } }","Query":"{ viewer { login } }"}`, true, false, "twice or in another case"},
		{`{"query":"{ a }","query":"mutation { deleteRef(input:{}) { clientMutationId } }"}`, true, false, "twice or in another case"},
		// A review may comment or ask for changes, not approve: as a
		// literal, in a variable, in a variable's default, through a
		// fragment or under an alias.
		{`{"query":"mutation { addPullRequestReview(input:{pullRequestId:\"x\", event: COMMENT}) { clientMutationId } }"}`, true, true, ""},
		{`{"query":"mutation { addPullRequestReview(input:{pullRequestId:\"x\"}) { clientMutationId } }"}`, true, true, ""},
		{`{"query":"mutation($i: AddPullRequestReviewInput!) { addPullRequestReview(input: $i) { clientMutationId } }","variables":{"i":{"pullRequestId":"x","event":"REQUEST_CHANGES"}}}`, true, true, ""},
		{`{"query":"mutation { addPullRequestReview(input:{pullRequestId:\"x\", event: APPROVE}) { clientMutationId } }"}`, true, false, "approving"},
		{`{"query":"mutation { submitPullRequestReview(input:{pullRequestReviewId:\"x\", event: APPROVE}) { clientMutationId } }"}`, true, false, "approving"},
		{`{"query":"mutation($i: AddPullRequestReviewInput!) { addPullRequestReview(input: $i) { clientMutationId } }","variables":{"i":{"pullRequestId":"x","event":"APPROVE"}}}`, true, false, "approving"},
		{`{"query":"mutation($e: PullRequestReviewEvent) { ok: addComment(input:{}) { clientMutationId } r: submitPullRequestReview(input:{pullRequestReviewId:\"x\", event: $e}) { clientMutationId } }","variables":{"e":"APPROVE"}}`, true, false, "approving"},
		{`{"query":"mutation($e: PullRequestReviewEvent = APPROVE) { submitPullRequestReview(input:{event: $e}) { clientMutationId } }"}`, true, false, "approving"},
		{`{"query":"mutation($i: AddPullRequestReviewInput = {event: APPROVE}) { addPullRequestReview(input: $i) { clientMutationId } }"}`, true, false, "approving"},
		{`{"query":"mutation { ...R } fragment R on Mutation { addPullRequestReview(input:{event: APPROVE}) { clientMutationId } }"}`, true, false, "approving"},
		{`{"query":"mutation($e: PullRequestReviewEvent) { submitPullRequestReview(input:{event: $e}) { clientMutationId } }","variables":{"e":"APPROVE"},"Variables":{"e":"COMMENT"}}`, true, false, "twice or in another case"},
		{`{"query":"mutation { submitPullRequestReview(input:{event: APPROVE}) { clientMutationId } }","variables":"{}"}`, true, false, "not one JSON object"},
		// What cannot be read for certain is refused: a value the parser
		// cannot evaluate, an input or a field of it twice, a fragment
		// defined twice; and any event but COMMENT and REQUEST_CHANGES.
		{`{"query":"mutation { submitPullRequestReview(input:{pullRequestId: 99999999999999999999, pullRequestReviewId:\"x\", event: APPROVE}) { clientMutationId } }"}`, true, false, "does not read"},
		{`{"query":"mutation { addPullRequestReview(input:{event: APPROVE, threads:[{line: 1e999}]}) { clientMutationId } }"}`, true, false, "does not read"},
		{`{"query":"mutation($n: Int = 99999999999999999999) { addPullRequestReview(input:{event: APPROVE, threads:[{line: $n}]}) { clientMutationId } }"}`, true, false, "does not read"},
		{`{"query":"mutation { submitPullRequestReview(input:{event: APPROVE, event: COMMENT}) { clientMutationId } }"}`, true, false, "names event twice"},
		{`{"query":"mutation { submitPullRequestReview(input:{event: COMMENT}, input:{event: APPROVE}) { clientMutationId } }"}`, true, false, "input twice"},
		{`{"query":"mutation { ...F } fragment F on Mutation { addComment(input:{}) { clientMutationId } } fragment F on Mutation { submitPullRequestReview(input:{event: APPROVE}) { clientMutationId } }"}`, true, false, "fragment F twice"},
		{`{"query":"mutation { submitPullRequestReview(input:{event: DISMISS}) { clientMutationId } }"}`, true, false, "approving"},
		{`{"query":"mutation($i: SubmitPullRequestReviewInput!) { submitPullRequestReview(input: $i) { clientMutationId } }","variables":{"i":{"event":"APPROVE "}}}`, true, false, "approving"},
	} {
		write, ok, why := session.DecideGraphQL([]byte(tc.body))
		if write != tc.write || ok != tc.ok || !strings.Contains(why, tc.says) {
			t.Errorf("%s = write %v, ok %v, %q; want %v %v saying %q", tc.body, write, ok, why, tc.write, tc.ok, tc.says)
		}
	}
}

// FuzzDecideGraphQL: any body is decided, never a panic; an allowed write
// parses.
func FuzzDecideGraphQL(f *testing.F) {
	f.Add([]byte(`{"query":"mutation { createPullRequest(input:{}) { pullRequest { url } } }"}`))
	f.Add([]byte(`{"query":"mutation { ...F } fragment F on Mutation { ...F }"}`))
	f.Add([]byte(`{"query":"{ viewer { login } }"}`))
	f.Add([]byte(`{"query":"mutation($i: AddPullRequestReviewInput = {event: APPROVE}) { addPullRequestReview(input: $i) { clientMutationId } }","variables":{"i":{"event":"COMMENT"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		session.DecideGraphQL(body)
	})
}
