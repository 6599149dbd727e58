package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/isa"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// snrDB returns 10·log10(Σ ref² / Σ (got − ref)²).
func snrDB(ref, got []float32) float64 {
	var s, e float64
	for i, r := range ref {
		d := float64(got[i]) - float64(r)
		s += float64(r) * float64(r)
		e += d * d
	}
	return 10 * math.Log10(s/e)
}

// skipWithoutBF16 skips t, naming the path it needs, unless the kernel
// path in use has hardware bfloat16 products.
func skipWithoutBF16(t *testing.T) {
	t.Helper()
	if !sgemm.BF16Supported() {
		t.Skipf("bfloat16 inference needs the avx512 kernel path with AVX512_BF16; this CPU (%s) runs the %s path without it", isa.CPU(), isa.Current())
	}
}

// TestBFloat16Inference checks that bfloat16 inference stays close to
// float32: the latents and the decoded audio of a clip within the stated
// signal-to-error ratio, for every preset's layer mix.
func TestBFloat16Inference(t *testing.T) {
	skipWithoutBF16(t)
	for _, tc := range []struct {
		preset   string
		seconds  float64
		minLatDB float64
		minOutDB float64
	}{
		// Measured: latents 57.1–58.5 dB, audio 52.7–53.9 dB.
		{"tiny", 1, 54, 50},
		{"small", 1, 54, 50},
		{"v1", 0.5, 54, 50},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			cfg, err := Preset(tc.preset)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 7))
			m, err := New(cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			r := cfg.CompressionRatio()
			n := (int(tc.seconds*float64(cfg.SR)) + r - 1) / r * r
			x := core.Zeros(1, 1, n)
			for i := range x.Data() {
				ti := float64(i) / float64(cfg.SR)
				x.Data()[i] = float32(0.3*math.Sin(2*math.Pi*220*ti) + 0.1*math.Sin(2*math.Pi*1870*ti) + 0.05*rng.NormFloat64())
			}
			z32, _ := m.Encode(nil, x)
			y32 := m.Decode(nil, z32, false, nil)
			if err := m.SetInferencePrecision(BFloat16); err != nil {
				t.Fatal(err)
			}
			z16, _ := m.Encode(nil, x)
			y16 := m.Decode(nil, z32, false, nil)
			if err := m.SetInferencePrecision(Float32); err != nil {
				t.Fatal(err)
			}
			again := m.Decode(nil, z32, false, nil)
			latDB, outDB := snrDB(z32.Data(), z16.Data()), snrDB(y32.Data(), y16.Data())
			t.Logf("%s: latents %.1f dB, decoded audio %.1f dB (bf16 vs f32)", tc.preset, latDB, outDB)
			if latDB < tc.minLatDB || outDB < tc.minOutDB {
				t.Errorf("bf16 too far from f32: latents %.1f dB (want ≥ %g), audio %.1f dB (want ≥ %g)", latDB, tc.minLatDB, outDB, tc.minOutDB)
			}
			if outDB > 120 {
				t.Errorf("bf16 output equals f32 (%.1f dB): the bf16 path was not taken", outDB)
			}
			for i, v := range again.Data() {
				if v != y32.Data()[i] {
					t.Fatalf("back to f32, sample %d = %g, was %g", i, v, y32.Data()[i])
				}
			}
		})
	}
}

// TestBFloat16TrainedModel measures bfloat16 against float32 on a trained
// model (the workstation's demo: quick preset, Salamander piano) and its
// clip, where the signal is music rather than a random network's output:
// the README's figure, 46.0 dB for the decoded audio (latents: 49.9 dB;
// 49 and 54.3 dB with the earlier small demo model), less 2.5 dB.
func TestBFloat16TrainedModel(t *testing.T) {
	skipWithoutBF16(t)
	m, err := Load("../../tui/demo/assets/model.safetensors")
	if err != nil {
		t.Skip("demo model not available: ", err)
	}
	buf, err := audio.Decode("../../tui/demo/assets/clip.wav")
	if err != nil || buf.SampleRate != m.Config.SR {
		t.Skipf("demo clip not usable: %v", err)
	}
	r := m.Config.CompressionRatio()
	n := len(buf.Channels[0]) / r * r
	x := core.New(append([]float32(nil), buf.Channels[0][:n]...), 1, 1, n)
	z32, _ := m.Encode(nil, x)
	y32 := m.Decode(nil, z32, false, nil)
	if err := m.SetInferencePrecision(BFloat16); err != nil {
		t.Fatal(err)
	}
	z16, _ := m.Encode(nil, x)
	y16 := m.Decode(nil, z16, false, nil)
	latDB, outDB := snrDB(z32.Data(), z16.Data()), snrDB(y32.Data(), y16.Data())
	t.Logf("demo model: latents %.1f dB, encode+decode audio %.1f dB (bf16 vs f32)", latDB, outDB)
	if latDB < 47.4 || outDB < 43.5 {
		t.Errorf("bf16 too far from f32: latents %.1f dB (want ≥ 47.4), audio %.1f dB (want ≥ 43.5: the README says 46.0)", latDB, outDB)
	}
}
