package tsexport_test

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/internal/modeltest"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/interop/torchscript"
	"github.com/ravestation/rave/core/interop/tsexport"
	"github.com/ravestation/rave/core/modelv2"
)

// v2Case is a v2 model to export.
type v2Case = modelCase[*modelv2.Model]

// v2Fixture is the path of a file of the rave-v2-small fixtures' ts/.
func v2Fixture(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(fixtures.Dir(t, "rave-v2-small"), "ts", name)
}

// v2FixtureModel is the reference's v2 export of the v2-small fixture,
// imported, with the latent size its exporter kept (16 of 16).
func v2FixtureModel(t *testing.T) (*modelv2.Model, int) {
	t.Helper()
	ts, err := interop.ImportTorchScript(v2Fixture(t, "v2_small.ts"))
	if err != nil {
		t.Fatal(err)
	}
	return ts.V2, ts.LatentSize
}

// v2FixtureCut is the imported fixture model cut at 4 latent dimensions.
func v2FixtureCut(t *testing.T) (*modelv2.Model, int) {
	m, _ := v2FixtureModel(t)
	return m, 4
}

// v2NoiseModel is a randomly initialised v2-small model with a noise
// generator (hidden width 16), without amplitude modulation, with a
// random orthogonal latent_pca, latent_mean and fidelity curve, keeping
// 5 of its 16 dimensions.
func v2NoiseModel(t *testing.T) (*modelv2.Model, int) {
	t.Helper()
	return v2Random(t, false)
}

// v2NoiseAMModel is v2NoiseModel with amplitude modulation.
func v2NoiseAMModel(t *testing.T) (*modelv2.Model, int) {
	t.Helper()
	return v2Random(t, true)
}

// v2Random is v2NoiseModel with amplitude modulation or not.
func v2Random(t *testing.T, am bool) (*modelv2.Model, int) {
	t.Helper()
	cfg, err := modelv2.Preset("v2-small")
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.WithNoise()
	cfg.Preset, cfg.Noise.HiddenSize, cfg.AmplitudeModulation = "", 16, am
	m, err := modelv2.New(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	m.Init(rng)
	D := cfg.LatentSize
	modeltest.RandomPCA(m.LatentPCA.Data(), m.LatentMean.Data(), rng)
	var sum float64
	for i := range D {
		sum += 1 / float64(i+1)
		m.Fidelity.Data()[i] = float32(sum)
	}
	for i := range D {
		m.Fidelity.Data()[i] /= float32(sum)
	}
	m.WarmedUp = true
	return m, 5
}

var v2Cases = []v2Case{
	{"fixture-v2-small", v2FixtureModel},
	{"fixture-v2-small-4dims", v2FixtureCut},
	{"v2-noise", v2NoiseModel},
	{"v2-noise-am", v2NoiseAMModel},
}

// replaySource is a rand.Source whose Float32 draws are the uniform
// values u (torch.rand's, multiples of 2⁻²⁴) in turn: math/rand/v2's
// Float32 is the low 24 bits of Uint64() >> 32, over 2²⁴.
type replaySource struct {
	u    []float32
	next int
}

func (s *replaySource) Uint64() uint64 {
	if s.next >= len(s.u) {
		s.next++
		return 0
	}
	v := uint64(s.u[s.next]*(1<<24)) << 32
	s.next++
	return v
}

// v2Encode is the export's encode with the draw eps (1, L, F) replayed.
func v2Encode(m *modelv2.Model, x, eps *core.Tensor, k int) *core.Tensor {
	mean, _, std := modelv2.Posterior(nil, m.Encode(nil, x))
	return keep(rotateWith(m.LatentPCA.Data(), m.LatentMean.Data(), sample(mean, std, eps), false), k)
}

// v2Decode is the export's decode of z (1, k, F) with the draws replayed:
// pad (1, L − k, F) fills the dropped dimensions, u is the noise
// generator's uniform draw (nil without one). It fails the test unless
// the model drew exactly len(u) values.
func v2Decode(t *testing.T, m *modelv2.Model, z, pad, u *core.Tensor) *core.Tensor {
	t.Helper()
	full := z
	if pad != nil {
		full = (*core.Tape)(nil).Concat(1, z, pad)
	}
	full = rotateWith(m.LatentPCA.Data(), m.LatentMean.Data(), full, true)
	if u == nil {
		return m.Decode(nil, full, nil)
	}
	src := &replaySource{u: u.Data()}
	y := m.Decode(nil, full, rand.New(src))
	if src.next != len(src.u) {
		t.Fatalf("the model drew %d uniform values, torch %d", src.next, len(src.u))
	}
	return y
}

// v2NoiseDraw returns the shape (Fn, bands, target) of the noise
// generator's draw for F latent frames, nil without one.
func v2NoiseDraw(m *modelv2.Model, F int) []int {
	c := m.Config
	if c.Noise == nil {
		return nil
	}
	ts := 1
	for _, r := range c.Noise.Ratios {
		ts *= r
	}
	return []int{F * c.SubbandRatio() / ts, c.Bands, ts}
}

// TestExportV2ReadBack exports each v2 model, reads the archive back with
// core/interop/torchscript and imports it with interop.ImportTorchScript:
// the nn~ buffers and attributes hold what they should, the imported
// model has the same configuration, latent analysis, effective weights
// and encode and decode outputs.
func TestExportV2ReadBack(t *testing.T) {
	for _, c := range v2Cases {
		offlineAndStreaming(t, c.name, func(t *testing.T, streaming bool) { readBackV2(t, c, streaming) })
	}
}

// readBackV2 is TestExportV2ReadBack for one model.
func readBackV2(t *testing.T, c v2Case, streaming bool) {
	m, kept := c.model(t)
	L := m.Config.LatentSize
	path := filepath.Join(t.TempDir(), "my v2.ts")
	if err := tsexport.WriteFileV2(path, m, tsexport.Options{Kept: kept, Streaming: streaming}); err != nil {
		t.Fatal(err)
	}
	a, err := torchscript.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "my_v2" || a.Root.Class != "__torch__.VariationalScriptedRAVE" {
		t.Errorf("archive %s top %s, want my_v2, __torch__.VariationalScriptedRAVE", a.Name, a.Root.Class)
	}
	R := m.Config.CompressionRatio()
	checkParamBuffers(t, a.Root, kept, R, nil)
	for name, want := range map[string]int{"latent_size": kept, "full_latent_size": L, "sr": m.Config.SampleRate, "sampling_rate": m.Config.SampleRate} {
		if got, ok := a.Root.Int(name); !ok || got != want {
			t.Errorf("%s = %d, %v, want %d", name, got, ok, want)
		}
	}
	checkForwardLatency(t, a.Root, streaming, tsexport.LatencyV2(m), "LatencyV2")

	ts, err := interop.ImportTorchScript(path)
	if err != nil {
		t.Fatal(err)
	}
	back := ts.V2
	checkImported(t, ts, 2, streaming, m.Config.SampleRate, kept, L)
	want := m.Config
	want.Preset = ""
	if got := back.Config.JSON(); got != want.JSON() {
		t.Errorf("imported config %s\nwant %s", got, want.JSON())
	}
	for _, p := range []struct {
		name      string
		got, want *core.Tensor
	}{{"latent_pca", back.LatentPCA, m.LatentPCA}, {"latent_mean", back.LatentMean, m.LatentMean}, {"fidelity", back.Fidelity, m.Fidelity}} {
		if !slices.Equal(p.got.Data(), p.want.Data()) {
			t.Errorf("%s differs after the round trip", p.name)
		}
	}
	if back.WarmedUp != m.WarmedUp {
		t.Errorf("encoder.warmed_up %v after the round trip, want %v", back.WarmedUp, m.WarmedUp)
	}
	checkWeightsV2(t, m, back)

	x := core.New(signal(4*R), 1, 1, 4*R)
	raw, raw2 := m.Encode(nil, x), back.Encode(nil, x)
	mean, _, _ := modelv2.Posterior(nil, raw)
	checkRoundTrip(t, output{"encoder output", raw2, raw},
		output{"decode", back.Decode(nil, mean, rand.New(rand.NewPCG(1, 1))), m.Decode(nil, mean, rand.New(rand.NewPCG(1, 1)))})
}

// checkWeightsV2 compares the geometry and effective weights of every
// convolution of two v2 models.
func checkWeightsV2(t *testing.T, want, got *modelv2.Model) {
	t.Helper()
	convs := func(l *modelv2.Layers) []modelv2.Conv {
		out := []modelv2.Conv{l.EncoderIn, l.EncoderOut, l.GeneratorIn, l.Wave}
		for _, st := range append(slices.Clone(l.EncoderStages), l.GeneratorStages...) {
			out = append(out, st.Resample)
			for _, u := range st.Units {
				out = append(out, u.Dilated, u.Pointwise)
			}
		}
		return append(out, l.Noise...)
	}
	checkConvs(t, convs(want.Layers()), convs(got.Layers()))
}

// TestExportV2Reproducible checks that a v2 export is a function of the
// model: two writes give the same bytes, offline and streaming.
func TestExportV2Reproducible(t *testing.T) {
	m, kept := v2NoiseModel(t)
	checkReproducible(t, func(w io.Writer, o tsexport.Options) error { return tsexport.WriteV2(w, m, o) }, kept)
}

// TestExportV2Refuses checks the v2 models and options an export refuses,
// each with one "tsexport: " error naming the problem.
func TestExportV2Refuses(t *testing.T) {
	small, err := modelv2.Preset("v2-small")
	if err != nil {
		t.Fatal(err)
	}
	newModel := variants(t, small, modelv2.New)
	plain := newModel(func(*modelv2.Config) {})
	checkRefusals(t, "WriteV2", tsexport.WriteV2, tsexport.WriteFileV2, []refusal[*modelv2.Model]{
		{"too many dims", plain, tsexport.Options{Kept: small.LatentSize + 1}, "17 latent dimensions asked of a model of 16"},
		{"negative dims", plain, tsexport.Options{Kept: -2}, "-2 latent dimensions"},
		{"causal", newModel(func(c *modelv2.Config) { c.Causal = true; c.PQMFAttenuation = 70 }), tsexport.Options{}, "causal v2 model"},
		{"bad name", plain, tsexport.Options{Name: "a/b"}, "not a plain file name"},
	})
}

// TestTorchJITLoadsExportV2 exports each v2 model, loads it with
// PyTorch's torch.jit.load and compares encode, decode and forward on a
// test signal with our modelv2 outputs (the random draws replayed), then
// checks what nn~ reads: the methods it lists, their params and their
// output lengths.
func TestTorchJITLoadsExportV2(t *testing.T) {
	py := needTorch(t)
	for _, c := range v2Cases {
		t.Run(c.name, func(t *testing.T) {
			m, kept := c.model(t)
			L, R := m.Config.LatentSize, m.Config.CompressionRatio()
			F := 24
			x := signal(F * R)
			var noise any
			if n := v2NoiseDraw(m, F); n != nil {
				noise = n
			}
			run := runTorchWith(t, py, func(path string) error { return tsexport.WriteFileV2(path, m, tsexport.Options{Kept: kept}) }, x, map[string]any{
				"v2": true, "seed": 1234, "latent_size": L, "kept": kept, "frames": F, "noise": noise, "nn_buffer": 2 * R,
			})
			xt := core.New(x, 1, 1, len(x))
			compare(t, "encode", run.tensor(t, "encode"), v2Encode(m, xt, run.tensor(t, "encode.eps"), kept))
			if tz := run.tensor(t, "encode"); tz != nil {
				compare(t, "decode", run.tensor(t, "decode"), v2Decode(t, m, tz, run.tensor(t, "decode.pad"), run.tensor(t, "decode.uniform")))
			}
			zf := v2Encode(m, xt, run.tensor(t, "forward.eps"), kept)
			compare(t, "forward", run.tensor(t, "forward"), v2Decode(t, m, zf, run.tensor(t, "forward.pad"), run.tensor(t, "forward.uniform")))

			nn := run.nn(t)
			nn.checkMethods(t, kept, R)
			if want := []string{"decode", "encode", "forward"}; !slices.Equal(nn.GetMethods, want) {
				t.Errorf("nn~: get_methods returns %v, want %v", nn.GetMethods, want)
			}
			sr := m.Config.SampleRate
			if nn.LatentSize != kept || nn.FullLatentSize != L || nn.SamplingRate != sr || nn.SR != sr {
				t.Errorf("attributes %+v, want latent_size %d, full_latent_size %d, sampling_rate and sr %d", nn, kept, L, sr)
			}
		})
	}
}

// TestTorchJITReproducesReferenceV2 imports the reference's own v2
// export, exports it again and runs ours under torch.jit.load as the
// fixture outputs were made (each call right after torch.manual_seed of
// its seed): encode, decode and forward reproduce the outputs the
// reference's export gave (v2_small_ts_outputs) to 1e-4.
func TestTorchJITReproducesReferenceV2(t *testing.T) {
	py := needTorch(t)
	m, kept := v2FixtureModel(t)
	out, err := core.ReadSafetensors(v2Fixture(t, "v2_small_ts_outputs.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]json.RawMessage
	js, err := os.ReadFile(v2Fixture(t, "v2_small_ts_outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var offline struct {
		Seeds map[string]int `json:"seeds"`
	}
	if err := json.Unmarshal(js, &meta); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(meta["v2_small"], &offline); err != nil {
		t.Fatal(err)
	}
	seeds := offline.Seeds
	get := func(name string) *core.Tensor {
		x, err := out.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	dir := t.TempDir()
	input := func(name string) map[string]any {
		x := get(name)
		p := filepath.Join(dir, name+".f32")
		if err := os.WriteFile(p, f32bytes(x.Data()), 0o600); err != nil {
			t.Fatal(err)
		}
		return map[string]any{"input": p, "shape": x.Shape()}
	}
	var calls []map[string]any
	for _, c := range []struct{ method, in string }{{"encode", "input"}, {"decode", "v2_small.decode.input"}, {"forward", "input"}} {
		seed, ok := seeds[c.method]
		if !ok {
			t.Fatalf("no seed for %s in v2_small_ts_outputs.json", c.method)
		}
		call := input(c.in)
		call["name"], call["method"], call["seed"] = c.method, c.method, seed
		calls = append(calls, call)
	}
	run := runTorchWith(t, py, func(path string) error { return tsexport.WriteFileV2(path, m, tsexport.Options{Kept: kept}) },
		get("input").Data(), map[string]any{"replay": calls})
	for _, name := range []string{"encode", "decode", "forward"} {
		compare(t, name+" (the reference export's output)", run.tensor(t, name), get("v2_small."+name+".output"))
	}
}

// TestTorchJITStreamingExportV2 runs the streaming export of each v2
// model under torch.jit.load buffer by buffer (2048 samples, one latent
// frame) and compares, past the warm-up, with our offline modelv2
// delayed by the latency the export declares: forward with deterministic
// set; encode and decode with their random draws replayed buffer by
// buffer.
func TestTorchJITStreamingExportV2(t *testing.T) {
	py := needTorch(t)
	const buffer = 2048
	for _, c := range v2Cases {
		t.Run(c.name, func(t *testing.T) {
			m, kept := c.model(t)
			L, R := m.Config.LatentSize, m.Config.CompressionRatio()
			if buffer%R != 0 {
				t.Fatalf("buffer %d is not a multiple of the compression ratio %d", buffer, R)
			}
			T := 48 * buffer
			J := T / R
			x := core.New(signal(T), 1, 1, T)
			mean, _, std := modelv2.Posterior(nil, m.Encode(nil, x))
			rot := func(z *core.Tensor) *core.Tensor {
				return keep(rotateWith(m.LatentPCA.Data(), m.LatentMean.Data(), z, false), kept)
			}
			z := rot(mean)
			lat := writeLatents(t, z)
			var noise any
			draw := v2NoiseDraw(m, J)
			if draw != nil {
				noise = draw
			}
			o := tsexport.Options{Kept: kept, Streaming: true}
			run := runTorchWith(t, py, func(path string) error { return tsexport.WriteFileV2(path, m, o) }, x.Data(), map[string]any{
				"v2": true, "seed": 99, "latent_size": L, "kept": kept, "frames": J, "noise": noise, "buffer": buffer, "latents": lat,
			})
			a, err := torchscript.Open(filepath.Join(filepath.Dir(run.dir), "export.ts"))
			if err != nil {
				t.Fatal(err)
			}
			encLat, decLat, fwdLat := intAttr(t, a.Root, "encode_latency"), intAttr(t, a.Root, "decode_latency"), intAttr(t, a.Root, "forward_latency")
			if encLat%R != 0 || fwdLat != encLat+decLat || decLat <= 0 || fwdLat != tsexport.LatencyV2(m) {
				t.Fatalf("latencies encode %d, decode %d, forward %d (LatencyV2 %d)", encLat, decLat, fwdLat, tsexport.LatencyV2(m))
			}
			t.Logf("latency: encode %d, decode %d samples", encLat, decLat)

			// Deterministic: zeros for the dropped dims, and no noise
			// (uniform draws of 0.5 excite the noise filters with zeros).
			var pad, silent *core.Tensor
			if kept < L {
				pad = core.Zeros(1, L-kept, J)
			}
			if draw != nil {
				silent = core.Zeros(1, draw[0], draw[1], draw[2])
				for i := range silent.Data() {
					silent.Data()[i] = 0.5
				}
			}
			compareShifted(t, "stream forward (deterministic)", run.tensor(t, "stream.forward"), v2Decode(t, m, z, pad, silent), fwdLat)

			le := encLat / R
			eps := run.tensor(t, "stream.encode.eps")
			if eps == nil {
				t.Fatal("no replayed encode draws")
			}
			zr := sample(delayFrames(mean, le), delayFrames(std, le), eps)
			compareShifted(t, "stream encode (draws replayed; ours "+strconv.Itoa(le)+" frames earlier)", run.tensor(t, "stream.encode"), rot(zr), 0)

			var u *core.Tensor
			if draw != nil {
				u = run.replayedUniform(t, intAttr(t, a.Root.Lookup("decoder.noise_module"), "latency"))
			}
			if kept < L {
				pad = run.tensor(t, "stream.decode.pad")
			}
			compareShifted(t, "stream decode", run.tensor(t, "stream.decode"), v2Decode(t, m, z, pad, u), decLat)
		})
	}
}
