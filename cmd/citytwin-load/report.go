package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// result is the summary of one run.
type result struct {
	Scenario       string            `json:"scenario"`
	Connections    int               `json:"connections"`
	Seconds        float64           `json:"seconds"`
	Requests       uint64            `json:"requests"`
	OK             uint64            `json:"ok"`
	Non2xx         uint64            `json:"non_2xx"`
	Errors         uint64            `json:"errors"`
	RequestsPerSec float64           `json:"requests_per_second"`
	Bytes          int64             `json:"bytes"`
	BytesPerSec    float64           `json:"bytes_per_second"`
	Latency        latency           `json:"latency_ms"`
	Statuses       map[string]uint64 `json:"non_2xx_statuses,omitempty"`
	Failures       []string          `json:"first_failures,omitempty"`
	Target         *target           `json:"target,omitempty"`
	ClientCPU      float64           `json:"client_cpu_percent"`
	LoadAverage    string            `json:"load_average,omitempty"`
	Interrupted    bool              `json:"interrupted,omitempty"`
}

// latency holds quantiles of the answers' latencies, in milliseconds.
type latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// target is the scenario's goal and whether the run met it (every answer
// 2xx, at least MinRPS, p99 under MaxP99).
type target struct {
	MinRPS float64 `json:"min_rps,omitempty"`
	MaxP99 float64 `json:"max_p99_ms,omitempty"`
	Met    bool    `json:"met"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func newResult(l load, t tally, elapsed, cpu time.Duration, interrupted bool) result {
	secs := elapsed.Seconds()
	r := result{
		Scenario:    l.Scenario,
		Connections: l.Connections,
		Seconds:     secs,
		Requests:    t.requests,
		OK:          t.ok,
		Non2xx:      t.non2xx,
		Errors:      t.errors,
		Bytes:       t.bytes,
		Latency: latency{
			P50:  ms(t.hist.Quantile(0.50)),
			P90:  ms(t.hist.Quantile(0.90)),
			P99:  ms(t.hist.Quantile(0.99)),
			P999: ms(t.hist.Quantile(0.999)),
			Max:  ms(t.hist.Max()),
			Mean: ms(t.hist.Mean()),
		},
		Failures:    t.failures,
		LoadAverage: loadAverage(),
		Interrupted: interrupted,
	}
	if secs > 0 {
		r.RequestsPerSec = float64(t.requests) / secs
		r.BytesPerSec = float64(t.bytes) / secs
		r.ClientCPU = 100 * cpu.Seconds() / secs
	}
	for s, n := range t.statuses {
		if r.Statuses == nil {
			r.Statuses = map[string]uint64{}
		}
		r.Statuses[strconv.Itoa(s)] = n
	}
	if sc, ok := scenarioNamed(l.Scenario); ok && (sc.MinRPS > 0 || sc.MaxP99 > 0) {
		met := t.requests > 0 && r.Non2xx == 0 && r.Errors == 0 && r.RequestsPerSec >= sc.MinRPS
		if sc.MaxP99 > 0 {
			met = met && r.Latency.P99 < sc.MaxP99
		}
		r.Target = &target{MinRPS: sc.MinRPS, MaxP99: sc.MaxP99, Met: met}
	}
	return r
}

// loadAverage is the 1, 5 and 15 minute load average of the machine, or
// "" where /proc/loadavg is missing.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// report is the summary of all runs.
type report struct {
	URL         string     `json:"url"`
	Seed        uint64     `json:"seed"`
	Duration    string     `json:"duration"`
	Warmup      string     `json:"warmup"`
	Gzip        bool       `json:"gzip"`
	Bounds      [4]float64 `json:"bounds"`
	Centre      [2]float64 `json:"centre"`
	SigmaM      float64    `json:"sigma_m"`
	Codes       int        `json:"codes_sampled,omitempty"`
	CPUs        int        `json:"cpus"`
	GOMAXPROCS  int        `json:"gomaxprocs"`
	LoadBefore  string     `json:"load_average_before,omitempty"`
	LoadAfter   string     `json:"load_average_after,omitempty"`
	Started     time.Time  `json:"started"`
	Results     []result   `json:"results"`
	Interrupted bool       `json:"interrupted,omitempty"`
}

// failed is the number of measured requests that failed.
func (r *report) failed() uint64 {
	var n uint64
	for _, res := range r.Results {
		n += res.Non2xx + res.Errors
	}
	return n
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints one line per run and the failures seen.
func (r *report) writeTable(w io.Writer) error {
	fmt.Fprintf(w, "citytwin-load %s, %s per run after %s warm-up, seed %d, gzip %v; %d CPUs, GOMAXPROCS %d\n",
		r.URL, r.Duration, r.Warmup, r.Seed, r.Gzip, r.CPUs, r.GOMAXPROCS)
	fmt.Fprintf(w, "city bounds %.5f,%.5f,%.5f,%.5f; targets around %.4f,%.4f (sigma %.0f m)", r.Bounds[0], r.Bounds[1], r.Bounds[2], r.Bounds[3], r.Centre[0], r.Centre[1], r.SigmaM)
	if r.Codes > 0 {
		fmt.Fprintf(w, "; %d codes sampled", r.Codes)
	}
	fmt.Fprintf(w, "\nload average before %s, after %s\n\n", r.LoadBefore, r.LoadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tconns\trequests\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tMB/s\tnon-2xx\terrors\ttarget\tgen CPU\tload avg\t")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t%d\t%s\t%.0f%%\t%s\t\n",
			res.Scenario, res.Connections, res.Requests, res.RequestsPerSec,
			res.Latency.P50, res.Latency.P90, res.Latency.P99, res.Latency.Max,
			res.BytesPerSec/1e6, res.Non2xx, res.Errors, res.Target.String(), res.ClientCPU, res.LoadAverage)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Results {
		for _, f := range res.Failures {
			fmt.Fprintf(w, "  %s/%d: %s\n", res.Scenario, res.Connections, f)
		}
	}
	if r.Interrupted {
		fmt.Fprintln(w, "interrupted: the last run is partial")
	}
	return nil
}

// String describes the target and whether it was met; "-" for none.
func (t *target) String() string {
	if t == nil {
		return "-"
	}
	var goal []string
	if t.MinRPS > 0 {
		goal = append(goal, fmt.Sprintf(">=%.0f/s", t.MinRPS))
	}
	if t.MaxP99 > 0 {
		goal = append(goal, fmt.Sprintf("p99<%gms", t.MaxP99))
	}
	verdict := "MISSED"
	if t.Met {
		verdict = "met"
	}
	return verdict + " " + strings.Join(goal, ",")
}
