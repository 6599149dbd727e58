package dsp

import (
	"math"
	"testing"
)

func TestParityLoudness(t *testing.T) {
	sd := fixture(t, "v1_small_state_dict.safetensors")
	ref := fixture(t, "v1_small_reference_f64.safetensors")
	m := NewLoudnessMeter(48000, 512)
	for _, c := range []struct {
		key string
		got []float32
		sh  []int
	}{
		{"loudness.a_weight", m.AWeight().Data(), m.AWeight().Shape()},
		{"loudness.window", m.Window().Data(), m.Window().Shape()},
	} {
		want, shape, _ := load(t, sd, c.key)
		checkParity(t, c.key, c.got, c.sh, want, shape)
		// The buffers are built as the reference builds them: the A-weight
		// bit for bit, the window to one float32 ulp (see HannWindow).
		var bad int
		for i, w := range want {
			if d := math.Abs(float64(c.got[i]) - w); d > 0 {
				bad++
				if d > 6e-8 {
					t.Errorf("%s[%d] = %.9g, want %.9g", c.key, i, c.got[i], w)
				}
			}
		}
		if c.key == "loudness.a_weight" && bad > 0 {
			t.Errorf("%s: %d values differ, want a bit-exact buffer", c.key, bad)
		}
	}
	_, _, x := load(t, ref, "pqmf_reconstruction")
	_, _, y := load(t, ref, "dec_out_fb_nonoise")
	lx, ly := m.Loudness(nil, x), m.Loudness(nil, y)
	for _, c := range []struct {
		key string
		got []float32
		sh  []int
	}{
		{"loudness_x", lx.Data(), lx.Shape()},
		{"loudness_y", ly.Data(), ly.Shape()},
	} {
		want, shape, _ := load(t, ref, c.key)
		if len(shape) != len(c.sh) || numel(shape) != numel(c.sh) {
			t.Errorf("%s: shape %v, want %v", c.key, c.sh, shape)
		}
		checkParity(t, c.key, c.got, c.sh, want, shape)
	}
	d := LoudnessDistance(nil, lx, ly)
	want, shape, _ := load(t, ref, "loud_dist")
	checkParity(t, "loud_dist", d.Data(), d.Shape(), want, shape)
}
