package tsexport_test

import (
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/interop/torchscript"
	"github.com/ravestation/rave/core/interop/tsexport"
	"github.com/ravestation/rave/core/model"
)

// TestExportReadBack exports each model, reads the archive back with
// core/interop/torchscript and imports it with interop.ImportTorchScript:
// the nn~ buffers and attributes hold what they should, the imported
// model has the same configuration, buffers, effective weights and
// (deterministic) encode and decode outputs.
func TestExportReadBack(t *testing.T) {
	for _, c := range exportCases {
		offlineAndStreaming(t, c.name, func(t *testing.T, streaming bool) { readBack(t, c, streaming) })
	}
}

// readBack is TestExportReadBack for one model.
func readBack(t *testing.T, c exportCase, streaming bool) {
	m, kept := c.model(t)
	L := m.Config.LatentSize
	if kept == 0 {
		kept = L
	}
	path := filepath.Join(t.TempDir(), "my model.ts")
	if err := tsexport.WriteFile(path, m, tsexport.Options{Kept: kept, Streaming: streaming}); err != nil {
		t.Fatal(err)
	}
	a, err := torchscript.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "my_model" || a.Version != 3 || a.Root.Class != "__torch__.TraceModel" {
		t.Errorf("archive %s version %d top %s, want my_model, 3, __torch__.TraceModel", a.Name, a.Version, a.Root.Class)
	}
	R := m.Config.CompressionRatio()
	checkParamBuffers(t, a.Root, kept, R, map[string][]int64{
		"latent_size": {int64(L)}, "sampling_rate": {int64(m.Config.SR)}, "max_batch_size": {tsexport.MaxBatchSize},
	})
	if k, ok := a.Root.Int("cropped_latent_size"); !ok || k != kept {
		t.Errorf("cropped_latent_size = %d, %v, want %d", k, ok, kept)
	}
	checkForwardLatency(t, a.Root, streaming, tsexport.Latency(m), "Latency")

	ts, err := interop.ImportTorchScript(path)
	if err != nil {
		t.Fatal(err)
	}
	back := ts.V1
	checkImported(t, ts, 1, streaming, m.Config.SR, kept, L)
	if got, want := back.Config.JSON(), m.Config; got != withoutPreset(want).JSON() {
		t.Errorf("imported config %s\nwant %s", got, withoutPreset(want).JSON())
	}
	for _, b := range m.Buffers() {
		if slices.Contains(ts.Filled, b.Name) {
			continue
		}
		if got := back.Buffer(b.Name); got == nil || !slices.Equal(got.Data(), b.Data()) {
			t.Errorf("buffer %s differs after the round trip", b.Name)
		}
	}
	checkWeights(t, m, back)

	x := core.New(signal(8*R), 1, 1, 8*R)
	mean, std := m.Encode(nil, x)
	mean2, std2 := back.Encode(nil, x)
	checkRoundTrip(t, output{"posterior mean", mean2, mean}, output{"posterior std", std2, std},
		output{"decode", back.Decode(nil, mean, false, nil), m.Decode(nil, mean, false, nil)})
}

// withoutPreset returns c without its preset name and with the fields an
// export does not carry (discriminator, training) at the v1 defaults, as
// the importer fills them.
func withoutPreset(c model.Config) model.Config {
	v1, _ := model.Preset("v1")
	c.Preset = ""
	c.DCapacity, c.DMultiplier, c.DNLayers = v1.DCapacity, v1.DMultiplier, v1.DNLayers
	c.Warmup, c.Mode, c.MinKL, c.MaxKL, c.FeatureMatch = v1.Warmup, v1.Mode, v1.MinKL, v1.MaxKL, v1.FeatureMatch
	return c
}

// checkWeights compares the effective weights of every convolution of
// two models.
func checkWeights(t *testing.T, want, got *model.Model) {
	t.Helper()
	convs := func(l *model.Layers) []model.Conv {
		out := append(slices.Clone(l.Encoder), l.DecoderIn, l.Wave, l.Loud)
		for _, st := range l.Stages {
			out = append(out, st.Up)
			for _, blk := range st.Residual {
				out = append(out, blk[0], blk[1])
			}
		}
		return append(out, l.Noise...)
	}
	checkConvs(t, convs(want.Layers()), convs(got.Layers()))
}

// TestExportRefuses checks the models and options an export refuses,
// each with one "tsexport: " error naming the problem.
func TestExportRefuses(t *testing.T) {
	tiny, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	newModel := variants(t, tiny, model.Blank)
	plain := newModel(func(*model.Config) {})
	checkRefusals(t, "Write", tsexport.Write, tsexport.WriteFile, []refusal[*model.Model]{
		{"too many dims", plain, tsexport.Options{Kept: tiny.LatentSize + 1}, "17 latent dimensions asked of a model of 16"},
		{"negative dims", plain, tsexport.Options{Kept: -1}, "-1 latent dimensions"},
		{"no PQMF", newModel(func(c *model.Config) { c.DataSize = 1; c.NoiseBands = 5 }), tsexport.Options{}, "without a PQMF"},
		{"cropped latent", newModel(func(c *model.Config) { c.CroppedLatentSize = 8 }), tsexport.Options{}, "cropped_latent_size 8"},
		{"bad name", plain, tsexport.Options{Name: "a/b"}, "not a plain file name"},
		{"streaming odd frames", newModel(func(c *model.Config) { c.Ratios = []int{1} }), tsexport.Options{Streaming: true}, "1 band samples per latent frame"},
	})
}

// TestArchiveName checks the folder names derived from file paths.
func TestArchiveName(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"model.ts", "model"}, {"dir/My Model.v2.ts", "My_Model.v2"}, {"ünï.ts", "_n_"}, {".ts", "model"}, {"..ts", "model"},
	} {
		if got := tsexport.ArchiveName(c.path); got != c.want {
			t.Errorf("ArchiveName(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

// TestExportReproducible checks that an export is a function of the
// model: two writes give the same bytes.
func TestExportReproducible(t *testing.T) {
	m, kept := causalModel(t)
	checkReproducible(t, func(w io.Writer, o tsexport.Options) error { return tsexport.Write(w, m, o) }, kept)
}
