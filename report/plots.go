package report

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/kagen-ai/kagen/internal/atomicfile"
)

// series is one named set of points.
type series struct {
	name   string
	x, y   []float64
	line   bool
	points bool
}

var palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{214, 39, 40, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{148, 103, 189, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{23, 190, 207, 255},
}

// savePlot draws series on labelled axes and writes an 800x500 px PNG.
func savePlot(path, title, xlabel, ylabel string, ss []series, diagonal bool) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	for i, s := range ss {
		pts := make(plotter.XYs, len(s.x))
		for j := range s.x {
			pts[j].X, pts[j].Y = s.x[j], s.y[j]
		}
		c := palette[i%len(palette)]
		if s.line {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %w", title, err)
			}
			l.Color = c
			l.Width = vg.Points(1.5)
			p.Add(l)
			if !s.points {
				p.Legend.Add(s.name, l)
			}
		}
		if s.points || !s.line {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %w", title, err)
			}
			sc.Color = c
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(3)
			p.Add(sc)
			p.Legend.Add(s.name, sc)
		}
	}
	if diagonal {
		// A plot without finite points has infinite bounds, and no line
		// can be drawn between them: the diagonal is left out.
		lo, hi := p.X.Min, p.X.Max
		if d, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}); err == nil {
			d.Color = color.Gray{150}
			d.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
			p.Add(d)
			p.Legend.Add("predicted = measured", d)
		}
	}
	// 800 px at 96 dpi, written atomically as every output is.
	wt, err := p.WriterTo(8.333*vg.Inch, 5.208*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("plot %s: %w", title, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("plot %s: %w", title, err)
	}
	return atomicfile.Write(path, buf.Bytes())
}
