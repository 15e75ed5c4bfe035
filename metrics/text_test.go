package metrics

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// parse reads b with Prometheus' own text parser, which refuses what a
// scraper would (a second TYPE line, bad names or escapes, buckets out of
// order, a sample of another family in the middle of one).
func parse(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	require.NoError(t, err, "%s", b)
	return fams
}

// value is the sample of fam whose labels include want (exactly one).
func value(t *testing.T, fam *dto.MetricFamily, want ...string) float64 {
	t.Helper()
	var found []float64
	for _, m := range fam.Metric {
		if hasLabels(m, want...) {
			found = append(found, sampleValue(m))
		}
	}
	require.Len(t, found, 1, "%s%v", fam.GetName(), want)
	return found[0]
}

func hasLabels(m *dto.Metric, kv ...string) bool {
	for i := 0; i < len(kv); i += 2 {
		ok := false
		for _, l := range m.Label {
			ok = ok || l.GetName() == kv[i] && l.GetValue() == kv[i+1]
		}
		if !ok {
			return false
		}
	}
	return true
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return math.NaN()
}

// fieldStats is 3 workers' Stats whose every counter differs from every
// other (worker i, field j: 1000*(i+1) + j), and their total.
func fieldStats() uringd.Stats {
	st := uringd.Stats{Workers: make([]uringd.WorkerStats, 3)}
	for i := range st.Workers {
		v := reflect.ValueOf(&st.Workers[i]).Elem()
		for j := 0; j < v.NumField(); j++ {
			if v.Field(j).Kind() == reflect.Uint64 {
				v.Field(j).SetUint(uint64(1000*(i+1) + j))
			}
		}
		st.Total.Add(st.Workers[i])
	}
	return st
}

// Every family of the table parses with the type it declares, and a
// per-worker family's series, one per worker, add up to the total.
func TestTableParsesAndWorkersSumToTotal(t *testing.T) {
	st := fieldStats()
	var w textWriter
	writeStats(&w, stats, &st)
	fams := parse(t, w.b)
	require.Len(t, fams, len(stats), "one family per table entry, none split or merged")
	for _, f := range stats {
		fam := fams[f.name]
		require.NotNil(t, fam, f.name)
		assert.Equal(t, strings.ToUpper(string(f.typ)), fam.GetType().String(), f.name)
		assert.NotEmpty(t, fam.GetHelp(), f.name)
		if f.typ == Counter {
			assert.True(t, strings.HasSuffix(f.name, "_total"), "counter %s must end in _total", f.name)
		} else {
			assert.False(t, strings.HasSuffix(f.name, "_total"), "gauge %s must not end in _total", f.name)
		}
		for _, m := range f.members {
			var kv []string
			if f.label != "" {
				kv = []string{f.label, m.value}
			}
			for _, l := range m.labels {
				kv = append(kv, l.Name, l.Value)
			}
			if f.scope == total {
				assert.Equal(t, float64(m.get(&st.Total)), value(t, fam, kv...), "%s %v", f.name, kv)
				continue
			}
			var sum float64
			for i := range st.Workers {
				v := value(t, fam, append(kv, "worker", string(rune('0'+i)))...)
				assert.Equal(t, float64(m.get(&st.Workers[i])), v, "%s worker %d", f.name, i)
				sum += v
			}
			assert.Equal(t, float64(m.get(&st.Total)), sum, "%s: workers sum to the total", f.name)
		}
	}
}

// Every counter of WorkerStats is exported: one that is set alone shows
// up in some series (the arrays, Responses and Durations, are checked by
// TestResponsesAndDurationsExported). A new Stats field without its line in the table
// fails here, naming it.
func TestEveryStatsFieldExported(t *testing.T) {
	typ := reflect.TypeFor[uringd.WorkerStats]()
	for j := 0; j < typ.NumField(); j++ {
		if typ.Field(j).Type.Kind() != reflect.Uint64 {
			continue
		}
		const mark = 987654321
		st := uringd.Stats{Workers: make([]uringd.WorkerStats, 1)}
		reflect.ValueOf(&st.Workers[0]).Elem().Field(j).SetUint(mark)
		st.Total = st.Workers[0]
		var w textWriter
		writeStats(&w, stats, &st)
		found := 0
		for _, fam := range parse(t, w.b) {
			for _, m := range fam.Metric {
				// DurationSum is nanoseconds: the histogram's _sum in seconds.
				if sampleValue(m) == mark || m.Histogram != nil && m.Histogram.GetSampleSum() == mark/1e9 {
					found++
				}
			}
		}
		assert.Equal(t, 1, found, "WorkerStats.%s: want exactly one series for it in the table (table.go)", typ.Field(j).Name)
	}
}

// The helpers the lead's coming Stats fields need: a histogram, a labelled
// gauge, a counter past 2^53, and help and label values that need escaping,
// all read back by the parser as they were written.
func TestHelpersOnSyntheticValues(t *testing.T) {
	bounds := []float64{0.001, 0.01, 0.1, 1}
	fams := []family{
		histogram("t_request_duration_seconds", "Request time.", perWorker, func(s *ws) HistogramValue {
			// Counts from fields: worker i has Requests=i+1 etc.
			return HistogramValue{Bounds: bounds, Counts: []uint64{s.Requests, s.Accepted, 0, s.Open, s.Panics}, Sum: float64(s.BytesIn) / 4}
		}),
		histogram("t_short_counts", "Counts without the overflow slot.", total, func(s *ws) HistogramValue {
			return HistogramValue{Bounds: bounds, Counts: []uint64{1, 2}, Sum: 0.5}
		}),
		gaugeBy("t_queue_depth", "Queued \\ waiting\nfor a goroutine.", "queue", total,
			by(`odd "name" \ with`+"\nnewline", func(s *ws) uint64 { return s.Open }),
			by("plain", func(s *ws) uint64 { return s.Rejected }),
		),
		counter("t_big_total", "Past 2^53.", total, func(s *ws) uint64 { return s.BytesOut }),
		counterBy("t_responses_total", "Two labels a member.", "", perWorker,
			byLabels(func(s *ws) uint64 { return s.Requests }, "class", "2xx", "handler", "plain"),
			byLabels(func(s *ws) uint64 { return s.Panics }, "class", "5xx", "handler", "blocking"),
		),
	}
	st := uringd.Stats{Workers: []uringd.WorkerStats{
		{Requests: 1, Accepted: 2, Open: 3, Panics: 4, BytesIn: 10},
		{Requests: 5, Accepted: 0, Open: 1, Panics: 0, BytesIn: 2},
	}}
	for i := range st.Workers {
		st.Total.Add(st.Workers[i])
	}
	st.Total.Rejected = 7
	st.Total.BytesOut = 1<<60 + 1 // not a float64: must not be rounded
	var w textWriter
	writeStats(&w, fams, &st)
	got := parse(t, w.b)

	h := got["t_request_duration_seconds"]
	require.NotNil(t, h)
	require.Equal(t, dto.MetricType_HISTOGRAM, h.GetType())
	require.Len(t, h.Metric, 2)
	for i, m := range h.Metric {
		s := st.Workers[i]
		require.True(t, hasLabels(m, "worker", string(rune('0'+i))))
		hist := m.Histogram
		want := []uint64{s.Requests, s.Requests + s.Accepted, s.Requests + s.Accepted, s.Requests + s.Accepted + s.Open}
		var cum []uint64
		var les []float64
		for _, b := range hist.Bucket {
			cum = append(cum, b.GetCumulativeCount())
			les = append(les, b.GetUpperBound())
		}
		// The parser keeps +Inf as a bucket of its own.
		assert.Equal(t, append(bounds, math.Inf(1)), les)
		assert.Equal(t, append(want, want[3]+s.Panics), cum)
		assert.Equal(t, want[3]+s.Panics, hist.GetSampleCount())
		assert.Equal(t, float64(s.BytesIn)/4, hist.GetSampleSum())
	}
	short := got["t_short_counts"].Metric[0].Histogram
	assert.Equal(t, uint64(3), short.GetSampleCount(), "missing counts read as zero")
	assert.Equal(t, uint64(3), short.Bucket[len(short.Bucket)-1].GetCumulativeCount())

	q := got["t_queue_depth"]
	assert.Equal(t, "Queued \\ waiting\nfor a goroutine.", q.GetHelp())
	assert.Equal(t, float64(4), value(t, q, "queue", `odd "name" \ with`+"\nnewline"))
	assert.Equal(t, float64(7), value(t, q, "queue", "plain"))

	assert.Contains(t, string(w.b), "\nt_big_total 1152921504606846977\n", "a counter is written exactly")

	r := got["t_responses_total"]
	require.Len(t, r.Metric, 4, "two members for each of two workers")
	for i, s := range st.Workers {
		wk := string(rune('0' + i))
		assert.Equal(t, float64(s.Requests), value(t, r, "worker", wk, "class", "2xx", "handler", "plain"))
		assert.Equal(t, float64(s.Panics), value(t, r, "worker", wk, "class", "5xx", "handler", "blocking"))
	}
}

func TestAppendFloatSpecialValues(t *testing.T) {
	var w textWriter
	w.family("t", "x", Gauge)
	for _, v := range []float64{math.Inf(1), math.Inf(-1), math.NaN(), 0.25, -3, 1e300} {
		w.b = w.b[:0]
		w.family("t", "x", Gauge)
		w.float("t", nil, v)
		got := value(t, parse(t, w.b)["t"])
		if math.IsNaN(v) {
			assert.True(t, math.IsNaN(got))
			continue
		}
		assert.Equal(t, v, got)
	}
}

// Any label value and help text survives the escaping: the parser reads
// back what was written.
func FuzzEscaping(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b`, `a\b`, "a\nb", `\n`, `"\"`, "tab\there", "é ☃"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("the format is UTF-8")
		}
		var w textWriter
		w.family("f", s, Gauge)
		w.uint("f", []Label{{"l", s}}, 1)
		fam := parse(t, w.b)["f"]
		require.NotNil(t, fam)
		// The parser skips the blanks between the name and the help text, so
		// help starting with blanks reads back without them (uringd's help
		// texts are constants that do not).
		assert.Equal(t, strings.TrimLeft(s, " \t"), fam.GetHelp())
		require.Len(t, fam.Metric, 1)
		assert.Equal(t, s, fam.Metric[0].Label[0].GetValue())
	})
}

// Each kind and class of Responses and each bucket of Durations is a series
// of its own.
func TestResponsesAndDurationsExported(t *testing.T) {
	st := uringd.Stats{Workers: make([]uringd.WorkerStats, 1)}
	w0 := &st.Workers[0]
	n := uint64(1)
	for k := range w0.Responses {
		for c := range w0.Responses[k] {
			w0.Responses[k][c] = n
			n++
		}
	}
	for i := range w0.Durations {
		w0.Durations[i] = 100 + uint64(i)
	}
	st.Total = *w0
	var w textWriter
	writeStats(&w, stats, &st)
	fams := parse(t, w.b)
	resp := fams["uringd_responses_total"]
	require.NotNil(t, resp)
	seen := map[float64]bool{}
	for _, m := range resp.Metric {
		seen[sampleValue(m)] = true
	}
	for v := uint64(1); v < n; v++ {
		assert.True(t, seen[float64(v)], "Responses value %d exported", v)
	}
	h := fams["uringd_request_duration_seconds"]
	require.NotNil(t, h)
	var total uint64
	for _, c := range w0.Durations {
		total += c
	}
	assert.Equal(t, total, h.Metric[0].Histogram.GetSampleCount())
}
