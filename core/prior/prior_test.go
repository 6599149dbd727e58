package prior

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/arith"
	"github.com/ravestation/rave/core/internal/gradcheck"
)

// smallConfig is a CPU-test prior: k dims, 16/8 channels, the reference
// depth and dilations.
func smallConfig(k int) Config {
	c := DefaultConfig(k)
	c.Residual, c.Skip = 16, 8
	return c
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		rf      int
		wantErr bool
	}{
		{"reference", DefaultConfig(16), 67, false},
		{"small", smallConfig(2), 67, false},
		{"kernel 2 cycle 3", Config{Dims: 1, Classes: 4, Residual: 2, Skip: 2, Layers: 3, Kernel: 2, Cycle: 3, LR: 1}, 8, false},
		{"no dims", Config{Classes: 32, Residual: 8, Skip: 8, Layers: 1, Kernel: 3, Cycle: 1, LR: 1}, 0, true},
		{"zero lr", Config{Dims: 1, Classes: 32, Residual: 8, Skip: 8, Layers: 1, Kernel: 3, Cycle: 1}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && tt.cfg.ReceptiveField() != tt.rf {
				t.Errorf("receptive field %d, want %d", tt.cfg.ReceptiveField(), tt.rf)
			}
		})
	}
}

func TestQuantizer(t *testing.T) {
	q := NewQuantizer(32)
	tests := []struct {
		v    float32
		want int32
	}{
		{-100, 0}, {100, 31}, {0, 16}, {-1e-6, 15}, {float32(math.NaN()), 16},
	}
	for _, tt := range tests {
		if got := q.Index(tt.v); got != tt.want {
			t.Errorf("Index(%v) = %d, want %d", tt.v, got, tt.want)
		}
	}
	// Every centre falls in its own bin, and bins are equally likely under
	// N(0,1): the fraction of normal draws per bin is ≈ 1/32.
	for i, c := range q.Centres {
		if got := q.Index(c); got != int32(i) {
			t.Errorf("centre %d (%v) quantises to %d", i, c, got)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, 32)
	const n = 64000
	for range n {
		counts[q.Index(float32(rng.NormFloat64()))]++
	}
	for i, c := range counts {
		if math.Abs(float64(c)/n-1.0/32) > 0.004 {
			t.Errorf("bin %d holds %.4f of the draws, want 1/32", i, float64(c)/n)
		}
	}
}

func TestCrossEntropyGrad(t *testing.T) {
	tests := []struct {
		name    string
		N, Q, T int
	}{
		{"one position", 1, 4, 1},
		{"odd shape", 3, 5, 7},
		{"32 classes", 2, 32, 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			tg := make([]int32, tt.N*tt.T)
			for j := range tg {
				tg[j] = int32(rng.IntN(tt.Q))
			}
			err := gradcheck.Check(uint64(i), []gradcheck.Input{gradcheck.In(gradcheck.Signed, tt.N, tt.Q, tt.T)},
				func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
					// Scale the logits up so the softmax is far from uniform.
					return CrossEntropy(tp, tp.Scale(x[0], 3), tg)
				})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCrossEntropyValue(t *testing.T) {
	// Uniform logits give log Q; a confident correct logit gives ≈ 0.
	logits := core.Zeros(2, 32, 3)
	if got := CrossEntropy(nil, logits, make([]int32, 6)).Item(); math.Abs(float64(got)-math.Log(32)) > 1e-5 {
		t.Errorf("uniform: %v, want log 32", got)
	}
	d := logits.Data()
	for n := range 2 {
		for tt := range 3 {
			d[n*32*3+5*3+tt] = 50
		}
	}
	tg := []int32{5, 5, 5, 5, 5, 5}
	if got := CrossEntropy(nil, logits, tg).Item(); got > 1e-6 {
		t.Errorf("confident: %v, want ≈ 0", got)
	}
}

// TestCachedMatchesForward checks that the incremental sampler reproduces
// the full causal forward frame by frame, well past the receptive field.
func TestCachedMatchesForward(t *testing.T) {
	preset := DefaultConfig(4)
	preset.Residual, preset.Skip = 64, 32
	tests := []struct {
		name string
		cfg  Config
		T    int
	}{
		{"small", smallConfig(3), 80},
		{"cpu preset 64/32", preset, 70},
		{"kernel 2 cycle 3", Config{Dims: 2, Classes: 5, Residual: 6, Skip: 4, Layers: 4, Kernel: 2, Cycle: 3, LR: 1}, 17},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, uint64(i)))
			p := New(tt.cfg, rng)
			D, T := tt.cfg.Dims, tt.T
			idx := p.Quantizer().Indices(nil, core.Randn(rng, 1, D, T))
			idx[1*T+5] = -1 // an empty input is handled alike
			full := p.Forward(nil, idx, 1, T).Data()
			s := p.NewSampler()
			frame := make([]int32, D)
			C := D * tt.cfg.Classes
			for pass := range 2 { // the second pass checks Reset
				var worst float64
				for f := range T {
					for d := range D {
						frame[d] = idx[d*T+f]
					}
					got := s.Step(frame)
					for ch := range C {
						worst = max(worst, math.Abs(float64(got[ch]-full[ch*T+f])))
					}
				}
				t.Logf("pass %d: max |cached − forward| = %.3g over %d frames", pass, worst, T)
				if worst > 1e-4 {
					t.Fatalf("pass %d: cached logits differ from Forward by %g", pass, worst)
				}
				s.Reset()
			}
		})
	}
}

// pattern returns synthetic latents (B, 2, T) with known structure: dim 0
// cycles through 6 classes, dim 1 through 4 classes shifted by dim 0's
// phase; with probability noise a class is replaced by a random one. Each
// example starts at a random phase.
func pattern(rng *rand.Rand, B, T int, noise float64) *core.Tensor {
	q := NewQuantizer(32)
	a := []int32{3, 10, 17, 24, 29, 14}
	b := []int32{28, 6, 20, 12}
	z := core.Zeros(B, 2, T)
	d := z.Data()
	for i := range B {
		ph := rng.IntN(12)
		for t := range T {
			ca, cb := a[(t+ph)%len(a)], b[(t+ph)%len(b)]
			if rng.Float64() < noise {
				ca = int32(rng.IntN(32))
			}
			if rng.Float64() < noise {
				cb = int32(rng.IntN(32))
			}
			d[(i*2)*T+t] = q.Centres[ca]
			d[(i*2+1)*T+t] = q.Centres[cb]
		}
	}
	return z
}

// trained caches the prior that trainedPrior trains once per test binary.
var trained struct {
	once          sync.Once
	p             *Prior
	before, after float64
	err           error
}

// trainedPrior trains a small prior on the synthetic pattern (once per test
// binary) and returns it with its validation cross-entropy before and
// after.
func trainedPrior(t *testing.T) (p *Prior, before, after float64) {
	t.Helper()
	trained.once.Do(func() {
		trained.p, trained.before, trained.after, trained.err = trainPattern()
	})
	if trained.err != nil {
		t.Fatal(trained.err)
	}
	return trained.p, trained.before, trained.after
}

// trainPattern trains for 300 steps of 8 clips × 32 frames at a raised
// learning rate (3e-3) so that the test stays within seconds.
func trainPattern() (p *Prior, before, after float64, err error) {
	cfg := smallConfig(2)
	cfg.Residual, cfg.Skip = 24, 16
	cfg.LR = 3e-3
	rng := rand.New(rand.NewPCG(11, 12))
	p = New(cfg, rng)
	val := pattern(rand.New(rand.NewPCG(99, 100)), 4, 48, 0.02)
	before = p.Evaluate(val)
	tr := NewTrainer(p)
	for step := range 300 {
		if _, err := tr.Step(pattern(rng, 8, 32, 0.02)); err != nil {
			return nil, 0, 0, fmt.Errorf("step %d: %w", step, err)
		}
	}
	return p, before, p.Evaluate(val), nil
}

func TestTrainOnPattern(t *testing.T) {
	_, before, after := trainedPrior(t)
	t.Logf("validation cross-entropy: %.3f → %.3f nats/dim (uniform %.3f)", before, after, math.Log(32))
	if after > 1.5 || after > before/2 {
		t.Fatalf("validation cross-entropy %.3f → %.3f, want below 1.5", before, after)
	}
}

func TestSaveLoad(t *testing.T) {
	p := New(smallConfig(2), rand.New(rand.NewPCG(1, 1)))
	path := filepath.Join(t.TempDir(), "prior.safetensors")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if q.Config() != p.Config() {
		t.Fatalf("config %+v, want %+v", q.Config(), p.Config())
	}
	for i, v := range p.Params().Data() {
		if q.Params().Data()[i] != v {
			t.Fatalf("parameter %d differs after load", i)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil {
		t.Fatal("loading a missing file succeeded")
	}
}

func TestGenerate(t *testing.T) {
	p := New(smallConfig(2), rand.New(rand.NewPCG(2, 2)))
	prompt := pattern(rand.New(rand.NewPCG(3, 3)), 1, 10, 0)
	tests := []struct {
		name string
		opt  GenerateOptions
	}{
		{"unconditional", GenerateOptions{Frames: 20, Temperature: 1}},
		{"greedy", GenerateOptions{Frames: 5}},
		{"prompted", GenerateOptions{Frames: 12, Temperature: 0.7, Prompt: prompt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z1, i1, err := p.Generate(rand.New(rand.NewPCG(7, 7)), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			_, i2, _ := p.Generate(rand.New(rand.NewPCG(7, 7)), tt.opt)
			if sh := z1.Shape(); sh[0] != 1 || sh[1] != 2 || sh[2] != tt.opt.Frames {
				t.Fatalf("shape %v", sh)
			}
			for j := range i1 {
				if i1[j] != i2[j] {
					t.Fatalf("same seed gave different samples at %d", j)
				}
			}
		})
	}
	if _, _, err := p.Generate(rand.New(rand.NewPCG(1, 1)), GenerateOptions{Frames: 3, Temperature: -1}); err == nil {
		t.Error("negative temperature accepted")
	}
}

// TestCodeLatents trains the prior on structured data, codes a clip and
// checks the round trip is exact and the rate far below 5 bits per value.
func TestCodeLatents(t *testing.T) {
	p, before, after := trainedPrior(t)
	t.Logf("trained prior: %.3f → %.3f nats/dim", before, after)
	const T = 64
	z := pattern(rand.New(rand.NewPCG(5, 6)), 1, T, 0.02)
	data, bits, err := p.EncodeLatents(z)
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := p.DecodeLatents(data, T)
	if err != nil {
		t.Fatal(err)
	}
	want := p.Quantizer().Indices(nil, z)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("index %d: decoded %d, want %d", i, got[i], want[i])
		}
	}
	raw := 2 * T * 5
	// Ideal: 10 bits for the uniform first frame plus the model's
	// cross-entropy over the other frames.
	ideal := 10 + p.Evaluate(z)*2*(T-1)/math.Ln2
	t.Logf("coded %d frames × 2 dims in %d bits: %.2f bits/frame (ideal %.1f bits, raw %d bits/frame)", T, bits, float64(bits)/T, ideal, 10)
	if bits > raw/3 {
		t.Fatalf("%d bits, want well below %d", bits, raw)
	}
	// Garbage never panics and is reported or decoded as some clip.
	if _, _, err := p.DecodeLatents([]byte{0xff, 0xff, 0xff, 0xff, 0xff}, T); err != nil && !errors.Is(err, arith.ErrCorrupt) {
		t.Fatalf("garbage: %v", err)
	}
}

// TestLossGrad checks the gradient of the whole prior (every parameter
// tensor, a few elements each) against central differences of Loss. The
// step is smaller than gradcheck.Eps because LeakyReLU kinks sit inside
// the network; the tolerances are gradcheck's.
func TestLossGrad(t *testing.T) {
	cfg := Config{Dims: 2, Classes: 4, Residual: 3, Skip: 2, Layers: 3, Kernel: 2, Cycle: 2, LR: 1e-3}
	rng := rand.New(rand.NewPCG(21, 22))
	p := New(cfg, rng)
	z := core.Randn(rng, 2, 2, 7)
	tp := core.NewTape()
	loss, _ := p.Loss(tp, z)
	tp.Backward(loss)
	const eps = 1e-3
	eval := func() float64 { _, v := p.Loss(nil, z); return v }
	for _, w := range p.Params().Params() {
		d, g := w.Data(), w.Grad()
		for _, i := range []int{0, w.Len() / 2, w.Len() - 1} {
			orig := d[i]
			d[i] = orig + eps
			hi, lp := float64(d[i]), eval()
			d[i] = orig - eps
			lo, lm := float64(d[i]), eval()
			d[i] = orig
			num, ana := (lp-lm)/(hi-lo), float64(g[i])
			diff := math.Abs(num - ana)
			if diff > gradcheck.AbsTol && diff > gradcheck.RelTol*max(math.Abs(num), math.Abs(ana)) {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", w.Name, i, ana, num)
			}
		}
	}
}

// TestContinuePattern prompts the trained prior with a clean clip and
// checks that greedy generation continues the pattern.
func TestContinuePattern(t *testing.T) {
	p, _, _ := trainedPrior(t)
	const P, T = 16, 24
	clip := pattern(rand.New(rand.NewPCG(8, 9)), 1, P+T, 0)
	prompt := core.Zeros(1, 2, P)
	want := make([]int32, 2*T)
	q := p.Quantizer()
	for d := range 2 {
		for tt := range P + T {
			v := clip.Data()[d*(P+T)+tt]
			if tt < P {
				prompt.Data()[d*P+tt] = v
			} else {
				want[d*T+tt-P] = q.Index(v)
			}
		}
	}
	_, got, err := p.Generate(rand.New(rand.NewPCG(1, 1)), GenerateOptions{Frames: T, Prompt: prompt})
	if err != nil {
		t.Fatal(err)
	}
	match := 0
	for i := range want {
		if got[i] == want[i] {
			match++
		}
	}
	t.Logf("greedy continuation matches %d of %d values", match, len(want))
	if match < len(want)*9/10 {
		t.Fatalf("continuation matches %d of %d values, want ≥ 90%%", match, len(want))
	}
}
