package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/storage/sqlmeta"
)

// Scale is berth with many repositories and tags.
type Scale struct {
	Repos          int       `json:"repos"`
	Tags           int       `json:"tags"`
	SeedSeconds    float64   `json:"seed_seconds"`
	StartSeconds   []float64 `json:"start_seconds"`
	Clients        []int     `json:"clients"` // concurrency of each entry below
	TagsList       []Latency `json:"tags_list"`
	DescribeByName []Latency `json:"describe_repositories_by_name"`
	DescribePage   []Latency `json:"describe_repositories_first_page"`
}

// Latency is a bounded loop's outcome.
type Latency struct {
	Ops    int     `json:"ops"`
	Errors int     `json:"errors"`
	Error  string  `json:"first_error,omitempty"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	PerSec float64 `json:"ops_per_sec"`
}

func measureScale(ctx context.Context, o options, bins binaries, rep *Report) error {
	dir := filepath.Join(o.work, "scale")
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	_ = os.RemoveAll(dir)
	sc := &Scale{Repos: o.scaleRepos, Tags: o.scaleTags}
	rep.Scale = sc
	logf("scale: seeding %d tags across %d repositories through sqlmeta", o.scaleTags, o.scaleRepos)
	t0 := time.Now()
	if err := seedScale(ctx, dir, o.scaleRepos, o.scaleTags); err != nil {
		return err
	}
	sc.SeedSeconds = time.Since(t0).Seconds()
	var p *proc
	for i := range 2 {
		var err error
		if p, err = startBerth(ctx, bins.berth, dir); err != nil {
			return err
		}
		sc.StartSeconds = append(sc.StartSeconds, p.startup.Seconds())
		if i == 0 {
			p.stop()
		}
	}
	defer p.stop()
	logf("scale: berth started in %v", sc.StartSeconds)
	// One client shows the latency of the query itself; 16 show it under a
	// saturating closed loop (where p99 is mostly queueing on 2 cores).
	for _, clients := range []int{1, 16} {
		sc.Clients = append(sc.Clients, clients)
		tags, byName, page := scaleLoops(ctx, p.url, o.scaleRepos, clients)
		sc.TagsList, sc.DescribeByName, sc.DescribePage = append(sc.TagsList, tags), append(sc.DescribeByName, byName), append(sc.DescribePage, page)
	}
	return nil
}

// scaleLoops measures tags list, DescribeRepositories by name and the first
// DescribeRepositories page with clients concurrent callers.
func scaleLoops(ctx context.Context, url string, repos, clients int) (tags, byName, page Latency) {
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32}}
	tags = loop(ctx, clients, 10*time.Second, 200_000, func(ctx context.Context, r *rand.Rand) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v2/%s/tags/list", url, scaleRepo(r.IntN(repos))), nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth(rootKey, rootSecret)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("tags list: HTTP %d", resp.StatusCode)
		}
		return nil
	})
	c := ecr.NewFromConfig(awsConfig(rootKey, rootSecret), func(eo *ecr.Options) { eo.BaseEndpoint = aws.String(url) })
	byName = loop(ctx, clients, 10*time.Second, 100_000, func(ctx context.Context, r *rand.Rand) error {
		out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{scaleRepo(r.IntN(repos))}})
		if err == nil && len(out.Repositories) != 1 {
			err = fmt.Errorf("%d repositories", len(out.Repositories))
		}
		return err
	})
	page = loop(ctx, clients, 10*time.Second, 100_000, func(ctx context.Context, r *rand.Rand) error {
		out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(100)})
		if err == nil && len(out.Repositories) != 100 {
			err = fmt.Errorf("%d repositories", len(out.Repositories))
		}
		return err
	})
	return tags, byName, page
}

func scaleRepo(i int) string { return fmt.Sprintf("scale/repo-%06d", i) }

// seedScale creates berth's schema (server.New) and then inserts rows in
// bulk with sqlmeta's own database handle: one manifest per repository and
// tags spread evenly.
func seedScale(ctx context.Context, dir string, repos, tags int) error {
	s, err := server.New(ctx, server.Config{DataDir: dir, AccountID: account, Region: region, RootAccessKeyID: rootKey, RootSecretKey: rootSecret}, nil)
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	st, err := sqlmeta.Open(ctx, filepath.Join(dir, "berth.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	db := st.DB()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	prep := func(q string) (*sql.Stmt, error) { return tx.PrepareContext(ctx, q) }
	insRepo, err := prep(`INSERT INTO repositories (account, region, name, created_at) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	insMan, err := prep(`INSERT INTO manifests (repo_id, digest, media_type, payload, size, pushed_at) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	insTag, err := prep(`INSERT INTO tags (repo_id, tag, manifest_id, updated_at) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	payload := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	dg := digest.FromBytes(payload)
	now := time.Now().UnixNano()
	perRepo := max(1, tags/repos)
	for i := range repos {
		res, err := insRepo.ExecContext(ctx, account, region, scaleRepo(i), now)
		if err != nil {
			return err
		}
		repoID, _ := res.LastInsertId()
		res, err = insMan.ExecContext(ctx, repoID, string(dg), "application/vnd.oci.image.manifest.v1+json", payload, len(payload), now)
		if err != nil {
			return err
		}
		manID, _ := res.LastInsertId()
		for t := range perRepo {
			if _, err := insTag.ExecContext(ctx, repoID, fmt.Sprintf("v%d", t), manID, now); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// loop runs fn on conc workers for at most d and at most n calls.
func loop(ctx context.Context, conc int, d time.Duration, n int64, fn func(context.Context, *rand.Rand) error) Latency {
	var (
		mu      sync.Mutex
		lat     []time.Duration
		l       Latency
		started int64
	)
	ctx, cancel := context.WithTimeout(ctx, d+time.Minute)
	defer cancel()
	deadline := time.Now().Add(d)
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				mu.Lock()
				started++
				over := started > n
				mu.Unlock()
				if over {
					return
				}
				s := time.Now()
				err := fn(ctx, r)
				el := time.Since(s)
				mu.Lock()
				if err != nil {
					l.Errors++
					if l.Error == "" {
						l.Error = err.Error()
					}
				} else {
					lat = append(lat, el)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	l.Ops = len(lat)
	l.PerSec = float64(l.Ops) / time.Since(t0).Seconds()
	slices.Sort(lat)
	if len(lat) > 0 {
		l.P50Ms = float64(lat[len(lat)/2]) / 1e6
		l.P99Ms = float64(lat[min(len(lat)-1, len(lat)*99/100)]) / 1e6
	}
	return l
}
