package gitpolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// API is the policy for GitHub's API in a session: reads pass; writes
// only to the session's repositories and only for everyday work (issues,
// pull requests, comments, reviews, labels, branches other than protected
// ones), plus what Allow adds.
type API struct {
	Repos   []string // OWNER/REPO of the session, as the remotes and JAILRUN_REPOS name them
	Protect []string // protected refs, as for pushes
	Allow   []Rule   // JAILRUN_API_ALLOW
}

// Rule allows one kind of request: a method ("*" for any) and a path
// pattern whose "*" stands for one path segment and a final "**" for the
// rest of the path.
type Rule struct {
	Method, Path string
}

// ParseRule reads "METHOD:/path/pattern", as JAILRUN_API_ALLOW lists them.
func ParseRule(s string) (Rule, error) {
	method, path, ok := strings.Cut(s, ":")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		return Rule{}, fmt.Errorf("%q is not METHOD:/path (e.g. POST:/repos/*/*/releases)", s)
	}
	return Rule{Method: strings.ToUpper(method), Path: path}, nil
}

func (r Rule) matches(method, path string) bool {
	if r.Method != "*" && r.Method != method {
		return false
	}
	want, got := strings.Split(strings.Trim(r.Path, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	for i, w := range want {
		switch {
		case w == "**" && i == len(want)-1:
			return true
		case i >= len(got):
			return false
		case w != "*" && w != got[i]:
			return false
		}
	}
	return len(want) == len(got)
}

// RESTWrite is what a REST write asks for, as the policy needs to know:
// its method and path below the API's root (/repos/OWNER/REPO/…), and the
// ref or branch it changes, read from its body for the endpoints that
// name one ("" elsewhere).
type RESTWrite struct {
	Method, Path string
	Ref          string // refs/… a git/refs or contents write changes; "" for the default branch (contents without a branch)
	Event        string // the event a review names (APPROVE, COMMENT, REQUEST_CHANGES), read by BodyEvent
}

// approveWhy says why a review is refused that does not only comment or
// request changes: one that approves is what a protected branch waits for
// before a merge, and one that dismisses lifts another's request.
const approveWhy = "approving a pull request is for a person; the agent may comment or request changes (event COMMENT or REQUEST_CHANGES)"

// reviewEvents are the events a review may name; naming none leaves it
// pending. Anything else is refused, not only APPROVE: a server may read
// a value the policy does not expect as one.
var reviewEvents = []string{"", "COMMENT", "REQUEST_CHANGES"}

func everydayReview(event string) bool {
	return slices.ContainsFunc(reviewEvents, func(e string) bool { return strings.EqualFold(e, event) })
}

// BodyEvent reads the event a review's JSON body names, for the endpoints
// that create or submit a review (POST pulls/N/reviews and
// pulls/N/reviews/ID/events). It reports whether the endpoint is one of
// those.
func BodyEvent(method, path string, body []byte) (event string, needed bool, err error) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) < 6 || seg[0] != "repos" || seg[3] != "pulls" || seg[5] != "reviews" || method != http.MethodPost ||
		!(len(seg) == 6 || len(seg) == 8 && seg[7] == "events") {
		return "", false, nil
	}
	if len(body) == 0 {
		return "", true, nil
	}
	if err := strictKeys(body, "event"); err != nil {
		return "", true, err
	}
	var fields struct {
		Event any `json:"event"`
	}
	if err := json.Unmarshal(body, &fields); err != nil {
		return "", true, fmt.Errorf("its body is not JSON")
	}
	switch e := fields.Event.(type) {
	case nil:
		return "", true, nil
	case string:
		return e, true, nil
	}
	return "", true, fmt.Errorf("its event is not a string")
}

// BodyRef reads the ref a write's JSON body names, for the endpoints whose
// body says which branch they change: contents (branch, the default
// branch when absent) and git/refs creation (ref). It reports whether
// the endpoint is one of those.
func BodyRef(method, path string, body []byte) (ref string, needed bool, err error) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) < 4 || seg[0] != "repos" {
		return "", false, nil
	}
	var fields struct {
		Ref    string `json:"ref"`
		Branch string `json:"branch"`
	}
	if len(body) > 0 {
		if err := strictKeys(body, "ref", "branch"); err != nil {
			return "", true, err
		}
	}
	switch {
	case seg[3] == "contents" && (method == http.MethodPut || method == http.MethodDelete):
		if len(body) > 0 {
			if err := json.Unmarshal(body, &fields); err != nil {
				return "", true, fmt.Errorf("its body is not JSON")
			}
		}
		if fields.Branch == "" {
			return "", true, nil
		}
		branch := strings.TrimPrefix(fields.Branch, "refs/heads/")
		if ambiguousRef(branch) {
			return "", true, fmt.Errorf("its branch %q may name another ref (heads/main is main); name the branch alone", fields.Branch)
		}
		return "refs/heads/" + branch, true, nil
	case len(seg) == 5 && seg[3] == "git" && seg[4] == "refs" && method == http.MethodPost:
		if err := json.Unmarshal(body, &fields); err != nil || !strings.HasPrefix(fields.Ref, "refs/") {
			return "", true, fmt.Errorf("its body names no ref")
		}
		return fields.Ref, true, nil
	}
	return "", false, nil
}

// ambiguousRef reports whether the branch name b, as a contents write
// names it, may resolve to another ref than refs/heads/b, as git's own
// rules resolve heads/main to main.
func ambiguousRef(b string) bool {
	for _, p := range []string{"refs/", "heads/", "tags/", "remotes/"} {
		if strings.HasPrefix(b, p) {
			return true
		}
	}
	return false
}

// strictKeys refuses a JSON object that names one of keys twice, or in
// another letter case: Go's decoder would take the last of them in any
// case, a server may take another, and the policy must read what the
// server acts on.
func strictKeys(body []byte, keys ...string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("is not one JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("is not JSON")
		}
		key, _ := t.(string)
		for _, k := range keys {
			if strings.EqualFold(key, k) {
				if key != k || seen[k] {
					return fmt.Errorf("names %q twice or in another case", k)
				}
				seen[k] = true
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fmt.Errorf("is not JSON")
		}
	}
	return nil
}

// ChangesRef reports whether a REST write to path may change a ref (a
// git/refs or contents write), whose decision needs the default branch.
func ChangesRef(method, path string) bool {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) < 4 || seg[0] != "repos" {
		return false
	}
	rest := "/" + strings.Join(seg[3:], "/")
	return slices.ContainsFunc(refWrites, func(r Rule) bool { return r.matches(strings.ToUpper(method), rest) })
}

// everyday lists the REST writes of everyday work, below
// /repos/OWNER/REPO; "*" is one path segment.
var everyday = []Rule{
	{"POST", "/issues"}, {"PATCH", "/issues/*"},
	{"POST", "/issues/*/comments"}, {"PATCH", "/issues/comments/*"}, {"DELETE", "/issues/comments/*"},
	{"POST", "/issues/*/labels"}, {"PUT", "/issues/*/labels"}, {"DELETE", "/issues/*/labels"}, {"DELETE", "/issues/*/labels/*"},
	{"POST", "/issues/*/assignees"}, {"DELETE", "/issues/*/assignees"},
	{"POST", "/issues/*/reactions"}, {"POST", "/issues/comments/*/reactions"},
	{"POST", "/pulls"}, {"PATCH", "/pulls/*"},
	{"POST", "/pulls/*/comments"}, {"POST", "/pulls/*/comments/*/replies"},
	{"PATCH", "/pulls/comments/*"}, {"DELETE", "/pulls/comments/*"}, {"POST", "/pulls/comments/*/reactions"},
	{"POST", "/pulls/*/reviews"}, {"PUT", "/pulls/*/reviews/*"}, {"POST", "/pulls/*/reviews/*/events"}, {"DELETE", "/pulls/*/reviews/*"},
	{"POST", "/pulls/*/requested_reviewers"}, {"DELETE", "/pulls/*/requested_reviewers"},
	{"POST", "/labels"}, {"PATCH", "/labels/*"}, {"DELETE", "/labels/*"},
	{"POST", "/git/blobs"}, {"POST", "/git/trees"}, {"POST", "/git/commits"}, {"POST", "/git/tags"},
}

// refWrites are the writes that change a ref, allowed unless it is protected.
var refWrites = []Rule{
	{"POST", "/git/refs"}, {"PATCH", "/git/refs/**"}, {"DELETE", "/git/refs/**"},
	{"PUT", "/contents/**"}, {"DELETE", "/contents/**"},
}

// named says why the writes people ask about most are refused.
var named = []struct {
	rule Rule
	why  string
}{
	{Rule{"PUT", "/pulls/*/merge"}, "merging is for a person; the agent opens the pull request"},
	{Rule{"POST", "/merges"}, "merging is for a person"},
	{Rule{"DELETE", ""}, "deleting a repository is for a person"},
	{Rule{"PATCH", ""}, "repository settings are for a person"},
	{Rule{"*", "/hooks/**"}, "webhooks are for a person"},
	{Rule{"*", "/keys/**"}, "deploy keys are for a person"},
	{Rule{"*", "/actions/secrets/**"}, "secrets are for a person"},
	{Rule{"*", "/actions/variables/**"}, "variables are for a person"},
	{Rule{"*", "/collaborators/**"}, "collaborators are for a person"},
	{Rule{"POST", "/actions/workflows/*/dispatches"}, "starting workflows is for a person"},
	{Rule{"POST", "/dispatches"}, "starting workflows is for a person"},
}

// DecideREST says whether a REST write may go on; reason says why not.
// defaultRef is the repository's default branch (refs/heads/NAME), needed
// for ref writes when Protect names it. Reads (GET, HEAD, OPTIONS) always
// pass.
func (p API) DecideREST(w RESTWrite, defaultRef string) (ok bool, reason string) {
	method := strings.ToUpper(w.Method)
	if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
		return true, ""
	}
	for _, r := range p.Allow {
		if r.matches(method, w.Path) {
			return true, ""
		}
	}
	seg := strings.Split(strings.Trim(w.Path, "/"), "/")
	if len(seg) < 3 || seg[0] != "repos" {
		return false, fmt.Sprintf("%s %s is not work in the session's repositories", method, w.Path)
	}
	repo := strings.ToLower(seg[1] + "/" + seg[2])
	if !slices.ContainsFunc(p.Repos, func(r string) bool { return strings.EqualFold(r, repo) }) {
		return false, fmt.Sprintf("%s is not one of the session's repositories (%s); add it to JAILRUN_REPOS", repo, strings.Join(p.Repos, ", "))
	}
	rest := "/" + strings.Join(seg[3:], "/")
	if !everydayReview(w.Event) {
		return false, approveWhy
	}
	for _, n := range named {
		if n.rule.Method != "*" && n.rule.Method != method {
			continue
		}
		if n.rule.Path == "" && rest == "/" || n.rule.Path != "" && n.rule.matches(method, rest) {
			return false, n.why
		}
	}
	for _, r := range refWrites {
		if !r.matches(method, rest) {
			continue
		}
		ref := w.Ref
		if named, ok := strings.CutPrefix(rest, "/git/refs/"); ok {
			if strings.HasPrefix(named, "refs/") {
				return false, "its path names refs/ twice, which may mean " + ShortRef(named) + "; name the ref as heads/NAME or tags/NAME"
			}
			ref = "refs/" + named
		}
		if ref == "" {
			ref = defaultRef
		}
		if ref == "" {
			return false, "jailrun cannot tell which branch it changes; name the branch"
		}
		if Protected(ref, p.Protect, ShortRef(defaultRef)) {
			return false, fmt.Sprintf("%s is protected; push a branch and open a pull request", ShortRef(ref))
		}
		return true, ""
	}
	for _, r := range everyday {
		if r.matches(method, rest) {
			return true, ""
		}
	}
	return false, fmt.Sprintf("%s %s is not everyday work; allow it with JAILRUN_API_ALLOW=\"%s:%s\"", method, w.Path, method, w.Path)
}

// Mutations are the GraphQL mutations of everyday work.
var Mutations = []string{
	"createPullRequest", "updatePullRequest", "closePullRequest", "reopenPullRequest",
	"markPullRequestReadyForReview", "convertPullRequestToDraft",
	"addPullRequestReview", "submitPullRequestReview", "deletePullRequestReview", "updatePullRequestReview",
	"addPullRequestReviewComment", "addPullRequestReviewThread", "addPullRequestReviewThreadReply",
	"resolveReviewThread", "unresolveReviewThread", "requestReviews",
	"createIssue", "updateIssue", "closeIssue", "reopenIssue",
	"addComment", "updateIssueComment", "deleteIssueComment",
	"addLabelsToLabelable", "removeLabelsFromLabelable", "createLabel", "updateLabel",
	"addAssigneesToAssignable", "removeAssigneesFromAssignable",
	"addReaction", "removeReaction",
}

// maxGraphQLTokens bounds the document a GraphQL request may carry.
const maxGraphQLTokens = 50000

// reviewMutations are the mutations whose input's event may approve.
var reviewMutations = []string{"addPullRequestReview", "submitPullRequestReview"}

// DecideGraphQL says whether a GraphQL request (its JSON body) may go on,
// and whether it writes: queries pass, mutations only when every field
// they select is one of Mutations, and no review approves (its event read
// from the document, its variables or their defaults), subscriptions
// never. GitHub's mutations name what they change by node id, not by
// repository, so the session's repositories do not narrow them; the
// token does.
func (p API) DecideGraphQL(body []byte) (write, ok bool, reason string) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := strictKeys(body, "query", "variables"); err != nil {
		return true, false, "the GraphQL request " + err.Error()
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
		return true, false, "the GraphQL request is not one JSON object with a query"
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: req.Query}, maxGraphQLTokens)
	if err != nil {
		return true, false, "the GraphQL document does not parse: " + oneLine(err.Error())
	}
	for i, f := range doc.Fragments {
		if slices.ContainsFunc(doc.Fragments[:i], func(g *ast.FragmentDefinition) bool { return g.Name == f.Name }) {
			return true, false, fmt.Sprintf("the GraphQL document defines the fragment %.80s twice", f.Name)
		}
	}
	for _, op := range doc.Operations {
		switch op.Operation {
		case ast.Query:
			continue
		case ast.Subscription:
			return true, false, "GraphQL subscriptions are not everyday work"
		}
		write = true
		for _, f := range topFields(op.SelectionSet, doc.Fragments, 0) {
			if !slices.Contains(Mutations, f.Name) {
				return true, false, fmt.Sprintf("the mutation %.80s is not everyday work", f.Name)
			}
			if slices.Contains(reviewMutations, f.Name) {
				if why := reviewInput(f, op, req.Variables); why != "" {
					return true, false, why
				}
			}
		}
	}
	return write, true, ""
}

// reviewInput says why the review mutation f may not go on ("" when it
// may): its input names an event other than reviewEvents' (as a literal,
// through a variable or a variable's default), or cannot be read for
// certain — given twice, with a field twice, or a value the parser cannot
// evaluate. An input that is not an object at all GitHub refuses.
func reviewInput(f *ast.Field, op *ast.OperationDefinition, vars map[string]any) string {
	var input *ast.Argument
	for _, a := range f.Arguments {
		if a.Name != "input" {
			continue
		}
		if input != nil {
			return "the review names its input twice"
		}
		input = a
	}
	if input == nil {
		return ""
	}
	if input.Value.Kind == ast.ObjectValue {
		for i, c := range input.Value.Children {
			if slices.ContainsFunc(input.Value.Children[:i], func(d *ast.ChildValue) bool { return d.Name == c.Name }) {
				return "the review's input names " + c.Name + " twice"
			}
		}
	}
	all := maps.Clone(vars)
	if all == nil {
		all = map[string]any{}
	}
	for _, def := range op.VariableDefinitions {
		if _, given := all[def.Variable]; !given && def.DefaultValue != nil {
			v, err := def.DefaultValue.Value(nil)
			if err != nil {
				return "the default of $" + def.Variable + " does not read"
			}
			all[def.Variable] = v
		}
	}
	value, err := input.Value.Value(all)
	if err != nil {
		return "the review's input does not read: " + oneLine(err.Error())
	}
	fields, _ := value.(map[string]any)
	switch event := fields["event"].(type) {
	case nil:
	case string:
		if !everydayReview(event) {
			return approveWhy
		}
	default:
		return approveWhy
	}
	return ""
}

// topFields returns the fields a selection set selects at its own level,
// through fragments; a fragment it cannot find, or nested too deep, yields
// a field whose name no list allows.
func topFields(set ast.SelectionSet, fragments ast.FragmentDefinitionList, depth int) []*ast.Field {
	if depth > 10 {
		return []*ast.Field{{Name: "(fragments nested too deep)"}}
	}
	var fields []*ast.Field
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			fields = append(fields, s)
		case *ast.InlineFragment:
			fields = append(fields, topFields(s.SelectionSet, fragments, depth+1)...)
		case *ast.FragmentSpread:
			f := fragments.ForName(s.Name)
			if f == nil {
				return append(fields, &ast.Field{Name: "(a missing fragment)"})
			}
			fields = append(fields, topFields(f.SelectionSet, fragments, depth+1)...)
		}
	}
	return fields
}
