package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleWrk = `Running 5s test @ http://127.0.0.1:8080/
  1 threads and 40 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   347.61us  102.12us   4.59ms   91.12%
    Req/Sec   115.13k     5.14k  121.87k    78.00%
  Latency Distribution
     50%  333.00us
     75%  360.00us
     90%  400.00us
     99%    1.64ms
  572905 requests in 5.00s, 70.48MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec: 114561.23
Transfer/sec:     14.09MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(sampleWrk)
	require.NoError(t, err)
	assert.Equal(t, int64(572905), r.requests)
	assert.InDelta(t, 114561.23, r.rps, 0.001)
	assert.Equal(t, 333*time.Microsecond, r.p50)
	assert.Equal(t, 1640*time.Microsecond, r.p99)
	assert.Equal(t, int64(3), r.socketErrors)
	assert.Equal(t, int64(3), r.non2xx)
	assert.InDelta(t, 5.0, r.elapsedSeconds, 1e-9)
}

func TestParseWrkRejectsGarbage(t *testing.T) {
	_, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n")
	require.Error(t, err)
}
