package interop_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/internal/modeltest"
	"github.com/ravestation/rave/core/internal/parity"
	"github.com/ravestation/rave/core/interop"
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
	a, err := interop.Import(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.npz"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := interop.Import(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors"))
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
	m0, _ := parity.FixtureModel(t)
	var params []*core.Tensor
	for _, x := range full {
		if m0.Buffer(x.Name) == nil {
			params = append(params, x)
		}
	}
	m, info, err := interop.ImportWithInfo(writeTensors(t, params))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Filled) != len(m.Buffers()) {
		t.Errorf("filled %d buffers, want all %d: %v", len(info.Filled), len(m.Buffers()), info.Filled)
	}
	// The rebuilt buffers equal the reference's.
	for _, b := range m.Buffers() {
		want := find(full, b.Name)
		if e := modeltest.MaxAbsDiff(b.Data(), want.Data()); e > 1e-6 {
			t.Errorf("rebuilt buffer %s differs from the reference by %.3g", b.Name, e)
		}
	}
	_, ref := parity.FixtureModel(t)
	out := parity.ForwardOutputs(t, m, ref)
	for _, k := range []string{"pqmf_analysis", "enc_mean", "dec_out_fb_nonoise"} {
		if _, err := parity.Compare(ref, k, out[k], parity.ForwardTol); err != nil {
			t.Error(err)
		}
	}
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
	_, err := interop.Import(writeTensors(t, bad))
	if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "(64, 128, 8)") || !strings.Contains(err.Error(), "(128, 64, 8)") {
		t.Errorf("transposed %s: err = %v, want a message naming it and both shapes", name, err)
	}

	missing := slices.DeleteFunc(slices.Clone(ts), func(x *core.Tensor) bool { return x.Name == "decoder.synth.branches.0.bias" })
	_, err = interop.Import(writeTensors(t, missing))
	if err == nil || !strings.Contains(err.Error(), "decoder.synth.branches.0.bias") {
		t.Errorf("missing bias: err = %v, want a message naming it", err)
	}
}

// TestParityDetectsSwappedWeights proves the parity check has teeth: two
// same-shaped tensors exchanged (a wrong name mapping) and a square weight
// transposed both import without complaint but fail the comparison.
func TestParityDetectsSwappedWeights(t *testing.T) {
	_, ref := parity.FixtureModel(t)
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
			m, err := interop.Import(writeTensors(t, ts))
			if err != nil {
				t.Fatal(err)
			}
			out := parity.ForwardOutputs(t, m, ref)
			if _, err := parity.Compare(ref, "dec_out_mb_nonoise", out["dec_out_mb_nonoise"], parity.ForwardTol); err == nil {
				t.Fatal("parity check passed with corrupted weights")
			} else {
				t.Logf("detected: %v", err)
			}
		})
	}
}
