package tsexport_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
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
		for _, streaming := range []bool{false, true} {
			name := c.name
			if streaming {
				name += "/streaming"
			}
			t.Run(name, func(t *testing.T) { readBack(t, c, streaming) })
		}
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
	R := int64(m.Config.CompressionRatio())
	for name, want := range map[string][]int64{
		"encode_params": {1, 1, int64(kept), R}, "decode_params": {int64(kept), R, 1, 1}, "forward_params": {1, 1, 1, 1},
		"latent_size": {int64(L)}, "sampling_rate": {int64(m.Config.SR)}, "max_batch_size": {tsexport.MaxBatchSize},
	} {
		tt := a.Root.Tensor(name)
		if tt == nil {
			t.Errorf("no buffer %s", name)
			continue
		}
		if got, ok := tt.Int64(); !ok || !slices.Equal(got, want) {
			t.Errorf("%s = %v (%s), want %v (int64)", name, got, tt.DType, want)
		}
	}
	if k, ok := a.Root.Int("cropped_latent_size"); !ok || k != kept {
		t.Errorf("cropped_latent_size = %d, %v, want %d", k, ok, kept)
	}
	wantLatency := 0
	if streaming {
		wantLatency = tsexport.Latency(m)
	}
	if lat, ok := a.Root.Int("forward_latency"); !ok || lat != wantLatency || streaming && lat <= 0 {
		t.Errorf("forward_latency = %d, %v, want %d (Latency)", lat, ok, wantLatency)
	}

	ts, err := interop.ImportTorchScript(path)
	if err != nil {
		t.Fatal(err)
	}
	back := ts.V1
	if ts.Version != 1 || ts.Streaming != streaming || ts.LatentSize != kept || ts.FullLatentSize != L || ts.SampleRate != m.Config.SR {
		t.Errorf("imported %s, want a v1 export (streaming %v) of %d Hz keeping %d of %d", ts, streaming, m.Config.SR, kept, L)
	}
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

	x := core.New(signal(8*int(R)), 1, 1, 8*int(R))
	mean, std := m.Encode(nil, x)
	mean2, std2 := back.Encode(nil, x)
	for _, p := range []struct {
		what      string
		got, want *core.Tensor
	}{
		{"posterior mean", mean2, mean}, {"posterior std", std2, std},
		{"decode", back.Decode(nil, mean, false, nil), m.Decode(nil, mean, false, nil)},
	} {
		if e := relErr(p.got.Data(), p.want.Data()); !(e <= 1e-5) {
			t.Errorf("%s: max relative error %.3g after the round trip", p.what, e)
		}
	}
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
	lw, lg := want.Layers(), got.Layers()
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
	cw, cg := convs(lw), convs(lg)
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

// TestExportRefuses checks the models and options an export refuses,
// each with one "tsexport: " error naming the problem.
func TestExportRefuses(t *testing.T) {
	tiny, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	newModel := func(edit func(*model.Config)) *model.Model {
		c := tiny
		edit(&c)
		m, err := model.Blank(c, false)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain := newModel(func(*model.Config) {})
	tests := []struct {
		name string
		m    *model.Model
		o    tsexport.Options
		want string
	}{
		{"too many dims", plain, tsexport.Options{Kept: tiny.LatentSize + 1}, "17 latent dimensions asked of a model of 16"},
		{"negative dims", plain, tsexport.Options{Kept: -1}, "-1 latent dimensions"},
		{"no PQMF", newModel(func(c *model.Config) { c.DataSize = 1; c.NoiseBands = 5 }), tsexport.Options{}, "without a PQMF"},
		{"cropped latent", newModel(func(c *model.Config) { c.CroppedLatentSize = 8 }), tsexport.Options{}, "cropped_latent_size 8"},
		{"bad name", plain, tsexport.Options{Name: "a/b"}, "not a plain file name"},
		{"streaming odd frames", newModel(func(c *model.Config) { c.Ratios = []int{1} }), tsexport.Options{Streaming: true}, "1 band samples per latent frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := tsexport.Write(&buf, tt.m, tt.o)
			if err == nil || !strings.HasPrefix(err.Error(), "tsexport: ") || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Write = %v, want one line \"tsexport: …%s…\"", err, tt.want)
			}
		})
	}
	if err := tsexport.WriteFile(filepath.Join(t.TempDir(), "no", "such", "m.ts"), plain, tsexport.Options{}); err == nil {
		t.Errorf("WriteFile into a missing folder = %v, want an error", err)
	}
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
	for _, streaming := range []bool{false, true} {
		var a, b bytes.Buffer
		o := tsexport.Options{Kept: kept, Streaming: streaming}
		if err := tsexport.Write(&a, m, o); err != nil {
			t.Fatal(err)
		}
		if err := tsexport.Write(&b, m, o); err != nil {
			t.Fatal(err)
		}
		if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("streaming %v: two exports of one model differ (%d and %d bytes)", streaming, a.Len(), b.Len())
		}
	}
}
