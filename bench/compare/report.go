package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// metric extracts one number from a scenario result.
type metric struct {
	scenario, mode string
	field          string // ops | mib | p50 | p99
}

func (m metric) of(rep *Report, target string) map[int]float64 {
	out := map[int]float64{}
	for _, r := range rep.Runs {
		if r.Target != target || r.Result == nil {
			continue
		}
		s, ok := r.Result.Scenario(m.scenario, m.mode)
		if !ok || s.Ops == 0 {
			continue
		}
		switch m.field {
		case "ops":
			out[r.Round] = s.OpsPerSec
		case "mib":
			out[r.Round] = s.MiBPerSec
		case "p50":
			out[r.Round] = s.P50Ms
		case "p99":
			out[r.Round] = s.P99Ms
		}
	}
	return out
}

func values(m map[int]float64) []float64 {
	var v []float64
	for _, x := range m {
		v = append(v, x)
	}
	slices.Sort(v)
	return v
}

// span prints a range of values "lo–hi" (or one value).
func span(v []float64, prec int) string {
	if len(v) == 0 {
		return "n/a"
	}
	lo, hi := slices.Min(v), slices.Max(v)
	f := fmt.Sprintf("%%.%df", prec)
	if fmt.Sprintf(f, lo) == fmt.Sprintf(f, hi) {
		return fmt.Sprintf(f, lo)
	}
	return fmt.Sprintf(f+"–"+f, lo, hi)
}

// ratios pairs rounds: berth in round r over peer in round r.
func ratios(a, b map[int]float64) []float64 {
	var out []float64
	for r, x := range a {
		if y, ok := b[r]; ok && y > 0 {
			out = append(out, x/y)
		}
	}
	return out
}

func verdict(v []float64, min, max float64) string {
	if len(v) == 0 {
		return "not measured"
	}
	lo, hi := slices.Min(v), slices.Max(v)
	switch {
	case lo >= min && hi <= max:
		return "met"
	case hi >= min && lo <= max:
		return "met in some rounds"
	}
	return "MISSED"
}

func printReport(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\n# berth side-by-side comparison\n\n")
	m := rep.Machine
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %.0f GiB, Linux %s, %s; load average at start %s.\n\n", m.CPUs, m.CPUModel, m.MemGiB, m.Kernel, m.GoVersion, m.LoadAvg)
	var sha, lo, disk []float64
	limits := map[int]Limits{}
	for i, l := range rep.Limits {
		sha, lo, disk = append(sha, l.SHA256MiBs), append(lo, l.LoopbackMiBs), append(disk, l.DiskMiBs)
		limits[i+1] = l
	}
	fmt.Fprintf(w, "Machine limits (same run): sha256 one core %s MiB/s · loopback TCP one stream %s MiB/s · disk sequential write+fsync %s MiB/s\n\n",
		span(sha, 0), span(lo, 0), span(disk, 0))

	fmt.Fprintf(w, "## Targets (ranges over %d rounds; ratios pair berth and peer of the same round)\n\n", len(rep.Limits))
	fmt.Fprintln(w, "| target | berth | peer / limit | ratio | goal | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	row := func(name string, berth, peer map[int]float64, unit string, prec int, lo, hi float64, goal string) {
		r := ratios(berth, peer)
		fmt.Fprintf(w, "| %s | %s %s | %s %s | %s | %s | %s |\n", name, span(values(berth), prec), unit, span(values(peer), prec), unit, span(r, 2), goal, verdict(r, lo, hi))
	}
	inf := 1e18
	mg := metric{"manifest-get", "", "ops"}
	row("manifest GET/s, ECR token (IAM read-only) vs distribution no auth", mg.of(rep, tBerthToken), mg.of(rep, tDist), "req/s", 0, 2.5, inf, "≥ 2.5×")
	row("manifest GET/s, IAM access key as Basic vs distribution no auth", mg.of(rep, tBerthKey), mg.of(rep, tDist), "req/s", 0, 2.5, inf, "≥ 2.5×")
	row("manifest GET/s, ECR token vs distribution htpasswd", mg.of(rep, tBerthToken), mg.of(rep, tDistHT), "req/s", 0, 100, inf, "≥ 100×")
	row("manifest GET/s, IAM access key vs distribution htpasswd", mg.of(rep, tBerthKey), mg.of(rep, tDistHT), "req/s", 0, 100, inf, "≥ 100×")
	for _, mode := range []string{"monolithic", "chunked"} {
		p := metric{"blob-push", mode, "mib"}
		row("blob push "+mode+" vs null (hash-only)", p.of(rep, tBerthRoot), p.of(rep, tNull), "MiB/s", 0, 0.9, inf, "≥ 0.9×")
		row("blob push "+mode+" vs distribution", p.of(rep, tBerthRoot), p.of(rep, tDist), "MiB/s", 0, 1.8, inf, "≈ 2× (implied)")
	}
	bp := metric{"blob-pull", "", "mib"}
	row("blob pull vs null (sendfile)", bp.of(rep, tBerthToken), bp.of(rep, tNull), "MiB/s", 0, 0.9, inf, "≥ 0.9×")
	loop := map[int]float64{}
	for r, l := range limits {
		loop[r] = l.LoopbackMiBs
	}
	row("blob pull vs loopback TCP", bp.of(rep, tBerthToken), loop, "MiB/s", 0, 0.8, inf, "≥ 0.8×")
	row("blob pull vs distribution", bp.of(rep, tBerthToken), bp.of(rep, tDist), "MiB/s", 0, 1, inf, "(info)")
	if len(rep.Docker) > 0 {
		push, pull := map[string]map[int]float64{}, map[string]map[int]float64{}
		for _, d := range rep.Docker {
			if push[d.Target] == nil {
				push[d.Target], pull[d.Target] = map[int]float64{}, map[int]float64{}
			}
			if d.Error == "" {
				push[d.Target][d.Round], pull[d.Target][d.Round] = d.PushSeconds, d.PullSeconds
			}
		}
		row("docker push ~200 MB, seconds, vs distribution", push[tBerthRoot], push[tDist], "s", 1, 0, 1, "≤ 1.0×")
		row("docker pull ~200 MB, seconds, vs distribution", pull[tBerthRoot], pull[tDist], "s", 1, 0, 1, "≤ 1.0×")
	}
	goTargets := []struct {
		pkg, name, label string
		limitNs          float64
	}{
		{"internal/iam", "BenchmarkEvaluate100Statements", "policy decision, 100 statements", 5000},
		{"internal/sigv4", "BenchmarkVerify/Verify", "SigV4 verification", 10000},
		{"internal/storage/sqlmeta", "BenchmarkResolveTag100k", "tag lookup, 100 k tags", 100000},
	}
	for _, g := range goTargets {
		var v []float64
		for _, b := range rep.GoBench {
			if b.Package == g.pkg && b.Name == g.name {
				v = append(v, b.NsPerOp/1000)
			}
		}
		fmt.Fprintf(w, "| %s | %s µs | — | — | ≤ %.0f µs | %s |\n", g.label, span(v, 2), g.limitNs/1000, verdict(v, 0, g.limitNs/1000))
	}
	if r := rep.RSS; r != nil {
		v := []float64{r.PeakMiB}
		fmt.Fprintf(w, "| peak RSS (VmHWM), %d × %d MiB concurrent pushes | %.0f MiB (idle %.0f MiB; %.0f MiB/s, %d errors) | — | — | ≤ 100 MiB | %s |\n",
			r.Clients, r.BlobMiB, r.PeakMiB, r.BaselineMiB, r.PushMiBs, r.Errors, verdict(v, 0, 100))
	}
	if s := rep.Scale; s != nil {
		for _, l := range []struct {
			what string
			lat  []Latency
		}{{"tags list", s.TagsList}, {"DescribeRepositories by name", s.DescribeByName}, {"DescribeRepositories first page (100)", s.DescribePage}} {
			for i, c := range s.Clients {
				if i >= len(l.lat) {
					break
				}
				x := l.lat[i]
				fmt.Fprintf(w, "| %d tags / %d repos: %s p99, %d client(s) | %.2f ms (p50 %.2f, %.0f req/s, %d errors) | — | — | < 50 ms | %s |\n",
					s.Tags, s.Repos, l.what, c, x.P99Ms, x.P50Ms, x.PerSec, x.Errors, verdict([]float64{x.P99Ms}, 0, 50))
			}
		}
		fmt.Fprintf(w, "| server start with %d tags | %s s | — | — | < 1 s | %s |\n", s.Tags, span(s.StartSeconds, 3), verdict(s.StartSeconds, 0, 1))
	}

	fmt.Fprintf(w, "\n## Every registry, every scenario (ranges over rounds)\n\n")
	fmt.Fprintln(w, "| scenario | registry | ops/s | MiB/s | p50 ms | p99 ms | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	type key struct{ scen, mode, target string }
	var order []key
	seen := map[key]bool{}
	errs := map[key]int64{}
	for _, r := range rep.Runs {
		if r.Result == nil {
			continue
		}
		for _, s := range r.Result.Scenarios {
			k := key{s.Name, s.Mode, r.Target}
			if !seen[k] {
				seen[k] = true
				order = append(order, k)
			}
			errs[k] += s.Errors
		}
	}
	slices.SortStableFunc(order, func(a, b key) int { return strings.Compare(a.scen+a.mode, b.scen+b.mode) })
	for _, k := range order {
		name := k.scen
		if k.mode != "" {
			name += "/" + k.mode
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %d |\n", name, k.target,
			span(values(metric{k.scen, k.mode, "ops"}.of(rep, k.target)), 1), span(values(metric{k.scen, k.mode, "mib"}.of(rep, k.target)), 1),
			span(values(metric{k.scen, k.mode, "p50"}.of(rep, k.target)), 2), span(values(metric{k.scen, k.mode, "p99"}.of(rep, k.target)), 2), errs[k])
	}
	var runErrs []string
	for _, r := range rep.Runs {
		if r.Error != "" {
			runErrs = append(runErrs, fmt.Sprintf("round %d %s: %s", r.Round, r.Target, r.Error))
		}
		if r.Result != nil {
			for _, s := range r.Result.Scenarios {
				if s.FirstError != "" {
					runErrs = append(runErrs, fmt.Sprintf("round %d %s %s: %d errors, first: %s", r.Round, r.Target, s.Name, s.Errors, s.FirstError))
				}
			}
		}
	}

	fmt.Fprintf(w, "\n## berth as a fraction of the machine's limits (same round)\n\n")
	sh, dk := map[int]float64{}, map[int]float64{}
	for r, l := range limits {
		sh[r], dk[r] = l.SHA256MiBs, l.DiskMiBs
	}
	for _, mode := range []string{"monolithic", "chunked"} {
		p := metric{"blob-push", mode, "mib"}.of(rep, tBerthRoot)
		fmt.Fprintf(w, "- blob push %s: %s of one core's sha256, %s of disk write+fsync\n", mode, span(ratios(p, sh), 2), span(ratios(p, dk), 2))
	}
	fmt.Fprintf(w, "- blob pull: %s of one loopback TCP stream\n", span(ratios(bp.of(rep, tBerthToken), loop), 2))
	fmt.Fprintf(w, "- null registry push (monolithic): %s of one core's sha256\n", span(ratios(metric{"blob-push", "monolithic", "mib"}.of(rep, tNull), sh), 2))

	if len(rep.Startup) > 0 {
		fmt.Fprintf(w, "\n## Start time (exec → first answer on /v2/, empty data)\n\n")
		by := map[string][]float64{}
		var names []string
		for _, s := range rep.Startup {
			if by[s.Target] == nil {
				names = append(names, s.Target)
			}
			by[s.Target] = append(by[s.Target], s.Seconds*1000)
		}
		for _, n := range names {
			fmt.Fprintf(w, "- %s: %s ms\n", n, span(by[n], 0))
		}
	}
	if len(rep.GoBench) > 0 {
		fmt.Fprintf(w, "\n## go test -bench (two runs each)\n\n| package | benchmark | ns/op | MB/s | allocs/op |\n|---|---|---|---|---|\n")
		type gk struct{ pkg, name string }
		agg := map[gk][]GoBench{}
		var keys []gk
		for _, b := range rep.GoBench {
			k := gk{b.Package, b.Name}
			if agg[k] == nil {
				keys = append(keys, k)
			}
			agg[k] = append(agg[k], b)
		}
		for _, k := range keys {
			var ns, mb, al []float64
			for _, b := range agg[k] {
				ns, mb, al = append(ns, b.NsPerOp), append(mb, b.MBs), append(al, b.Allocs)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", k.pkg, k.name, span(ns, 0), span(mb, 0), span(al, 0))
		}
	}
	if len(rep.Notes) > 0 || len(runErrs) > 0 {
		fmt.Fprintf(w, "\n## Notes and errors\n\n")
		for _, n := range append(rep.Notes, runErrs...) {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}
