package modelv2

import (
	"bytes"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
)

// fixtureTensors returns every tensor of the fixture state dict, as
// float32 tensors named by their keys, in file order.
func fixtureTensors(t *testing.T, ref refFiles) []*core.Tensor {
	t.Helper()
	var ts []*core.Tensor
	for _, name := range ref.state.Names() {
		ts = append(ts, refTensor(t, ref.state, name))
	}
	return ts
}

// encode returns tensors as an in-memory safetensors file.
func encode(t *testing.T, ts []*core.Tensor) *core.TensorFile {
	t.Helper()
	var buf bytes.Buffer
	if err := core.EncodeSafetensors(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	tf, err := core.ParseSafetensors(buf.Bytes(), "test state dict")
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

func smallModel(t *testing.T, withDisc bool) *Model {
	t.Helper()
	cfg, err := Preset("v2-small")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, withDisc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLoadStateDictRefuses edits the fixture state dict in the ways a
// wrong file differs and checks that loading names the offending tensor
// and leaves the model untouched.
func TestLoadStateDictRefuses(t *testing.T) {
	ref := loadFixtures(t)
	byName := func(ts []*core.Tensor, name string) int {
		i := slices.IndexFunc(ts, func(x *core.Tensor) bool { return x.Name == name })
		if i < 0 {
			t.Fatalf("fixture has no %s", name)
		}
		return i
	}
	cases := []struct {
		name  string
		edit  func(ts []*core.Tensor) []*core.Tensor
		field func(e *StateDictError) []string
		want  string
	}{
		{
			name: "missing",
			edit: func(ts []*core.Tensor) []*core.Tensor {
				return slices.Delete(ts, byName(ts, "decoder.net.0.weight_v"), byName(ts, "decoder.net.0.weight_v")+1)
			},
			field: func(e *StateDictError) []string { return e.Missing },
			want:  "decoder.net.0.weight_v",
		},
		{
			name: "unexpected",
			edit: func(ts []*core.Tensor) []*core.Tensor {
				x := core.Zeros(3)
				x.Name = "decoder.net.22.weight"
				return append(ts, x)
			},
			field: func(e *StateDictError) []string { return e.Unexpected },
			want:  "decoder.net.22.weight",
		},
		{
			name: "transposed shape",
			edit: func(ts []*core.Tensor) []*core.Tensor {
				i := byName(ts, "encoder.encoder.net.5.weight_v") // (16, 8, 8)
				x := core.New(ts[i].Data(), 8, 16, 8)
				x.Name = ts[i].Name
				ts[i] = x
				return ts
			},
			field: func(e *StateDictError) []string { return e.Misshaped },
			want:  "encoder.encoder.net.5.weight_v: file [8 16 8], model [16 8 8]",
		},
		{
			name: "conv2d weight as conv1d",
			edit: func(ts []*core.Tensor) []*core.Tensor {
				i := byName(ts, "discriminator.discriminators.0.layers.3.net.2.weight_v") // (16, 8, 5, 1)
				x := core.New(ts[i].Data(), 16, 8, 5)
				x.Name = ts[i].Name
				ts[i] = x
				return ts
			},
			field: func(e *StateDictError) []string { return e.Misshaped },
			want:  "discriminator.discriminators.0.layers.3.net.2.weight_v: file [16 8 5], model [16 8 5 1]",
		},
		{
			name: "other PQMF",
			edit: func(ts []*core.Tensor) []*core.Tensor {
				i := byName(ts, "pqmf.inverse_conv.weight")
				ts[i] = ts[i].Clone()
				ts[i].Name = "pqmf.inverse_conv.weight"
				ts[i].Data()[7] += 1e-3
				return ts
			},
			field: func(e *StateDictError) []string { return e.Mismatched },
			want:  "pqmf.inverse_conv.weight",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := smallModel(t, true)
			err := m.LoadStateDict(encode(t, c.edit(fixtureTensors(t, ref))))
			var e *StateDictError
			if !errors.As(err, &e) {
				t.Fatalf("LoadStateDict = %v, want a *StateDictError", err)
			}
			if got := c.field(e); !slices.Contains(got, c.want) {
				t.Fatalf("LoadStateDict error %q does not list %q", err, c.want)
			}
			for _, v := range m.Dec.Data() {
				if v != 0 {
					t.Fatal("a refused state dict changed the model")
				}
			}
		})
	}
}

// TestLoadStateDictNoise checks that the noise generator's tensors have
// the reference's names: the fixture (no noise) lacks them, and its
// waveform conv is decoder.net.21 instead of decoder.waveform_module.
func TestLoadStateDictNoise(t *testing.T) {
	ref := loadFixtures(t)
	cfg, _ := Preset("v2-small")
	m, err := New(cfg.WithNoise(), false)
	if err != nil {
		t.Fatal(err)
	}
	err = m.LoadStateDict(ref.state)
	var e *StateDictError
	if !errors.As(err, &e) {
		t.Fatalf("LoadStateDict = %v, want a *StateDictError", err)
	}
	wantMissing := []string{
		"decoder.noise_module.net.0.weight", "decoder.noise_module.net.2.weight", "decoder.noise_module.net.4.weight",
		"decoder.noise_module.target_size", "decoder.waveform_module.weight_g", "decoder.waveform_module.weight_v",
	}
	wantUnexpected := []string{"decoder.net.21.weight_g", "decoder.net.21.weight_v"}
	if !slices.Equal(e.Missing, wantMissing) || !slices.Equal(e.Unexpected, wantUnexpected) {
		t.Fatalf("missing %v, unexpected %v; want %v and %v", e.Missing, e.Unexpected, wantMissing, wantUnexpected)
	}
}

// TestStateDictNames checks that the model's state dict has exactly the
// fixture's 243 names and shapes, and that writing and loading it back
// reproduces the model.
func TestStateDictNames(t *testing.T) {
	m, ref := fixtureModel(t)
	sd := m.StateDict()
	var got, want []string
	for _, x := range sd {
		got = append(got, x.Name)
		shape, err := ref.state.Shape(x.Name)
		if err != nil {
			t.Fatalf("StateDict has %s, the reference has not", x.Name)
		}
		if !slices.Equal(shape, x.Shape()) {
			t.Errorf("StateDict %s has shape %v, reference %v", x.Name, x.Shape(), shape)
		}
	}
	want = append(want, ref.state.Names()...)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("StateDict has %d names, the reference %d", len(got), len(want))
	}

	back := smallModel(t, true)
	if err := back.LoadStateDict(encode(t, sd)); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]*core.ParamSet{{m.Enc, back.Enc}, {m.Dec, back.Dec}, {m.Disc, back.Disc}} {
		if !slices.Equal(p[0].Data(), p[1].Data()) {
			t.Fatal("state dict round trip changed the parameters")
		}
	}
	if back.ReceptiveField != m.ReceptiveField || back.WarmedUp != m.WarmedUp || !slices.Equal(back.LatentPCA.Data(), m.LatentPCA.Data()) {
		t.Fatal("state dict round trip changed the buffers")
	}
}

// TestLoadStateDictWithoutDiscriminator loads the full fixture (with its
// discriminator entries) into a model built without a discriminator.
func TestLoadStateDictWithoutDiscriminator(t *testing.T) {
	ref := loadFixtures(t)
	m := smallModel(t, false)
	if err := m.LoadStateDict(ref.state); err != nil {
		t.Fatal(err)
	}
	if m.ReceptiveField != [2]int{0, 0} || m.WarmedUp {
		t.Fatalf("buffers receptive_field %v warmed_up %v, want [0 0] false", m.ReceptiveField, m.WarmedUp)
	}
}

// TestSwappedTensorsBreakParity exchanges or transposes same-shape
// tensors of the loaded fixture model and checks that the affected
// reference output no longer matches: parity is sensitive to every
// weight's place and layout.
func TestSwappedTensorsBreakParity(t *testing.T) {
	swap := func(a, b string) func(m *Model) {
		return func(m *Model) {
			x, y := paramByName(t, m, a), paramByName(t, m, b)
			tmp := slices.Clone(x.Data())
			copy(x.Data(), y.Data())
			copy(y.Data(), tmp)
		}
	}
	transpose := func(name string) func(m *Model) {
		return func(m *Model) {
			p := paramByName(t, m, name)
			n := p.Dim(0)
			if p.Len() != n*n {
				t.Fatalf("%s %v is not square", name, p.Shape())
			}
			d := slices.Clone(p.Data())
			for i := range n {
				for j := range n {
					p.Data()[i*n+j] = d[j*n+i]
				}
			}
		}
	}
	cases := []struct {
		name   string
		damage func(m *Model)
		key    string
	}{
		{"swap encoder dilated convs", swap("encoder.encoder.net.1.aligned.branches.0.net.1.weight_v", "encoder.encoder.net.2.aligned.branches.0.net.1.weight_v"), "enc_out"},
		{"swap decoder gains", swap("decoder.net.3.aligned.branches.0.net.1.weight_g", "decoder.net.4.aligned.branches.0.net.1.weight_g"), "dec_out_mb"},
		{"transpose pointwise conv", transpose("decoder.net.17.aligned.branches.0.net.3.weight_v"), "dec_out_mb"},
		{"swap period nets", swap("discriminator.discriminators.0.layers.0.net.2.weight_v", "discriminator.discriminators.0.layers.1.net.2.weight_v"), "disc_real_logits.period2"},
		{"swap scale biases", swap("discriminator.discriminators.1.layers.0.net.6.bias", "discriminator.discriminators.1.layers.1.net.6.bias"), "disc_real_logits.scale0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, ref := fixtureModel(t)
			before := parityOf(t, m, ref, c.key)
			c.damage(m)
			m.ParamsChanged()
			after := parityOf(t, m, ref, c.key)
			if before > forwardTol || after <= forwardTol {
				t.Fatalf("%s: relative error %.3g before, %.3g after; want ≤ %g then > %g", c.key, before, after, forwardTol, forwardTol)
			}
			t.Logf("%s: relative error %.3g → %.3g", c.key, before, after)
		})
	}
}

// parityOf returns the relative error of one forward key.
func parityOf(t *testing.T, m *Model, ref refFiles, key string) float64 {
	t.Helper()
	var got *core.Tensor
	if name, ok := strings.CutPrefix(key, "disc_real_logits."); ok {
		i := slices.Index(m.Discriminator.Names(), name)
		f := m.Discriminator.Forward(nil, refTensor(t, ref.f64, "input"))[i]
		got = m.Discriminator.ReferenceLayout(i, 1, f[len(f)-1])
	} else {
		got = forwardPass(t, m, ref)[key]
	}
	e, err := compareKey(ref.f64, key, got)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
