package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync"
	"text/tabwriter"
	"time"

	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

const benchDrainUsage = `Usage: winnow bench drain [flags]

Queues a backlog of applicationCreated deliveries for one org (account A), whose
Lever account the sandbox limits as strictly as Lever does (a token bucket of 10/s,
burst 20, answering 429 beyond it), and lets Winnow's workers drain it at Winnow's
rate budget for a while. Meanwhile a second org (account B, its own bucket) gets a
candidate now and then through the sandbox's webhooks, and the time until that
candidate carries CP-Sent in the sandbox is measured. Prints the rate achieved for A
against the budget, the 429s, and B's latencies.

Flags:
`

// benchDrain implements "winnow bench drain".
func benchDrain(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow bench drain", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var bf benchFlags
	bf.register(fs, e)
	n := fs.Int("backlog", 10000, "applicationCreated deliveries queued for account A")
	window := fs.Duration("duration", 30*time.Second, "how long to drain and measure")
	every := fs.Duration("probe-every", 4*time.Second, "how often a candidate applies to org B")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchDrainUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *window < 5*time.Second || *every <= 0 {
		return errors.New("--backlog must be at least 1, --duration at least 5s and --probe-every positive")
	}
	be, err := openBenchEngine(ctx, bf)
	if err != nil {
		return err
	}
	defer be.clean()
	// Lever's own limit, per account, strictly: a request beyond the bucket gets 429.
	sb, err := leversandbox.New(leversandbox.Options{RateLimit: lever.DefaultRateLimit, RateBurst: lever.DefaultRateBurst})
	if err != nil {
		return err
	}
	defer sb.Close()
	keyA, keyB := sb.APIKey(), sb.MintAPIKey()
	calls := &callLog{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: calls.wrap(sb, keyA), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	sbURL := "http://" + ln.Addr().String()
	cfg, err := benchConfig(be, sb, sbURL, randomHex(32))
	if err != nil {
		return err
	}

	fmt.Fprintf(e.stderr, "bench drain: queueing %d applicationCreated for account A on %s…\n", *n, be.name)
	setup := newBenchMain(cfg, e.stderr, nil)
	if err := setup.Open(ctx); err != nil {
		setup.Close()
		return err
	}
	orgA, err := setUpBenchOrg(ctx, setup, sb, "Acme", keyA)
	if err == nil {
		_, err = queueApplications(ctx, setup, sb, orgA, *n)
	}
	var orgB *benchOrg
	if err == nil {
		orgB, err = setUpBenchOrg(ctx, setup, sb, "Globex", keyB)
	}
	setup.Close()
	if err != nil {
		return fmt.Errorf("set up: %w", err)
	}

	fmt.Fprintf(e.stderr, "bench drain: draining for %s at Winnow's budget of %v/s (burst %d)…\n", *window, lever.BudgetRate, lever.BudgetBurst)
	m := newBenchMain(cfg, e.stderr, nil) // Winnow's own budget per account
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	defer m.Close()
	start := time.Now()
	calls.start(start)
	if err := hookUp(ctx, m, sb, orgB); err != nil {
		return err
	}
	var lat []time.Duration
	var probeErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			at := start.Add(time.Second + time.Duration(i)*(*every))
			if at.After(start.Add(*window - 2*time.Second)) {
				return
			}
			time.Sleep(time.Until(at))
			d, err := timeToCPSent(ctx, sb, orgB, fmt.Sprintf("b%03d@globex.example", i), *window)
			if err != nil {
				probeErr = err
				return
			}
			fmt.Fprintf(e.stderr, "bench drain: %s org B's candidate tagged CP-Sent %s after applying\n", time.Since(start).Round(time.Second), d.Round(time.Millisecond))
			lat = append(lat, d)
		}
	})
	time.Sleep(time.Until(start.Add(*window)))
	wg.Wait()
	if probeErr != nil {
		return probeErr
	}
	// The rate is counted from the second second on: the first holds the burst.
	from := start.Add(time.Second)
	a := calls.since(from)
	secs := time.Since(from).Seconds()
	rateA := float64(a) / secs
	st := sb.Stats()
	invited, err := countDone(ctx, m, orgA.id, "add_tags")
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "engine\tbacklog A\twindow\tA's calls\tA's rate\tof budget %v/s\tof Lever's %v/s\t429s\tB probes\tB→CP-Sent p50\tmax\t\n", lever.BudgetRate, lever.DefaultRateLimit)
	fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%.2f/s\t%.0f%%\t%.0f%%\t%d\t%d\t%s\t%s\t\n", be.name, *n, window.Round(time.Second), a, rateA,
		100*rateA/float64(lever.BudgetRate), 100*rateA/float64(lever.DefaultRateLimit), st.RateLimited, len(lat),
		percentile(lat, 50).Round(time.Millisecond), percentile(lat, 100).Round(time.Millisecond))
	w.Flush()
	fmt.Fprintf(e.stdout, "(A's rate counts its Lever calls from second 1 to the end; %d of A's candidates were tagged CP-Sent in the window; at this rate the backlog of %d needs about %.0f min, 3 calls each)\n",
		invited, *n, float64(*n)*3/rateA/60)
	return nil
}

// callLog counts the sandbox API calls made with one account's key.
type callLog struct {
	mu    sync.Mutex
	from  time.Time
	times []time.Time
}

func (c *callLog) start(t time.Time) {
	c.mu.Lock()
	c.from = t
	c.mu.Unlock()
}

// wrap counts the /v1 requests that authenticate with key before h answers them.
func (c *callLog) wrap(h http.Handler, key string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, _, ok := r.BasicAuth(); ok && user == key && len(r.URL.Path) > 3 && r.URL.Path[:4] == "/v1/" {
			c.mu.Lock()
			if !c.from.IsZero() {
				c.times = append(c.times, time.Now())
			}
			c.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// since counts the calls made at or after t.
func (c *callLog) since(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, x := range c.times {
		if !x.Before(t) {
			n++
		}
	}
	return n
}
