package modelv2

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
)

// StateDictError lists, by name and sorted, every way a state dict failed
// to match the model.
type StateDictError struct {
	// Missing are the model's tensors that the file lacks.
	Missing []string
	// Unexpected are the file's tensors that the model does not have.
	Unexpected []string
	// Misshaped are "name: file […], model […]" for shape mismatches.
	Misshaped []string
	// Mismatched are fixed buffers whose values differ from the model's
	// (PQMF filters, STFT windows, the noise block size).
	Mismatched []string
}

// Error lists the offending tensors by kind.
func (e *StateDictError) Error() string {
	var parts []string
	for _, p := range []struct {
		what  string
		names []string
	}{{"missing", e.Missing}, {"unexpected", e.Unexpected}, {"mis-shaped", e.Misshaped}, {"mismatched", e.Mismatched}} {
		if len(p.names) > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", p.what, strings.Join(p.names, ", ")))
		}
	}
	return "modelv2: state dict does not match the model: " + strings.Join(parts, "; ")
}

func (e *StateDictError) empty() bool {
	return len(e.Missing)+len(e.Unexpected)+len(e.Misshaped)+len(e.Mismatched) == 0
}

// discriminatorPrefix starts the names of the discriminator's tensors.
const discriminatorPrefix = "discriminator."

// stateEntry is one tensor of the reference state dict: where its values
// go (set) or how they are checked.
type stateEntry struct {
	shape []int
	set   func(v []float64)
	// want, when set, are the values a fixed buffer must hold.
	want []float32
}

// entries returns every tensor of the model's reference state dict, by
// name: parameters, the latent-analysis and bookkeeping buffers, and the
// fixed buffers that the model designs rather than stores.
func (m *Model) entries() map[string]stateEntry {
	es := map[string]stateEntry{}
	sets := []*core.ParamSet{m.Enc, m.Dec}
	if m.Disc != nil {
		sets = append(sets, m.Disc)
	}
	for _, ps := range sets {
		for _, p := range ps.Params() {
			es[p.Name] = stateEntry{shape: p.Shape(), set: fill(p)}
		}
	}
	for name, t := range map[string]*core.Tensor{"latent_pca": m.LatentPCA, "latent_mean": m.LatentMean, "fidelity": m.Fidelity} {
		es[name] = stateEntry{shape: t.Shape(), set: fill(t)}
	}
	es["receptive_field"] = stateEntry{shape: []int{2}, set: func(v []float64) {
		m.ReceptiveField = [2]int{int(v[0]), int(v[1])}
	}}
	es["encoder.warmed_up"] = stateEntry{shape: []int{}, set: func(v []float64) { m.WarmedUp = v[0] != 0 }}
	for _, t := range []*core.Tensor{m.PQMF.H(), m.PQMF.HK(), m.PQMF.AnalysisWeight(), m.PQMF.SynthesisWeight()} {
		es[t.Name] = stateEntry{shape: t.Shape(), want: t.Data()}
	}
	for i, n := range m.Config.Training.SpectralScales {
		w := dsp.HannWindow(n)
		for _, loss := range []string{"audio_distance", "multiband_audio_distance"} {
			es[fmt.Sprintf("%s.multiscale_stft.stfts.%d.window", loss, i)] = stateEntry{shape: []int{n}, want: w}
		}
	}
	if n := m.Generator.noise; n != nil {
		es["decoder.noise_module.target_size"] = stateEntry{shape: []int{}, want: []float32{float32(n.BlockSize())}}
	}
	return es
}

func fill(t *core.Tensor) func(v []float64) {
	return func(v []float64) {
		for i, x := range v {
			t.Data()[i] = float32(x)
		}
	}
}

// LoadStateDict sets the model from a reference state dict (the
// state_dict of v2.3.1's RAVE module, as in v2_small_state_dict):
// parameters and the latent_pca, latent_mean, fidelity, receptive_field
// and encoder.warmed_up buffers are copied; the PQMF filters (pqmf.*), the
// STFT windows of the two audio distances and the noise block size must
// equal the model's own to 1e-6 relative. The file must hold exactly the
// model's tensors with the reference's shapes, except that discriminator.*
// tensors are skipped when the model was built without a discriminator.
// On any mismatch it returns a *StateDictError naming every offending
// tensor and leaves the model unchanged.
func (m *Model) LoadStateDict(tf *core.TensorFile) error {
	es := m.entries()
	e := &StateDictError{}
	values := map[string][]float64{}
	for _, name := range tf.Names() {
		ent, ok := es[name]
		if !ok {
			if m.Disc == nil && strings.HasPrefix(name, discriminatorPrefix) {
				continue
			}
			e.Unexpected = append(e.Unexpected, name)
			continue
		}
		v, shape, err := tf.Float64(name)
		if err != nil {
			return fmt.Errorf("modelv2: state dict: %w", err)
		}
		if !slices.Equal(shape, ent.shape) {
			e.Misshaped = append(e.Misshaped, fmt.Sprintf("%s: file %v, model %v", name, shape, ent.shape))
			continue
		}
		if ent.want != nil && !close32(v, ent.want) {
			e.Mismatched = append(e.Mismatched, name)
			continue
		}
		values[name] = v
	}
	for name := range es {
		if !tf.Has(name) {
			e.Missing = append(e.Missing, name)
		}
	}
	if !e.empty() {
		for _, s := range [][]string{e.Missing, e.Unexpected, e.Misshaped, e.Mismatched} {
			sort.Strings(s)
		}
		return e
	}
	for name, v := range values {
		if set := es[name].set; set != nil {
			set(v)
		}
	}
	m.ParamsChanged()
	return nil
}

// LoadStateDictFile reads a safetensors state dict and loads it
// (LoadStateDict).
func (m *Model) LoadStateDictFile(path string) error {
	tf, err := core.ReadSafetensors(path)
	if err != nil {
		return fmt.Errorf("modelv2: %w", err)
	}
	return m.LoadStateDict(tf)
}

// close32 reports whether got equals want to 1e-6 relative to max |want|.
func close32(got []float64, want []float32) bool {
	var d, w float64
	for i, x := range want {
		d = math.Max(d, math.Abs(got[i]-float64(x)))
		w = math.Max(w, math.Abs(float64(x)))
	}
	return d <= 1e-6*math.Max(w, 1e-30)
}

// StateDict returns the model's tensors under their reference names, in a
// fixed (sorted) order: parameters, latent-analysis buffers,
// receptive_field, encoder.warmed_up and the fixed buffers, all as float32
// tensors sharing the model's storage where it has one. Written with
// core.WriteSafetensors it loads back with LoadStateDict.
func (m *Model) StateDict() []*core.Tensor {
	es := m.entries()
	names := make([]string, 0, len(es))
	for n := range es {
		names = append(names, n)
	}
	sort.Strings(names)
	byName := map[string]*core.Tensor{
		"latent_pca": m.LatentPCA, "latent_mean": m.LatentMean, "fidelity": m.Fidelity,
	}
	for _, ps := range []*core.ParamSet{m.Enc, m.Dec, m.Disc} {
		if ps == nil {
			continue
		}
		for _, p := range ps.Params() {
			byName[p.Name] = p
		}
	}
	out := make([]*core.Tensor, 0, len(names))
	for _, n := range names {
		t := byName[n]
		switch {
		case t != nil:
			t = core.New(t.Data(), t.Shape()...)
		case n == "receptive_field":
			t = core.New([]float32{float32(m.ReceptiveField[0]), float32(m.ReceptiveField[1])}, 2)
		case n == "encoder.warmed_up":
			t = core.Scalar(0)
			if m.WarmedUp {
				t.Data()[0] = 1
			}
		default:
			t = core.New(slices.Clone(es[n].want), es[n].shape...)
		}
		t.Name = n
		out = append(out, t)
	}
	return out
}
