package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSummarizeMedianAndRange(t *testing.T) {
	s := summarize([]sample{{rps: 3}, {rps: 1}, {rps: 2}, {rps: 10}}, mRPS)
	assert.Equal(t, summary{median: 2.5, min: 1, max: 10, n: 4}, s)
}

func TestSummarizeSkipsMissingPercentiles(t *testing.T) {
	s := summarize([]sample{{p99: 0}, {p99: 2 * time.Millisecond}, {p99: 4 * time.Millisecond}}, mP99)
	assert.Equal(t, summary{median: 3, min: 2, max: 4, n: 2}, s)
	assert.Equal(t, "–", fmtMS(summarize([]sample{{}}, mP99).median))
}
