package main

import (
	"fmt"
	"slices"
	"time"
)

// sample is the outcome of one measured run.
type sample struct {
	rps          float64
	p50, p99     time.Duration
	cpuPerReq    time.Duration // server utime+stime over the run / requests
	requests     int64
	socketErrors int64
	rssBaseKiB   int64 // VmRSS before the idle connections
	rssKiB       int64 // VmRSS after the run (idle: with the connections open)
	hwmKiB       int64 // VmHWM after the run
	perConnBytes float64
	// otherCPU is the CPU used on the machine during the run by neither the
	// server nor wrk, as a fraction of one CPU: other work on a shared machine
	// disturbs the figures, and the report flags runs where it was high.
	otherCPU float64
}

type metricID int

const (
	mRPS metricID = iota
	mP50
	mP99
	mCPU
	mRSSBase
	mRSS
	mPerConn
	mHWM
	mOther
)

// metric describes how one figure is read from a sample and shown.
type metric struct {
	name  string
	unit  string // axis label of the chart
	ratio bool   // the table shows this metric's ratio to the base server
	// zeroMissing: 0 means wrk did not record the figure (its p99 under
	// pipelining), so zeros are left out of the median and range.
	zeroMissing bool
	value       func(sample) float64
	format      func(float64) string
}

var metrics = map[metricID]metric{
	mRPS: {name: "req/s", unit: "requests/s (higher is better)", ratio: true,
		value: func(s sample) float64 { return s.rps }, format: fmtCount},
	mP50: {name: "p50 ms", unit: "latency, ms", zeroMissing: true,
		value: func(s sample) float64 { return ms(s.p50) }, format: fmtMS},
	mP99: {name: "p99 ms", unit: "latency, ms", zeroMissing: true,
		value: func(s sample) float64 { return ms(s.p99) }, format: fmtMS},
	mCPU: {name: "CPU µs/req", unit: "server CPU µs per request (lower is better)", ratio: true,
		value: func(s sample) float64 { return float64(s.cpuPerReq) / float64(time.Microsecond) }, format: fmtFloat},
	mRSSBase: {name: "RSS before", unit: "MiB", value: func(s sample) float64 { return float64(s.rssBaseKiB) / 1024 },
		format: fmtFloat},
	mRSS: {name: "RSS with conns", unit: "MiB", value: func(s sample) float64 { return float64(s.rssKiB) / 1024 },
		format: fmtFloat},
	mPerConn: {name: "KiB/conn", unit: "KiB of RSS per idle connection (lower is better)", ratio: true,
		value: func(s sample) float64 { return s.perConnBytes / 1024 }, format: fmtFloat},
	mOther: {name: "other CPU %", unit: "% of one CPU used by other processes",
		value: func(s sample) float64 { return 100 * s.otherCPU }, format: fmtFloat},
	mHWM: {name: "peak RSS MiB", unit: "peak RSS (VmHWM), MiB (lower is better)", ratio: true,
		value: func(s sample) float64 { return float64(s.hwmKiB) / 1024 }, format: fmtFloat},
}

// summary is the median and range of one metric over the repetitions.
type summary struct {
	median, min, max float64
	n                int
}

func summarize(samples []sample, m metricID) summary {
	var v []float64
	for _, s := range samples {
		if x := metrics[m].value(s); x != 0 || !metrics[m].zeroMissing {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return summary{}
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return summary{median: med, min: v[0], max: v[len(v)-1], n: len(v)}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtCount(v float64) string {
	switch {
	case v >= 100000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 10000:
		return fmt.Sprintf("%.1fk", v/1000)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func fmtMS(v float64) string {
	if v == 0 {
		return "–"
	}
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtFloat(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
