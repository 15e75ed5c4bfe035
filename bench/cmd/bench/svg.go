package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units (pixels).
const (
	panelW, panelH = 460, 300
	padL, padR     = 64, 12
	padT, padB     = 40, 56
	legendH        = 28
)

// serverColors gives every server a fixed colour across all charts; uringd's
// is the one that stands out.
var serverColors = map[string]string{
	"uringd": "#d62728", "cref": "#7f7f7f", "gnet": "#1f77b4",
	"fasthttp": "#2ca02c", "nethttp": "#9467bd", "iouringgo": "#ff7f0e",
}

// drawChart draws one scenario as side-by-side panels (one per chart metric)
// of grouped bars: a group per case, a bar per server at its median, with a
// whisker from min to max. It needs nothing but fmt: the report stays
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
	w, h := panelW*len(sc.chart), panelH+legendH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" `+
		`font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	for i, m := range sc.chart {
		drawPanel(&b, float64(i*panelW), sc, m, shown, results)
	}
	drawLegend(&b, shown)
	b.WriteString("</svg>\n")
	return b.String()
}

func drawPanel(b *strings.Builder, x0 float64, sc scenario, m metricID, shown []*server, results map[resultKey][]sample) {
	met := metrics[m]
	top := 0.0
	for _, lc := range sc.cases {
		for _, s := range shown {
			top = math.Max(top, summarize(results[resultKey{sc.id, lc.label, s.name}], m).max)
		}
	}
	step, ymax := niceScale(top)
	plotW, plotH := float64(panelW-padL-padR), float64(panelH-padT-padB)
	px, py := x0+padL, float64(padT)
	y := func(v float64) float64 { return py + plotH - v/ymax*plotH }
	fmt.Fprintf(b, `<text x="%.1f" y="18" font-size="13" font-weight="bold">%s — %s</text>`+"\n",
		x0+padL, esc(sc.title), esc(met.name))
	fmt.Fprintf(b, `<text x="%.1f" y="32" fill="#555">%s</text>`+"\n", x0+padL, esc(met.unit))
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
			if barW >= 18 {
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%s</text>`+"\n",
					bx+barW/2, y(sm.max)-3, esc(met.format(sm.median)))
			}
		}
	}
	fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="black"/>`+"\n", px, px+plotW, py+plotH, py+plotH)
}

func drawLegend(b *strings.Builder, shown []*server) {
	x := float64(padL)
	for _, s := range shown {
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="12" height="12" fill="%s"/>`+"\n", x, panelH+6, serverColors[s.id])
		fmt.Fprintf(b, `<text x="%.1f" y="%d">%s</text>`+"\n", x+16, panelH+16, esc(s.name))
		x += 28 + 7*float64(len(s.name))
	}
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
