package dsp

import (
	"fmt"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/gradcheck"
)

// gradCase is a gradient check of the table (gradcheck.Run).
type gradCase gradcheck.Case

// withOffset returns x + 3·s + 2 + 2·(−1)^t + 12·(δ_0 + δ_{T−1}), s a
// constant input of the same shape. It keeps every STFT bin away from the
// kink of |X| at 0, where central differences with gradcheck's fixed step of
// 1e-2 fail (with plain [−1, 1] inputs a bin of 0.002 gave 0.343 against an
// exact 0.370, which a step of 1e-3 confirms):
//   - the random part s keeps the complex bins away from zero,
//   - the constant and the alternating parts do the same for the real DC
//     and Nyquist bins,
//   - the impulses handle the first and last frames: a centred frame around
//     an edge sample is symmetric after reflect padding, so all of its bins
//     are real and would cross zero easily.
//
// Everything stays of order one on purpose: Check sees the output rounded
// to float32, which puts ~6e-8·|out|/2e-2 of noise on every difference, so
// the gradients (which shrink as 1/amplitude) must stay large next to the
// outputs. The gradient with respect to x is unchanged.
func withOffset(tp *core.Tape, x, s *core.Tensor) *core.Tensor {
	bias := core.New(nil, x.Shape()...)
	b, t := bias.Data(), x.Dim(-1)
	for i := range b {
		b[i] = 2
		switch k := i % t; {
		case k == 0 || k == t-1:
			b[i] += 12
		case k%2 == 0:
			b[i] += 2
		default:
			b[i] -= 2
		}
	}
	return tp.Add(tp.Add(x, tp.Scale(s, 3)), bias)
}

// spectral builds a case whose inputs each come with a constant offset
// signal (see offset); f receives the shifted inputs. grads says which
// inputs must receive a gradient (the others are constants).
func spectral(name string, shape []int, grads []bool, f func(tp *core.Tape, x []*core.Tensor) *core.Tensor) gradCase {
	var in []gradcheck.Input
	for _, g := range grads {
		if g {
			in = append(in, gradcheck.In(gradcheck.Signed, shape...))
		} else {
			in = append(in, gradcheck.Const(gradcheck.Signed, shape...))
		}
	}
	for range grads {
		in = append(in, gradcheck.Const(gradcheck.Signed, shape...))
	}
	k := len(grads)
	return gradCase{name, in, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
		sh := make([]*core.Tensor, k)
		for i := range sh {
			sh[i] = withOffset(tp, x[i], x[k+i])
		}
		return f(tp, sh)
	}}
}

// pairCase builds a case for a distance f(target, prediction) with
//
//	x = withOffset(v0, C),  y = 0.5·x + 0.1·v1,
//
// v0 and v1 the tested inputs (either may be constant), C constant. Every
// bin then has S_y ≈ S_x/2, far from the kink of the log term at S_x = S_y:
// with independent x and y, some of the ~100 bins a sample reaches always
// sat near it and spoiled a difference by a few percent (for example 0.689
// against an exact 0.649 at every step from 3e-2 to 3e-3). The gradient with
// respect to v0 is the total derivative through x and y, so both backward
// paths are exercised. The exact gradients are also compared with float64
// differences of a naive implementation in TestDistanceGradientFloat64.
func pairCase(name string, shape []int, gradX, gradY bool, f func(tp *core.Tape, x, y *core.Tensor) *core.Tensor) gradCase {
	kind := func(g bool) gradcheck.Input {
		if g {
			return gradcheck.In(gradcheck.Signed, shape...)
		}
		return gradcheck.Const(gradcheck.Signed, shape...)
	}
	in := []gradcheck.Input{kind(gradX), kind(gradY), gradcheck.Const(gradcheck.Signed, shape...)}
	return gradCase{name, in, func(tp *core.Tape, v []*core.Tensor) *core.Tensor {
		x := withOffset(tp, v[0], v[2])
		y := tp.Add(tp.Scale(x, 0.5), tp.Scale(v[1], 0.1))
		return f(tp, x, y)
	}}
}

// Output gains of the distance and loudness cases. The harness's absolute
// tolerance is 2e-3·max(1, max|grad|), so a case whose gradients are all
// ≪ 2e-3 passes with any backward; the raw gradients of the distances are
// 3e-5–1e-3 here (the prediction enters y scaled by 0.1). The gains bring
// them up without making the float32 output too coarse. Checked by hand:
// dropping the −D·S_x/‖S_x‖³ term of the target gradient, halving the
// linear part of the prediction gradient or scaling its log part by 0.8
// each fail several cases.
const (
	mssGain      = 100
	loudnessGain = 10
	loudDistGain = 100
)

// gradCases lists every differentiable function of the package on small,
// awkward shapes (odd signal lengths, several signals, every DFT method).
func gradCases() []gradCase {
	var cases []gradCase
	stft := func(name string, shape []int, cfg STFTConfig) {
		cases = append(cases, spectral("stft_"+name, shape, []bool{true},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return STFTMagnitude(tp, x[0], cfg) }))
	}
	for _, m := range []dftMethod{{n1: 1}, {n1: 2}, {n1: 4}, {fft: true}} {
		stft(fmt.Sprintf("n16_centred_normalized_%s", methodName(m)), []int{2, 37}, STFTConfig{NFFT: 16, Hop: 4, Center: true, Normalized: true, method: &m})
	}
	m8 := dftMethod{n1: 8}
	stft("n32_hop8_not_centred_gemm8", []int{3, 1, 45}, STFTConfig{NFFT: 32, Hop: 8, method: &m8})
	stft("n8_hop2_default", []int{29}, STFTConfig{NFFT: 8, Hop: 2, Center: true})
	small := func(d MultiScaleDistance) MultiScaleDistance {
		d.Scales = []int{8, 16}
		return d
	}
	for _, c := range []struct {
		name string
		d    MultiScaleDistance
	}{
		{"mss_v1", small(DistanceV1())},
		{"mss_v2_eps1e-7", small(DistanceV2(1e-7))},
		{"mss_v2_eps1", small(DistanceV2(1))},
	} {
		d := c.d
		mss := func(tp *core.Tape, x, y *core.Tensor) *core.Tensor {
			return tp.Scale(d.Distance(tp, x, y).Total, mssGain)
		}
		cases = append(cases,
			pairCase(c.name+"_pred", []int{2, 1, 11}, false, true, mss),
			pairCase(c.name+"_target", []int{3, 13}, true, false, mss),
		)
	}
	for _, c := range []struct {
		bands    int
		atten    float64
		b, steps int
	}{{16, 100, 2, 5}, {16, 100, 1, 19}, {4, 70, 3, 9}} {
		p, err := NewPQMF(c.bands, c.atten)
		if err != nil {
			panic(err)
		}
		name := fmt.Sprintf("pqmf%d_%gdB_T%d", c.bands, c.atten, c.bands*c.steps)
		cases = append(cases,
			gradCase{name + "_analysis", []gradcheck.Input{gradcheck.In(gradcheck.Signed, c.b, 1, c.bands*c.steps)},
				func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return p.Analysis(tp, x[0]) }},
			gradCase{name + "_synthesis", []gradcheck.Input{gradcheck.In(gradcheck.Signed, c.b, c.bands, c.steps)},
				func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return p.Synthesis(tp, x[0]) }},
		)
	}
	loud := newLoudnessMeter(48000, 16, 4)
	// The A-weighting only adds a constant (its mean, −10.5 here) to every
	// frame; without it the curves are O(1), so their float32 rounding stays
	// well below the central differences (with it, ~1% of noise).
	loud.meanA = 0
	cases = append(cases,
		spectral("loudness_n16_hop4", []int{2, 1, 39}, []bool{true}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return tp.Scale(loud.Loudness(tp, x[0]), loudnessGain)
		}),
		// The loudness distance has no kink at lx = ly (it is squared), so
		// its signals are independent; with y = 0.5·x + … most of the
		// gradient would cancel, since L(0.5·x) = L(x) + log 0.5.
		spectral("loudness_distance", []int{2, 1, 33}, []bool{true, true}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return tp.Scale(loud.Distance(tp, x[0], x[1]), loudDistGain)
		}),
	)
	for _, c := range []struct{ bands, noiseBands, target, frames int }{{3, 5, 64, 2}, {2, 6, 8, 3}} {
		nf := NewNoiseFilter(c.bands, c.noiseBands, c.target)
		cases = append(cases, gradCase{fmt.Sprintf("noise_filter_%d_%d_%d", c.bands, c.noiseBands, c.target),
			[]gradcheck.Input{gradcheck.In(gradcheck.Positive, 2, c.bands*c.noiseBands, c.frames), gradcheck.Const(gradcheck.Signed, 2, c.frames, c.bands, c.target)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return nf.Filter(tp, x[0], x[1]) }})
	}
	return append(cases,
		gradCase{"reverse_half", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 4, 6)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return ReverseHalf(tp, x[0]) }},
		gradCase{"interleave_flip_gain", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 4, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return Interleave(tp, x[0], 4, true) }},
	)
}

func TestGradients(t *testing.T) { gradcheck.Run(t, 1, gradCases()) }
