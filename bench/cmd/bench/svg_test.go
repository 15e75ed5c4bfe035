package main

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeResults gives every server three samples in every case of sc.
func fakeResults(sc scenario, servers []*server) map[resultKey][]sample {
	res := map[resultKey][]sample{}
	for ci, lc := range sc.cases {
		for si, s := range servers {
			for rep := range 3 {
				f := float64((ci+1)*(si+2)) * (1 + 0.05*float64(rep))
				res[resultKey{sc.id, lc.label, s.name}] = append(res[resultKey{sc.id, lc.label, s.name}],
					sample{rps: 10000 * f, cpuPerReq: time.Duration(f * float64(time.Microsecond)),
						perConnBytes: 100 * f, hwmKiB: int64(1000 * f)})
			}
		}
	}
	return res
}

// TestDrawChartIsWellFormed draws every scenario with every server and checks
// the SVG parses as XML and names each server. Set BENCH_SVG_DIR to keep the
// files for a look.
func TestDrawChartIsWellFormed(t *testing.T) {
	servers := allServers()
	for _, sc := range scenarios(10000) {
		svg := drawChart(sc, servers, fakeResults(sc, servers))
		dec := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			require.NoError(t, err, sc.id)
		}
		for _, s := range servers {
			assert.Contains(t, svg, ">"+esc(s.name)+"<", sc.id)
		}
		if dir := os.Getenv("BENCH_SVG_DIR"); dir != "" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, sc.id+".svg"), []byte(svg), 0o644))
		}
	}
}

func TestNiceScale(t *testing.T) {
	for _, tc := range []struct{ top, step, ymax float64 }{
		{0, 1, 1}, {9.3, 2, 10}, {180000, 50000, 200000}, {0.61, 0.2, 0.8},
	} {
		step, ymax := niceScale(tc.top)
		assert.InDelta(t, tc.step, step, 1e-9, "top %v", tc.top)
		assert.InDelta(t, tc.ymax, ymax, 1e-9, "top %v", tc.top)
	}
}
