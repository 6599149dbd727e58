package modelv2

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// fastTol bounds the difference between tape-free passes and the tape
// path, relative to the largest output: both are float32, but Winograd,
// blocking and the stacked up-sampler sum in another order (measured
// ≲ 2e-6).
const fastTol = 1e-5

// fastModel returns a randomly initialised model of the v2-small network
// with the given capacity, noise generator and padding.
func fastModel(t testing.TB, capacity int, noise, causal bool, seed uint64) *Model {
	t.Helper()
	cfg, err := Preset("v2-small")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Capacity = capacity
	cfg.Causal = causal
	if noise {
		cfg = cfg.WithNoise()
	}
	m, err := New(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(seed, seed)))
	return m
}

// maxRelDiff returns max |got − want| / max |want|.
func maxRelDiff(t *testing.T, what string, got, want *core.Tensor) float64 {
	t.Helper()
	if fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	var d, w float64
	for i, v := range want.Data() {
		d = max(d, math.Abs(float64(got.Data()[i]-v)))
		w = max(w, math.Abs(float64(v)))
	}
	if w == 0 || math.IsNaN(d) {
		t.Fatalf("%s: reference peak %g, difference %g", what, w, d)
	}
	return d / w
}

// checkFastEqualsTape compares tape-free Encode and Decode of x (and of the
// posterior mean) with the same passes recorded on a tape.
func checkFastEqualsTape(t *testing.T, m *Model, x *core.Tensor) {
	t.Helper()
	raw := m.Encode(nil, x)
	want := m.Encode(core.NewTape(), x)
	if e := maxRelDiff(t, "Encode", raw, want); e > fastTol {
		t.Errorf("Encode: tape-free differs from the tape path by %.3g (relative), want ≤ %g", e, fastTol)
	} else {
		t.Logf("Encode: %.3g", e)
	}
	mean, _, _ := Posterior(nil, want)
	y := m.Decode(nil, mean, rand.New(rand.NewPCG(9, 9)))
	wantY := m.Decode(core.NewTape(), mean, rand.New(rand.NewPCG(9, 9)))
	if e := maxRelDiff(t, "Decode", y, wantY); e > fastTol {
		t.Errorf("Decode: tape-free differs from the tape path by %.3g (relative), want ≤ %g", e, fastTol)
	} else {
		t.Logf("Decode: %.3g", e)
	}
}

// TestFastMatchesTape checks the tape-free kernels against the tape path on
// batches of two: the v2-small network (direct im2col GEMMs), a wider one
// whose 128- and 256-channel stages go through Winograd, the noise
// generator, causal padding, and long layers built and multiplied in
// blocks.
func TestFastMatchesTape(t *testing.T) {
	cases := []struct {
		name             string
		capacity, frames int
		noise, causal    bool
		chunk            int // chunkBytes, 0 for the default
	}{
		{name: "v2-small", capacity: 8, frames: 4},
		{name: "capacity32_winograd", capacity: 32, frames: 3},
		{name: "noise", capacity: 8, frames: 3, noise: true},
		{name: "causal_winograd", capacity: 32, frames: 3, causal: true},
		{name: "blocked_im2col", capacity: 8, frames: 12, chunk: 64 << 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.chunk > 0 {
				defer func(v int) { chunkBytes = v }(chunkBytes)
				chunkBytes = c.chunk
			}
			m := fastModel(t, c.capacity, c.noise, c.causal, 1)
			x := core.Randn(rand.New(rand.NewPCG(2, 2)), 2, 1, c.frames*m.Config.CompressionRatio())
			checkFastEqualsTape(t, m, x)
		})
	}
}

// TestFastCacheInvalidation checks that tape-free passes see every change
// of the parameters: Init, a pass on a tape followed by an update,
// ParamsChanged after writing the slab, and that a decoder pass on a tape
// leaves the encoder's cache alone.
func TestFastCacheInvalidation(t *testing.T) {
	m := fastModel(t, 32, false, false, 1)
	x := core.Randn(rand.New(rand.NewPCG(3, 3)), 2, 1, 2*m.Config.CompressionRatio())
	check := func(what string) {
		t.Helper()
		got := m.Encode(nil, x)
		want := m.Encode(core.NewTape(), x)
		if e := maxRelDiff(t, what, got, want); e > fastTol {
			t.Errorf("%s: tape-free Encode differs from the tape path by %.3g: stale cache", what, e)
		}
		mean, _, _ := Posterior(nil, want)
		gotY := m.Decode(nil, mean, nil)
		wantY := m.Decode(core.NewTape(), mean, nil)
		if e := maxRelDiff(t, what, gotY, wantY); e > fastTol {
			t.Errorf("%s: tape-free Decode differs from the tape path by %.3g: stale cache", what, e)
		}
	}
	check("fresh")

	m.Init(rand.New(rand.NewPCG(7, 7)))
	check("after Init")

	// A training step: a pass on a tape, then an update of both slabs.
	tp := core.NewTape()
	mean, _, _ := Posterior(tp, m.Encode(tp, x))
	m.Decode(tp, mean, nil)
	for _, ps := range []*core.ParamSet{m.Enc, m.Dec} {
		for i := range ps.Data() {
			ps.Data()[i] *= 1.25
		}
	}
	check("after a taped pass and an update")

	// Direct writes, announced.
	m.Encode(nil, x)
	for i := range m.Dec.Data() {
		m.Dec.Data()[i] *= -0.5
	}
	m.ParamsChanged()
	check("after ParamsChanged")

	// Only the slab a tape ran on is invalidated.
	m.Encode(nil, x)
	encGen := m.Encoder.input.inf.gen
	m.Decode(core.NewTape(), core.Zeros(1, m.Config.LatentSize, 2), nil)
	if m.Encoder.input.inf.gen != encGen || m.gens[0].n != encGen {
		t.Error("a decoder pass on a tape invalidated the encoder's cache")
	}
	if m.Generator.input.inf.gen == m.gens[1].n {
		t.Error("a decoder pass on a tape left the decoder's cache valid")
	}
}

// TestFastKernels checks the convolution kernels on awkward shapes against
// core's Conv1d and ConvTranspose1d: odd lengths, strides (two-tap
// Winograd, and im2col with a bias), dilations, even kernels with uneven
// or causal padding, Winograd with dilation and a bias, accumulation and
// a LeakyReLU on the output, long layers in blocks.
func TestFastKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	convs := []struct {
		cin, cout, k, stride, dil, padL, padR, T int
		leaky, bias                              bool
		mode                                     outMode
		chunk                                    int // chunkBytes, 0 for the default
	}{
		{cin: 3, cout: 5, k: 7, stride: 1, dil: 1, padL: 3, padR: 3, T: 37, leaky: true},
		{cin: 4, cout: 6, k: 8, stride: 4, dil: 1, padL: 3, padR: 4, T: 40, leaky: true, bias: true},
		{cin: 5, cout: 2, k: 4, stride: 2, dil: 1, padL: 1, padR: 2, T: 22},
		{cin: 3, cout: 7, k: 8, stride: 4, dil: 1, padL: 3, padR: 4, T: 36, leaky: true},
		{cin: 4, cout: 5, k: 8, stride: 4, dil: 1, padL: 7, padR: 0, T: 44, leaky: true},
		{cin: 6, cout: 3, k: 5, stride: 4, dil: 1, padL: 2, padR: 1, T: 27},
		{cin: 6, cout: 6, k: 3, stride: 1, dil: 9, padL: 9, padR: 9, T: 31, leaky: true, mode: outAdd},
		{cin: 6, cout: 3, k: 1, stride: 1, dil: 1, T: 13, leaky: true, mode: outAdd},
		{cin: 128, cout: 130, k: 3, stride: 1, dil: 3, padL: 3, padR: 3, T: 53, leaky: true, bias: true},
		{cin: 130, cout: 128, k: 3, stride: 1, dil: 1, padL: 2, padR: 0, T: 23, mode: outAdd},
		{cin: 128, cout: 128, k: 3, stride: 1, dil: 9, padL: 18, padR: 0, T: 7, leaky: true},
		{cin: 128, cout: 128, k: 3, stride: 1, dil: 3, padL: 3, padR: 3, T: 41, leaky: true, mode: outLeaky},
		{cin: 7, cout: 9, k: 3, stride: 1, dil: 1, padL: 1, padR: 1, T: 19, bias: true, mode: outLeaky},
		{cin: 8, cout: 8, k: 3, stride: 1, dil: 3, padL: 3, padR: 3, T: 3001, leaky: true, bias: true, mode: outLeaky, chunk: 16 << 10},
		{cin: 8, cout: 6, k: 3, stride: 1, dil: 1, padL: 1, padR: 1, T: 2999, mode: outAdd, chunk: 16 << 10},
	}
	for _, c := range convs {
		name := fmt.Sprintf("conv_%d-%d_k%d_s%d_d%d_pad%d,%d_T%d_out%d", c.cin, c.cout, c.k, c.stride, c.dil, c.padL, c.padR, c.T, c.mode)
		t.Run(name, func(t *testing.T) {
			if c.chunk > 0 {
				defer func(v int) { chunkBytes = v }(chunkBytes)
				chunkBytes = c.chunk
			}
			ps := core.NewParamSet()
			l := newLayer(ps, layerSpec{prefix: "l", cin: c.cin, cout: c.cout, k: c.k, stride: c.stride, dilation: c.dil, left: c.padL, right: c.padR, weightNorm: true, bias: c.bias})
			ps.Alloc()
			l.init(rng)
			B := 2
			x := core.Randn(rng, B, c.cin, c.T)
			g := l.geom()
			Tout := g.outLen(c.T)
			y := core.Randn(rng, B, c.cout, Tout)
			want := y.Clone()
			in := x
			if c.leaky {
				in = (*core.Tape)(nil).LeakyReLU(x, slope)
			}
			ref := (*core.Tape)(nil).Conv1d(in, WeightNorm(nil, l.g, l.v), l.bias, l.conv)
			for i, v := range ref.Data() {
				switch c.mode {
				case outAdd:
					want.Data()[i] += v
				case outLeaky:
					want.Data()[i] = max(v, v*slope)
				default:
					want.Data()[i] = v
				}
			}
			l.runInto(y.Data(), x.Data(), B, c.T, c.leaky, c.mode)
			if e := maxRelDiff(t, name, y, want); e > fastTol {
				t.Errorf("%s: differs from core's Conv1d by %.3g (relative)", name, e)
			}
		})
	}
	ups := []struct{ cin, cout, s, T int }{{3, 5, 2, 9}, {6, 4, 4, 11}, {130, 64, 4, 5}, {4, 4, 8, 1}}
	for _, c := range ups {
		name := fmt.Sprintf("up_%d-%d_s%d_T%d", c.cin, c.cout, c.s, c.T)
		t.Run(name, func(t *testing.T) {
			ps := core.NewParamSet()
			l := newLayer(ps, layerSpec{prefix: "u", kind: transposedConv, cin: c.cin, cout: c.cout, k: 2 * c.s, stride: c.s, crop: c.s / 2, weightNorm: true})
			ps.Alloc()
			l.init(rng)
			x := core.Randn(rng, 2, c.cin, c.T)
			want := (*core.Tape)(nil).ConvTranspose1d((*core.Tape)(nil).LeakyReLU(x, slope), WeightNorm(nil, l.g, l.v), nil, l.tconv)
			y, Tout := l.runUp(x.Data(), 2, c.T, true)
			if e := maxRelDiff(t, name, core.New(y[:2*c.cout*Tout], 2, c.cout, Tout), want); e > fastTol {
				t.Errorf("%s: differs from core's ConvTranspose1d by %.3g (relative)", name, e)
			}
			bufs.Put(y)
		})
	}
}
