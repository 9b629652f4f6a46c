package storagetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

// MetaFactory opens a metadata store on the backing data named ns, like
// BlobFactory: the same ns twice is a restart (the first handle is abandoned
// without Close), different ns values are independent. The factory owns
// closing what it opened (t.Cleanup).
type MetaFactory func(t *testing.T, ns string) storage.MetaStore

// RunMetaStore runs the MetaStore conformance suite.
func RunMetaStore(t *testing.T, open MetaFactory) {
	runSuite(t, "m", open, []suiteCase[storage.MetaStore]{
		{"Repositories", testRepositories},
		{"RepositoryPagination", testRepositoryPagination},
		{"RepositoryRegions", testRepositoryRegions},
		{"DeleteRepository", testDeleteRepository},
		{"MissingRepository", testMissingRepository},
		{"BlobLinks", testBlobLinks},
		{"PutManifestReferences", testPutManifestReferences},
		{"ManifestsAndTags", testManifestsAndTags},
		{"TagPagination", testTagPagination},
		{"ListManifests", testListManifests},
		{"Referrers", testReferrers},
		{"IndexChildren", testIndexChildren},
		{"Immutability", testImmutability},
		{"Uploads", testMetaUploads},
		{"Restart", testMetaRestart},
		{"ParallelPuts", testParallelPuts},
	})
}

func key(name string) storage.RepoKey {
	return storage.RepoKey{Account: "123456789012", Region: "us-east-1", Name: name}
}

func mustCreateRepo(t *testing.T, s storage.MetaStore, k storage.RepoKey) *storage.Repository {
	t.Helper()
	r := &storage.Repository{Key: k}
	if err := s.CreateRepository(context.Background(), r); err != nil {
		t.Fatalf("create %v: %v", k, err)
	}
	return r
}

func mustLink(t *testing.T, s storage.MetaStore, k storage.RepoKey, content string) storage.Descriptor {
	t.Helper()
	d := storage.Descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: digest.FromString(content), Size: int64(len(content))}
	if err := s.LinkBlob(context.Background(), k, d); err != nil {
		t.Fatalf("link %s: %v", content, err)
	}
	return d
}

// image builds a manifest referencing the given blobs; the payload is
// unique per call so that distinct images get distinct digests.
func image(blobs []storage.Descriptor, extra string) *storage.Manifest {
	payload := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","x":%q,"n":%d}`, extra, len(blobs)))
	return &storage.Manifest{
		Digest:    digest.FromBytes(payload),
		MediaType: "application/vnd.oci.image.manifest.v1+json",
		Payload:   payload,
		Size:      int64(len(payload)),
		Blobs:     blobs,
	}
}

func mustPut(t *testing.T, s storage.MetaStore, k storage.RepoKey, m *storage.Manifest, tag string) {
	t.Helper()
	if err := s.PutManifest(context.Background(), k, m, tag); err != nil {
		t.Fatalf("put %s tag %q: %v", m.Digest, tag, err)
	}
}

func testRepositories(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("team/app")
	created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	r := &storage.Repository{
		Key: k, CreatedAt: created, TagMutability: "IMMUTABLE_WITH_EXCLUSION", MutabilityFilters: []string{"latest", "dev-*"},
		ScanOnPush: true, EncryptionType: "KMS", KMSKey: "arn:aws:kms:us-east-1:123456789012:key/x",
		Tags: map[string]string{"team": "a", "env": "prod"}, Policy: `{"Version":"2012-10-17"}`, LifecyclePolicy: `{"rules":[]}`,
		LifecycleEvaluated: created.Add(time.Hour),
	}
	if err := s.CreateRepository(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRepository(context.Background(), &storage.Repository{Key: k}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate create = %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetRepository(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	wantRepo(t, got, r)

	r.TagMutability = "MUTABLE"
	r.MutabilityFilters = nil
	r.Tags = map[string]string{"only": "one"}
	r.Policy = ""
	r.ScanOnPush = false
	if err := s.UpdateRepository(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetRepository(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	wantRepo(t, got, r)
	if err := s.UpdateRepository(context.Background(), &storage.Repository{Key: key("nope")}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("update missing = %v", err)
	}

	// Defaults for a bare repository.
	bare := mustCreateRepo(t, s, key("bare"))
	got, err = s.GetRepository(context.Background(), bare.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.IsZero() || got.TagMutability != "MUTABLE" || got.EncryptionType != "AES256" {
		t.Fatalf("defaults: %+v", got)
	}
	// Same name in another region or account is a different repository.
	other := k
	other.Region = "eu-west-2"
	mustCreateRepo(t, s, other)
	other.Account = "210987654321"
	mustCreateRepo(t, s, other)
}

func wantRepo(t *testing.T, got, want *storage.Repository) {
	t.Helper()
	if got.Key != want.Key || !got.CreatedAt.Equal(want.CreatedAt) || got.TagMutability != want.TagMutability ||
		!slices.Equal(got.MutabilityFilters, want.MutabilityFilters) || got.ScanOnPush != want.ScanOnPush ||
		got.EncryptionType != want.EncryptionType || got.KMSKey != want.KMSKey || !maps.Equal(got.Tags, want.Tags) ||
		got.Policy != want.Policy || got.LifecyclePolicy != want.LifecyclePolicy || !got.LifecycleEvaluated.Equal(want.LifecycleEvaluated) {
		t.Fatalf("repository round trip:\n got %+v\nwant %+v", got, want)
	}
}

func testRepositoryPagination(t *testing.T, open func() storage.MetaStore) {
	s := open()
	var names []string
	for i := range 25 {
		n := fmt.Sprintf("ns%d/repo-%02d", i%3, i)
		names = append(names, n)
		mustCreateRepo(t, s, key(n))
	}
	// Noise in another region and account must not show up.
	mustCreateRepo(t, s, storage.RepoKey{Account: "123456789012", Region: "eu-west-1", Name: "ns0/zzz"})
	mustCreateRepo(t, s, storage.RepoKey{Account: "999999999999", Region: "us-east-1", Name: "ns0/aaa"})
	sort.Strings(names)
	for _, lim := range []int{1, 7, 25, 100} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatal("pagination does not terminate")
			}
			page, err := s.ListRepositories(context.Background(), "123456789012", "us-east-1", storage.Page{After: after, Limit: lim})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > lim {
				t.Fatalf("page of %d with limit %d", len(page), lim)
			}
			for _, r := range page {
				got = append(got, r.Key.Name)
			}
			if len(page) < lim {
				break
			}
			after = page[len(page)-1].Key.Name
		}
		if !slices.Equal(got, names) {
			t.Fatalf("limit %d: got %v\nwant %v", lim, got, names)
		}
	}
	page, err := s.ListRepositories(context.Background(), "123456789012", "us-east-1", storage.Page{After: names[len(names)-1], Limit: 10})
	if err != nil || len(page) != 0 {
		t.Fatalf("after last = %v, %v", page, err)
	}
	all, err := s.ListRepositories(context.Background(), "", "", storage.Page{Limit: 1000})
	if err != nil || len(all) != 27 {
		t.Fatalf("all accounts/regions = %d, %v", len(all), err)
	}
	acct, err := s.ListRepositories(context.Background(), "123456789012", "", storage.Page{})
	if err != nil || len(acct) != 26 {
		t.Fatalf("one account, all regions = %d, %v", len(acct), err)
	}
}

func testRepositoryRegions(t *testing.T, open func() storage.MetaStore) {
	s := open()
	for _, r := range []string{"us-west-2", "eu-west-2", "us-east-1"} {
		mustCreateRepo(t, s, storage.RepoKey{Account: "123456789012", Region: r, Name: "app"})
	}
	mustCreateRepo(t, s, storage.RepoKey{Account: "999999999999", Region: "ap-south-1", Name: "app"})
	got, err := s.RepositoryRegions(context.Background(), "123456789012", "app")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if want := []string{"eu-west-2", "us-east-1", "us-west-2"}; !slices.Equal(got, want) {
		t.Fatalf("regions = %v, want %v", got, want)
	}
	got, err = s.RepositoryRegions(context.Background(), "123456789012", "none")
	if err != nil || len(got) != 0 {
		t.Fatalf("regions of missing = %v, %v", got, err)
	}
}

func testDeleteRepository(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("del")
	mustCreateRepo(t, s, k)
	b := mustLink(t, s, k, "layer")
	// Blob links alone are not images.
	if err := s.DeleteRepository(context.Background(), k, false); err != nil {
		t.Fatalf("delete repo with only blobs: %v", err)
	}
	mustCreateRepo(t, s, k)
	mustLink(t, s, k, "layer")
	m := image([]storage.Descriptor{b}, "del")
	mustPut(t, s, k, m, "v1")
	if err := s.CreateUpload(context.Background(), "up-del", k, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRepository(context.Background(), k, false); !errors.Is(err, storage.ErrNotEmpty) {
		t.Fatalf("delete non-empty = %v, want ErrNotEmpty", err)
	}
	if _, err := s.ResolveTag(context.Background(), k, "v1"); err != nil {
		t.Fatalf("refused delete lost data: %v", err)
	}
	if err := s.DeleteRepository(context.Background(), k, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRepository(context.Background(), k); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get after delete = %v", err)
	}
	if _, err := s.GetUpload(context.Background(), "up-del"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("upload survived forced delete: %v", err)
	}
	// Re-creating starts empty.
	mustCreateRepo(t, s, k)
	if _, err := s.ResolveTag(context.Background(), k, "v1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("tag survived repository re-creation: %v", err)
	}
	if _, err := s.LinkedBlob(context.Background(), k, b.Digest); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("blob link survived repository re-creation: %v", err)
	}
	if err := s.DeleteRepository(context.Background(), key("never"), true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("delete missing = %v", err)
	}
}

func testMissingRepository(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("ghost")
	dg := digest.FromString("x")
	for name, err := range map[string]error{
		"GetRepository":  second(s.GetRepository(context.Background(), k)),
		"LinkBlob":       s.LinkBlob(context.Background(), k, storage.Descriptor{Digest: dg, Size: 1}),
		"LinkedBlob":     second(s.LinkedBlob(context.Background(), k, dg)),
		"UnlinkBlob":     s.UnlinkBlob(context.Background(), k, dg),
		"PutManifest":    s.PutManifest(context.Background(), k, image(nil, "ghost"), "t"),
		"GetManifest":    second(s.GetManifest(context.Background(), k, dg)),
		"ResolveTag":     second(s.ResolveTag(context.Background(), k, "t")),
		"DeleteManifest": s.DeleteManifest(context.Background(), k, dg),
		"DeleteTag":      s.DeleteTag(context.Background(), k, "t"),
		"ListTags":       second(s.ListTags(context.Background(), k, storage.Page{})),
		"ListManifests":  second(s.ListManifests(context.Background(), k, storage.AnyImages, storage.Page{})),
		"Referrers":      second(s.Referrers(context.Background(), k, dg, "")),
	} {
		wantNotFound(t, err, name)
	}
}

func second[T any](_ T, err error) error { return err }

func testBlobLinks(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k, other := key("links"), key("other")
	mustCreateRepo(t, s, k)
	mustCreateRepo(t, s, other)
	d := mustLink(t, s, k, "blob")
	if err := s.LinkBlob(context.Background(), k, d); err != nil {
		t.Fatalf("re-link: %v", err)
	}
	got, err := s.LinkedBlob(context.Background(), k, d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != d.Digest || got.Size != d.Size || got.MediaType != d.MediaType {
		t.Fatalf("linked = %+v, want %+v", got, d)
	}
	_, err = s.LinkedBlob(context.Background(), other, d.Digest)
	wantNotFound(t, err, "blob of another repository")
	_, err = s.LinkedBlob(context.Background(), k, digest.FromString("unlinked"))
	wantNotFound(t, err, "unlinked blob")
	if err := s.UnlinkBlob(context.Background(), k, d.Digest); err != nil {
		t.Fatal(err)
	}
	_, err = s.LinkedBlob(context.Background(), k, d.Digest)
	wantNotFound(t, err, "after unlink")
	wantNotFound(t, s.UnlinkBlob(context.Background(), k, d.Digest), "second unlink")
}

func testPutManifestReferences(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("refs")
	mustCreateRepo(t, s, k)
	cfg := mustLink(t, s, k, "config")
	layer := storage.Descriptor{Digest: digest.FromString("missing layer"), Size: 13}
	m := image([]storage.Descriptor{cfg, layer}, "refs")
	err := s.PutManifest(context.Background(), k, m, "v1")
	wantCode(t, err, apierr.ManifestBlobUnknown, "manifest with unlinked layer")
	wantNotFound(t, err, "manifest with unlinked layer")
	if e, _ := apierr.As(err); e == nil || !containsString(e.Message, string(layer.Digest)) {
		t.Fatalf("error does not name the missing digest: %v", err)
	}
	// Nothing of the refused manifest is visible.
	_, err = s.GetManifest(context.Background(), k, m.Digest)
	wantNotFound(t, err, "refused manifest")
	_, err = s.ResolveTag(context.Background(), k, "v1")
	wantNotFound(t, err, "tag of refused manifest")
	// A blob linked in another repository does not count.
	other := key("refs-other")
	mustCreateRepo(t, s, other)
	mustLink(t, s, other, "missing layer")
	wantCode(t, s.PutManifest(context.Background(), k, m, ""), apierr.ManifestBlobUnknown, "blob linked elsewhere")

	mustLink(t, s, k, "missing layer")
	mustPut(t, s, k, m, "v1")
}

func containsString(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func testManifestsAndTags(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("mt")
	mustCreateRepo(t, s, k)
	b := mustLink(t, s, k, "layer")
	m := image([]storage.Descriptor{b}, "one")
	m.ArtifactType = "application/vnd.example"
	m.Annotations = map[string]string{"org.opencontainers.image.created": "2026"}
	pushed := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	m.PushedAt = pushed
	mustPut(t, s, k, m, "v1")
	mustPut(t, s, k, m, "v1") // same tag, same digest
	mustPut(t, s, k, m, "")   // untagged re-put
	mustPut(t, s, k, m, "latest")

	for _, tag := range []string{"v1", "latest"} {
		got, err := s.ResolveTag(context.Background(), k, tag)
		if err != nil {
			t.Fatal(err)
		}
		wantManifest(t, got, m)
	}
	got, err := s.GetManifest(context.Background(), k, m.Digest)
	if err != nil {
		t.Fatal(err)
	}
	wantManifest(t, got, m)
	if !got.PushedAt.Equal(pushed) {
		t.Fatalf("pushedAt = %v, want %v", got.PushedAt, pushed)
	}
	_, err = s.ResolveTag(context.Background(), k, "nope")
	wantNotFound(t, err, "unknown tag")
	if apierr.HasCode(err, apierr.NameUnknown) {
		t.Fatal("unknown tag in an existing repository reported as NameUnknown")
	}
	_, err = s.GetManifest(context.Background(), k, digest.FromString("nope"))
	wantNotFound(t, err, "unknown manifest")

	// Moving a tag in a mutable repository.
	m2 := image([]storage.Descriptor{b}, "two")
	mustPut(t, s, k, m2, "latest")
	got, err = s.ResolveTag(context.Background(), k, "latest")
	if err != nil || got.Digest != m2.Digest {
		t.Fatalf("latest = %v, %v; want %s", got, err, m2.Digest)
	}

	// DeleteTag leaves the manifest.
	if err := s.DeleteTag(context.Background(), k, "v1"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s.DeleteTag(context.Background(), k, "v1"), "second DeleteTag")
	if _, err := s.GetManifest(context.Background(), k, m.Digest); err != nil {
		t.Fatalf("manifest gone after DeleteTag: %v", err)
	}
	// DeleteManifest removes its tags.
	if err := s.DeleteManifest(context.Background(), k, m2.Digest); err != nil {
		t.Fatal(err)
	}
	_, err = s.ResolveTag(context.Background(), k, "latest")
	wantNotFound(t, err, "tag of deleted manifest")
	wantNotFound(t, s.DeleteManifest(context.Background(), k, m2.Digest), "second DeleteManifest")
	tags, err := s.ListTags(context.Background(), k, storage.Page{})
	if err != nil || len(tags) != 0 {
		t.Fatalf("tags = %v, %v", tags, err)
	}
	// The same manifest can live in two repositories independently.
	k2 := key("mt2")
	mustCreateRepo(t, s, k2)
	mustLink(t, s, k2, "layer")
	mustPut(t, s, k2, m, "x")
	if err := s.DeleteManifest(context.Background(), k, m.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveTag(context.Background(), k2, "x"); err != nil {
		t.Fatalf("other repository affected: %v", err)
	}
}

func wantManifest(t *testing.T, got, want *storage.Manifest) {
	t.Helper()
	if got.Digest != want.Digest || got.MediaType != want.MediaType || got.ArtifactType != want.ArtifactType ||
		string(got.Payload) != string(want.Payload) || got.Size != want.Size || got.Subject != want.Subject ||
		!maps.Equal(got.Annotations, want.Annotations) {
		t.Fatalf("manifest:\n got %+v\nwant %+v", got, want)
	}
}

func testTagPagination(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("tags")
	mustCreateRepo(t, s, k)
	m := image(nil, "tags")
	var want []string
	for i := range 53 {
		tag := fmt.Sprintf("v%d.%d", i%7, i)
		want = append(want, tag)
		mustPut(t, s, k, m, tag)
	}
	mustPut(t, s, k, m, "A-upper") // byte order: upper case sorts first
	want = append(want, "A-upper")
	sort.Strings(want)
	for _, lim := range []int{1, 10, 53, 54, 1000} {
		var got []string
		after := ""
		for {
			page, err := s.ListTags(context.Background(), k, storage.Page{After: after, Limit: lim})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > lim {
				t.Fatalf("limit %d: page of %d", lim, len(page))
			}
			got = append(got, page...)
			if len(page) < lim {
				break
			}
			after = page[len(page)-1]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d:\n got %v\nwant %v", lim, got, want)
		}
	}
	// After need not be an existing tag.
	page, err := s.ListTags(context.Background(), k, storage.Page{After: "v3", Limit: 2})
	if err != nil || len(page) != 2 || page[0] <= "v3" {
		t.Fatalf("after non-existent = %v, %v", page, err)
	}
	page, err = s.ListTags(context.Background(), k, storage.Page{After: "zzz"})
	if err != nil || len(page) != 0 {
		t.Fatalf("after last = %v, %v", page, err)
	}
	page, err = s.ListTags(context.Background(), k, storage.Page{})
	if err != nil || len(page) != len(want) {
		t.Fatalf("default limit returned %d, %v", len(page), err)
	}
}

func testListManifests(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("lm")
	mustCreateRepo(t, s, k)
	tagged := map[digest.Digest][]string{}
	var all []digest.Digest
	for i := range 12 {
		m := image(nil, fmt.Sprintf("lm%d", i))
		all = append(all, m.Digest)
		var tags []string
		for j := range i % 3 {
			tags = append(tags, fmt.Sprintf("t%d-%d", i, j))
		}
		if len(tags) == 0 {
			mustPut(t, s, k, m, "")
		}
		for _, tag := range tags {
			mustPut(t, s, k, m, tag)
		}
		if len(tags) > 0 {
			tagged[m.Digest] = tags
		}
	}
	slices.Sort(all)
	for _, tc := range []struct {
		f    storage.ImageFilter
		want func(digest.Digest) bool
	}{
		{storage.AnyImages, func(digest.Digest) bool { return true }},
		{storage.TaggedImages, func(d digest.Digest) bool { return tagged[d] != nil }},
		{storage.UntaggedImages, func(d digest.Digest) bool { return tagged[d] == nil }},
	} {
		var want []digest.Digest
		for _, d := range all {
			if tc.want(d) {
				want = append(want, d)
			}
		}
		var got []digest.Digest
		after := ""
		for {
			page, err := s.ListManifests(context.Background(), k, tc.f, storage.Page{After: after, Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page {
				got = append(got, m.Digest)
				wantTags := slices.Clone(tagged[m.Digest])
				slices.Sort(wantTags)
				gotTags := slices.Clone(m.Tags)
				slices.Sort(gotTags)
				if !slices.Equal(gotTags, wantTags) {
					t.Fatalf("tags of %s = %v, want %v", m.Digest, m.Tags, wantTags)
				}
				if m.Size == 0 || m.MediaType == "" {
					t.Fatalf("listing lacks size/media type: %+v", m)
				}
			}
			if len(page) < 5 {
				break
			}
			after = string(page[len(page)-1].Digest)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("filter %d:\n got %v\nwant %v", tc.f, got, want)
		}
	}
}

func testReferrers(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("ref")
	mustCreateRepo(t, s, k)
	subject := image(nil, "subject")
	mustPut(t, s, k, subject, "v1")
	var want []digest.Digest
	for i, at := range []string{"application/vnd.sig", "application/vnd.sbom", "application/vnd.sig"} {
		r := image(nil, fmt.Sprintf("referrer%d", i))
		r.Subject = subject.Digest
		r.ArtifactType = at
		r.Annotations = map[string]string{"i": fmt.Sprint(i)}
		mustPut(t, s, k, r, "")
		if at == "application/vnd.sig" {
			want = append(want, r.Digest)
		}
	}
	// A referrer may be pushed before its subject exists.
	dangling := image(nil, "dangling")
	dangling.Subject = digest.FromString("not yet pushed")
	mustPut(t, s, k, dangling, "")

	all, err := s.Referrers(context.Background(), k, subject.Digest, "")
	if err != nil || len(all) != 3 {
		t.Fatalf("referrers = %v, %v", all, err)
	}
	for _, d := range all {
		if d.MediaType == "" || d.Size == 0 || d.ArtifactType == "" || d.Annotations["i"] == "" {
			t.Fatalf("incomplete referrer descriptor %+v", d)
		}
	}
	sigs, err := s.Referrers(context.Background(), k, subject.Digest, "application/vnd.sig")
	if err != nil {
		t.Fatal(err)
	}
	var got []digest.Digest
	for _, d := range sigs {
		got = append(got, d.Digest)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("filtered referrers = %v, want %v", got, want)
	}
	none, err := s.Referrers(context.Background(), k, digest.FromString("no referrers"), "")
	if err != nil || len(none) != 0 {
		t.Fatalf("referrers of unknown = %v, %v", none, err)
	}
	d, err := s.Referrers(context.Background(), k, dangling.Subject, "")
	if err != nil || len(d) != 1 || d[0].Digest != dangling.Digest {
		t.Fatalf("referrers of missing subject = %v, %v", d, err)
	}
}

func testIndexChildren(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("idx")
	mustCreateRepo(t, s, k)
	amd, arm := image(nil, "amd64"), image(nil, "arm64")
	mustPut(t, s, k, amd, "")
	idx := image(nil, "index")
	idx.MediaType = "application/vnd.oci.image.index.v1+json"
	idx.Manifests = []storage.Descriptor{
		{MediaType: amd.MediaType, Digest: amd.Digest, Size: amd.Size},
		{MediaType: arm.MediaType, Digest: arm.Digest, Size: arm.Size},
	}
	err := s.PutManifest(context.Background(), k, idx, "multi")
	wantCode(t, err, apierr.ManifestBlobUnknown, "index with missing child")
	wantNotFound(t, err, "index with missing child")
	mustPut(t, s, k, arm, "")
	mustPut(t, s, k, idx, "multi")
	parents, err := s.ManifestParents(context.Background(), k, arm.Digest)
	if err != nil || len(parents) != 1 || parents[0] != idx.Digest {
		t.Fatalf("parents = %v, %v", parents, err)
	}
	parents, err = s.ManifestParents(context.Background(), k, idx.Digest)
	if err != nil || len(parents) != 0 {
		t.Fatalf("parents of top-level index = %v, %v", parents, err)
	}
	if err := s.DeleteManifest(context.Background(), k, idx.Digest); err != nil {
		t.Fatal(err)
	}
	parents, err = s.ManifestParents(context.Background(), k, arm.Digest)
	if err != nil || len(parents) != 0 {
		t.Fatalf("parents after index delete = %v, %v", parents, err)
	}
}

func testImmutability(t *testing.T, open func() storage.MetaStore) {
	s := open()
	cases := []struct {
		mutability string
		filters    []string
		tag        string
		immutable  bool
	}{
		{"MUTABLE", nil, "v1", false},
		{"IMMUTABLE", nil, "v1", true},
		{"IMMUTABLE", nil, "latest", true},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "latest", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "dev-42", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "v1", true},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"*-rc*"}, "1.0-rc3", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"*-rc*"}, "1.0", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"release-*"}, "release-1", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"release-*"}, "latest", false},
		{"MUTABLE_WITH_EXCLUSION", []string{"prod"}, "production", false},
	}
	for i, tc := range cases {
		k := key(fmt.Sprintf("imm%d", i))
		if err := s.CreateRepository(context.Background(), &storage.Repository{Key: k, TagMutability: tc.mutability, MutabilityFilters: tc.filters}); err != nil {
			t.Fatal(err)
		}
		a, b := image(nil, "a"), image(nil, "b")
		mustPut(t, s, k, a, tc.tag)
		mustPut(t, s, k, a, tc.tag) // same digest is always fine
		mustPut(t, s, k, b, "")     // untagged push is always fine
		mustPut(t, s, k, b, "fresh-"+tc.tag)
		err := s.PutManifest(context.Background(), k, b, tc.tag)
		got, rerr := s.ResolveTag(context.Background(), k, tc.tag)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if tc.immutable {
			wantCode(t, err, apierr.TagImmutable, fmt.Sprintf("%s %v moving %q", tc.mutability, tc.filters, tc.tag))
			want := fmt.Sprintf("The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tc.tag, k.Name)
			if e, _ := apierr.As(err); e.Message != want {
				t.Fatalf("message %q, want %q", e.Message, want)
			}
			if got.Digest != a.Digest {
				t.Fatal("refused tag move changed the tag")
			}
		} else {
			if err != nil {
				t.Fatalf("%s %v moving %q: %v", tc.mutability, tc.filters, tc.tag, err)
			}
			if got.Digest != b.Digest {
				t.Fatal("tag not moved")
			}
		}
	}
	// Switching a repository to mutable lifts the restriction.
	k := key("imm1")
	r, err := s.GetRepository(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	r.TagMutability = "MUTABLE"
	if err := s.UpdateRepository(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, k, image(nil, "b"), "v1")
}

func testMetaUploads(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("up")
	started := time.Now()
	// Sessions may start before the repository exists (create on push).
	if err := s.CreateUpload(context.Background(), "u1", k, started); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUpload(context.Background(), "u1", key("other"), started); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate upload = %v", err)
	}
	got, err := s.GetUpload(context.Background(), "u1")
	if err != nil || got != k {
		t.Fatalf("GetUpload = %v, %v", got, err)
	}
	if err := s.DeleteUpload(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetUpload(context.Background(), "u1")
	wantNotFound(t, err, "deleted upload")
	if err := s.DeleteUpload(context.Background(), "u1"); err != nil {
		t.Fatalf("second DeleteUpload = %v", err)
	}
}

func testMetaRestart(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("restart")
	mustCreateRepo(t, s, k)
	b := mustLink(t, s, k, "l")
	m := image([]storage.Descriptor{b}, "restart")
	mustPut(t, s, k, m, "v1")
	if err := s.CreateUpload(context.Background(), "ru", k, time.Now()); err != nil {
		t.Fatal(err)
	}
	s2 := open()
	got, err := s2.ResolveTag(context.Background(), k, "v1")
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	wantManifest(t, got, m)
	if _, err := s2.LinkedBlob(context.Background(), k, b.Digest); err != nil {
		t.Fatal(err)
	}
	if owner, err := s2.GetUpload(context.Background(), "ru"); err != nil || owner != k {
		t.Fatalf("upload after restart: %v %v", owner, err)
	}
	// Reopening twice more must not re-run migrations destructively.
	s3 := open()
	if _, err := s3.GetRepository(context.Background(), k); err != nil {
		t.Fatal(err)
	}
}

func testParallelPuts(t *testing.T, open func() storage.MetaStore) {
	s := open()
	k := key("par")
	mustCreateRepo(t, s, k)
	b := mustLink(t, s, k, "shared layer")
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			m := image([]storage.Descriptor{b}, fmt.Sprintf("p%d", i))
			if err := s.PutManifest(context.Background(), k, m, fmt.Sprintf("t%d", i)); err != nil {
				errs <- err
			}
			// Everyone also fights over one tag and one shared manifest.
			if err := s.PutManifest(context.Background(), k, m, "race"); err != nil {
				errs <- err
			}
			if err := s.PutManifest(context.Background(), k, image([]storage.Descriptor{b}, "same"), ""); err != nil {
				errs <- err
			}
			if _, err := s.ResolveTag(context.Background(), k, "race"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	tags, err := s.ListTags(context.Background(), k, storage.Page{Limit: 100})
	if err != nil || len(tags) != n+1 {
		t.Fatalf("tags = %d, %v", len(tags), err)
	}
	ms, err := s.ListManifests(context.Background(), k, storage.AnyImages, storage.Page{Limit: 100})
	if err != nil || len(ms) != n+1 {
		t.Fatalf("manifests = %d, %v", len(ms), err)
	}
}
