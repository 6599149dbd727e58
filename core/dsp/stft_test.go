package dsp

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// naiveSTFT is the float64 textbook STFT magnitude, frame-major.
func naiveSTFT(x []float64, n, hop int, center, normalized bool) [][]float64 {
	w := HannWindow(n)
	if center {
		p := make([]float64, len(x)+n)
		for i := range p {
			j := i - n/2
			if j < 0 {
				j = -j
			}
			if j >= len(x) {
				j = 2*(len(x)-1) - j
			}
			p[i] = x[j]
		}
		x = p
	}
	c := 1.0
	if normalized {
		c = 1 / math.Sqrt(float64(n))
	}
	var out [][]float64
	for start := 0; start+n <= len(x); start += hop {
		row := make([]float64, n/2+1)
		for k := range row {
			var s complex128
			for t := range n {
				s += complex(float64(w[t])*x[start+t], 0) * cmplx.Rect(1, -2*math.Pi*float64((k*t)%n)/float64(n))
			}
			row[k] = c * cmplx.Abs(s)
		}
		out = append(out, row)
	}
	return out
}

func methodName(m dftMethod) string {
	if m.fft {
		return "fft"
	}
	return fmt.Sprintf("gemm%d", m.n1)
}

func TestSTFTMagnitudeMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		n, hop, t      int
		center, normal bool
		methods        []dftMethod
	}{
		{16, 4, 61, true, true, []dftMethod{{n1: 1}, {n1: 2}, {n1: 4}, {n1: 8}, {fft: true}}},
		{64, 16, 300, true, false, []dftMethod{{n1: 1}, {n1: 8}, {n1: 16}, {fft: true}}},
		{32, 8, 77, false, true, []dftMethod{{n1: 4}, {fft: true}}},
		{256, 64, 1000, true, true, []dftMethod{{n1: 16}, {n1: 4}, {fft: true}}},
	}
	for _, c := range cases {
		for _, m := range c.methods {
			t.Run(fmt.Sprintf("n%d_hop%d_T%d_center%v_%s", c.n, c.hop, c.t, c.center, methodName(m)), func(t *testing.T) {
				const signals = 3
				x := core.Randn(rng, signals, c.t)
				cfg := STFTConfig{NFFT: c.n, Hop: c.hop, Center: c.center, Normalized: c.normal, method: &m}
				got := STFTMagnitude(nil, x, cfg)
				frames := cfg.Frames(c.t)
				if want := []int{signals, frames, c.n/2 + 1}; fmt.Sprint(got.Shape()) != fmt.Sprint(want) {
					t.Fatalf("shape %v, want %v", got.Shape(), want)
				}
				for s := range signals {
					want := naiveSTFT(to64(x.Data()[s*c.t:][:c.t]), c.n, c.hop, c.center, c.normal)
					var flat []float64
					for _, r := range want {
						flat = append(flat, r...)
					}
					sz := frames * (c.n/2 + 1)
					if rel, at := relErr(got.Data()[s*sz:][:sz], flat); rel > 2e-6 {
						t.Errorf("signal %d: relative error %.3g at %d (got %g want %g)", s, rel, at, got.Data()[s*sz+at], flat[at])
					}
				}
			})
		}
	}
}
