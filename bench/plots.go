/*
Copyright 2026 The Tenantry Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	colOperator = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colCeiling  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colAvail    = color.RGBA{R: 0x98, G: 0xdf, B: 0x8a, A: 0xff}
	colHelm     = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colHeap     = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colGoal     = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}
	colP999     = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
)

// writePlots renders the PNGs the report embeds and returns the names of those written.
func writePlots(dir string, r *Results) ([]string, error) {
	var written []string
	var errs []error
	for _, p := range []struct {
		name string
		fn   func(string, *Results) (bool, error)
	}{
		{"tenants_ready.png", plotReady},
		{"latency_vs_rate.png", plotLatency},
		{"memory_vs_tenants.png", plotMemory},
	} {
		ok, err := p.fn(filepath.Join(dir, p.name), r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
		if ok && err == nil {
			written = append(written, p.name)
		}
	}
	return written, errors.Join(errs...)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// steps turns a cumulative series into a staircase line.
func steps(pts []Point) plotter.XYs {
	xy := make(plotter.XYs, 0, 2*len(pts))
	for i, p := range pts {
		if i > 0 {
			xy = append(xy, plotter.XY{X: p.T, Y: pts[i-1].V})
		}
		xy = append(xy, plotter.XY{X: p.T, Y: p.V})
	}
	return xy
}

func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.Color, dashed bool, width vg.Length) error {
	if len(xy) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = width
	if dashed {
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

func addPoints(p *plot.Plot, name string, xy plotter.XYs, c color.Color, shape draw.GlyphDrawer) error {
	if len(xy) == 0 {
		return nil
	}
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	s.Color = c
	s.Shape = shape
	s.Radius = vg.Points(4)
	p.Add(s)
	if name != "" {
		p.Legend.Add(name, s)
	}
	return nil
}

// saveTiles draws plots side by side (cols per row) into one PNG.
func saveTiles(path string, plots []*plot.Plot, cols int, w, h vg.Length) error {
	rows := (len(plots) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
		for j := range cols {
			if k := i*cols + j; k < len(plots) {
				grid[i][j] = plots[k]
			}
		}
	}
	img := vgimg.New(w*vg.Length(cols), h*vg.Length(rows))
	dc := draw.New(img)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	canvases := plot.Align(grid, t, dc)
	for i := range grid {
		for j := range grid[i] {
			if grid[i][j] != nil {
				grid[i][j].Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func plotReady(path string, r *Results) (bool, error) {
	var plots []*plot.Plot
	for _, pr := range r.Provisioning {
		p := newPlot(fmt.Sprintf("Scenario 1: %d tenants", pr.N), "seconds since the first request", "tenants")
		if c := pr.Ceiling; c != nil {
			if err := addLine(p, fmt.Sprintf("ceiling: objects created (%.1f/s)", c.TenantsPerSec), steps(c.Created), colCeiling, false, vg.Points(2)); err != nil {
				return false, err
			}
			if err := addLine(p, "ceiling: Deployments available", steps(c.Available), colAvail, true, vg.Points(2)); err != nil {
				return false, err
			}
		}
		if mp := pr.Minimal; mp != nil {
			if err := addLine(p, fmt.Sprintf("minimal path: Ready (%.1f/s)", mp.TenantsPerSec), steps(mp.Ready), colAvail, false, vg.Points(2)); err != nil {
				return false, err
			}
		}
		if o := pr.Operator; o != nil {
			if err := addLine(p, fmt.Sprintf("operator: Ready (%.1f/s)", o.TenantsPerSec), steps(o.Ready), colOperator, false, vg.Points(2)); err != nil {
				return false, err
			}
		}
		p.Y.Min = 0
		plots = append(plots, p)
	}
	if len(r.Helm) > 0 {
		p := newPlot(fmt.Sprintf("Scenario 2: %d tenants, operator vs helm", r.Helm[0].Tenants), "seconds since the first request", "tenants")
		if o := r.HelmOperator; o != nil {
			if err := addLine(p, fmt.Sprintf("operator: Ready (%.2f/s)", o.TenantsPerSec), steps(o.Ready), colOperator, false, vg.Points(2)); err != nil {
				return false, err
			}
		}
		for i, hr := range r.Helm {
			if err := addLine(p, fmt.Sprintf("helm install --wait, %d at a time (%.2f/s)", hr.Parallel, hr.TenantsPerSec), steps(hr.Ready), colHelm, i > 0, vg.Points(2)); err != nil {
				return false, err
			}
		}
		p.Y.Min = 0
		plots = append(plots, p)
	}
	if len(plots) == 0 {
		return false, nil
	}
	cols := min(len(plots), 3)
	return true, saveTiles(path, plots, cols, 14*vg.Centimeter, 10*vg.Centimeter)
}

// logFloor keeps log-scale plots away from zero.
func logFloor(v float64) float64 {
	if math.IsNaN(v) || v < 0.1 {
		return 0.1
	}
	return v
}

func plotLatency(path string, r *Results) (bool, error) {
	c := r.Callbacks
	if c == nil || len(c.Steps) == 0 {
		return false, nil
	}
	lat := newPlot("Scenario 3: newInstance answer latency vs offered rate", "offered calls/s (log)", "ms (log)")
	lat.X.Scale, lat.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	lat.Y.Scale, lat.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	var p50, p99, p999, ack99, shed99 plotter.XYs
	for _, s := range c.Steps {
		p50 = append(p50, plotter.XY{X: s.Rate, Y: logFloor(s.AllLatency.P50)})
		p99 = append(p99, plotter.XY{X: s.Rate, Y: logFloor(s.AllLatency.P99)})
		p999 = append(p999, plotter.XY{X: s.Rate, Y: logFloor(s.AllLatency.P999)})
		if s.Acked > 0 {
			ack99 = append(ack99, plotter.XY{X: s.Rate, Y: logFloor(s.AckLatency.P99)})
		}
		if s.Retryable > 0 {
			shed99 = append(shed99, plotter.XY{X: s.Rate, Y: logFloor(s.RetryableLatency.P99)})
		}
	}
	for _, l := range []struct {
		name   string
		xy     plotter.XYs
		c      color.Color
		dashed bool
	}{
		{"all answers p50", p50, colCeiling, false},
		{"all answers p99", p99, colOperator, false},
		{"all answers p99.9", p999, colP999, false},
		{"000000 p99", ack99, colOperator, true},
		{"000005 p99", shed99, colHelm, true},
	} {
		if err := addLine(lat, l.name, l.xy, l.c, l.dashed, vg.Points(2)); err != nil {
			return false, err
		}
		if err := addPoints(lat, "", l.xy, l.c, draw.CircleGlyph{}); err != nil {
			return false, err
		}
	}
	top := goalP99At500Ms
	for _, s := range c.Steps {
		top = max(top, s.AllLatency.P999, s.AllLatency.Max)
	}
	lat.Y.Min, lat.Y.Max = 1, top*40 // room above the lines for the legend
	if err := addPoints(lat, "goal: p99 ≤ 50 ms at 50/s, ≤ 1 s at 500/s", plotter.XYs{{X: 50, Y: goalP99At50Ms}, {X: 500, Y: goalP99At500Ms}}, colGoal, draw.CrossGlyph{}); err != nil {
		return false, err
	}

	out := newPlot("Scenario 3: answers by result vs offered rate", "offered calls/s (log)", "% of calls")
	out.X.Scale, out.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	var acked, retry, errs plotter.XYs
	for _, s := range c.Steps {
		n := float64(max(s.Sent, 1))
		acked = append(acked, plotter.XY{X: s.Rate, Y: 100 * float64(s.Acked) / n})
		retry = append(retry, plotter.XY{X: s.Rate, Y: 100 * float64(s.Retryable) / n})
		other := s.Transport
		for _, v := range s.OtherCodes {
			other += v
		}
		errs = append(errs, plotter.XY{X: s.Rate, Y: 100 * float64(other) / n})
	}
	for _, l := range []struct {
		name string
		xy   plotter.XYs
		c    color.Color
	}{
		{"000000 acknowledged", acked, colOperator},
		{"000005 resend later (shed or failed)", retry, colHelm},
		{"other codes, transport errors", errs, colGoal},
	} {
		if err := addLine(out, l.name, l.xy, l.c, false, vg.Points(2)); err != nil {
			return false, err
		}
		if err := addPoints(out, "", l.xy, l.c, draw.CircleGlyph{}); err != nil {
			return false, err
		}
	}
	out.Y.Min, out.Y.Max = 0, 105
	out.Legend.Left = false
	return true, saveTiles(path, []*plot.Plot{lat, out}, 2, 15*vg.Centimeter, 11*vg.Centimeter)
}

func plotMemory(path string, r *Results) (bool, error) {
	s := r.Scale
	if s == nil || len(s.Steps) == 0 {
		return false, nil
	}
	p := newPlot(fmt.Sprintf("Scenario 5: operator memory vs tenants (to %d)", s.Tenants), "tenants (all Ready, operator idle)", "MiB")
	var rss, heap plotter.XYs
	top, maxT := goalRSSMiB, 0.0
	for _, o := range s.Steps {
		rss = append(rss, plotter.XY{X: float64(o.Tenants), Y: o.RSSMiB})
		heap = append(heap, plotter.XY{X: float64(o.Tenants), Y: o.HeapInuseMiB})
		top, maxT = max(top, o.RSSMiB), max(maxT, float64(o.Tenants))
	}
	for _, l := range []struct {
		name string
		xy   plotter.XYs
		c    color.Color
	}{{"RSS", rss, colOperator}, {"Go heap in use", heap, colHeap}} {
		if err := addLine(p, l.name, l.xy, l.c, false, vg.Points(2)); err != nil {
			return false, err
		}
		if err := addPoints(p, "", l.xy, l.c, draw.CircleGlyph{}); err != nil {
			return false, err
		}
	}
	if s.ColdSettledRSSMiB > 0 {
		if err := addPoints(p, fmt.Sprintf("RSS after a restart (%.0f MiB)", s.ColdSettledRSSMiB), plotter.XYs{{X: maxT, Y: s.ColdSettledRSSMiB}}, colP999, draw.TriangleGlyph{}); err != nil {
			return false, err
		}
		top = max(top, s.ColdSettledRSSMiB)
	}
	if err := addLine(p, "goal: 128 MiB RSS at 10,000 tenants", plotter.XYs{{X: 0, Y: goalRSSMiB}, {X: max(maxT, goalScaleTenants), Y: goalRSSMiB}}, colGoal, true, vg.Points(1.5)); err != nil {
		return false, err
	}
	if maxT < goalScaleTenants && len(rss) >= 2 {
		// Where the measured slope leads at the goal's size (dotted): an extrapolation, labelled so.
		a, b := rss[0], rss[len(rss)-1]
		slope := (b.Y - a.Y) / (b.X - a.X)
		at := b.Y + slope*(goalScaleTenants-b.X)
		if err := addLine(p, fmt.Sprintf("RSS extrapolated linearly: %.0f MiB at 10,000", at), plotter.XYs{b, {X: goalScaleTenants, Y: at}}, colOperator, true, vg.Points(1)); err != nil {
			return false, err
		}
		top = max(top, at)
	}
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, top*1.5 // room above the lines for the legend
	return true, saveTiles(path, []*plot.Plot{p}, 1, 16*vg.Centimeter, 11*vg.Centimeter)
}
