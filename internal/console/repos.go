package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
)

// The ECR shapes the pages read (a subset of the API's output).
type repoShape struct {
	RepositoryARN      string             `json:"repositoryArn"`
	RegistryID         string             `json:"registryId"`
	RepositoryName     string             `json:"repositoryName"`
	RepositoryURI      string             `json:"repositoryUri"`
	CreatedAt          protocol.EpochTime `json:"createdAt"`
	ImageTagMutability string             `json:"imageTagMutability"`
}

type imageShape struct {
	ImageDigest            string             `json:"imageDigest"`
	ImageTags              []string           `json:"imageTags"`
	ImageSizeInBytes       int64              `json:"imageSizeInBytes"`
	ImagePushedAt          protocol.EpochTime `json:"imagePushedAt"`
	ImageManifestMediaType string             `json:"imageManifestMediaType"`
	ArtifactMediaType      string             `json:"artifactMediaType"`
}

const (
	reposPerPage  = 50
	imagesPerPage = 100
	// A search reads at most searchPages pages of searchPageSize names per
	// request (10 000 repositories), then offers to go on: a search over a
	// 100 000-repository registry stays bounded per click.
	searchPageSize = 200
	searchPages    = 50
	maxQuery       = 256
)

type reposPage struct {
	Query   string
	Repos   []repoShape
	Next    string // URL of the next page, "" on the last
	Scanned int    // repositories looked at by a search
	First   bool
}

func (h *Handler) repositories(w http.ResponseWriter, r *http.Request, v *view) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxQuery {
		q = q[:maxQuery]
	}
	token := r.URL.Query().Get("next")
	pg := reposPage{Query: q, First: token == ""}
	type out struct {
		Repositories []repoShape `json:"repositories"`
		NextToken    string      `json:"nextToken"`
	}
	in := map[string]any{"maxResults": reposPerPage}
	pages := 1
	if q != "" {
		in["maxResults"], pages = searchPageSize, searchPages
	}
	needle := strings.ToLower(q)
	for i := 0; i < pages; i++ {
		if token != "" {
			in["nextToken"] = token
		}
		var o out
		if err := h.call(r, v, "DescribeRepositories", in, &o); err != nil {
			h.renderError(w, r, v, statusOf(err), "error.api", err)
			return
		}
		for _, repo := range o.Repositories {
			if needle == "" || strings.Contains(repo.RepositoryName, needle) {
				pg.Repos = append(pg.Repos, repo)
			}
		}
		pg.Scanned += len(o.Repositories)
		token = o.NextToken
		if token == "" || len(pg.Repos) >= reposPerPage {
			break
		}
	}
	if token != "" {
		pg.Next = PathPrefix + "/repositories?" + url.Values{"q": {q}, "next": {token}}.Encode()
	}
	v.Page = pg
	h.render(w, v, http.StatusOK, "repositories")
}

type repoPage struct {
	Repo   repoShape
	Images []imageRow
	Next   string
}

type imageRow struct {
	imageShape
	Pulls []string // one docker pull command per tag, or by digest when untagged
}

// repoName is the {name...} path value, limited like ECR's own check (the
// API validates it again).
func repoName(r *http.Request) string { return r.PathValue("name") }

// describeRepo fetches one repository as the signed-in principal.
func (h *Handler) describeRepo(r *http.Request, v *view, name string) (repoShape, error) {
	var o struct {
		Repositories []repoShape `json:"repositories"`
	}
	if err := h.call(r, v, "DescribeRepositories", map[string]any{"repositoryNames": []string{name}}, &o); err != nil {
		return repoShape{}, err
	}
	if len(o.Repositories) != 1 {
		return repoShape{}, apierr.New(apierr.Internal, "DescribeRepositories returned %d repositories", len(o.Repositories))
	}
	return o.Repositories[0], nil
}

func (h *Handler) repository(w http.ResponseWriter, r *http.Request, v *view) {
	name := repoName(r)
	repo, err := h.describeRepo(r, v, name)
	if err != nil {
		h.renderError(w, r, v, statusOf(err), "error.api", err)
		return
	}
	in := map[string]any{"repositoryName": name, "maxResults": imagesPerPage}
	if t := r.URL.Query().Get("next"); t != "" {
		in["nextToken"] = t
	}
	var o struct {
		ImageDetails []imageShape `json:"imageDetails"`
		NextToken    string       `json:"nextToken"`
	}
	if err := h.call(r, v, "DescribeImages", in, &o); err != nil {
		h.renderError(w, r, v, statusOf(err), "error.api", err)
		return
	}
	pg := repoPage{Repo: repo}
	for _, img := range o.ImageDetails {
		row := imageRow{imageShape: img}
		for _, t := range img.ImageTags {
			row.Pulls = append(row.Pulls, "docker pull "+repo.RepositoryURI+":"+t)
		}
		if len(row.Pulls) == 0 {
			row.Pulls = []string{"docker pull " + repo.RepositoryURI + "@" + img.ImageDigest}
		}
		pg.Images = append(pg.Images, row)
	}
	if o.NextToken != "" {
		pg.Next = PathPrefix + "/repositories/" + name + "?" + url.Values{"next": {o.NextToken}}.Encode()
	}
	v.Page = pg
	h.render(w, v, http.StatusOK, "repository")
}

type policyPage struct {
	Repo     repoShape
	Policy   string      // stored policy, "" when none
	Pretty   string      // Policy indented for reading
	Draft    string      // the editor's text
	Invalid  *shownError // why Save was refused, shown next to the JSON
	NoPolicy bool
}

// loadPolicy reads the repository and its policy; RepositoryPolicyNotFound
// is "no policy yet", not an error.
func (h *Handler) loadPolicy(r *http.Request, v *view) (policyPage, error) {
	name := repoName(r)
	repo, err := h.describeRepo(r, v, name)
	if err != nil {
		return policyPage{}, err
	}
	pg := policyPage{Repo: repo}
	var o struct {
		PolicyText string `json:"policyText"`
	}
	err = h.call(r, v, "GetRepositoryPolicy", map[string]any{"repositoryName": name}, &o)
	switch {
	case apierr.HasCode(err, apierr.RepositoryPolicyNotFound):
		pg.NoPolicy = true
	case err != nil:
		return policyPage{}, err
	}
	pg.Policy, pg.Draft, pg.Pretty = o.PolicyText, o.PolicyText, o.PolicyText
	var b bytes.Buffer
	if json.Indent(&b, []byte(o.PolicyText), "", "  ") == nil {
		pg.Pretty = b.String()
	}
	return pg, nil
}

// permissions is the repository's Permissions tab: the stored policy and
// the way to edit it.
func (h *Handler) permissions(w http.ResponseWriter, r *http.Request, v *view) {
	pg, err := h.loadPolicy(r, v)
	if err != nil {
		h.renderError(w, r, v, statusOf(err), "error.api", err)
		return
	}
	if r.URL.Query().Get("saved") == "1" {
		v.Notice = "policy.saved"
	}
	v.Page = pg
	h.render(w, v, http.StatusOK, "permissions")
}

func (h *Handler) editPolicyForm(w http.ResponseWriter, r *http.Request, v *view) {
	pg, err := h.loadPolicy(r, v)
	if err != nil {
		h.renderError(w, r, v, statusOf(err), "error.api", err)
		return
	}
	v.Page = pg
	h.render(w, v, http.StatusOK, "editpolicy")
}

// savePolicy is SetRepositoryPolicy with the editor's text: the API's
// validation decides, and its error is shown next to the JSON, which is
// kept as typed so that nothing the user wrote is lost.
func (h *Handler) savePolicy(w http.ResponseWriter, r *http.Request, v *view) {
	name := repoName(r)
	// Browsers send a textarea's line breaks as CRLF (HTML's form
	// encoding); the policy is stored as the user wrote it, with LF.
	draft := strings.ReplaceAll(r.PostForm.Get("policy"), "\r\n", "\n")
	err := h.call(r, v, "SetRepositoryPolicy", map[string]any{"repositoryName": name, "policyText": draft}, nil)
	if err == nil {
		http.Redirect(w, r, PathPrefix+"/permissions/"+name+"?saved=1", http.StatusSeeOther)
		return
	}
	repo, derr := h.describeRepo(r, v, name)
	if derr != nil { // e.g. allowed to set but not to describe: still show why Save failed
		repo = repoShape{RepositoryName: name}
	}
	v.Page = policyPage{Repo: repo, Draft: draft, Invalid: apiError(err)}
	h.render(w, v, statusOf(err), "editpolicy")
}
