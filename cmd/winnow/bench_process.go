package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"golang.org/x/time/rate"

	"winnow/internal/lever"
	"winnow/internal/leverconn"
	"winnow/internal/leversandbox"
)

const benchProcessUsage = `Usage: winnow bench process [flags]

Queues applicationCreated deliveries (as the webhook intake records them) for one
org, starts Winnow's workers and measures how fast they are worked to CP-Sent in the
Lever sandbox (no rate limit there or in Winnow): each is read from Lever, invited
(email to the outbox) and tagged. Then, on the idle system, candidates apply one at
a time through the sandbox's real webhooks and the time from the webhook to CP-Sent
in the sandbox is measured.

Flags:
`

// benchProcess implements "winnow bench process".
func benchProcess(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow bench process", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var bf benchFlags
	bf.register(fs, e)
	n := fs.Int("n", 10000, "applicationCreated deliveries queued before the workers start")
	idle := fs.Int("idle", 50, "candidates applied one at a time afterwards, for webhook → CP-Sent latency")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the processing phase to this file")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchProcessUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *idle < 0 {
		return errors.New("--n must be at least 1 and --idle at least 0")
	}
	be, err := openBenchEngine(ctx, bf)
	if err != nil {
		return err
	}
	defer be.clean()
	sb, err := leversandbox.New(leversandbox.Options{RateLimit: rate.Inf})
	if err != nil {
		return err
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer sb.Close()
	cfg, err := benchConfig(be, sb, sb.URL(), randomHex(32))
	if err != nil {
		return err
	}
	// The sandbox has no rate limit, and neither has Winnow here: this measures
	// Winnow's own processing.
	unlimited := func(lo *leverconn.Options) { lo.Limiters = lever.NewLimiters(rate.Inf, 1) }

	fmt.Fprintf(e.stderr, "bench process: queueing %d applicationCreated on %s…\n", *n, be.name)
	setup := newBenchMain(cfg, e.stderr, unlimited)
	if err := setup.Open(ctx); err != nil {
		setup.Close()
		return err
	}
	org, err := setUpBenchOrg(ctx, setup, sb, "Acme", sb.APIKey())
	if err != nil {
		setup.Close()
		return err
	}
	opps, err := queueApplications(ctx, setup, sb, org, *n)
	setup.Close()
	if err != nil {
		return fmt.Errorf("queue applications: %w", err)
	}

	fmt.Fprintf(e.stderr, "bench process: working them…\n")
	m := newBenchMain(cfg, e.stderr, unlimited)
	cpu0 := processCPU()
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	defer m.Close()
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	start := time.Now()
	var peak float64
	last, lastAt := 0, start
	tagged := newTagCounter(sb, opps, "CP-Sent")
	for {
		done := tagged.count()
		if now := time.Now(); now.Sub(lastAt) >= time.Second {
			peak = max(peak, float64(done-last)/now.Sub(lastAt).Seconds())
			fmt.Fprintf(e.stderr, "bench process: %s %d tagged CP-Sent\n", now.Sub(start).Round(time.Second), done)
			last, lastAt = done, now
		}
		if done >= *n {
			break
		}
		if time.Since(start) > 30*time.Minute {
			return fmt.Errorf("only %d of %d tagged CP-Sent after 30 minutes", done, *n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	// The candidates' cost counts the work that follows their tag (the emails' jobs,
	// River's completions, which it records in batches) until no job is left to work.
	if err := settleJobs(ctx, m.DB.SQL(), 30*time.Second); err != nil {
		return err
	}
	// Every backend serving the scratch database now was opened by m: the setup's
	// closed with it.
	cost := processCost{cpu: processCPU() - cpu0, serverCPU: cpuSince(nil, backendCPU(ctx, m.DB))}
	if err := m.DB.SQL().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&cost.jobs); err != nil {
		return fmt.Errorf("count completed jobs: %w", err)
	}
	missing := 0
	for _, opp := range opps {
		if st, ok := sb.Opportunity(opp); !ok || !slices.Contains(st.Tags, "CP-Sent") {
			missing++
		}
	}
	if missing > 0 {
		return fmt.Errorf("%d opportunities lack CP-Sent in the sandbox although their writes are done", missing)
	}

	var lat []time.Duration
	if *idle > 0 {
		fmt.Fprintf(e.stderr, "bench process: %d candidates one at a time…\n", *idle)
		if err := hookUp(ctx, m, sb, org); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond) // let the workers finish the batch's email jobs
		for i := range *idle {
			d, err := timeToCPSent(ctx, sb, org, fmt.Sprintf("idle%03d@example.com", i), 30*time.Second)
			if err != nil {
				return err
			}
			lat = append(lat, d)
			time.Sleep(100 * time.Millisecond)
		}
	}

	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "engine\tqueued\tworked in\trate\tpeak 1 s\twebhook→CP-Sent p50\tp99\tmax\tCPU/cand.\tserver CPU/cand.\tjobs/cand.\t\n")
	fmt.Fprintf(w, "%s\t%d\t%s\t%.0f/s\t%.0f/s\t%s\t%s\t%s\t%s\t%s\t%.2f\t\n", be.name, *n, elapsed.Round(time.Millisecond),
		float64(*n)/elapsed.Seconds(), peak, percentile(lat, 50).Round(time.Millisecond),
		percentile(lat, 99).Round(time.Millisecond), percentile(lat, 100).Round(time.Millisecond),
		perCandidate(cost.cpu, *n), perCandidate(cost.serverCPU, *n), float64(cost.jobs)/float64(*n))
	w.Flush()
	fmt.Fprintf(e.stdout, "(each: one Lever read, one transaction inviting the candidate, an email to the outbox, the CP-Sent tag and the note written to Lever; %d idle samples)\n", len(lat))
	fmt.Fprintf(e.stdout, "CPU/cand.: CPU time (user+system) of this whole process (Winnow and the Lever sandbox) per candidate worked; server CPU/cand.: that of the PostgreSQL backends, when the server runs on this machine; jobs/cand.: River jobs worked to completion per candidate.\n")
	if all := cost.cpu + cost.serverCPU; all > 0 {
		fmt.Fprintf(e.stdout, "At this cost per candidate, the %d CPUs here could work at most %.0f/s if nothing else ran and none of them waited.\n",
			runtime.NumCPU(), float64(runtime.NumCPU())*float64(*n)/all.Seconds())
	}
	return nil
}

// settleJobs waits, up to limit, until River has no job left to work now: none
// available, running (which includes those whose completion River has not recorded
// yet) or waiting to be retried. Scheduled ones (reminders, opt-outs) are for later.
func settleJobs(ctx context.Context, db *sql.DB, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var left int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'pending')`).Scan(&left); err != nil {
			return fmt.Errorf("count jobs left: %w", err)
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d jobs still to work %s after the last CP-Sent", left, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// processCost is what the processing phase of winnow bench process used.
type processCost struct {
	cpu, serverCPU time.Duration
	jobs           int // River jobs completed
}

// perCandidate returns d per candidate of n, or – when it was not measured.
func perCandidate(d time.Duration, n int) string {
	if d <= 0 {
		return "–"
	}
	return (d / time.Duration(n)).Round(10 * time.Microsecond).String()
}
