package dsp

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// dft returns the complex DFT of x with the given sign of the exponent.
func dft(x []complex128, sign float64) []complex128 {
	n := len(x)
	out := make([]complex128, n)
	for k := range n {
		for t, v := range x {
			out[k] += v * cmplx.Rect(1, sign*2*math.Pi*float64((k*t)%n)/float64(n))
		}
	}
	return out
}

// roll is torch.roll on a 1-D slice: out[i] = x[(i − shift) mod n].
func roll(x []float64, shift int) []float64 {
	out := make([]float64, len(x))
	for i := range out {
		out[i] = x[mod(i-shift, len(x))]
	}
	return out
}

// referenceNoiseBlock follows amp_to_impulse_response and fft_convolve
// (rave/core.py) step by step with complex DFTs in float64.
func referenceNoiseBlock(a []float64, noise []float32, target int) []float64 {
	nb := len(a)
	s := 2 * (nb - 1)
	spec := make([]complex128, s)
	for k := range nb {
		spec[k] = complex(a[k], 0)
		if k > 0 && k < nb-1 {
			spec[s-k] = complex(a[k], 0)
		}
	}
	ir0c := dft(spec, 1)
	ir0 := make([]float64, s)
	for i, v := range ir0c {
		ir0[i] = real(v) / float64(s)
	}
	r := roll(ir0, s/2)
	w := HannWindow(s)
	for i := range r {
		r[i] *= float64(w[i])
	}
	padded := make([]float64, target)
	copy(padded, r) // right zero padding, or a crop when target < s
	ir := roll(padded, -s/2)
	// fft_convolve: signal padded right, kernel padded left, circular
	// convolution of length 2·target, second half kept.
	sig := make([]complex128, 2*target)
	ker := make([]complex128, 2*target)
	for i := range target {
		sig[i] = complex(float64(noise[i]), 0)
		ker[target+i] = complex(ir[i], 0)
	}
	fs, fk := dft(sig, -1), dft(ker, -1)
	for i := range fs {
		fs[i] *= fk[i]
	}
	conv := dft(fs, 1)
	out := make([]float64, target)
	for i := range out {
		out[i] = real(conv[target+i]) / float64(2*target)
	}
	return out
}

func TestNoiseFilterMatchesReferenceSteps(t *testing.T) {
	for _, c := range []struct{ bands, noiseBands, target, frames int }{
		{16, 5, 64, 3}, // v1
		{3, 32, 8, 2},  // v2_small: the IR is cropped to the target size
		{2, 4, 16, 5},
	} {
		t.Run(fmt.Sprintf("%d_%d_%d", c.bands, c.noiseBands, c.target), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			nf := NewNoiseFilter(c.bands, c.noiseBands, c.target)
			const b = 2
			amp := core.New(nil, b, c.bands*c.noiseBands, c.frames)
			for i := range amp.Data() {
				amp.Data()[i] = rng.Float32()
			}
			noise := nf.UniformNoise(rng, amp)
			out := nf.Filter(nil, amp, noise)
			if want := fmt.Sprint([]int{b, c.bands, c.frames * c.target}); fmt.Sprint(out.Shape()) != want {
				t.Fatalf("shape %v, want %s", out.Shape(), want)
			}
			for bi := range b {
				for band := range c.bands {
					for fr := range c.frames {
						a := make([]float64, c.noiseBands)
						for k := range a {
							a[k] = float64(amp.Data()[(bi*c.bands*c.noiseBands+band*c.noiseBands+k)*c.frames+fr])
						}
						blk := noise.Data()[((bi*c.frames+fr)*c.bands+band)*c.target:][:c.target]
						want := referenceNoiseBlock(a, blk, c.target)
						got := out.Data()[(bi*c.bands+band)*c.frames*c.target+fr*c.target:][:c.target]
						if rel, at := relErr(got, want); rel > 1e-6 {
							t.Fatalf("batch %d band %d frame %d: relative error %.3g at %d", bi, band, fr, rel, at)
						}
					}
				}
			}
		})
	}
}

// TestNoiseImpulseShape checks rave-spec §4.2: for the v1 sizes the
// impulse response lives in ir[0..3] and ir[61..63] (ir[60] = 0 because
// the Hann window starts at 0).
func TestNoiseImpulseShape(t *testing.T) {
	nf := NewNoiseFilter(16, 5, 64)
	want := []int{0, 1, 2, 3, 61, 62, 63}
	if fmt.Sprint(nf.taps) != fmt.Sprint(want) {
		t.Errorf("non-zero impulse taps %v, want %v", nf.taps, want)
	}
}
