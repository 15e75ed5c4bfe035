package metrics

import (
	"math"
	"strconv"
	"strings"
)

// ContentType is what /metrics answers: the Prometheus text exposition
// format, version 0.0.4, which every Prometheus-compatible scraper reads.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Type is a metric family's TYPE.
type Type string

const (
	Counter   Type = "counter"   // only grows (rate() it); names end in _total
	Gauge     Type = "gauge"     // a level now (connections open, bytes mapped)
	Histogram Type = "histogram" // cumulative buckets, _sum and _count
)

// Label is one name="value" pair of a series.
type Label struct{ Name, Value string }

// textWriter appends the text format to a byte slice. It checks nothing
// itself: families come from the package's own tables, and the tests parse
// everything it writes with Prometheus' parser, which would refuse a
// second TYPE line, a bad name or a bucket out of order.
type textWriter struct {
	b []byte
}

// family starts a family: its HELP and TYPE lines. Every sample of the
// family must follow before the next family starts.
func (w *textWriter) family(name, help string, t Type) {
	w.b = append(w.b, "# HELP "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = appendEscaped(w.b, help, false)
	w.b = append(w.b, "\n# TYPE "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, t...)
	w.b = append(w.b, '\n')
}

// series starts one series line: name{labels} and the space before the
// value. extra, when its Name is set, is one more label after labels (a
// histogram's le).
func (w *textWriter) series(name string, labels []Label, extra Label) {
	w.b = append(w.b, name...)
	if len(labels) > 0 || extra.Name != "" {
		w.b = append(w.b, '{')
		for i, l := range labels {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendLabel(w.b, l)
		}
		if extra.Name != "" {
			if len(labels) > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendLabel(w.b, extra)
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ' ')
}

// float writes one sample of a float value.
func (w *textWriter) float(name string, labels []Label, v float64) {
	w.series(name, labels, Label{})
	w.b = appendFloat(w.b, v)
	w.b = append(w.b, '\n')
}

// uint writes one sample of an integer value, in decimal: exact at any
// size (a counter past 2^53 is not rounded on the way out).
func (w *textWriter) uint(name string, labels []Label, v uint64) {
	w.series(name, labels, Label{})
	w.b = strconv.AppendUint(w.b, v, 10)
	w.b = append(w.b, '\n')
}

// HistogramValue is a histogram as a server counts it: Counts[i] is the
// number of observations v with Bounds[i-1] < v <= Bounds[i] (not
// cumulative: one increment per observation), and Counts[len(Bounds)] the
// ones above the last bound. Bounds are ascending.
type HistogramValue struct {
	Bounds []float64
	Counts []uint64
	Sum    float64
}

// histogram writes the series of one histogram: a cumulative _bucket per
// bound and +Inf, then _sum and _count. Counts shorter than Bounds+1 read as
// zeros, so a Stats array sized for the bounds needs no overflow slot.
func (w *textWriter) histogram(name string, labels []Label, h HistogramValue) {
	var cum uint64
	for i, bound := range h.Bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		w.bucket(name, labels, strconv.FormatFloat(bound, 'g', -1, 64), cum)
	}
	if len(h.Counts) > len(h.Bounds) {
		cum += h.Counts[len(h.Bounds)]
	}
	w.bucket(name, labels, "+Inf", cum)
	w.float(name+"_sum", labels, h.Sum)
	w.uint(name+"_count", labels, cum)
}

func (w *textWriter) bucket(name string, labels []Label, le string, cum uint64) {
	w.series(name+"_bucket", labels, Label{Name: "le", Value: le})
	w.b = strconv.AppendUint(w.b, cum, 10)
	w.b = append(w.b, '\n')
}

func appendLabel(b []byte, l Label) []byte {
	b = append(b, l.Name...)
	b = append(b, `="`...)
	b = appendEscaped(b, l.Value, true)
	return append(b, '"')
}

// appendEscaped escapes as the format wants: backslash and newline always,
// the double quote in label values only.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !strings.ContainsAny(s, "\\\n\"") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat writes v as Go's ParseFloat and Prometheus read it, with the
// format's spellings of the special values.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
