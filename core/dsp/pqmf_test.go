package dsp

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// The design values below come from rave-spec §2.2 (re-derived there from
// scipy's kaiserord/firwin/fmin): 16 bands at 100 dB give ω_c ≈ 0.107520,
// 377 taps padded to 512; 70 dB gives 249 taps padded to 256.
func TestPQMFDesign(t *testing.T) {
	cases := []struct {
		bands   int
		atten   float64
		wc      float64
		taps, l int
		delay   int
	}{
		{16, 100, 0.107520, 377, 512, 16},
		{16, 70, 0.109766, 249, 256, 16},
		{8, 100, 0.214941, 189, 256, 8},
		{4, 100, 0.429883, 95, 128, 4},
		{2, 100, 0.858203, 49, 64, 2},
	}
	for _, c := range cases {
		p, err := NewPQMF(c.bands, c.atten)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.Cutoff()-c.wc) > 5e-7 || p.Taps() != c.taps || p.FilterLength() != c.l {
			t.Errorf("NewPQMF(%d, %g): ω_c %.6f, %d taps, L %d; want %.6f, %d, %d", c.bands, c.atten, p.Cutoff(), p.Taps(), p.FilterLength(), c.wc, c.taps, c.l)
		}
		if p.Delay() != c.delay {
			t.Errorf("NewPQMF(%d, %g).Delay() = %d, want %d", c.bands, c.atten, p.Delay(), c.delay)
		}
	}
	if _, err := NewPQMF(12, 100); err == nil {
		t.Error("NewPQMF(12, 100) accepted a band count that is not a power of two")
	}
}

func TestParityPQMFBuffers(t *testing.T) {
	sd := fixture(t, "v1_small_state_dict.safetensors")
	p, err := NewPQMF(16, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key string
		got *core.Tensor
	}{
		{"pqmf.h", p.H()},
		{"pqmf.hk", p.HK()},
		{"pqmf.forward_conv.weight", p.AnalysisWeight()},
		{"pqmf.inverse_conv.weight", p.SynthesisWeight()},
	} {
		want, shape, _ := load(t, sd, c.key)
		checkParity(t, c.key, c.got.Data(), c.got.Shape(), want, shape)
	}
}

func TestParityPQMF(t *testing.T) {
	ref := fixture(t, "v1_small_reference_f64.safetensors")
	p, err := NewPQMF(16, 100)
	if err != nil {
		t.Fatal(err)
	}
	_, _, x := load(t, ref, "input")
	wantA, shapeA, a := load(t, ref, "pqmf_analysis")
	got := p.Analysis(nil, x)
	checkParity(t, "pqmf_analysis", got.Data(), got.Shape(), wantA, shapeA)
	// pqmf_reconstruction is the inverse of the reference analysis output.
	wantR, shapeR, _ := load(t, ref, "pqmf_reconstruction")
	rec := p.Synthesis(nil, a)
	checkParity(t, "pqmf_reconstruction", rec.Data(), rec.Shape(), wantR, shapeR)
	wantF, shapeF, _ := load(t, ref, "dec_out_fb_nonoise")
	_, _, mb := load(t, ref, "dec_out_mb_nonoise")
	fb := p.Synthesis(nil, mb)
	checkParity(t, "dec_out_fb_nonoise", fb.Data(), fb.Shape(), wantF, shapeF)
}

// TestPQMFMatchesReference checks the convolution-based ops against the
// textbook float64 loops on awkward batches, including signals shorter
// than the synthesis padding.
func TestPQMFMatchesReference(t *testing.T) {
	p, err := NewPQMF(8, 100)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct{ b, n int }{{3, 8 * 45}, {2, 8 * 5}} {
		x := core.Randn(rng, c.b, 1, c.n)
		u := p.Analysis(nil, x)
		y := p.Synthesis(nil, u)
		for i := range c.b {
			ref := referenceAnalysis(p, to64(x.Data()[i*c.n:][:c.n]))
			if rel, _ := relErr(u.Data()[i*c.n:][:c.n], ref); rel > 1e-5 {
				t.Errorf("T=%d batch %d: Analysis differs from the reference loops by %.3g", c.n, i, rel)
			}
			rec := referenceSynthesis(p, to64(u.Data()[i*c.n:][:c.n]))
			if rel, _ := relErr(y.Data()[i*c.n:][:c.n], rec); rel > 1e-5 {
				t.Errorf("T=%d batch %d: Synthesis differs from the reference loops by %.3g", c.n, i, rel)
			}
		}
	}
}

// TestPQMFRoundTrip checks rave-spec §2.6: white noise through analysis and
// synthesis comes back Delay() samples late with an SNR of about 60 dB.
func TestPQMFRoundTrip(t *testing.T) {
	p, err := NewPQMF(16, 100)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 1 << 15
	x := core.Randn(rng, 2, 1, n)
	y := p.Synthesis(nil, p.Analysis(nil, x))
	d := p.Delay()
	var sig, noise float64
	for b := range 2 {
		xs, ys := x.Data()[b*n:][:n], y.Data()[b*n:][:n]
		// skip the edges, where the zero padding truncates the filters
		for i := p.FilterLength(); i < n-p.FilterLength(); i++ {
			e := float64(ys[i]) - float64(xs[i-d])
			sig += float64(xs[i-d]) * float64(xs[i-d])
			noise += e * e
		}
	}
	snr := 10 * math.Log10(sig/noise)
	t.Logf("PQMF round trip: delay %d samples, SNR %.2f dB", d, snr)
	if snr < 55 {
		t.Errorf("round-trip SNR %.2f dB, want ≥ 55 dB", snr)
	}
}
