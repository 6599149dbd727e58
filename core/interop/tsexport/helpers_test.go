package tsexport_test

import (
	"bytes"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/internal/modeltest"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/interop/torchscript"
	"github.com/ravestation/rave/core/interop/tsexport"
	"github.com/ravestation/rave/core/model"
)

// modelCase is a model to export and the latent dimensions to keep.
type modelCase[M any] struct {
	name  string
	model func(t *testing.T) (M, int)
}

// exportCase is a v1 model to export.
type exportCase = modelCase[*model.Model]

// demoModel is the workstation's demo model (preset quick, trained
// here), exported with its 0.95 fidelity (reference rule).
func demoModel(t *testing.T) (*model.Model, int) {
	t.Helper()
	m, err := model.Load("../../../tui/demo/assets/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return m, m.FidelityDims(0.95)
}

// fixtureModel is the reference's v1 export of the v1-small fixture,
// imported, with the latent size its exporter kept (4 of 16).
func fixtureModel(t *testing.T) (*model.Model, int) {
	t.Helper()
	ts, err := interop.ImportTorchScript(filepath.Join(fixtures.Dir(t, fixtures.V1Small), "ts", "rave_v1_small.ts"))
	if err != nil {
		t.Fatal(err)
	}
	return ts.V1, ts.LatentSize
}

// causalModel is a randomly initialised tiny model with every padding
// causal (no_latency), a loudness stride of 2 and randomised BatchNorm
// statistics and latent PCA, keeping all its dimensions.
func causalModel(t *testing.T) (*model.Model, int) {
	t.Helper()
	cfg, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Preset, cfg.NoLatency, cfg.LoudStride = "", true, 2
	rng := rand.New(rand.NewPCG(3, 4))
	m, err := model.New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range m.Buffers() {
		switch name := b.Name; {
		case filepath.Ext(name) == ".running_mean", name == "latent_mean":
			for i := range b.Data() {
				b.Data()[i] = float32(rng.NormFloat64() * 0.1)
			}
		case filepath.Ext(name) == ".running_var":
			for i := range b.Data() {
				b.Data()[i] = float32(0.5 + rng.Float64())
			}
		}
	}
	// A rotation as latent_pca: a random orthogonal matrix.
	copy(m.Buffer("latent_pca").Data(), modeltest.Orthogonal(rng, cfg.LatentSize))
	m.LatentAnalysis.Done = true
	return m, 0
}

var exportCases = []exportCase{
	{"demo", demoModel},
	{"fixture-v1-small", fixtureModel},
	{"tiny-causal", causalModel},
}

// signal returns n samples of a test signal: two partials under an
// envelope, and a little noise.
func signal(n int) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		t := float64(i) / 48000
		env := 0.5 + 0.4*math.Sin(2*math.Pi*1.5*t)
		x[i] = float32(env*(0.3*math.Sin(2*math.Pi*220*t)+0.15*math.Sin(2*math.Pi*1375*t)) + 0.01*rng.NormFloat64())
	}
	return x
}

// relErr returns max|got − want| / max|want|.
func relErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, w float64
	for i, v := range want {
		d = max(d, math.Abs(float64(got[i])-float64(v)))
		w = max(w, math.Abs(float64(v)))
	}
	if math.IsNaN(d) {
		return math.NaN()
	}
	return d / max(w, 1e-30)
}

// rotate returns pca·(z − mean), or pcaᵀ·z + mean with transpose, on the
// first dims of z (1, C, F) padded with pad (1, D − C, F) when given.
func rotate(m *model.Model, z *core.Tensor, transpose bool) *core.Tensor {
	return rotateWith(m.Buffer("latent_pca").Data(), m.Buffer("latent_mean").Data(), z, transpose)
}

// rotateWith is rotate for the latent analysis pca (L × L) and mean (L).
func rotateWith(pca, mean []float32, z *core.Tensor, transpose bool) *core.Tensor {
	L, F := len(mean), z.Dim(2)
	out := core.Zeros(1, L, F)
	for i := range L {
		for f := range F {
			var s float64
			for j := range L {
				if transpose {
					s += float64(pca[j*L+i]) * float64(z.Data()[j*F+f])
				} else {
					s += float64(pca[i*L+j]) * (float64(z.Data()[j*F+f]) - float64(mean[j]))
				}
			}
			if transpose {
				s += float64(mean[i])
			}
			out.Data()[i*F+f] = float32(s)
		}
	}
	return out
}

// keep returns the first k channels of z (1, C, F).
func keep(z *core.Tensor, k int) *core.Tensor { return (*core.Tape)(nil).Slice(z, 1, 0, k) }

// goEncode is the export's encode with the draw eps (1, L, F) replayed.
func goEncode(m *model.Model, x, eps *core.Tensor, k int) *core.Tensor {
	mean, std := m.Encode(nil, x)
	return keep(rotate(m, sample(mean, std, eps), false), k)
}

// sample returns mean + std·eps, the posterior's draw with eps replayed.
func sample(mean, std, eps *core.Tensor) *core.Tensor {
	z := core.Zeros(mean.Shape()...)
	for i := range z.Data() {
		z.Data()[i] = mean.Data()[i] + std.Data()[i]*eps.Data()[i]
	}
	return z
}

// goAmortized is the export's encode_amortized: the posterior mean and
// standard deviation in PCA space, k dims.
func goAmortized(m *model.Model, x *core.Tensor, k int) (mean, std *core.Tensor) {
	mu, sd := m.Encode(nil, x)
	L := m.Config.LatentSize
	pca := m.Buffer("latent_pca").Data()
	F := sd.Dim(2)
	std = core.Zeros(1, k, F)
	for i := range k {
		for f := range F {
			var s float64
			for j := range L {
				p, v := float64(pca[i*L+j]), float64(sd.Data()[j*F+f])
				s += p * p * v * v
			}
			std.Data()[i*F+f] = float32(math.Sqrt(s))
		}
	}
	return keep(rotate(m, mu, false), k), std
}

// goDecode is the export's decode of z (1, k, F) with the draws replayed:
// pad (1, L − k, F) fills the dropped dimensions, u (1, Fn, bands,
// target) is the noise synthesiser's uniform draw (nil without one).
func goDecode(m *model.Model, z, pad, u *core.Tensor) *core.Tensor {
	full := z
	if pad != nil {
		full = (*core.Tape)(nil).Concat(1, z, pad)
	}
	full = rotate(m, full, true)
	y := m.Decoder.Forward(nil, full, false, nil)
	if u != nil {
		c := m.Config
		h := m.Decoder.Trunk(nil, full)
		nf := dsp.NewNoiseFilter(c.DataSize, c.NoiseBands, c.NoiseRatio())
		e := core.Zeros(u.Shape()...)
		for i, v := range u.Data() {
			e.Data()[i] = 2*v - 1
		}
		n := nf.Filter(nil, m.Decoder.NoiseAmp(nil, h), e)
		T, Tn := y.Dim(2), n.Dim(2)
		for b := range c.DataSize {
			for t := range min(T, Tn) {
				y.Data()[b*T+t] += n.Data()[b*Tn+t]
			}
		}
	}
	return m.Synthesis(nil, y)
}

// noiseFrames returns the frames of the noise synthesiser's draw for F
// latent frames (0 without a noise synthesiser).
func noiseFrames(m *model.Model, F int) int {
	if !m.Config.UseNoise {
		return 0
	}
	h := m.Decoder.Trunk(nil, core.Zeros(1, m.Config.LatentSize, F))
	return m.Decoder.NoiseAmp(nil, h).Dim(2)
}

// offlineAndStreaming runs f as the subtests name (streaming false) and
// name/streaming.
func offlineAndStreaming(t *testing.T, name string, f func(t *testing.T, streaming bool)) {
	t.Helper()
	for _, streaming := range []bool{false, true} {
		sub := name
		if streaming {
			sub += "/streaming"
		}
		t.Run(sub, func(t *testing.T) { f(t, streaming) })
	}
}

// checkParamBuffers checks the int64 buffers encode_params,
// decode_params and forward_params of an export keeping kept dimensions
// at compression ratio R, and those of more, of root.
func checkParamBuffers(t *testing.T, root *torchscript.Module, kept, R int, more map[string][]int64) {
	t.Helper()
	want := map[string][]int64{
		"encode_params": {1, 1, int64(kept), int64(R)}, "decode_params": {int64(kept), int64(R), 1, 1}, "forward_params": {1, 1, 1, 1},
	}
	maps.Copy(want, more)
	for name, want := range want {
		tt := root.Tensor(name)
		if tt == nil {
			t.Errorf("no buffer %s", name)
			continue
		}
		if got, ok := tt.Int64(); !ok || !slices.Equal(got, want) {
			t.Errorf("%s = %v (%s), want %v (int64)", name, got, tt.DType, want)
		}
	}
}

// checkForwardLatency checks root's forward_latency: latency (positive)
// for a streaming export, which the function fn returned, 0 otherwise.
func checkForwardLatency(t *testing.T, root *torchscript.Module, streaming bool, latency int, fn string) {
	t.Helper()
	want := 0
	if streaming {
		want = latency
	}
	if lat, ok := root.Int("forward_latency"); !ok || lat != want || streaming && lat <= 0 {
		t.Errorf("forward_latency = %d, %v, want %d (%s)", lat, ok, want, fn)
	}
}

// checkImported checks what interop.ImportTorchScript read of an export
// of a version v model (streaming or not) of sr Hz keeping kept of L
// latent dimensions.
func checkImported(t *testing.T, ts *interop.TorchScriptModel, v int, streaming bool, sr, kept, L int) {
	t.Helper()
	if ts.Version != v || ts.Streaming != streaming || ts.LatentSize != kept || ts.FullLatentSize != L || ts.SampleRate != sr {
		t.Errorf("imported %s, want a v%d export (streaming %v) of %d Hz keeping %d of %d", ts, v, streaming, sr, kept, L)
	}
}

// output is an output of an imported model (got) and of the exported
// one (want).
type output struct {
	what      string
	got, want *core.Tensor
}

// checkRoundTrip checks that each output of the imported model is within
// 1e-5 (relative) of the exported model's.
func checkRoundTrip(t *testing.T, outputs ...output) {
	t.Helper()
	for _, p := range outputs {
		if e := relErr(p.got.Data(), p.want.Data()); !(e <= 1e-5) {
			t.Errorf("%s: max relative error %.3g after the round trip", p.what, e)
		}
	}
}

// conv is a convolution of model or modelv2, of geometry type G.
type conv[G comparable] interface {
	Name() string
	Geometry() G
	Weights() (w, bias []float32)
}

// checkConvs compares the names, geometry and effective weights of the
// convolutions cg of a model with those, cw, of the model it should
// equal.
func checkConvs[G comparable, C conv[G]](t *testing.T, cw, cg []C) {
	t.Helper()
	if len(cw) != len(cg) {
		t.Fatalf("%d convolutions, want %d", len(cg), len(cw))
	}
	for i := range cw {
		ww, bw := cw[i].Weights()
		wg, bg := cg[i].Weights()
		if cw[i].Name() != cg[i].Name() || cw[i].Geometry() != cg[i].Geometry() {
			t.Errorf("layer %s %+v, want %s %+v", cg[i].Name(), cg[i].Geometry(), cw[i].Name(), cw[i].Geometry())
		}
		if e := relErr(wg, ww); !(e <= 1e-6) || !slices.Equal(bg, bw) {
			t.Errorf("%s: weight differs by %.3g relative (bias equal: %v)", cw[i].Name(), e, slices.Equal(bg, bw))
		}
	}
}

// variants returns a function that builds, with build, the model of
// base edited by edit, failing the test on an error.
func variants[C, M any](t *testing.T, base C, build func(C, bool) (M, error)) func(edit func(*C)) M {
	return func(edit func(*C)) M {
		c := base
		edit(&c)
		m, err := build(c, false)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}

// refusal is a model and options that an export must refuse with an
// error containing want.
type refusal[M any] struct {
	name string
	m    M
	o    tsexport.Options
	want string
}

// checkRefusals checks that write, named fn, refuses each of tests with
// one line "tsexport: …want…", and that writeFile (fn + "File") of the
// first test's model fails into a missing folder.
func checkRefusals[M any](t *testing.T, fn string, write func(io.Writer, M, tsexport.Options) error, writeFile func(string, M, tsexport.Options) error, tests []refusal[M]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := write(&buf, tt.m, tt.o)
			if err == nil || !strings.HasPrefix(err.Error(), "tsexport: ") || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s = %v, want one line \"tsexport: …%s…\"", fn, err, tt.want)
			}
		})
	}
	if err := writeFile(filepath.Join(t.TempDir(), "no", "such", "m.ts"), tests[0].m, tsexport.Options{}); err == nil {
		t.Errorf("%sFile into a missing folder = %v, want an error", fn, err)
	}
}

// checkReproducible checks that two writes of one model, keeping kept
// dimensions, give the same bytes, offline and streaming.
func checkReproducible(t *testing.T, write func(io.Writer, tsexport.Options) error, kept int) {
	t.Helper()
	for _, streaming := range []bool{false, true} {
		var a, b bytes.Buffer
		o := tsexport.Options{Kept: kept, Streaming: streaming}
		if err := write(&a, o); err != nil {
			t.Fatal(err)
		}
		if err := write(&b, o); err != nil {
			t.Fatal(err)
		}
		if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("streaming %v: two exports of one model differ (%d and %d bytes)", streaming, a.Len(), b.Len())
		}
	}
}
