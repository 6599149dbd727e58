package model

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
)

// fixtureTensors reads every tensor of the fixture state dict, in name
// order.
func fixtureTensors(t *testing.T) []*core.Tensor {
	t.Helper()
	tf, err := core.ReadSafetensors(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*core.Tensor
	for _, n := range tf.Names() {
		x, err := tf.Tensor(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

func writeTensors(t *testing.T, ts []*core.Tensor) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sd.safetensors")
	if err := core.WriteSafetensors(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

func find(ts []*core.Tensor, name string) *core.Tensor {
	for _, x := range ts {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// TestImportNPZMatchesSafetensors checks that the .npz twin of the fixture
// state dict imports to exactly the same tensors.
func TestImportNPZMatchesSafetensors(t *testing.T) {
	a, err := Import(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.npz"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Import(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := a.Tensors(), b.Tensors()
	if len(ta) != 114 || len(tb) != 114 {
		t.Fatalf("imported %d and %d tensors, want the fixture's 114", len(ta), len(tb))
	}
	for i := range ta {
		if ta[i].Name != tb[i].Name || !slices.Equal(ta[i].Data(), tb[i].Data()) {
			t.Errorf("tensor %s differs between .npz and .safetensors", ta[i].Name)
		}
	}
}

// TestImportFillsMissingBuffers drops every buffer from the fixture state
// dict: the import must rebuild them (designed PQMF, loudness tables, BN
// statistics, identity PCA) and the forward pass must still match.
func TestImportFillsMissingBuffers(t *testing.T) {
	full := fixtureTensors(t)
	m0, _ := fixtureModel(t)
	var params []*core.Tensor
	for _, x := range full {
		if m0.Buffer(x.Name) == nil {
			params = append(params, x)
		}
	}
	m, info, err := ImportWithInfo(writeTensors(t, params))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Filled) != len(m.Buffers()) {
		t.Errorf("filled %d buffers, want all %d: %v", len(info.Filled), len(m.Buffers()), info.Filled)
	}
	// The rebuilt buffers equal the reference's.
	for _, b := range m.Buffers() {
		want := find(full, b.Name)
		if e := maxAbsDiff(b.Data(), want.Data()); e > 1e-6 {
			t.Errorf("rebuilt buffer %s differs from the reference by %.3g", b.Name, e)
		}
	}
	_, ref := fixtureModel(t)
	out := forwardOutputs(t, m, ref)
	for _, k := range []string{"pqmf_analysis", "enc_mean", "dec_out_fb_nonoise"} {
		if _, err := compare(ref, k, out[k], parityForwardTol); err != nil {
			t.Error(err)
		}
	}
}

// TestPQMFFromPrototype checks deriveFromPrototype (used when a source has
// pqmf.h only) against the reference's stored bank and kernels.
func TestPQMFFromPrototype(t *testing.T) {
	full := fixtureTensors(t)
	cfg, _ := Preset("v1")
	cfg.Capacity, cfg.LatentSize = 8, 16
	m, err := newEmpty(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deriveFromPrototype(m, toF64(find(full, bufPQMFH).Data()), nil)
	for _, n := range []string{bufPQMFHK, bufPQMFFwd, bufPQMFInv} {
		if e := maxAbsDiff(m.Buffer(n).Data(), find(full, n).Data()); e > 1e-6 {
			t.Errorf("%s derived from pqmf.h differs from the reference by %.3g", n, e)
		}
	}
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return 1e30
	}
	var d float64
	for i := range a {
		d = max(d, float64(abs32(a[i]-b[i])))
	}
	return d
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// TestImportRefusesBadTensors checks that a mis-shaped (transposed)
// weight and a missing parameter are refused with a message naming the
// tensor (and both shapes).
func TestImportRefusesBadTensors(t *testing.T) {
	const name = "decoder.net.1.net.1.weight_v" // (128, 64, 8)
	ts := fixtureTensors(t)
	w := find(ts, name)
	tr := core.New(slices.Clone(w.Data()), 64, 128, 8)
	tr.Name = name
	bad := slices.Clone(ts)
	bad[slices.Index(bad, w)] = tr
	_, err := Import(writeTensors(t, bad))
	if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "(64, 128, 8)") || !strings.Contains(err.Error(), "(128, 64, 8)") {
		t.Errorf("transposed %s: err = %v, want a message naming it and both shapes", name, err)
	}

	missing := slices.DeleteFunc(slices.Clone(ts), func(x *core.Tensor) bool { return x.Name == "decoder.synth.branches.0.bias" })
	_, err = Import(writeTensors(t, missing))
	if err == nil || !strings.Contains(err.Error(), "decoder.synth.branches.0.bias") {
		t.Errorf("missing bias: err = %v, want a message naming it", err)
	}
}

// TestParityDetectsSwappedWeights proves the parity check has teeth: two
// same-shaped tensors exchanged (a wrong name mapping) and a square weight
// transposed both import without complaint but fail the comparison.
func TestParityDetectsSwappedWeights(t *testing.T) {
	_, ref := fixtureModel(t)
	const a = "decoder.net.4.net.1.aligned.branches.0.1.weight_v" // (32, 32, 3)
	const b = "decoder.net.4.net.1.aligned.branches.0.3.weight_v"
	cases := map[string]func(ts []*core.Tensor){
		"swapped names": func(ts []*core.Tensor) {
			x, y := find(ts, a), find(ts, b)
			x.Name, y.Name = b, a
		},
		"transposed square weight": func(ts []*core.Tensor) {
			x := find(ts, a)
			d := slices.Clone(x.Data())
			for o := range 32 {
				for i := range 32 {
					for k := range 3 {
						x.Data()[(o*32+i)*3+k] = d[(i*32+o)*3+k]
					}
				}
			}
		},
	}
	for label, mutate := range cases {
		t.Run(label, func(t *testing.T) {
			ts := fixtureTensors(t)
			mutate(ts)
			m, err := Import(writeTensors(t, ts))
			if err != nil {
				t.Fatal(err)
			}
			out := forwardOutputs(t, m, ref)
			if _, err := compare(ref, "dec_out_mb_nonoise", out["dec_out_mb_nonoise"], parityForwardTol); err == nil {
				t.Fatal("parity check passed with corrupted weights")
			} else {
				t.Logf("detected: %v", err)
			}
		})
	}
}

// TestSaveLoadRoundTrip saves a model (with discriminator) and loads it
// back: same config, counters, tensors and outputs.
func TestSaveLoadRoundTrip(t *testing.T) {
	cfg, _ := Preset("tiny")
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	m.AddDiscriminator(rng)
	m.Step, m.Stage = 4321, 2
	m.LatentAnalysis = LatentAnalysis{Done: true, Frames: 99, Step: 4000, Source: "test"}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Config.JSON() != m.Config.JSON() || l.Step != 4321 || l.Stage != 2 || l.LatentAnalysis != m.LatentAnalysis {
		t.Errorf("loaded config/counters %s %d %d %+v, want %s %d %d %+v", l.Config.JSON(), l.Step, l.Stage, l.LatentAnalysis, m.Config.JSON(), m.Step, m.Stage, m.LatentAnalysis)
	}
	tm, tl := m.Tensors(), l.Tensors()
	if len(tm) != len(tl) {
		t.Fatalf("loaded %d tensors, saved %d", len(tl), len(tm))
	}
	for i := range tm {
		if tm[i].Name != tl[i].Name || !slices.Equal(tm[i].Data(), tl[i].Data()) {
			t.Errorf("tensor %s differs after the round trip", tm[i].Name)
		}
	}
	x := core.Randn(rng, 1, 1, 4*cfg.CompressionRatio())
	mean1, _ := m.Encode(nil, x)
	mean2, _ := l.Encode(nil, x)
	if !slices.Equal(mean1.Data(), mean2.Data()) {
		t.Error("encodings differ after the round trip")
	}
	y1, y2 := m.Decode(nil, mean1, false, nil), l.Decode(nil, mean2, false, nil)
	if !slices.Equal(y1.Data(), y2.Data()) {
		t.Error("decodings differ after the round trip")
	}
}

// TestLoadRefuses checks the error messages of Load for a foreign format
// version, a missing tensor and a mis-shaped tensor.
func TestLoadRefuses(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{metaFormat: FormatName, metaVersion: "7", metaConfig: cfg.JSON()}
	dir := t.TempDir()
	write := func(name string, ts []*core.Tensor, meta map[string]string) string {
		p := filepath.Join(dir, name)
		if err := core.WriteSafetensors(p, ts, meta); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, err = Load(write("v7.safetensors", m.Tensors(), meta))
	if err == nil || !strings.Contains(err.Error(), `version "7"`) {
		t.Errorf("version 7: err = %v, want it to name the version found", err)
	}
	meta[metaVersion] = FormatVersion
	ts := m.Tensors()
	_, err = Load(write("missing.safetensors", ts[1:], meta))
	if err == nil || !strings.Contains(err.Error(), ts[0].Name) {
		t.Errorf("missing tensor: err = %v, want it to name %s", err, ts[0].Name)
	}
	bad := slices.Clone(ts)
	w := m.Encoder.convs[1].w
	wrong := core.New(nil, w.Dim(1), w.Dim(0), w.Dim(2))
	wrong.Name = w.Name
	bad[slices.Index(bad, w)] = wrong
	_, err = Load(write("shape.safetensors", bad, meta))
	if err == nil || !strings.Contains(err.Error(), w.Name) || !strings.Contains(err.Error(), fmtShape(w.Shape())) || !strings.Contains(err.Error(), fmtShape(wrong.Shape())) {
		t.Errorf("mis-shaped tensor: err = %v, want it to name %s and both shapes", err, w.Name)
	}
	_, err = Load(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors"))
	if err == nil || !strings.Contains(err.Error(), "Import") {
		t.Errorf("reference state dict: err = %v, want a hint to use Import", err)
	}
}
