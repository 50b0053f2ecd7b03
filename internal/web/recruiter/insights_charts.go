package recruiter

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Charts are drawn by the templates (partials/chart_*.html) from the geometry worked
// out here, in SVG user units: no script, nothing from another site. Each chart is
// drawn from a DataTable, which the page also shows as an HTML table and serves as
// CSV, so that the picture, the table and the download always hold the same numbers.

// chartWidth is the width of every chart's viewBox. The SVG scales to its box, which
// CSS caps, so that text stays readable from a 390 px phone to a desktop.
const chartWidth = 360

// DataTable is the numbers behind one chart.
type DataTable struct {
	ID      string // the chart's name in ?csv= and the table's id
	Caption string
	Head    []string
	Rows    [][]string
	CSVURL  string
}

// writeCSV answers with the table as a CSV download.
func writeCSV(w http.ResponseWriter, name string, t *DataTable) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	cw := csv.NewWriter(w)
	_ = cw.Write(t.Head)
	_ = cw.WriteAll(t.Rows) // WriteAll flushes; a failed write means the client left
}

// BarChart is a horizontal bar chart: one row per item, its value as a bar and in
// words, and optionally the previous period's value as a thinner bar under it.
type BarChart struct {
	Title  string
	Desc   string
	Height int
	Rows   []BarRow
	Table  *DataTable
	Legend bool // the chart compares with the previous period
}

// BarRow is one bar of a BarChart, with its geometry.
type BarRow struct {
	Label     string
	Text      string // the value in words, at the end of the bar
	Y         int    // top of the row
	LabelY    int
	BarY      int
	W         float64 // bar width
	HasPrev   bool
	PrevY     int
	PrevW     float64
	PrevText  string
	TextX     float64
	TextY     int
	TextIn    bool // the value is written inside the end of the bar, which is too long to follow
	PrevTextX float64
	PrevTextY int
}

// barRowHeight is how much height a row of a bar chart takes, with and without a
// previous-period bar.
const (
	barRowHeight     = 48
	barRowHeightPrev = 62
	barMaxWidth      = 356
	charWidth        = 7.6 // the width of a character of a value, roughly, at 14 px
)

// barItem is one value of a bar chart before layout.
type barItem struct {
	label, text string
	value       float64
	prev        *float64
	prevText    string
}

// newBarChart lays out items, scaled to the largest value (or to max when it is
// larger: rates are scaled to 100 %).
func newBarChart(title, desc string, items []barItem, max float64, t *DataTable) *BarChart {
	for _, it := range items {
		max = math.Max(max, it.value)
		if it.prev != nil {
			max = math.Max(max, *it.prev)
		}
	}
	c := &BarChart{Title: title, Desc: desc, Table: t}
	y := 4
	for _, it := range items {
		r := BarRow{Label: shorten(it.label, 44), Text: it.text, Y: y, LabelY: y + 15, BarY: y + 22}
		r.W = scale(it.value, max)
		r.TextX, r.TextY = r.W+5, r.BarY+13
		if tw := float64(len([]rune(it.text))) * charWidth; r.W+5+tw > chartWidth && r.W > tw+10 {
			r.TextX, r.TextIn = r.W-5, true
		}
		h := barRowHeight
		if it.prev != nil {
			c.Legend = true
			r.HasPrev, r.PrevY, r.PrevW, r.PrevText = true, y+42, scale(*it.prev, max), it.prevText
			r.PrevTextX, r.PrevTextY = r.PrevW+5, r.PrevY+9
			h = barRowHeightPrev
		}
		c.Rows = append(c.Rows, r)
		y += h
	}
	c.Height = y + 4
	return c
}

// scale is v as a bar width when max is the full width; a non-zero value always
// shows.
func scale(v, max float64) float64 {
	if max <= 0 || v <= 0 {
		return 0
	}
	return math.Max(1.5, math.Round(v/max*barMaxWidth*10)/10)
}

// ColumnChart is a column chart of weeks: one group of columns per week, one column
// per series.
type ColumnChart struct {
	Title   string
	Desc    string
	Height  int
	Base    int // the y of the axis
	Groups  []ColumnGroup
	Series  []ColumnSeries
	Ticks   []ColumnTick
	Table   *DataTable
	MaxText string
}

// ColumnSeries names a series and its colour class.
type ColumnSeries struct{ Name, Class string }

// ColumnGroup is one week's columns.
type ColumnGroup struct {
	Label   string
	LabelX  float64
	Columns []Column
	Show    bool // label shown (every other one when crowded)
}

// Column is one column of a group.
type Column struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// ColumnTick is a horizontal guide line with its value.
type ColumnTick struct {
	Y    float64
	Text string
}

// newColumnChart lays out groups of values, one per series, over labels.
func newColumnChart(title, desc string, labels []string, series []ColumnSeries, values [][]int, t *DataTable) *ColumnChart {
	const top, base, left = 10, 170, 30
	c := &ColumnChart{Title: title, Desc: desc, Height: base + 24, Base: base, Series: series, Table: t}
	max := 0
	for _, g := range values {
		for _, v := range g {
			if v > max {
				max = v
			}
		}
	}
	step := niceStep(max)
	top4 := step * 4
	if top4 == 0 {
		top4 = 4
		step = 1
	}
	for i := 0; i <= 4; i++ {
		y := float64(base) - float64(i*step)/float64(top4)*float64(base-top)
		c.Ticks = append(c.Ticks, ColumnTick{Y: y, Text: strconv.Itoa(i * step)})
	}
	n := len(labels)
	if n == 0 {
		return c
	}
	slot := float64(chartWidth-left) / float64(n)
	colW := math.Min(12, (slot-4)/float64(len(series)))
	every := 1
	if n > 7 {
		every = 2
	}
	if n > 14 {
		every = 4
	}
	for i, l := range labels {
		x0 := left + float64(i)*slot + (slot-colW*float64(len(series)))/2
		g := ColumnGroup{Label: l, LabelX: left + float64(i)*slot + slot/2, Show: i%every == 0}
		for s, sr := range series {
			v := values[i][s]
			h := float64(v) / float64(top4) * float64(base-top)
			g.Columns = append(g.Columns, Column{X: x0 + float64(s)*colW, Y: float64(base) - h, W: colW - 1, H: h,
				Class: sr.Class, Title: fmt.Sprintf("%s, week of %s: %d", sr.Name, l, v)})
		}
		c.Groups = append(c.Groups, g)
	}
	return c
}

// niceStep is a round tick step so that four steps cover max.
func niceStep(max int) int {
	if max <= 0 {
		return 0
	}
	raw := float64(max) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if s := m * mag; s >= raw {
			return int(math.Max(1, math.Ceil(s)))
		}
	}
	return int(math.Ceil(raw))
}

// humanSeconds writes a duration in seconds in the largest units that fit: "45 s",
// "12 min", "3.5 h", "2.1 days".
func humanSeconds(s int64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d < time.Minute:
		return strconv.FormatInt(s, 10) + " s"
	case d < time.Hour:
		return trimZero(d.Minutes()) + " min"
	case d < 48*time.Hour:
		return trimZero(d.Hours()) + " h"
	}
	return trimZero(d.Hours()/24) + " days"
}

// pct writes part of whole as a percentage, "–" when whole is 0.
func pct(part, whole int) string {
	if whole <= 0 {
		return "–"
	}
	return trimZero(float64(part)*100/float64(whole)) + " %"
}

// shorten cuts s to at most n characters, marking the cut; charts have room for one
// line of label, and their table has the whole text.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
