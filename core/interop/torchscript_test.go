package interop_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/modelv2"
)

// tsTol is the largest relative error (max |got − want| / max |want|)
// allowed between our model and a reference export's outputs.
const tsTol = 1e-4

// tsFixture returns the path of a file of a fixture set's ts/ folder,
// skipping the test when the fixtures are absent.
func tsFixture(t *testing.T, set, file string) string {
	t.Helper()
	return filepath.Join(fixtures.Dir(t, set), "ts", file)
}

// tsOutputs reads the reference outputs of a fixture set's exports.
func tsOutputs(t *testing.T, set, file string) *core.TensorFile {
	t.Helper()
	tf, err := core.ReadSafetensors(tsFixture(t, set, file))
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

// tsTensor returns an output array as a tensor.
func tsTensor(t *testing.T, tf *core.TensorFile, name string) *core.Tensor {
	t.Helper()
	x, err := tf.Tensor(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// checkRel compares got with the reference array name, logging the error.
func checkRel(t *testing.T, tf *core.TensorFile, name string, got *core.Tensor) {
	t.Helper()
	want := tsTensor(t, tf, name)
	if got.Len() != want.Len() {
		t.Fatalf("%s: got shape %v, want %v", name, got.Shape(), want.Shape())
	}
	var d, w float64
	for i, v := range want.Data() {
		d = max(d, math.Abs(float64(got.Data()[i])-float64(v)))
		w = max(w, math.Abs(float64(v)))
	}
	e := d / max(w, 1e-30)
	if e > tsTol || math.IsNaN(e) {
		t.Errorf("%s: max relative error %.3g > %g", name, e, tsTol)
		return
	}
	t.Logf("%s: max relative error %.2g", name, e)
}

// rotate returns pca·(z − mean) (transpose: pcaᵀ·z + mean), the latent
// PCA of the reference's encode (decode), on z (1, L, F).
func rotate(pca, mean []float32, z *core.Tensor, transpose bool) *core.Tensor {
	L, F := z.Dim(1), z.Dim(2)
	out := core.Zeros(1, L, F)
	for i := range L {
		for f := range F {
			var s float64
			for j := range L {
				p := pca[i*L+j]
				if transpose {
					p = pca[j*L+i]
				}
				x := float64(z.Data()[j*F+f])
				if !transpose {
					x -= float64(mean[j])
				}
				s += float64(p) * x
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
func keep(z *core.Tensor, k int) *core.Tensor {
	return (*core.Tape)(nil).Slice(z, 1, 0, k)
}

// sample returns mean + std·ε.
func sample(mean, std, eps *core.Tensor) *core.Tensor {
	out := core.Zeros(mean.Shape()...)
	for i := range out.Data() {
		out.Data()[i] = mean.Data()[i] + std.Data()[i]*eps.Data()[i]
	}
	return out
}

// v1Latents returns the latent_pca and latent_mean buffers of m.
func v1Latents(m *model.Model) (pca, mean []float32) {
	return m.Buffer("latent_pca").Data(), m.Buffer("latent_mean").Data()
}

// v1Encode is TraceModel.encode with the replayed ε.
func v1Encode(m *model.Model, x, eps *core.Tensor, kept int) *core.Tensor {
	mean, std := m.Encode(nil, x)
	pca, mu := v1Latents(m)
	return keep(rotate(pca, mu, sample(mean, std, eps), false), kept)
}

// v1Decode is TraceModel.decode with the replayed prior noise (pad) and
// the noise head's uniform draw u (rand_like; the excitation is 2u − 1).
func v1Decode(m *model.Model, z, pad, u *core.Tensor) *core.Tensor {
	pca, mu := v1Latents(m)
	full := rotate(pca, mu, (*core.Tape)(nil).Concat(1, z, pad), true)
	h := m.Decoder.Trunk(nil, full)
	y := m.Decoder.Forward(nil, full, false, nil)
	c := m.Config
	nf := dsp.NewNoiseFilter(c.DataSize, c.NoiseBands, c.NoiseRatio())
	excitation := core.Zeros(u.Shape()...)
	for i, v := range u.Data() {
		excitation.Data()[i] = 2*v - 1
	}
	n := nf.Filter(nil, m.Decoder.NoiseAmp(nil, h), excitation)
	for i, v := range n.Data() {
		y.Data()[i] += v
	}
	return m.Synthesis(nil, y)
}

// TestImportTorchScriptV1 imports RAVE v1's non-streaming export and
// reproduces its encode, encode_amortized, decode and forward outputs
// (v1_small_ts_outputs, random draws replayed) to 1e-4.
func TestImportTorchScriptV1(t *testing.T) {
	const name = "rave_v1_small"
	ts, err := interop.ImportTorchScript(tsFixture(t, fixtures.V1Small, name+".ts"))
	if err != nil {
		t.Fatal(err)
	}
	if ts.Version != 1 || ts.Streaming || ts.SampleRate != 48000 || ts.LatentSize != 4 || ts.FullLatentSize != 16 || ts.V1 == nil {
		t.Fatalf("imported %s, want a non-streaming v1 export, 48000 Hz, latent size 4 of 16", ts)
	}
	m := ts.V1
	if m.LatentAnalysis.Dims != 4 || !m.LatentAnalysis.Done {
		t.Errorf("latent analysis %+v, want done with 4 dims", m.LatentAnalysis)
	}
	if want := []string{"fidelity", "saved_step", "loudness.a_weight", "loudness.window"}; !slices.Equal(ts.Filled, want) {
		t.Errorf("filled %v, want %v", ts.Filled, want)
	}
	// The export keeps a PCA but no fidelity curve: a share of the
	// variance cannot be turned into dimensions.
	if k, err := m.KeptDims(latent.Fidelity{F: 0.95}); !errors.Is(err, latent.ErrNoAnalysis) {
		t.Errorf("KeptDims(fidelity 0.95) = %d, %v, want ErrNoAnalysis", k, err)
	}
	out := tsOutputs(t, fixtures.V1Small, "v1_small_ts_outputs.safetensors")
	checkRel(t, out, name+".buffer.latent_pca", m.Buffer("latent_pca"))
	checkRel(t, out, name+".buffer.latent_mean", m.Buffer("latent_mean"))
	x := tsTensor(t, out, "input")

	checkRel(t, out, name+".encode.output", v1Encode(m, x, tsTensor(t, out, name+".encode.noise_reparam"), ts.LatentSize))

	mean, std := m.Encode(nil, x)
	pca, mu := v1Latents(m)
	checkRel(t, out, name+".encode_amortized.mean", keep(rotate(pca, mu, mean, false), ts.LatentSize))
	variance := core.Zeros(std.Shape()...)
	sq := make([]float32, len(pca))
	for i, v := range std.Data() {
		variance.Data()[i] = v * v
	}
	for i, p := range pca {
		sq[i] = p * p
	}
	sd := keep(rotate(sq, make([]float32, len(mu)), variance, false), ts.LatentSize)
	for i, v := range sd.Data() {
		sd.Data()[i] = float32(math.Sqrt(float64(v)))
	}
	checkRel(t, out, name+".encode_amortized.std", sd)

	checkRel(t, out, name+".decode.output", v1Decode(m, tsTensor(t, out, name+".decode.input"),
		tsTensor(t, out, name+".decode.noise_latent_pad"), tsTensor(t, out, name+".decode.noise_uniform")))

	z := v1Encode(m, x, tsTensor(t, out, name+".forward.noise_reparam"), ts.LatentSize)
	checkRel(t, out, name+".forward.output", v1Decode(m, z,
		tsTensor(t, out, name+".forward.noise_latent_pad"), tsTensor(t, out, name+".forward.noise_uniform")))
}

// v2Encode is VariationalScriptedRAVE.encode with the replayed ε.
func v2Encode(m *modelv2.Model, x, eps *core.Tensor, kept int) *core.Tensor {
	mean, _, std := modelv2.Posterior(nil, m.Encode(nil, x))
	return keep(rotate(m.LatentPCA.Data(), m.LatentMean.Data(), sample(mean, std, eps), false), kept)
}

// v2Decode is VariationalScriptedRAVE.decode with the replayed prior
// noise pad.
func v2Decode(m *modelv2.Model, z, pad *core.Tensor) *core.Tensor {
	full := z
	if pad.Dim(1) > 0 {
		full = (*core.Tape)(nil).Concat(1, z, pad)
	}
	return m.Decode(nil, rotate(m.LatentPCA.Data(), m.LatentMean.Data(), full, true), nil)
}

// TestImportTorchScriptV2 imports RAVE v2's non-streaming export into a
// modelv2 model and reproduces its encode, decode and forward outputs
// (v2_small_ts_outputs, random draws replayed) to 1e-4.
func TestImportTorchScriptV2(t *testing.T) {
	const name = "v2_small"
	ts, err := interop.ImportTorchScript(tsFixture(t, "rave-v2-small", name+".ts"))
	if err != nil {
		t.Fatal(err)
	}
	if ts.Version != 2 || ts.Streaming || ts.SampleRate != 44100 || ts.LatentSize != 16 || ts.FullLatentSize != 16 || ts.V2 == nil {
		t.Fatalf("imported %s, want a non-streaming v2 export, 44100 Hz, latent size 16 of 16", ts)
	}
	m := ts.V2
	if len(ts.Filled) != 11 || ts.Filled[0] != "audio_distance.multiscale_stft.stfts.0.window" || !slices.Contains(ts.Filled, "receptive_field") {
		t.Errorf("filled %v, want receptive_field and the 10 STFT windows", ts.Filled)
	}
	out := tsOutputs(t, "rave-v2-small", "v2_small_ts_outputs.safetensors")
	checkRel(t, out, name+".buffer.latent_pca", m.LatentPCA)
	checkRel(t, out, name+".buffer.latent_mean", m.LatentMean)
	checkRel(t, out, name+".buffer.fidelity", m.Fidelity)
	x := tsTensor(t, out, "input")
	checkRel(t, out, name+".encode.output", v2Encode(m, x, tsTensor(t, out, name+".encode.noise_reparam"), ts.LatentSize))
	checkRel(t, out, name+".decode.output", v2Decode(m, tsTensor(t, out, name+".decode.input"), tsTensor(t, out, name+".decode.noise_latent_pad")))
	z := v2Encode(m, x, tsTensor(t, out, name+".forward.noise_reparam"), ts.LatentSize)
	checkRel(t, out, name+".forward.output", v2Decode(m, z, tsTensor(t, out, name+".forward.noise_latent_pad")))
}

// TestImportTorchScriptStreamingWeights imports the streaming exports:
// their caches are ignored and the weights equal those of the
// non-streaming exports, bit for bit.
func TestImportTorchScriptStreamingWeights(t *testing.T) {
	for _, c := range []struct{ set, offline, streaming string }{
		{fixtures.V1Small, "rave_v1_small.ts", "rave_v1_small_streaming.ts"},
		{"rave-v2-small", "v2_small.ts", "v2_small_streaming.ts"},
	} {
		t.Run(c.streaming, func(t *testing.T) {
			a, err := interop.ImportTorchScript(tsFixture(t, c.set, c.offline))
			if err != nil {
				t.Fatal(err)
			}
			b, err := interop.ImportTorchScript(tsFixture(t, c.set, c.streaming))
			if err != nil {
				t.Fatal(err)
			}
			if !b.Streaming || len(b.Ignored) <= len(a.Ignored) {
				t.Errorf("streaming %v with %d ignored tensors (offline export: %d)", b.Streaming, len(b.Ignored), len(a.Ignored))
			}
			var ta, tb []*core.Tensor
			if a.V1 != nil {
				ta, tb = a.V1.Tensors(), b.V1.Tensors()
			} else {
				ta, tb = a.V2.StateDict(), b.V2.StateDict()
			}
			if len(ta) != len(tb) {
				t.Fatalf("%d and %d tensors", len(ta), len(tb))
			}
			for i := range ta {
				if ta[i].Name != tb[i].Name || !slices.Equal(ta[i].Data(), tb[i].Data()) {
					t.Errorf("tensor %s differs between the exports", ta[i].Name)
				}
			}
		})
	}
}

// TestImportRefusesV2TorchScript checks that Import, which gives the
// workstation's v1 model, refuses a v2 export with ErrTorchScriptV2.
func TestImportRefusesV2TorchScript(t *testing.T) {
	_, err := interop.Import(tsFixture(t, "rave-v2-small", "v2_small.ts"))
	if !errors.Is(err, interop.ErrTorchScriptV2) {
		t.Fatalf("Import(v2 export) = %v, want ErrTorchScriptV2", err)
	}
	t.Log(err)
}

// rewriteZip copies the zip archive src to a file of dir, passing each
// record through edit (nil drops it).
func rewriteZip(t *testing.T, src, dst string, edit func(name string, data []byte) []byte) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, r := range zr.File {
		rc, err := r.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if data = edit(r.Name, data); data == nil {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.Name, Method: r.Method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// replaceIn returns an edit that replaces old by new (of the same length,
// so that pickle lengths stay valid) in the records whose name ends with
// suffix.
func replaceIn(t *testing.T, suffix, old, new string) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		if strings.HasSuffix(name, suffix) {
			if !bytes.Contains(data, []byte(old)) {
				t.Fatalf("%s does not contain %q", name, old)
			}
			data = bytes.ReplaceAll(data, []byte(old), []byte(new))
		}
		return data
	}
}

// TestImportTorchScriptRefuses checks that files the importer cannot map
// give one clear error each: a cut-short export, a zip that is not
// TorchScript, a TorchScript module of another kind, and exports altered
// to hold an unknown module, to lack a tensor or a module, to hold an
// unknown tensor, or to declare a convolution the model does not have.
func TestImportTorchScriptRefuses(t *testing.T) {
	v1 := tsFixture(t, fixtures.V1Small, "rave_v1_small.ts")
	dir := t.TempDir()
	whole, err := os.ReadFile(v1)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.ts")
	if err := os.WriteFile(cut, whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	edited := func(name string, edit func(string, []byte) []byte) string {
		return rewriteZip(t, v1, filepath.Join(dir, name), edit)
	}
	cases := []struct {
		name, path string
		want       []string
	}{
		{"cut short", cut, []string{"cut.ts", "not a zip archive, or cut short"}},
		{"torch.save checkpoint", edited("state.ts", func(name string, data []byte) []byte {
			if strings.Contains(name, "/code/") || strings.HasSuffix(name, "/constants.pkl") {
				return nil
			}
			return data
		}), []string{"state.ts", "not a TorchScript archive", "torch.save checkpoint"}},
		{"another model", "torchscript/testdata/tiny_conv.ts", []string{"not a RAVE export", "__torch__.Tiny"}},
		{"unknown module", edited("module.ts", replaceIn(t, "/data.pkl", "NoiseGenerator", "NoiseMachinery")),
			[]string{"unknown module decoder.synth.branches.2", "rave.model.NoiseMachinery"}},
		{"missing tensor", edited("tensor.ts", replaceIn(t, "/data.pkl", "latent_pca", "latent_pcb")), []string{"missing tensor latent_pca"}},
		{"missing module", edited("synth.ts", replaceIn(t, "/data.pkl", "synth", "synty")), []string{"decoder.synth.branches.2.net.0"}},
		{"unknown tensor", edited("extra.ts", replaceIn(t, "/data.pkl", "max_batch_size", "max_batch_sizx")), []string{"tensor max_batch_sizx", "no counterpart"}},
		{"other dilation", edited("dilation.ts", replaceIn(t, "___torch_mangle_14.py", "dilation : Final[Tuple[int]] = (3,)", "dilation : Final[Tuple[int]] = (2,)")),
			[]string{"layer decoder.net.2.net.1.aligned.branches.0.1", "dilation 2", "dilation 3"}},
	}
	v2 := tsFixture(t, "rave-v2-small", "v2_small.ts")
	cases = append(cases, []struct {
		name, path string
		want       []string
	}{
		{"v2 unknown module", rewriteZip(t, v2, filepath.Join(dir, "v2module.ts"), replaceIn(t, "/data.pkl", "DilatedUnit", "DilatedUnix")),
			[]string{"unknown module encoder.encoder.net.1.aligned.branches.0", "rave.blocks.DilatedUnix"}},
		{"v2 missing tensor", rewriteZip(t, v2, filepath.Join(dir, "v2tensor.ts"), replaceIn(t, "/data.pkl", "fidelity", "fidelitx")),
			[]string{"missing tensor fidelity"}},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := interop.ImportTorchScript(c.path)
			if err == nil {
				t.Fatal("import succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %q", err, w)
				}
			}
			t.Log(err)
		})
	}
}

// v2DecoderDelay returns the delay in audio samples of a streaming export
// of m's decoder (cached_conv): the right padding of every convolution,
// which a cached one turns into delay, scaled by the up-sampling after it,
// and the PQMF synthesis's.
func v2DecoderDelay(m *modelv2.Model) int {
	l := m.Layers()
	d := l.GeneratorIn.Geometry().PadRight
	for _, st := range l.GeneratorStages {
		g := st.Resample.Geometry()
		d = d*g.Stride + g.PadLeft // a cached ConvTranspose1d delays by its padding
		for _, u := range st.Units {
			d += u.Dilated.Geometry().PadRight + u.Pointwise.Geometry().PadRight
		}
	}
	d += l.Wave.Geometry().PadRight
	_, r := core.SamePadding(m.PQMF.SynthesisWeight().Dim(2), 1)
	return (d + r) * m.Config.Bands
}

// TestTorchScriptV2StreamingDecode checks the streaming v2 export's decode
// output against the offline model: once the zeroed caches have warmed up
// (the first half of the signal), it is the offline decoding of the same
// latents delayed by the streaming latency.
func TestTorchScriptV2StreamingDecode(t *testing.T) {
	const name = "v2_small_streaming"
	ts, err := interop.ImportTorchScript(tsFixture(t, "rave-v2-small", name+".ts"))
	if err != nil {
		t.Fatal(err)
	}
	out := tsOutputs(t, "rave-v2-small", "v2_small_ts_outputs.safetensors")
	offline := v2Decode(ts.V2, tsTensor(t, out, name+".decode.input"), tsTensor(t, out, name+".decode.noise_latent_pad"))
	want := tsTensor(t, out, name+".decode.output")
	delay := v2DecoderDelay(ts.V2)
	if delay != 12512 {
		t.Errorf("decoder delay %d samples, want 12512 (782 sub-band samples)", delay)
	}
	n := want.Len()
	warm := n / 2
	got := core.Zeros(1, 1, n-warm)
	for i := range got.Data() {
		got.Data()[i] = offline.Data()[warm+i-delay]
	}
	tail := core.New(want.Data()[warm:], 1, 1, n-warm)
	var d, w float64
	for i, v := range tail.Data() {
		d = max(d, math.Abs(float64(got.Data()[i]-v)))
		w = max(w, math.Abs(float64(v)))
	}
	if e := d / w; e > tsTol {
		t.Errorf("streaming decode after %d samples: max relative error %.3g > %g against the offline decode delayed by %d", warm, e, tsTol, delay)
	} else {
		t.Logf("streaming decode after %d samples = offline decode delayed by %d, max relative error %.2g", warm, delay, e)
	}
}
