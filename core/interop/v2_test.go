package interop_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/internal/nn"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/modelv2"
)

// v2Fixture is the reduced-size RAVE v2 fixture set (README.md there).
const v2Fixture = "rave-v2-small"

// v2Tensor is one state-dict entry written into a test checkpoint.
type v2Tensor struct {
	name  string
	shape []int
	data  []float64
	long  bool // an int64 buffer (receptive_field, encoder.warmed_up)
}

// v2Files are the fixture files the v2 import tests read.
type v2Files struct {
	state, f64 *core.TensorFile
	runConfig  []byte
}

func loadV2Fixture(t *testing.T) v2Files {
	t.Helper()
	dir := fixtures.Dir(t, v2Fixture)
	var f v2Files
	var err error
	if f.state, err = core.ReadSafetensors(filepath.Join(dir, "v2_small_state_dict.safetensors")); err != nil {
		t.Fatal(err)
	}
	if f.f64, err = core.ReadSafetensors(filepath.Join(dir, "v2_small_reference_f64.safetensors")); err != nil {
		t.Fatal(err)
	}
	if f.runConfig, err = os.ReadFile(filepath.Join(dir, "ts", "run_config.gin")); err != nil {
		t.Fatal(err)
	}
	return f
}

// fixtureV2Tensors returns every entry of the fixture state dict in file
// order.
func fixtureV2Tensors(t *testing.T, tf *core.TensorFile) []v2Tensor {
	t.Helper()
	var out []v2Tensor
	for _, n := range tf.Names() {
		v, shape, err := tf.Float64(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v2Tensor{name: n, shape: shape, data: v, long: n == "receptive_field" || n == "encoder.warmed_up"})
	}
	return out
}

// writeV2Checkpoint writes ts as torch.save does: in the layout of the
// fixture README's best.ckpt when lightning is set (a dict of epoch,
// global_step, pytorch-lightning_version, state_dict, callbacks,
// optimizer_states with Adam's tensors, lr_schedulers), else a bare
// OrderedDict. short cuts the storage record of the named tensor to half.
func writeV2Checkpoint(t *testing.T, path string, ts []v2Tensor, lightning bool, short string) {
	t.Helper()
	var p pickler
	blobs := map[string][]byte{}
	var keys []string
	storage := func(data []float64, long bool) (key, class string) {
		key = fmt.Sprint(len(keys))
		var buf bytes.Buffer
		class = "FloatStorage"
		for _, x := range data {
			if long {
				binary.Write(&buf, binary.LittleEndian, int64(x))
			} else {
				binary.Write(&buf, binary.LittleEndian, float32(x))
			}
		}
		if long {
			class = "LongStorage"
		}
		blobs[key] = buf.Bytes()
		keys = append(keys, key)
		return key, class
	}
	p.op(0x80, 2)
	if lightning {
		p.lightningHead(0, 0, "1.9.0")
		p.str("state_dict")
	}
	p.global("collections", "OrderedDict")
	p.op(')', 'R', '(')
	for _, x := range ts {
		key, class := storage(x.data, x.long)
		if x.name == short {
			blobs[key] = blobs[key][:len(blobs[key])/2]
		}
		p.str(x.name)
		p.tensor(key, class, x.shape, len(x.data))
	}
	p.op('u')
	if lightning {
		p.callbacks("ModelCheckpoint{'monitor': 'validation', 'mode': 'min', 'every_n_train_steps': 0, 'every_n_epochs': 1, 'train_time_interval': None}",
			1.25, "runs/v2_small_3a75df16e7/version_0/checkpoints/best.ckpt")
		// Adam's state of the first parameter: tensors the importer must
		// not read.
		p.str("optimizer_states")
		p.op(']', '(')
		p.op('}', '(')
		p.str("state")
		p.op('}', '(')
		p.int(0)
		p.op('}', '(')
		p.str("step")
		key, class := storage([]float64{0}, false)
		p.tensor(key, class, nil, 1)
		p.str("exp_avg")
		key, class = storage(ts[0].data, false)
		p.tensor(key, class, ts[0].shape, len(ts[0].data))
		p.op('u', 'u')
		p.str("param_groups")
		p.op(']', '(', '}', '(')
		p.str("lr")
		p.float(1e-3)
		p.str("betas")
		p.op('(')
		p.float(0.5)
		p.float(0.9)
		p.op('t')
		p.str("params")
		p.value([]int{0})
		p.op('u', 'e')
		p.op('u', 'e')
		p.str("lr_schedulers")
		p.op(']', '(', '}', '(')
		p.str("start_factor")
		p.float(1)
		p.str("end_factor")
		p.float(0.1)
		p.str("total_iters")
		p.int(1000000)
		p.op('u', 'e')
		p.op('u')
	}
	p.op('.')
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTorchZip(t, path, "best", p.Bytes(), keys, blobs)
}

// v2Run writes a run folder as scripts/train.py and Lightning leave it:
// runs/NAME/config.gin (unless ginText is empty) and
// runs/NAME/version_0/checkpoints/best.ckpt, whose path it returns.
func v2Run(t *testing.T, ts []v2Tensor, ginText string, lightning bool, short string) string {
	t.Helper()
	run := filepath.Join(t.TempDir(), "runs", "v2_small_3a75df16e7")
	ckpt := filepath.Join(run, "version_0", "checkpoints", "best.ckpt")
	writeV2Checkpoint(t, ckpt, ts, lightning, short)
	if ginText != "" {
		if err := os.WriteFile(filepath.Join(run, interop.RunConfigName), []byte(ginText), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ckpt
}

// v2Forward returns the posterior, latent and outputs of m for the
// fixture's input and ε, by the fixture's key names.
func v2Forward(t *testing.T, m *modelv2.Model, ref *core.TensorFile) map[string]*core.Tensor {
	t.Helper()
	x, err := ref.Tensor("input")
	if err != nil {
		t.Fatal(err)
	}
	eps, err := ref.Tensor("eps")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*core.Tensor{}
	mean, scale, std := modelv2.Posterior(nil, m.Encode(nil, x))
	out["enc_mean"], out["enc_scale"] = mean, scale
	out["kl"] = nn.KL(nil, mean, std)
	z := nn.Reparameterize(nil, mean, std, eps)
	out["z"] = z
	out["dec_out_mb"] = m.Generator.Forward(nil, z, nil)
	out["dec_out_fb"] = m.Synthesis(nil, out["dec_out_mb"])
	out["dec_out_mb_from_mean"] = m.Generator.Forward(nil, mean, nil)
	return out
}

// v2ForwardKeys are the reference keys v2Forward computes.
var v2ForwardKeys = []string{"enc_mean", "enc_scale", "kl", "z", "dec_out_mb", "dec_out_fb", "dec_out_mb_from_mean"}

// v2MaxError returns the largest relative error (max |got − want| /
// max |want|) of the forward keys against the reference's float64 run.
func v2MaxError(t *testing.T, m *modelv2.Model, ref *core.TensorFile) (float64, string) {
	t.Helper()
	out := v2Forward(t, m, ref)
	worst, at := 0.0, ""
	for _, k := range v2ForwardKeys {
		want, _, err := ref.Float64(k)
		if err != nil {
			t.Fatal(err)
		}
		got := out[k].Data()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", k, len(got), len(want))
		}
		var d, w float64
		for i, v := range want {
			d = max(d, math.Abs(float64(got[i])-v))
			w = max(w, math.Abs(v))
		}
		e := d / max(w, 1e-30)
		if math.IsNaN(d) {
			e = math.Inf(1)
		}
		if e > worst || at == "" {
			worst, at = e, k
		}
	}
	return worst, at
}

// checkV2Tensors checks that every tensor of the imported model equals
// the fixture state dict's entry of the same name, and that the model has
// no other: bit for bit for the weights and the buffers it copies, to
// 1e-6 relative (max |got − want| / max |want|) for the PQMF filters and
// STFT windows, which the model designs and LoadStateDict checks.
func checkV2Tensors(t *testing.T, m *modelv2.Model, ref *core.TensorFile) {
	t.Helper()
	got := m.StateDict()
	if len(got) != len(ref.Names()) {
		t.Errorf("model has %d tensors, the fixture state dict %d", len(got), len(ref.Names()))
	}
	var designed float64
	for _, x := range got {
		want, shape, err := ref.Float64(x.Name)
		if err != nil {
			t.Errorf("%s: %v", x.Name, err)
			continue
		}
		if !slices.Equal(x.Shape(), shape) {
			t.Errorf("%s: shape %v, want %v", x.Name, x.Shape(), shape)
			continue
		}
		if strings.HasPrefix(x.Name, "pqmf.") || strings.HasSuffix(x.Name, ".window") {
			var d, w float64
			for i, v := range x.Data() {
				d = max(d, math.Abs(float64(v)-want[i]))
				w = max(w, math.Abs(want[i]))
			}
			designed = max(designed, d/w)
			if d > 1e-6*w {
				t.Errorf("%s differs from the fixture by %.2e relative", x.Name, d/w)
			}
			continue
		}
		for i, v := range x.Data() {
			if float64(v) != float64(float32(want[i])) {
				t.Errorf("%s[%d] = %g, want %g", x.Name, i, v, want[i])
				break
			}
		}
	}
	t.Logf("%d tensors equal the fixture's (designed PQMF filters and STFT windows to %.1e relative)", len(got), designed)
}

// TestImportV2Checkpoint imports Lightning checkpoints written from the
// fixture state dict, with the run's config.gin in the layout
// scripts/train.py leaves (runs/NAME/config.gin beside
// runs/NAME/version_0/checkpoints/best.ckpt) and without one, and checks
// every tensor against the fixture state dict and the forward pass
// against the reference's float64 values.
func TestImportV2Checkpoint(t *testing.T) {
	fx := loadV2Fixture(t)
	ts := fixtureV2Tensors(t, fx.state)
	cases := []struct {
		name      string
		gin       string
		lightning bool
		kind      string
		assumed   []string // substrings of V2Model.Assumed, in order
		check     func(c modelv2.Config) error
	}{
		{name: "lightning with config.gin", gin: string(fx.runConfig), lightning: true, kind: "Lightning checkpoint"},
		{
			name: "lightning without config.gin", lightning: true, kind: "Lightning checkpoint",
			assumed: []string{"sampling rate 44100 Hz", "dilations 1, 3, 9, … per stage", "centred (non-causal) padding",
				"discriminator periods 2, 3, 5, 7, 11", "discriminator stride 4", "configs/v2.gin's training schedule"},
		},
		{name: "bare state dict with config.gin", gin: string(fx.runConfig), kind: "PyTorch state dict"},
		{
			// A config.gin in gin's block syntax with only some bindings:
			// the tensors give the rest.
			name: "partial config.gin", lightning: true, kind: "Lightning checkpoint",
			gin:     "import rave\nSAMPLING_RATE = 48000\nRAVE:\n    sampling_rate = %SAMPLING_RATE\nblocks.EncoderV2.dilations = [[1, 3, 9], [1, 3, 9], [1, 3, 9], [1, 3]]\n",
			assumed: []string{"centred (non-causal) padding", "discriminator periods", "discriminator stride 4", "training schedule"},
			check: func(c modelv2.Config) error {
				if c.SampleRate != 48000 {
					return fmt.Errorf("sampling rate %d, want config.gin's 48000", c.SampleRate)
				}
				return nil
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := v2Run(t, ts, c.gin, c.lightning, "")
			v, err := interop.ImportV2(path)
			if err != nil {
				t.Fatal(err)
			}
			if v.Kind != c.kind || v.Step != map[bool]int64{true: 0, false: -1}[c.lightning] || !v.Discriminator {
				t.Errorf("Kind %q, Step %d, Discriminator %v; want %q, global_step, true", v.Kind, v.Step, v.Discriminator, c.kind)
			}
			if (v.ConfigPath != "") != (c.gin != "") {
				t.Errorf("ConfigPath = %q, with config.gin %v", v.ConfigPath, c.gin != "")
			}
			if len(v.Assumed) != len(c.assumed) {
				t.Errorf("Assumed = %q, want %q", v.Assumed, c.assumed)
			} else {
				for i, a := range c.assumed {
					if !strings.Contains(v.Assumed[i], a) {
						t.Errorf("Assumed[%d] = %q, want %q", i, v.Assumed[i], a)
					}
				}
			}
			cfg := v.Model.Config
			if c.check != nil {
				if err := c.check(cfg); err != nil {
					t.Error(err)
				}
			} else if want, _ := modelv2.Preset("v2-small"); cfg.JSON() != func() string { want.Preset = ""; return want.JSON() }() {
				t.Errorf("config %s\nwant the v2-small preset's %s", cfg.JSON(), want.JSON())
			}
			checkV2Tensors(t, v.Model, fx.state)
			e, at := v2MaxError(t, v.Model, fx.f64)
			t.Logf("%s: largest forward error %.2e (%s); %s", c.name, e, at, v)
			if e > 1e-4 {
				t.Errorf("forward %s differs from the reference by %.2e relative (want ≤ 1e-4)", at, e)
			}
		})
	}
}

// TestImportV2Refuses edits the fixture checkpoint or its config.gin in
// the ways a file rave cannot follow differs, and checks that the import
// is refused with the offending binding or tensor named.
func TestImportV2Refuses(t *testing.T) {
	fx := loadV2Fixture(t)
	base := fixtureV2Tensors(t, fx.state)
	runGin := string(fx.runConfig)
	index := func(ts []v2Tensor, name string) int {
		i := slices.IndexFunc(ts, func(x v2Tensor) bool { return x.name == name })
		if i < 0 {
			t.Fatalf("fixture has no %s", name)
		}
		return i
	}
	replace := func(old, new string) string {
		if !strings.Contains(runGin, old) {
			t.Fatalf("run_config.gin has no %q", old)
		}
		return strings.Replace(runGin, old, new, 1)
	}
	cases := []struct {
		name  string
		gin   string                         // config.gin (runGin if empty)
		edit  func(ts []v2Tensor) []v2Tensor // the state dict
		short string                         // tensor whose storage is cut
		cut   bool                           // cut the file in half
		want  []string
	}{
		{
			name: "another encoder class",
			gin:  replace("model.RAVE.encoder = @blocks.VariationalEncoder", "model.RAVE.encoder = @blocks.SphericalEncoder"),
			want: []string{"config.gin line", "model.RAVE.encoder = @blocks.SphericalEncoder: not supported (rave builds @VariationalEncoder)"},
		},
		{
			name: "a discriminator rave lacks",
			gin:  replace("@discriminator.MultiScaleDiscriminator]", "@discriminator.MultiScaleSpectralDiscriminator1d]"),
			want: []string{"discriminator.CombineDiscriminators.discriminators = [@discriminator.MultiPeriodDiscriminator, @discriminator.MultiScaleSpectralDiscriminator1d]: not supported"},
		},
		{
			name: "an unknown configurable",
			gin:  runGin + "\nblocks.Snake.alpha = 1.0\n",
			want: []string{"blocks.Snake.alpha = 1.0: rave does not know blocks.Snake"},
		},
		{
			name: "an unknown parameter",
			gin:  runGin + "\nblocks.GeneratorV2.activation = @blocks.Snake\n",
			want: []string{"blocks.GeneratorV2.activation = @blocks.Snake: rave does not know this parameter"},
		},
		{
			name: "noise augmentation",
			gin:  replace("NOISE_AUGMENTATION = 0", "NOISE_AUGMENTATION = 4"),
			want: []string{"core.get_augmented_latent_size.noise_augmentation = 4: not supported"},
		},
		{
			name: "no weight norm",
			gin:  replace("blocks.normalization.mode = 'weight_norm'", "blocks.normalization.mode = 'identity'"),
			want: []string{`blocks.normalization.mode = "identity": not supported`},
		},
		{
			name: "biases",
			gin:  replace("cc.ConvTranspose1d.bias = False", "cc.ConvTranspose1d.bias = True"),
			want: []string{"cc.ConvTranspose1d.bias = True: not supported"},
		},
		{
			name: "encoder and decoder disagree",
			gin:  replace("blocks.GeneratorV2.capacity = %CAPACITY", "blocks.GeneratorV2.capacity = 16"),
			want: []string{"blocks.GeneratorV2.capacity = 16: disagrees with", "variational/blocks.EncoderV2.capacity = 8"},
		},
		{
			name: "config.gin of another model",
			gin:  replace("CAPACITY = 8", "CAPACITY = 16"),
			want: []string{"mis-shaped: ", "decoder.net.0.weight_g: file [128 1 1], model [256 1 1]", "(configuration from "},
		},
		{
			name: "noise generator bound, tensors without",
			gin:  replace("blocks.GeneratorV2.noise_module = None", "blocks.GeneratorV2.noise_module = @blocks.NoiseGeneratorV2") + "\nblocks.NoiseGeneratorV2.hidden_size = 128\nblocks.NoiseGeneratorV2.ratios = [2, 2, 2]\nblocks.NoiseGeneratorV2.noise_bands = 5\n",
			want: []string{"missing: decoder.noise_module.net.0.weight, ", "decoder.waveform_module.weight_v", "unexpected: decoder.net.21.weight_g"},
		},
		{
			name: "noise generator without its settings",
			gin:  replace("blocks.GeneratorV2.noise_module = None", "blocks.GeneratorV2.noise_module = @blocks.NoiseGeneratorV2"),
			want: []string{"binds no blocks.NoiseGeneratorV2.hidden_size"},
		},
		{
			name: "undefined macro",
			gin:  replace("CAPACITY = 8\n", ""),
			want: []string{"gin: macro %CAPACITY is not defined"},
		},
		{
			name: "malformed config.gin",
			gin:  replace("RATIOS = [4, 4, 4, 2]", "RATIOS = [4, 4, 4, 2"),
			want: []string{"config.gin: gin: line"},
		},
		{
			name: "missing tensor",
			edit: func(ts []v2Tensor) []v2Tensor {
				return slices.Delete(ts, index(ts, "decoder.net.3.aligned.branches.0.net.1.weight_v"), index(ts, "decoder.net.3.aligned.branches.0.net.1.weight_v")+1)
			},
			want: []string{"modelv2: state dict does not match the model: missing: decoder.net.3.aligned.branches.0.net.1.weight_v"},
		},
		{
			name: "transposed tensor",
			edit: func(ts []v2Tensor) []v2Tensor {
				i := index(ts, "encoder.encoder.net.5.weight_v") // (16, 8, 8)
				ts[i].shape = []int{8, 16, 8}
				return ts
			},
			want: []string{"mis-shaped: encoder.encoder.net.5.weight_v: file [8 16 8], model [16 8 8]"},
		},
		{
			name: "swapped tensors",
			edit: func(ts []v2Tensor) []v2Tensor {
				i, j := index(ts, "encoder.encoder.net.5.weight_v"), index(ts, "encoder.encoder.net.10.weight_v")
				ts[i].name, ts[j].name = ts[j].name, ts[i].name
				return ts
			},
			want: []string{"encoder.encoder.net.10.weight_v: file [16 8 8], model [32 16 8]", "encoder.encoder.net.5.weight_v: file [32 16 8], model [16 8 8]"},
		},
		{
			name: "an unexpected tensor",
			edit: func(ts []v2Tensor) []v2Tensor {
				return append(ts, v2Tensor{name: "decoder.net.22.weight_v", shape: []int{2}, data: []float64{1, 2}})
			},
			want: []string{"unexpected: decoder.net.22.weight_v"},
		},
		{
			name: "truncated checkpoint",
			cut:  true,
			want: []string{"best.ckpt: not a RAVE model file (the file is cut short)"},
		},
		{
			name:  "truncated weights",
			short: "decoder.net.0.weight_v",
			want:  []string{`the weights of "decoder.net.0.weight_v" are cut short`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := slices.Clone(base)
			if c.edit != nil {
				ts = c.edit(ts)
			}
			g := c.gin
			if g == "" {
				g = runGin
			}
			path := v2Run(t, ts, g, true, c.short)
			if c.cut {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(path, b[:len(b)/2], 0o644)
			}
			v, err := interop.ImportV2(path)
			if err == nil {
				t.Fatalf("ImportV2 = %v, want an error", v)
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error of more than one line: %q", msg)
			}
			if !strings.HasPrefix(msg, "interop: ") && !strings.Contains(msg, "not a RAVE model file") {
				t.Errorf("error %q is not prefixed \"interop: \"", msg)
			}
			// Import refuses it in the same words, not as a v1 file.
			if _, _, err2 := interop.ImportWithInfo(path); err2 == nil || err2.Error() != msg {
				t.Errorf("ImportWithInfo: %v; want ImportV2's error", err2)
			}
		})
	}
}

// TestImportV2SwappedSameShape swaps two tensors of the same shape, which
// no name or shape check can see: the import succeeds, and the forward
// comparison with the reference fails, as it must.
func TestImportV2SwappedSameShape(t *testing.T) {
	fx := loadV2Fixture(t)
	ts := fixtureV2Tensors(t, fx.state)
	a, b := "encoder.encoder.net.1.aligned.branches.0.net.1.weight_v", "encoder.encoder.net.2.aligned.branches.0.net.1.weight_v" // both (8, 8, 3)
	i := slices.IndexFunc(ts, func(x v2Tensor) bool { return x.name == a })
	j := slices.IndexFunc(ts, func(x v2Tensor) bool { return x.name == b })
	if i < 0 || j < 0 || !slices.Equal(ts[i].shape, ts[j].shape) {
		t.Fatalf("fixture lacks %s and %s of one shape", a, b)
	}
	ts[i].name, ts[j].name = b, a
	v, err := interop.ImportV2(v2Run(t, ts, string(fx.runConfig), true, ""))
	if err != nil {
		t.Fatal(err)
	}
	e, at := v2MaxError(t, v.Model, fx.f64)
	t.Logf("swapped %s and %s: forward error %.2e (%s)", a, b, e, at)
	if e <= 1e-4 {
		t.Errorf("forward error %.2e with two weights swapped; the parity check cannot see the swap", e)
	}
}

// TestImportV2Refused checks what Import (and so `rave import`) says of a
// v2 checkpoint: one line that says what was read and wraps
// ErrCheckpointV2, as a v2 TorchScript export wraps ErrTorchScriptV2.
func TestImportV2Refused(t *testing.T) {
	fx := loadV2Fixture(t)
	ts := fixtureV2Tensors(t, fx.state)
	withGin := v2Run(t, ts, string(fx.runConfig), true, "")
	sdPath := filepath.Join(t.TempDir(), "sd.safetensors")
	var tensors []*core.Tensor
	for _, x := range ts {
		v := make([]float32, len(x.data))
		for i, f := range x.data {
			v[i] = float32(f)
		}
		tt := core.New(v, x.shape...)
		tt.Name = x.name
		tensors = append(tensors, tt)
	}
	if err := core.WriteSafetensors(sdPath, tensors, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want []string
	}{
		{withGin, []string{"interop: import " + withGin + ": a RAVE v2 Lightning checkpoint, step 0: capacity 8, latent 16, 44100 Hz, 16 bands, ratios 4·4·4·2, no noise generator, with discriminator; configuration from config.gin (",
			"v2 checkpoints and state dicts can be imported but not yet played here"}},
		{sdPath, []string{"a RAVE v2 state dict: capacity 8, latent 16", "configuration inferred from tensor shapes (assumed: sampling rate 44100 Hz;"}},
	}
	for _, c := range cases {
		m, _, err := interop.ImportWithInfo(c.path)
		if m != nil || !errors.Is(err, interop.ErrCheckpointV2) {
			t.Fatalf("ImportWithInfo(%s) = %v, %v; want ErrCheckpointV2", c.path, m, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q\ndoes not say %q", err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error of more than one line: %q", err)
		}
	}
}

// TestImportV2Bindings imports the fixture checkpoint under variants of
// its config.gin that the model follows, and checks the configuration
// they give.
func TestImportV2Bindings(t *testing.T) {
	fx := loadV2Fixture(t)
	ts := fixtureV2Tensors(t, fx.state)
	runGin := string(fx.runConfig)
	cases := []struct {
		name  string
		gin   string
		check func(c modelv2.Config) string
	}{
		{
			name: "causal.gin",
			gin:  runGin + "\ncc.get_padding.mode = \"causal\"\nvariational/cc.get_padding.mode = \"causal\"\n",
			check: func(c modelv2.Config) string {
				return fmt.Sprintf("causal %v", c.Causal)
			},
		},
		{
			name: "training objective",
			gin: strings.NewReplacer("model.BetaWarmupCallback.target_value = 0.05", "model.BetaWarmupCallback.target_value = 0.1",
				"PHASE_1_DURATION = 1000000", "PHASE_1_DURATION = 200000",
				"model.RAVE.weights = {'feature_matching': 20}", "model.RAVE.weights = {'feature_matching': 10, 'adversarial': 2}",
				"model.RAVE.valid_signal_crop = True", "model.RAVE.valid_signal_crop = False").Replace(runGin),
			check: func(c modelv2.Config) string {
				tr := c.Training
				return fmt.Sprintf("causal %v beta %g phase1 %d fm %g adv %g crop %v", c.Causal, tr.BetaTarget, tr.Phase1Steps,
					tr.FeatureMatchingWeight, tr.AdversarialWeight, tr.ValidSignalCrop)
			},
		},
		{
			name: "data pipeline bindings",
			gin:  runGin + "\ndataset.get_dataset.augmentations = []\ntransforms.RandomCompress.threshold = -40\n",
			check: func(c modelv2.Config) string {
				return fmt.Sprintf("%d Hz", c.SampleRate)
			},
		},
	}
	want := map[string]string{
		"causal.gin":             "causal true",
		"training objective":     "causal false beta 0.1 phase1 200000 fm 10 adv 2 crop false",
		"data pipeline bindings": "44100 Hz",
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := interop.ImportV2(v2Run(t, ts, c.gin, true, ""))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.check(v.Model.Config); got != want[c.name] {
				t.Errorf("config: %s, want %s", got, want[c.name])
			}
			if c.name == "data pipeline bindings" && fmt.Sprint(v.IgnoredBindings) != "[dataset.get_dataset.augmentations transforms.RandomCompress.threshold]" {
				t.Errorf("IgnoredBindings = %q", v.IgnoredBindings)
			}
		})
	}
}
