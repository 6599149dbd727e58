package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// TestSmoothUpsamplersRemoveFrameBuzz decodes a latent that is constant in
// time: with freshly drawn up-samplers the decoder's band signals repeat
// with the latent frame's period (a buzz at the frame rate), after
// SmoothUpsamplers they are flat away from the edges; each up-sampler's
// taps then sum to the same value for every output phase, and the weight
// norm still equals weight_g.
func TestSmoothUpsamplersRemoveFrameBuzz(t *testing.T) {
	cfg, _ := Preset("tiny")
	cfg.UseNoise = false
	ripple := func(smooth bool) float64 {
		m, err := New(cfg, rand.New(rand.NewPCG(3, 4)))
		if err != nil {
			t.Fatal(err)
		}
		if smooth {
			m.SmoothUpsamplers()
			for _, c := range m.Decoder.ups {
				checkPhaseSums(t, c)
			}
		}
		const frames = 24
		z := core.Zeros(1, cfg.LatentSize, frames)
		for c := range cfg.LatentSize {
			v := float32(math.Sin(float64(c)))
			for f := range frames {
				z.Data()[c*frames+f] = v
			}
		}
		y := m.Decoder.Forward(nil, z, false, nil)
		T := y.Dim(2)
		per := T / frames
		var dev, mag float64
		for b := range y.Dim(1) {
			row := y.Data()[b*T : (b+1)*T]
			mid := row[8*per : 16*per]
			var mean float64
			for _, v := range mid {
				mean += float64(v)
			}
			mean /= float64(len(mid))
			for _, v := range mid {
				dev += (float64(v) - mean) * (float64(v) - mean)
				mag += float64(v) * float64(v)
			}
		}
		return math.Sqrt(dev / mag)
	}
	drawn, smooth := ripple(false), ripple(true)
	t.Logf("ripple of a constant latent's decoding: drawn %.3g, smooth %.3g", drawn, smooth)
	if drawn < 1e-2 {
		t.Errorf("drawn up-samplers: ripple %.3g; the test no longer sees the buzz it guards against", drawn)
	}
	if smooth > 1e-4 {
		t.Errorf("smoothed up-samplers: ripple %.3g, want ≤ 1e-4", smooth)
	}
}

func checkPhaseSums(t *testing.T, c *conv) {
	t.Helper()
	w := c.v
	in, out, k := w.Dim(0), w.Dim(1), w.Dim(2)
	r := k / 2
	d := w.Data()
	for i := range in {
		var norm float64
		for o := range out {
			row := d[(i*out+o)*k : (i*out+o+1)*k]
			for p := 1; p < r; p++ {
				if got, want := row[p]+row[p+r], row[0]+row[r]; math.Abs(float64(got-want)) > 1e-6*math.Abs(float64(want))+1e-9 {
					t.Fatalf("%s: [%d][%d] phase %d sums to %g, phase 0 to %g", c.name, i, o, p, got, want)
				}
			}
			for _, x := range row {
				norm += float64(x) * float64(x)
			}
		}
		if g := float64(c.g.Data()[i]); math.Abs(g-math.Sqrt(norm)) > 1e-5*g {
			t.Fatalf("%s: weight_g[%d] = %g, ‖weight_v‖ = %g", c.name, i, g, math.Sqrt(norm))
		}
	}
}
