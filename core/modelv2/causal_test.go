package modelv2

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// TestCausalPadding checks Config.Causal (configs/causal.gin): every
// Conv1d of the encoder and the generator is padded ((k−1)·d, 0), the
// transposed convolutions keep their crop, and the centred model pads as
// cached_conv's get_padding (the stride ignored: (r−1, r) for kernel 2r).
func TestCausalPadding(t *testing.T) {
	for _, causal := range []bool{false, true} {
		cfg, err := Preset("v2-small")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Causal = causal
		m, err := New(cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		lay := m.Layers()
		convs := []Conv{lay.EncoderIn, lay.EncoderOut, lay.GeneratorIn, lay.Wave}
		for _, st := range append(lay.EncoderStages, lay.GeneratorStages...) {
			convs = append(convs, st.Resample)
			for _, u := range st.Units {
				convs = append(convs, u.Dilated, u.Pointwise)
			}
		}
		n := 0
		for _, cv := range convs {
			name, g := cv.Name(), cv.Geometry()
			n++
			span := (g.K - 1) * g.Dilation
			switch {
			case g.Transposed:
				if g.PadLeft != g.Stride/2 || g.PadRight != g.Stride/2 {
					t.Errorf("causal %v: %s: transposed padding (%d, %d), want the crop %d", causal, name, g.PadLeft, g.PadRight, g.Stride/2)
				}
			case causal:
				if g.PadLeft != span || g.PadRight != 0 {
					t.Errorf("%s: causal padding (%d, %d), want (%d, 0)", name, g.PadLeft, g.PadRight, span)
				}
			default:
				if g.PadLeft != span/2 || g.PadRight != span-span/2 {
					t.Errorf("%s: centred padding (%d, %d), want (%d, %d)", name, g.PadLeft, g.PadRight, span/2, span-span/2)
				}
			}
		}
		if n != 56 { // encoder: in, 11 units of 2, 4 downs, out; generator: in, 4 ups, 11 units of 2, wave
			t.Errorf("causal %v: %d convolutions, want 56", causal, n)
		}
	}
}

// TestCausalPQMF checks the causal PQMF of Config.Causal: analysis padded
// (L, 0) and synthesis (L/M, 0) reconstruct white noise delayed by
// 16 + 512 = 528 samples (rave-spec.md §2.6), as well as the centred pair
// does with its 16.
func TestCausalPQMF(t *testing.T) {
	for _, c := range []struct {
		causal bool
		delay  int
	}{{false, 16}, {true, 528}} {
		cfg, _ := Preset("v2-small")
		cfg.Causal = c.causal
		m, err := New(cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		n := 16 * 1024
		x := core.Randn(rand.New(rand.NewPCG(1, 1)), 1, 1, n)
		y := m.Synthesis(nil, m.Analysis(nil, x)).Data()
		var sig, noise float64
		for i := 2048; i < n-2048; i++ {
			want := float64(x.Data()[i-c.delay])
			sig += want * want
			d := float64(y[i]) - want
			noise += d * d
		}
		if snr := 10 * math.Log10(sig/noise); snr < 55 {
			t.Errorf("causal %v: reconstruction delayed by %d at %.1f dB, want ≥ 55 dB", c.causal, c.delay, snr)
		} else {
			t.Logf("causal %v: reconstruction delayed by %d at %.1f dB", c.causal, c.delay, snr)
		}
	}
}
