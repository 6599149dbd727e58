package dsp

import (
	"testing"
)

func TestParityMultiScaleDistance(t *testing.T) {
	ref := fixture(t, "v1_small_reference_f64.safetensors")
	cases := []struct {
		key, x, y string
		perScale  string // prefix of the per-scale keys, "" if none
	}{
		{"mss_mb", "pqmf_analysis", "dec_out_mb_nonoise", "mss_mb"},
		{"mss_fb", "pqmf_reconstruction", "dec_out_fb_nonoise", "mss_fb"},
		{"mss_fb_vs_input", "input", "dec_out_fb_nonoise", ""},
	}
	for _, c := range cases {
		_, _, x := load(t, ref, c.x)
		_, _, y := load(t, ref, c.y)
		res := DistanceV1().Distance(nil, x, y)
		want, shape, _ := load(t, ref, c.key)
		checkParity(t, c.key, res.Total.Data(), res.Total.Shape(), want, shape)
		if c.perScale == "" {
			continue
		}
		for _, term := range []struct {
			name string
			got  []float64
		}{{"lin", res.Lin}, {"log", res.Log}} {
			key := c.perScale + "_" + term.name + "_per_scale"
			want, shape, _ := load(t, ref, key)
			got := make([]float32, len(term.got))
			for i, v := range term.got {
				got[i] = float32(v)
			}
			checkParity(t, key, got, []int{len(got)}, want, shape)
		}
	}
}
