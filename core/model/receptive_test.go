package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// TestChunkContextPresets pins the context of the presets (latent frames;
// changing a layer's geometry changes them) and checks it against the
// alignment rules.
func TestChunkContextPresets(t *testing.T) {
	tests := []struct {
		preset string
		causal bool
		want   ChunkContext
	}{
		// small and v1 share the layer geometry (only channels differ).
		{"v1", false, ChunkContext{EncoderLeft: 4, EncoderRight: 3, DecoderLeft: 10, DecoderRight: 10, Align: 1}},
		{"small", false, ChunkContext{EncoderLeft: 4, EncoderRight: 3, DecoderLeft: 10, DecoderRight: 10, Align: 1}},
		// Causal convolutions read only the past; the PQMF stays centred.
		{"small", true, ChunkContext{EncoderLeft: 8, EncoderRight: 0, DecoderLeft: 19, DecoderRight: 1, Align: 1}},
		// tiny's 32 sub-band samples per frame are half a noise frame.
		{"tiny", false, ChunkContext{EncoderLeft: 5, EncoderRight: 4, DecoderLeft: 12, DecoderRight: 10, Align: 2}},
	}
	for _, tt := range tests {
		name := tt.preset
		if tt.causal {
			name += "/causal"
		}
		t.Run(name, func(t *testing.T) {
			c, err := Preset(tt.preset)
			if err != nil {
				t.Fatal(err)
			}
			c.NoLatency = tt.causal
			l, err := LayersOf(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.ChunkContext(); got != tt.want {
				t.Errorf("ChunkContext() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestChunkContextSuffices perturbs the input just outside the context of
// a frame and checks that the frame does not move: the encoder's latent
// frame for audio outside EncoderLeft/Right frames, the decoder's audio
// for latents outside DecoderLeft/Right. Halfway inside, it must move (the
// context is not wildly too large). The context is a bound: its outermost
// frames may reach the kept frame only through zero taps (the PQMF
// prototype is centred in a longer kernel) or not at all (the holes of
// dilated convolutions), so "just inside" is not tested.
func TestChunkContextSuffices(t *testing.T) {
	c, err := Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(c, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := m.ChunkContext()
	r := c.CompressionRatio()
	const frames, f = 40, 20
	rng := rand.New(rand.NewPCG(2, 2))

	x := make([]float32, frames*r)
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * 0.3
	}
	encode := func(x []float32) []float32 {
		mu, _ := m.Encode(nil, core.New(append([]float32(nil), x...), 1, 1, len(x)))
		L := mu.Dim(1)
		col := make([]float32, L)
		for d := range L {
			col[d] = mu.Data()[d*frames+f]
		}
		return col
	}
	base := encode(x)
	for _, tc := range []struct {
		name  string
		at    int
		moves bool
	}{
		{"encoder: before the context", (f-ctx.EncoderLeft)*r - 1, false},
		{"encoder: after the context", (f + 1 + ctx.EncoderRight) * r, false},
		{"encoder: halfway inside on the left", (f-ctx.EncoderLeft/2)*r - 1, true},
		{"encoder: halfway inside on the right", (f + 1 + ctx.EncoderRight/2) * r, true},
	} {
		y := append([]float32(nil), x...)
		// Perturb a whole frame's worth of samples on the far side of at.
		lo, hi := tc.at-r+1, tc.at+1
		if tc.at >= (f+1)*r {
			lo, hi = tc.at, tc.at+r
		}
		for i := max(lo, 0); i < min(hi, len(y)); i++ {
			y[i] += 1
		}
		if d := maxDiff(encode(y), base); (d > 1e-5) != tc.moves {
			t.Errorf("%s: latent frame %d moved by %g", tc.name, f, d)
		}
	}

	L := c.LatentSize
	z := make([]float32, L*frames)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	decode := func(z []float32) []float32 {
		y := m.Decode(nil, core.New(append([]float32(nil), z...), 1, L, frames), false, nil)
		return append([]float32(nil), y.Data()[f*r:(f+1)*r]...)
	}
	base = decode(z)
	for _, tc := range []struct {
		name  string
		frame int
		moves bool
	}{
		{"decoder: before the context", f - ctx.DecoderLeft - 1, false},
		{"decoder: after the context", f + ctx.DecoderRight + 1, false},
		{"decoder: halfway inside on the left", f - ctx.DecoderLeft/2, true},
		{"decoder: halfway inside on the right", f + ctx.DecoderRight/2, true},
	} {
		w := append([]float32(nil), z...)
		for d := range L {
			w[d*frames+tc.frame] += 3
		}
		if d := maxDiff(decode(w), base); (d > 1e-5) != tc.moves {
			t.Errorf("%s (frame %d): audio of frame %d moved by %g", tc.name, tc.frame, f, d)
		}
	}
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
