package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Docker is one docker push or pull of the ~200 MB test image.
type Docker struct {
	Target      string  `json:"target"`
	Round       int     `json:"round"`
	PushSeconds float64 `json:"push_seconds"`
	PullSeconds float64 `json:"pull_seconds"`
	Error       string  `json:"error,omitempty"`
}

const dockerLayers, dockerLayerMiB = 4, 50

// dockerRound times `docker push` and `docker pull` of a 4-layer ~200 MB
// image against berth and distribution, with a private engine started by
// scripts/dockerd.sh. Each round builds new random layers so no registry
// already has them.
func dockerRound(ctx context.Context, o options, bins binaries, rep *Report) error {
	if _, err := exec.LookPath("dockerd"); err != nil {
		return fmt.Errorf("no dockerd: %w", err)
	}
	dir := filepath.Join(o.work, "docker")
	_ = os.RemoveAll(dir)
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	script, err := filepath.Abs("scripts/dockerd.sh")
	if err != nil {
		return err
	}
	out, err := run(ctx, 3*time.Minute, nil, script, "start", filepath.Join(dir, "engine"))
	if err != nil {
		return err
	}
	defer func() {
		_, _ = run(context.WithoutCancel(ctx), 2*time.Minute, nil, script, "stop", filepath.Join(dir, "engine"))
	}()
	var env []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "DOCKER_HOST=") {
			env = append(env, strings.TrimSpace(l))
		}
	}
	if len(env) == 0 {
		return fmt.Errorf("dockerd.sh printed no DOCKER_HOST: %s", out)
	}
	env = append(env, "DOCKER_CONFIG="+filepath.Join(dir, "config"), "DOCKER_BUILDKIT=0")
	docker := func(timeout time.Duration, args ...string) error {
		_, err := run(ctx, timeout, env, "docker", args...)
		return err
	}
	berth, err := startBerth(ctx, bins.berth, filepath.Join(dir, "berth"))
	if err != nil {
		return err
	}
	defer berth.stop()
	dist, err := startDistribution(ctx, bins.registry, filepath.Join(dir, "dist"), false)
	if err != nil {
		return err
	}
	defer dist.stop()
	hosts := map[string]string{tBerthRoot: strings.TrimPrefix(berth.url, "http://"), tDist: strings.TrimPrefix(dist.url, "http://")}
	login := exec.CommandContext(ctx, "docker", "login", "-u", rootKey, "--password-stdin", hosts[tBerthRoot])
	login.Env = append(os.Environ(), env...)
	login.Stdin = strings.NewReader(rootSecret)
	if b, err := login.CombinedOutput(); err != nil {
		return fmt.Errorf("docker login berth: %v: %s", err, b)
	}
	for round := 1; round <= o.rounds; round++ {
		img := fmt.Sprintf("berth-bench/docker:r%d", round)
		if err := buildDockerImage(ctx, filepath.Join(dir, fmt.Sprintf("ctx%d", round)), img, round, docker); err != nil {
			return err
		}
		order := []string{tBerthRoot, tDist}
		if round%2 == 0 {
			order = []string{tDist, tBerthRoot}
		}
		results := map[string]*Docker{}
		for _, t := range order {
			d := &Docker{Target: t, Round: round}
			results[t] = d
			ref := hosts[t] + "/bench/docker:r" + fmt.Sprint(round)
			if err := docker(time.Minute, "tag", img, ref); err != nil {
				return err
			}
			logf("docker push %s", ref)
			t0 := time.Now()
			if err := docker(15*time.Minute, "push", ref); err != nil {
				d.Error = err.Error()
				continue
			}
			d.PushSeconds = time.Since(t0).Seconds()
		}
		// Nothing local: every pull downloads and extracts all layers.
		for _, t := range order {
			_ = docker(time.Minute, "rmi", "-f", hosts[t]+"/bench/docker:r"+fmt.Sprint(round))
		}
		_ = docker(time.Minute, "rmi", "-f", img)
		_ = docker(time.Minute, "image", "prune", "-af")
		for _, t := range order {
			d := results[t]
			if d.Error != "" {
				continue
			}
			ref := hosts[t] + "/bench/docker:r" + fmt.Sprint(round)
			logf("docker pull %s", ref)
			t0 := time.Now()
			if err := docker(15*time.Minute, "pull", ref); err != nil {
				d.Error = err.Error()
				continue
			}
			d.PullSeconds = time.Since(t0).Seconds()
			_ = docker(time.Minute, "rmi", "-f", ref)
			_ = docker(time.Minute, "image", "prune", "-af")
		}
		for _, t := range order {
			rep.Docker = append(rep.Docker, *results[t])
		}
	}
	return nil
}

// buildDockerImage writes dockerLayers files of random bytes and builds an
// image with one COPY layer each (FROM scratch: no network needed).
func buildDockerImage(ctx context.Context, dir, tag string, seed int, docker func(time.Duration, ...string) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rand.NewChaCha8([32]byte{byte(seed), 98, 101, 114, 116, 104})
	df := "FROM scratch\n"
	buf := make([]byte, 1<<20)
	for i := range dockerLayers {
		name := fmt.Sprintf("layer%d.bin", i)
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		for range dockerLayerMiB {
			_, _ = r.Read(buf)
			if _, err := f.Write(buf); err != nil {
				f.Close()
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
		df += fmt.Sprintf("COPY %s /%s\n", name, name)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return docker(10*time.Minute, "build", "-q", "-t", tag, dir)
}
