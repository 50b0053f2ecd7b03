package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/jobs"
	"winnow/internal/keyring"
	"winnow/internal/leversandbox"
)

const benchRemindersUsage = `Usage: winnow bench reminders [flags]

Measures the resident memory (RSS) of a worker process, "winnow serve", idle on an
empty database, and then while a million reminder emails are scheduled (River jobs
due over the next 2.5 weeks, as invitations schedule them): memory must not grow
with what is scheduled, only with what is worked.

Flags:
`

// benchReminders implements "winnow bench reminders".
func benchReminders(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow bench reminders", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var bf benchFlags
	bf.register(fs, e)
	n := fs.Int("n", 1000000, "reminder jobs scheduled")
	window := fs.Duration("duration", 20*time.Second, "how long RSS is sampled at each stage")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchRemindersUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *window < 2*time.Second {
		return errors.New("--n must be at least 1 and --duration at least 2s")
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find winnow's binary: %w", err)
	}
	be, err := openBenchEngine(ctx, bf)
	if err != nil {
		return err
	}
	defer be.clean()
	sb, err := leversandbox.New(leversandbox.Options{})
	if err != nil {
		return err
	}
	defer sb.Close()
	secret := randomHex(32)
	cfg, err := benchConfig(be, sb, "http://127.0.0.1:1", secret)
	if err != nil {
		return err
	}
	setup := newBenchMain(cfg, e.stderr, nil)
	if err := setup.Open(ctx); err != nil { // creates and migrates the database
		setup.Close()
		return err
	}
	setup.Close()

	workerEnv := []string{"WINNOW_DATABASE_URL=" + be.url, "WINNOW_DATA_DIR=" + filepath.Join(be.dir, "data"),
		"WINNOW_SECRET_KEY=" + secret, "WINNOW_ADDR=127.0.0.1:0", "WINNOW_LOG_LEVEL=error"}
	if be.name == "postgres" {
		workerEnv = append(workerEnv, "WINNOW_ROLE=worker")
	}
	fmt.Fprintf(e.stderr, "bench reminders: worker idle on an empty database for %s…\n", *window)
	empty, err := sampleWorkerRSS(ctx, bin, workerEnv, *window)
	if err != nil {
		return err
	}

	fmt.Fprintf(e.stderr, "bench reminders: scheduling %d reminders…\n", *n)
	setup = newBenchMain(cfg, e.stderr, nil)
	if err := setup.Open(ctx); err != nil {
		setup.Close()
		return err
	}
	start := time.Now()
	err = scheduleReminders(ctx, setup.Inserter, *n)
	setup.Close()
	if err != nil {
		return fmt.Errorf("schedule reminders: %w", err)
	}
	inserted := time.Since(start)
	fmt.Fprintf(e.stderr, "bench reminders: worker with %d scheduled for %s…\n", *n, *window)
	full, err := sampleWorkerRSS(ctx, bin, workerEnv, *window)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "engine\tscheduled\tworker RSS: first\tmin\tmax\tlast\t\n")
	fmt.Fprintf(w, "%s\t0\t%s\t%s\t%s\t%s\t\n", be.name, mb(empty[0]), mb(minOf(empty)), mb(maxOf(empty)), mb(empty[len(empty)-1]))
	fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t\n", be.name, *n, mb(full[0]), mb(minOf(full)), mb(maxOf(full)), mb(full[len(full)-1]))
	w.Flush()
	fmt.Fprintf(e.stdout, "(RSS sampled every second for %s per row; the %d reminders were scheduled in %s)\n", *window, *n, inserted.Round(time.Millisecond))
	return nil
}

// scheduleReminders inserts n reminder jobs due over the next 2.5 weeks, as the
// email planner schedules them, in batches.
func scheduleReminders(ctx context.Context, c *jobs.Client, n int) error {
	const batch = 5000
	now := time.Now()
	span := 17 * 24 * time.Hour
	params := make([]river.InsertManyParams, 0, batch)
	for i := 0; i < n; i++ {
		due := now.Add(time.Hour + span*time.Duration(i)/time.Duration(n))
		params = append(params, river.InsertManyParams{
			Args: jobs.SendEmailArgs{OrgID: "bench", EmailID: keyring.Token()[:26], ApplicantID: keyring.Token()[:26],
				EmailKind: string(winnow.EmailReminder), Seq: 1 + i%3},
			InsertOpts: &river.InsertOpts{ScheduledAt: due}})
		if len(params) == batch || i == n-1 {
			if _, err := c.InsertManyFast(ctx, params); err != nil {
				return err
			}
			params = params[:0]
		}
	}
	return nil
}

// sampleWorkerRSS runs "winnow serve" (a worker) from bin with env, and returns its RSS
// in bytes, read from /proc every second for window.
func sampleWorkerRSS(ctx context.Context, bin string, env []string, window time.Duration) ([]int64, error) {
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	var samples []int64
	for end := time.Now().Add(window); time.Now().Before(end); {
		time.Sleep(time.Second)
		rss, err := processRSS(cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		samples = append(samples, rss)
	}
	return samples, nil
}

// processRSS reads VmRSS of a process from /proc (Linux).
func processRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read worker's memory (Linux /proc only): %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func minOf(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
