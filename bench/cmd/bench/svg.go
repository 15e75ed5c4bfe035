package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units (pixels).
const (
	panelH       = 280
	padL, padR   = 64, 12
	padT, padB   = 40, 28
	titleH       = 26
	legendH      = 28
	barSlot      = 36 // horizontal room per bar, so value labels fit
	minPanelW    = 320
	minGroupW    = 140  // a group is never narrower than this
	maxChartWide = 1000 // wider than this, panels stack vertically
)

// serverColors gives every server a fixed colour across all charts; uringd's
// is the one that stands out.
var serverColors = map[string]string{
	"uringd": "#d62728", "cref": "#7f7f7f", "gnet": "#1f77b4",
	"fasthttp": "#2ca02c", "nethttp": "#9467bd", "nethttp-stream": "#c5b0d5", "iouringgo": "#ff7f0e",
	"celeris": "#8c564b", "celeris-epoll": "#e377c2",
}

// drawChart draws one scenario as panels (one per chart metric) of grouped
// bars: a group per case, a bar per server at its median, with a whisker from
// min to max over the repetitions. It needs nothing but fmt, so the report is
// reproducible without plotting tools.
func drawChart(sc scenario, servers []*server, results map[resultKey][]sample) string {
	var shown []*server // servers with at least one result in this scenario
	for _, s := range servers {
		for _, lc := range sc.cases {
			if len(results[resultKey{sc.id, lc.label, s.name}]) > 0 {
				shown = append(shown, s)
				break
			}
		}
	}
	pw := max(minPanelW, padL+padR+len(sc.cases)*max(minGroupW, len(shown)*barSlot))
	cols, rows := len(sc.chart), 1
	if pw*cols > maxChartWide {
		cols, rows = 1, len(sc.chart)
	}
	w := pw * cols
	legend, legendRows := layoutLegend(shown, w)
	h := titleH + panelH*rows + legendH*legendRows
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" `+
		`font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", padL, esc(sc.title))
	for i, m := range sc.chart {
		x0, y0 := float64((i%cols)*pw), float64(titleH+(i/cols)*panelH)
		drawPanel(&b, x0, y0, float64(pw), sc, m, shown, results)
	}
	for i, s := range shown {
		x, y := legend[i][0], titleH+panelH*rows+legend[i][1]*legendH
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`+"\n", x, y+6, serverColors[s.id])
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", x+16, y+16, esc(s.name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func drawPanel(b *strings.Builder, x0, y0, pw float64, sc scenario, m metricID, shown []*server, results map[resultKey][]sample) {
	met := metrics[m]
	top := 0.0
	for _, lc := range sc.cases {
		for _, s := range shown {
			top = math.Max(top, summarize(results[resultKey{sc.id, lc.label, s.name}], m).max)
		}
	}
	step, ymax := niceScale(top)
	plotW, plotH := pw-padL-padR, float64(panelH-padT-padB)
	px, py := x0+padL, y0+padT
	y := func(v float64) float64 { return py + plotH - v/ymax*plotH }
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="12" font-weight="bold">%s</text>`+"\n",
		px, y0+16, esc(met.name))
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#555">%s</text>`+"\n", px, y0+30, esc(met.unit))
	for v := 0.0; v <= ymax+step/2; v += step {
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", px, px+plotW, y(v), y(v))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n",
			px-4, y(v)+4, esc(met.format(v)))
	}
	if len(shown) == 0 {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#555">no results</text>`+"\n", px+8, py+plotH/2)
		return
	}
	groupW := plotW / float64(len(sc.cases))
	barW := groupW * 0.8 / float64(len(shown))
	for g, lc := range sc.cases {
		gx := px + float64(g)*groupW + groupW*0.1
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
			px+(float64(g)+0.5)*groupW, py+plotH+16, esc(lc.label))
		for i, s := range shown {
			sm := summarize(results[resultKey{sc.id, lc.label, s.name}], m)
			if sm.n == 0 {
				continue
			}
			bx := gx + float64(i)*barW
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				bx+1, y(sm.median), barW-2, py+plotH-y(sm.median), serverColors[s.id],
				esc(s.name), esc(lc.label), esc(met.format(sm.median)))
			if sm.n > 1 {
				cx := bx + barW/2
				fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="black"/>`+"\n", cx, cx, y(sm.min), y(sm.max))
			}
			if barW >= 22 {
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%s</text>`+"\n",
					bx+barW/2, y(sm.max)-3, esc(met.format(sm.median)))
			}
		}
	}
	fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="black"/>`+"\n", px, px+plotW, py+plotH, py+plotH)
}

// layoutLegend places one legend entry per server, left to right, wrapping
// to a new row when the chart's width is used up; it returns each entry's x
// and row, and the number of rows.
func layoutLegend(shown []*server, width int) ([][2]int, int) {
	pos := make([][2]int, len(shown))
	x, row := padL, 0
	for i, s := range shown {
		w := 28 + 7*len(s.name)
		if x+w > width && x > padL {
			x, row = padL, row+1
		}
		pos[i] = [2]int{x, row}
		x += w
	}
	return pos, row + 1
}

// niceScale picks a tick step of 1, 2 or 5 times a power of ten giving at
// most five ticks, and the axis maximum as a whole number of steps.
func niceScale(top float64) (step, ymax float64) {
	if top <= 0 {
		return 1, 1
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 5, 10} {
		if step = f * mag; step >= raw {
			break
		}
	}
	return step, math.Ceil(top/step) * step
}

func esc(s string) string { return html.EscapeString(s) }
