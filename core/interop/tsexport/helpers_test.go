package tsexport_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/model"
)

// exportCase is a model to export and the latent dimensions to keep.
type exportCase struct {
	name  string
	model func(t *testing.T) (*model.Model, int)
}

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
	// A rotation as latent_pca: a random orthogonal matrix (Gram–Schmidt).
	D := cfg.LatentSize
	q := make([][]float64, D)
	for i := range q {
		q[i] = make([]float64, D)
		for j := range q[i] {
			q[i][j] = rng.NormFloat64()
		}
		for k := range i {
			var d float64
			for j := range D {
				d += q[i][j] * q[k][j]
			}
			for j := range D {
				q[i][j] -= d * q[k][j]
			}
		}
		var n float64
		for _, v := range q[i] {
			n += v * v
		}
		for j := range q[i] {
			q[i][j] /= math.Sqrt(n)
		}
	}
	pca := m.Buffer("latent_pca").Data()
	for i := range D {
		for j := range D {
			pca[i*D+j] = float32(q[i][j])
		}
	}
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
	z := core.Zeros(mean.Shape()...)
	for i := range z.Data() {
		z.Data()[i] = mean.Data()[i] + std.Data()[i]*eps.Data()[i]
	}
	return keep(rotate(m, z, false), k)
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
