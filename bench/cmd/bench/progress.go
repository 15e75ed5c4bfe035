package main

import (
	"fmt"
	"os"
	"time"
)

// progress prints one line per run with an estimate of the time left. The
// estimate scales the planned seconds still to run by how long the finished
// runs actually took relative to their plan (start-up, builds of wrk's
// connections and checks make runs longer than their load duration).
type progress struct {
	start       time.Time
	planned     float64 // seconds planned for all runs
	plannedDone float64 // seconds planned for the runs finished so far
}

func newProgress() *progress { return &progress{start: time.Now()} }

func (p *progress) plan(seconds float64) { p.planned += seconds }

func (p *progress) done(seconds float64) { p.plannedDone += seconds }

func (p *progress) announce(i, n int, what string) {
	left := p.planned - p.plannedDone
	if p.plannedDone > 0 {
		left *= time.Since(p.start).Seconds() / p.plannedDone
	}
	fmt.Fprintf(os.Stderr, "[%d/%d] %s · ~%s left\n", i, n, what,
		(time.Duration(left) * time.Second).Round(time.Second))
}
