package ecr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/storage"
)

// ---- document ------------------------------------------------------------------

type lifecycleSelection struct {
	TagStatus      string   `json:"tagStatus"`
	TagPrefixList  []string `json:"tagPrefixList"`
	TagPatternList []string `json:"tagPatternList"`
	CountType      string   `json:"countType"`
	CountUnit      string   `json:"countUnit"`
	CountNumber    int64    `json:"countNumber"`
}

type lifecycleRule struct {
	RulePriority int64              `json:"rulePriority"`
	Description  string             `json:"description"`
	Selection    lifecycleSelection `json:"selection"`
	Action       struct {
		Type string `json:"type"`
	} `json:"action"`
}

type lifecyclePolicy struct {
	Rules []lifecycleRule `json:"rules"`
}

func lifecycleInvalid(format string, args ...any) error {
	return apierr.New(apierr.InvalidParameter,
		"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: %s'", fmt.Sprintf(format, args...))
}

// checkKeys rejects members outside allowed and requires the required ones,
// in the JSON-schema phrasing ECR uses.
func checkKeys(where string, obj map[string]json.RawMessage, allowed, required []string) error {
	var extra, absent []string
	for k := range obj {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			extra = append(extra, `"`+k+`"`)
		}
	}
	for _, r := range required {
		if _, ok := obj[r]; !ok {
			absent = append(absent, `"`+r+`"`)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		return lifecycleInvalid("%sobject instance has properties which are not allowed by the schema: [%s]", where, strings.Join(extra, ","))
	}
	if len(absent) > 0 {
		return lifecycleInvalid("%sobject has missing required properties ([%s])", where, strings.Join(absent, ","))
	}
	return nil
}

func rawObject(where string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, lifecycleInvalid("%sinstance type does not match any allowed primitive type (allowed: [\"object\"])", where)
	}
	return m, nil
}

// parseLifecyclePolicy validates a lifecycle policy document (aws-api.md §5.4).
func parseLifecyclePolicy(text string) (*lifecyclePolicy, error) {
	if err := checkLen("lifecyclePolicyText", text, 100, 30720); err != nil {
		return nil, err
	}
	top, err := rawObject("", json.RawMessage(text))
	if err != nil {
		return nil, err
	}
	if err := checkKeys("", top, []string{"rules"}, []string{"rules"}); err != nil {
		return nil, err
	}
	var rules []json.RawMessage
	if err := json.Unmarshal(top["rules"], &rules); err != nil {
		return nil, lifecycleInvalid("rules: instance type does not match any allowed primitive type (allowed: [\"array\"])")
	}
	if len(rules) == 0 {
		return nil, lifecycleInvalid("rules: array is too short: must have at least 1 elements but instance has 0 elements")
	}
	var p lifecyclePolicy
	priorities := map[int64]bool{}
	untagged := 0
	for i, raw := range rules {
		where := fmt.Sprintf("rules[%d]: ", i)
		obj, err := rawObject(where, raw)
		if err != nil {
			return nil, err
		}
		if err := checkKeys(where, obj, []string{"rulePriority", "description", "selection", "action"}, []string{"rulePriority", "selection", "action"}); err != nil {
			return nil, err
		}
		sel, err := rawObject(where+"selection: ", obj["selection"])
		if err != nil {
			return nil, err
		}
		if err := checkKeys(where+"selection: ", sel, []string{"tagStatus", "tagPrefixList", "tagPatternList", "countType", "countUnit", "countNumber"},
			[]string{"tagStatus", "countType", "countNumber"}); err != nil {
			return nil, err
		}
		act, err := rawObject(where+"action: ", obj["action"])
		if err != nil {
			return nil, err
		}
		if err := checkKeys(where+"action: ", act, []string{"type"}, []string{"type"}); err != nil {
			return nil, err
		}
		var r lifecycleRule
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&r); err != nil {
			return nil, lifecycleInvalid("%s%v", where, err)
		}
		s := &r.Selection
		switch {
		case r.RulePriority < 1:
			return nil, lifecycleInvalid("%srulePriority: numeric instance is lower than the required minimum (minimum: 1, found: %d)", where, r.RulePriority)
		case priorities[r.RulePriority]:
			return nil, lifecycleInvalid("The rulePriority %d is used by more than one rule", r.RulePriority)
		case s.TagStatus != "tagged" && s.TagStatus != "untagged" && s.TagStatus != "any":
			return nil, lifecycleInvalid("%sselection.tagStatus: instance value (%q) not found in enum (possible values: [\"tagged\",\"untagged\",\"any\"])", where, s.TagStatus)
		case s.CountType != "imageCountMoreThan" && s.CountType != "sinceImagePushed":
			return nil, lifecycleInvalid("%sselection.countType: instance value (%q) not found in enum (possible values: [\"imageCountMoreThan\",\"sinceImagePushed\"])", where, s.CountType)
		case s.CountNumber < 1:
			return nil, lifecycleInvalid("%sselection.countNumber: numeric instance is lower than the required minimum (minimum: 1, found: %d)", where, s.CountNumber)
		case s.CountType == "sinceImagePushed" && s.CountUnit != "days":
			return nil, lifecycleInvalid("%sselection.countUnit: \"days\" is required with countType sinceImagePushed", where)
		case s.CountType == "imageCountMoreThan" && s.CountUnit != "":
			return nil, lifecycleInvalid("%sselection.countUnit is not allowed with countType imageCountMoreThan", where)
		case r.Action.Type != "expire":
			return nil, lifecycleInvalid("%saction.type: instance value (%q) not found in enum (possible values: [\"expire\"])", where, r.Action.Type)
		}
		lists := len(s.TagPrefixList) + len(s.TagPatternList)
		switch s.TagStatus {
		case "tagged":
			if lists == 0 {
				return nil, lifecycleInvalid("%sselection: tagPrefixList or tagPatternList is required when tagStatus is tagged", where)
			}
			if len(s.TagPrefixList) > 0 && len(s.TagPatternList) > 0 {
				return nil, lifecycleInvalid("%sselection: tagPrefixList and tagPatternList cannot both be specified", where)
			}
		default:
			if lists > 0 {
				return nil, lifecycleInvalid("%sselection: tagPrefixList and tagPatternList are only allowed when tagStatus is tagged", where)
			}
		}
		for _, pat := range s.TagPatternList {
			if strings.Count(pat, "*") > 4 {
				return nil, lifecycleInvalid("%sselection.tagPatternList: pattern %q has more than 4 wildcards", where, pat)
			}
		}
		if s.TagStatus == "untagged" {
			untagged++
		}
		priorities[r.RulePriority] = true
		p.Rules = append(p.Rules, r)
	}
	if untagged > 1 {
		return nil, lifecycleInvalid("Only one rule may select untagged images")
	}
	sort.Slice(p.Rules, func(i, j int) bool { return p.Rules[i].RulePriority < p.Rules[j].RulePriority })
	for i, r := range p.Rules {
		if r.Selection.TagStatus == "any" && i != len(p.Rules)-1 {
			return nil, lifecycleInvalid("The rule with tagStatus any must have the highest rulePriority")
		}
	}
	return &p, nil
}

// ---- evaluation ------------------------------------------------------------------

type lifecycleImage struct {
	digest   string
	tags     []string
	pushedAt time.Time
}

type lifecycleResult struct {
	img      lifecycleImage
	priority int64
}

func wildcardMatch(p, s string) bool {
	if !strings.Contains(p, "*") {
		return p == s
	}
	parts := strings.Split(p, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func (s *lifecycleSelection) matches(img lifecycleImage) bool {
	switch s.TagStatus {
	case "untagged":
		return len(img.tags) == 0
	case "any":
		return true
	}
	if len(img.tags) == 0 {
		return false
	}
	// Every listed prefix (or pattern) must match one of the image's tags.
	for _, pre := range s.TagPrefixList {
		ok := false
		for _, t := range img.tags {
			ok = ok || strings.HasPrefix(t, pre)
		}
		if !ok {
			return false
		}
	}
	for _, pat := range s.TagPatternList {
		ok := false
		for _, t := range img.tags {
			ok = ok || wildcardMatch(pat, t)
		}
		if !ok {
			return false
		}
	}
	return true
}

// evaluateLifecycle applies p to imgs at now: rules in priority order; an
// image matched by a higher-priority rule is never expired by a later one
// but still counts towards it; imageCountMoreThan keeps the newest N.
func evaluateLifecycle(p *lifecyclePolicy, imgs []lifecycleImage, now time.Time) []lifecycleResult {
	sorted := append([]lifecycleImage(nil), imgs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].pushedAt.After(sorted[j].pushedAt) })
	claimed := map[string]bool{}
	var out []lifecycleResult
	for _, r := range p.Rules {
		var matched []lifecycleImage
		for _, img := range sorted {
			if r.Selection.matches(img) {
				matched = append(matched, img)
			}
		}
		var expire []lifecycleImage
		switch r.Selection.CountType {
		case "imageCountMoreThan":
			if int64(len(matched)) > r.Selection.CountNumber {
				expire = matched[r.Selection.CountNumber:]
			}
		case "sinceImagePushed":
			cutoff := now.Add(-time.Duration(r.Selection.CountNumber) * 24 * time.Hour)
			for _, img := range matched {
				if img.pushedAt.Before(cutoff) {
					expire = append(expire, img)
				}
			}
		}
		for _, img := range expire {
			if !claimed[img.digest] {
				out = append(out, lifecycleResult{img: img, priority: r.RulePriority})
			}
		}
		for _, img := range matched {
			claimed[img.digest] = true
		}
	}
	return out
}

// ---- operations --------------------------------------------------------------------

type lifecycleOut struct {
	RegistryID          string              `json:"registryId"`
	RepositoryName      string              `json:"repositoryName"`
	LifecyclePolicyText string              `json:"lifecyclePolicyText"`
	LastEvaluatedAt     *protocol.EpochTime `json:"lastEvaluatedAt,omitempty"`
}

func lifecycleNotFound(k storage.RepoKey) error {
	return apierr.New(apierr.LifecyclePolicyNotFound,
		"Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", k.Name, k.Account)
}

// lastEvaluated is never-evaluated as epoch 0, as ECR reports it.
func lastEvaluated(r *storage.Repository) *protocol.EpochTime {
	t := r.LifecycleEvaluated
	if t.IsZero() {
		t = time.Unix(0, 0).UTC()
	}
	e := protocol.EpochTime(t)
	return &e
}

func (a *API) putLifecyclePolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID          string  `json:"registryId"`
		RepositoryName      string  `json:"repositoryName"`
		LifecyclePolicyText *string `json:"lifecyclePolicyText"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.LifecyclePolicyText == nil {
		return nil, missing("lifecyclePolicyText")
	}
	if _, err := parseLifecyclePolicy(*in.LifecyclePolicyText); err != nil {
		return nil, err
	}
	if err := a.authRepo(ctx, c, "ecr:PutLifecyclePolicy", k); err != nil {
		return nil, err
	}
	if _, err := a.img.UpdateRepository(ctx, k, func(r *storage.Repository) error {
		r.LifecyclePolicy = *in.LifecyclePolicyText
		return nil
	}); err != nil {
		return nil, err
	}
	return lifecycleOut{RegistryID: k.Account, RepositoryName: k.Name, LifecyclePolicyText: *in.LifecyclePolicyText}, nil
}

func (a *API) getLifecyclePolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	k, err := a.decodeRepoKey(c)
	if err != nil {
		return nil, err
	}
	r, err := a.repo(ctx, c, "ecr:GetLifecyclePolicy", k)
	if err != nil {
		return nil, err
	}
	if r.LifecyclePolicy == "" {
		return nil, lifecycleNotFound(k)
	}
	return lifecycleOut{k.Account, k.Name, r.LifecyclePolicy, lastEvaluated(r)}, nil
}

func (a *API) deleteLifecyclePolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	k, err := a.decodeRepoKey(c)
	if err != nil {
		return nil, err
	}
	if err := a.authRepo(ctx, c, "ecr:DeleteLifecyclePolicy", k); err != nil {
		return nil, err
	}
	var out lifecycleOut
	_, err = a.img.UpdateRepository(ctx, k, func(r *storage.Repository) error {
		if r.LifecyclePolicy == "" {
			return lifecycleNotFound(k)
		}
		out = lifecycleOut{k.Account, k.Name, r.LifecyclePolicy, lastEvaluated(r)}
		r.LifecyclePolicy = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type previewResult struct {
	ImageTags     []string           `json:"imageTags,omitempty"`
	ImageDigest   string             `json:"imageDigest"`
	ImagePushedAt protocol.EpochTime `json:"imagePushedAt"`
	Action        struct {
		Type string `json:"type"`
	} `json:"action"`
	AppliedRulePriority int64 `json:"appliedRulePriority"`
}

type previewDoc struct {
	Text    string          `json:"text"`
	Status  string          `json:"status"`
	Results []previewResult `json:"results"`
}

// startLifecyclePolicyPreview evaluates the policy right away (it is cheap
// next to a network round trip) and stores the result; the preview is
// therefore COMPLETE by the time GetLifecyclePolicyPreview can ask.
func (a *API) startLifecyclePolicyPreview(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID          string `json:"registryId"`
		RepositoryName      string `json:"repositoryName"`
		LifecyclePolicyText string `json:"lifecyclePolicyText"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	r, err := a.repo(ctx, c, "ecr:StartLifecyclePolicyPreview", k)
	if err != nil {
		return nil, err
	}
	text := in.LifecyclePolicyText
	if text == "" {
		if r.LifecyclePolicy == "" {
			return nil, lifecycleNotFound(k)
		}
		text = r.LifecyclePolicy
	}
	p, err := parseLifecyclePolicy(text)
	if err != nil {
		return nil, err
	}
	var imgs []lifecycleImage
	after := ""
	for {
		ms, err := a.img.ListManifests(ctx, k, storage.AnyImages, storage.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			imgs = append(imgs, lifecycleImage{digest: string(m.Digest), tags: m.Tags, pushedAt: m.PushedAt})
		}
		if len(ms) < 1000 {
			break
		}
		after = string(ms[len(ms)-1].Digest)
	}
	doc := previewDoc{Text: text, Status: "COMPLETE", Results: []previewResult{}}
	for _, res := range evaluateLifecycle(p, imgs, a.now()) {
		pr := previewResult{ImageTags: res.img.tags, ImageDigest: res.img.digest, ImagePushedAt: protocol.EpochTime(res.img.pushedAt), AppliedRulePriority: res.priority}
		pr.Action.Type = "EXPIRE"
		doc.Results = append(doc.Results, pr)
	}
	sort.Slice(doc.Results, func(i, j int) bool { return doc.Results[i].ImageDigest < doc.Results[j].ImageDigest })
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if err := a.store.PutDoc(ctx, k.Account, k.Region, kindLifecycleView, k.Name, b); err != nil {
		return nil, err
	}
	return struct {
		RegistryID          string `json:"registryId"`
		RepositoryName      string `json:"repositoryName"`
		LifecyclePolicyText string `json:"lifecyclePolicyText"`
		Status              string `json:"status"`
	}{k.Account, k.Name, text, "IN_PROGRESS"}, nil
}

func (a *API) getLifecyclePolicyPreview(ctx context.Context, c *awsapi.Call) (any, error) {
	var in imageQuery
	k, f, err := a.decodeImageQuery(c, &in)
	if err != nil {
		return nil, err
	}
	limit, err := pageSize("maxResults", in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	op := fmt.Sprintf("GetLifecyclePolicyPreview\x00%s\x00%s\x00%d", k.Account, k.Name, f)
	tok, err := decodeToken(in.NextToken, op)
	if err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:GetLifecyclePolicyPreview", k); err != nil {
		return nil, err
	}
	b, err := a.store.GetDoc(ctx, k.Account, k.Region, kindLifecycleView, k.Name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, apierr.New(apierr.LifecyclePreviewNotFound,
			"There is no dry run for the repository with name '%s' in the registry with id '%s'", k.Name, k.Account)
	}
	if err != nil {
		return nil, err
	}
	var doc previewDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	wanted := func(r previewResult) bool {
		switch f {
		case storage.TaggedImages:
			if len(r.ImageTags) == 0 {
				return false
			}
		case storage.UntaggedImages:
			if len(r.ImageTags) > 0 {
				return false
			}
		}
		if in.ImageIDs == nil {
			return true
		}
		for _, id := range in.ImageIDs {
			if id.ImageDigest == r.ImageDigest {
				return true
			}
			for _, t := range r.ImageTags {
				if id.ImageDigest == "" && id.ImageTag == t {
					return true
				}
			}
		}
		return false
	}
	type output struct {
		RegistryID          string          `json:"registryId"`
		RepositoryName      string          `json:"repositoryName"`
		LifecyclePolicyText string          `json:"lifecyclePolicyText"`
		Status              string          `json:"status"`
		NextToken           *string         `json:"nextToken,omitempty"`
		PreviewResults      []previewResult `json:"previewResults"`
		Summary             struct {
			ExpiringImageTotalCount int `json:"expiringImageTotalCount"`
		} `json:"summary"`
	}
	out := output{RegistryID: k.Account, RepositoryName: k.Name, LifecyclePolicyText: doc.Text, Status: doc.Status, PreviewResults: []previewResult{}}
	for _, r := range doc.Results {
		if !wanted(r) {
			continue
		}
		out.Summary.ExpiringImageTotalCount++
		if r.ImageDigest <= tok.After {
			continue
		}
		if len(out.PreviewResults) == limit {
			if out.NextToken == nil {
				out.NextToken = encodeToken(pageToken{Op: op, After: out.PreviewResults[limit-1].ImageDigest})
			}
			continue
		}
		out.PreviewResults = append(out.PreviewResults, r)
	}
	return out, nil
}
