package dsp

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// naiveDistance is the float64 textbook multiscale distance (rave-spec
// §6.1–6.2) of two batches of signals, built on naiveSTFT.
func naiveDistance(d MultiScaleDistance, x, y []float64, signals int) float64 {
	t := len(x) / signals
	var total float64
	for _, n := range d.Scales {
		var d2, x2, lg, count float64
		for s := range signals {
			sx := naiveSTFT(x[s*t:(s+1)*t], n, n/4, true, d.Normalized)
			sy := naiveSTFT(y[s*t:(s+1)*t], n, n/4, true, d.Normalized)
			for f := range sx {
				for k := range sx[f] {
					a, b := sx[f][k], sy[f][k]
					d2 += (a - b) * (a - b)
					x2 += a * a
					lg += math.Abs(math.Log(a+d.LogEpsilon) - math.Log(b+d.LogEpsilon))
					count++
				}
			}
		}
		if d.Variant == SpectralV1 {
			total += math.Sqrt(d2) / math.Sqrt(x2)
		} else {
			total += d2 / x2
		}
		total += lg / count
	}
	return total
}

// TestDistanceGradientFloat64 compares the analytic gradients of the fused
// distance with float64 central differences (step 1e-6) of naiveDistance.
// It complements the float32 gradcheck cases, whose fixed step of 1e-2 and
// float32 scalar output limit them to a few percent on these functions.
func TestDistanceGradientFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const signals, tl = 2, 37
	for _, d := range []MultiScaleDistance{DistanceV1(), DistanceV2(1e-7), DistanceV2(1)} {
		d.Scales = []int{16, 8, 32}
		x0, y0 := core.Randn(rng, signals, tl), core.Randn(rng, signals, tl)
		ref := naiveDistance(d, to64(x0.Data()), to64(y0.Data()), signals)
		// numeric[k][i]: float64 central difference for input k, element i.
		var numeric [2][]float64
		for k := range 2 {
			for i := range tl * signals {
				xs, ys := to64(x0.Data()), to64(y0.Data())
				v := [2][]float64{xs, ys}[k]
				const h = 1e-6
				o := v[i]
				v[i] = o + h
				lp := naiveDistance(d, xs, ys, signals)
				v[i] = o - h
				lm := naiveDistance(d, xs, ys, signals)
				numeric[k] = append(numeric[k], (lp-lm)/(2*h))
			}
		}
		// Every combination of inputs requiring a gradient.
		for _, want := range [][2]bool{{true, true}, {true, false}, {false, true}} {
			x := x0.Clone().SetRequiresGrad(want[0])
			y := y0.Clone().SetRequiresGrad(want[1])
			tp := core.NewTape()
			res := d.Distance(tp, x, y)
			tp.Backward(res.Total)
			if rel := math.Abs(float64(res.Total.Item())-ref) / ref; rel > 1e-5 {
				t.Errorf("variant %d ε %g: distance %.8g, float64 reference %.8g", d.Variant, d.LogEpsilon, res.Total.Item(), ref)
			}
			for k, in := range []*core.Tensor{x, y} {
				if !want[k] {
					if in.Grad() != nil {
						t.Errorf("variant %d: input %d needs no gradient but got one", d.Variant, k)
					}
					continue
				}
				var maxErr, maxG float64
				for i, fd := range numeric[k] {
					maxErr = max(maxErr, math.Abs(fd-float64(in.Grad()[i])))
					maxG = max(maxG, math.Abs(fd))
				}
				t.Logf("variant %d ε %g grads %v input %d: max |analytic − numeric| %.3g (max |grad| %.3g)", d.Variant, d.LogEpsilon, want, k, maxErr, maxG)
				if maxErr > 1e-4*maxG {
					t.Errorf("variant %d ε %g input %d: gradient error %.3g exceeds 1e-4 of %.3g", d.Variant, d.LogEpsilon, k, maxErr, maxG)
				}
			}
		}
	}
}

// naiveLoudness is the float64 textbook loudness of one signal.
func naiveLoudness(x []float64, n, hop int, aw []float32) []float64 {
	s := naiveSTFT(x, n, hop, true, false)
	out := make([]float64, len(s))
	for f, row := range s {
		for k, v := range row {
			out[f] += math.Log(v+1e-7) + float64(aw[k])
		}
		out[f] /= float64(len(row))
	}
	return out
}

// TestLoudnessGradientFloat64 compares the loudness (and loudness
// distance) gradients with float64 central differences of naiveLoudness.
func TestLoudnessGradientFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	const n, hop, tl = 16, 4, 29
	m := newLoudnessMeter(48000, n, hop)
	x0, y0 := core.Randn(rng, 1, 1, tl), core.Randn(rng, 1, 1, tl)
	x, y := x0.Clone().SetRequiresGrad(true), y0.Clone().SetRequiresGrad(true)
	tp := core.NewTape()
	d := m.Distance(tp, x, y)
	tp.Backward(d)
	dist := func(xs, ys []float64) float64 {
		lx, ly := naiveLoudness(xs, n, hop, m.aWeight), naiveLoudness(ys, n, hop, m.aWeight)
		var s float64
		for i := range lx {
			s += (lx[i] - ly[i]) * (lx[i] - ly[i])
		}
		return s / float64(len(lx))
	}
	if ref := dist(to64(x0.Data()), to64(y0.Data())); math.Abs(float64(d.Item())-ref) > 1e-5*ref {
		t.Errorf("loudness distance %.8g, float64 reference %.8g", d.Item(), ref)
	}
	for k, in := range []*core.Tensor{x, y} {
		var maxErr, maxG float64
		for i := range tl {
			xs, ys := to64(x0.Data()), to64(y0.Data())
			v := [2][]float64{xs, ys}[k]
			const h = 1e-6
			o := v[i]
			v[i] = o + h
			lp := dist(xs, ys)
			v[i] = o - h
			lm := dist(xs, ys)
			fd := (lp - lm) / (2 * h)
			maxErr = max(maxErr, math.Abs(fd-float64(in.Grad()[i])))
			maxG = max(maxG, math.Abs(fd))
		}
		t.Logf("input %d: max |analytic − numeric| %.3g (max |grad| %.3g)", k, maxErr, maxG)
		if maxErr > 1e-4*maxG {
			t.Errorf("input %d: gradient error %.3g exceeds 1e-4 of %.3g", k, maxErr, maxG)
		}
	}
}
