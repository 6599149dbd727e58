package interop_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/internal/parity"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/model"
)

// pickler writes the small subset of pickle protocol 2 that PyTorch's
// torch.save emits for a Lightning checkpoint: dicts, strings, ints,
// floats, bools, lists, tuples, globals, NEWOBJ/REDUCE/BUILD and
// persistent storage ids.
type pickler struct{ bytes.Buffer }

func (p *pickler) op(b ...byte) { p.Write(b) }

func (p *pickler) str(s string) {
	p.op('X')
	binary.Write(p, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
}

func (p *pickler) int(v int) {
	p.op('J')
	binary.Write(p, binary.LittleEndian, int32(v))
}

func (p *pickler) float(v float64) {
	p.op('G')
	binary.Write(p, binary.BigEndian, math.Float64bits(v))
}

func (p *pickler) bool(v bool) {
	if v {
		p.op(0x88)
	} else {
		p.op(0x89)
	}
}

func (p *pickler) global(module, name string) { p.WriteString("c" + module + "\n" + name + "\n") }

func (p *pickler) value(v any) {
	switch x := v.(type) {
	case string:
		p.str(x)
	case int:
		p.int(x)
	case float64:
		p.float(x)
	case bool:
		p.bool(x)
	case []int:
		p.op(']', '(')
		for _, e := range x {
			p.int(e)
		}
		p.op('e')
	case nil:
		p.op('N')
	default:
		panic(fmt.Sprintf("pickler: %T", v))
	}
}

func (p *pickler) intTuple(xs []int) {
	p.op('(')
	for _, x := range xs {
		p.int(x)
	}
	p.op('t')
}

// tensor writes torch._utils._rebuild_tensor_v2(storage, 0, size, stride,
// False, OrderedDict()) for a contiguous tensor stored under key.
func (p *pickler) tensor(key, storage string, shape []int, numel int) {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op('(')
	p.op('(')
	p.str("storage")
	p.global("torch", storage)
	p.str(key)
	p.str("cpu")
	p.int(numel)
	p.op('t', 'Q')
	p.int(0)
	p.intTuple(shape)
	stride := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		stride[i] = s
		s *= shape[i]
	}
	p.intTuple(stride)
	p.bool(false)
	p.global("collections", "OrderedDict")
	p.op(')', 'R')
	p.op('t', 'R')
}

// lightningHead opens the dict of a Lightning checkpoint with its epoch,
// global_step and pytorch-lightning_version.
func (p *pickler) lightningHead(epoch, step int, version string) {
	p.op('}', '(')
	p.str("epoch")
	p.int(epoch)
	p.str("global_step")
	p.int(step)
	p.str("pytorch-lightning_version")
	p.str(version)
}

// callbacks writes a Lightning checkpoint's callbacks entry: the state,
// under the key state, of a ModelCheckpoint, its best_model_score score
// and, unless path is "", its best_model_path.
func (p *pickler) callbacks(state string, score float64, path string) {
	p.str("callbacks")
	p.op('}', '(')
	p.str(state)
	p.global("pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint")
	p.op(')', 0x81, '}', '(')
	p.str("best_model_score")
	p.float(score)
	if path != "" {
		p.str("best_model_path")
		p.str(path)
	}
	p.op('u', 'b')
	p.op('u')
}

// writeCheckpoint writes a PyTorch zip checkpoint holding the state dict
// of the named fixture tensors (float32, or int64 for the integer
// scalars): in Lightning's layout (epoch, global_step, state_dict,
// hyper_parameters as an AttributeDict, a callback object) when lightning
// is set, else a bare OrderedDict as torch.save(model.state_dict()) makes.
func writeCheckpoint(t testing.TB, path string, tf *core.TensorFile, hparams map[string]any, lightning bool) {
	t.Helper()
	names := tf.Names()
	var p pickler
	blobs := map[string][]byte{}
	var records []string // the keys of blobs, in order
	p.op(0x80, 2)
	if lightning {
		p.lightningHead(3, 1234, "1.6.4")
		p.callbacks("ModelCheckpoint{'monitor': 'validation'}", 0.5, "")
		p.str("state_dict")
	}
	p.global("collections", "OrderedDict")
	p.op(')', 'R', '(')
	for i, n := range names {
		v, shape, err := tf.Float64(n)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprint(i)
		var buf bytes.Buffer
		storage := "FloatStorage"
		if len(shape) == 0 && (n == "saved_step" || n == "decoder.synth.branches.2.target_size" || filepath.Ext(n) == ".num_batches_tracked") {
			storage = "LongStorage"
			binary.Write(&buf, binary.LittleEndian, int64(v[0]))
		} else {
			for _, x := range v {
				binary.Write(&buf, binary.LittleEndian, float32(x))
			}
		}
		blobs[key] = buf.Bytes()
		records = append(records, key)
		p.str(n)
		p.tensor(key, storage, shape, len(v))
	}
	p.op('u')
	if lightning {
		p.str("hyper_parameters")
		p.global("pytorch_lightning.utilities.parsing", "AttributeDict")
		p.op(')', 0x81, '(')
		keys := make([]string, 0, len(hparams))
		for k := range hparams {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p.str(k)
			p.value(hparams[k])
		}
		p.op('u')
		p.op('u')
	}
	p.op('.')
	writeTorchZip(t, path, "archive", p.Bytes(), records, blobs)
}

// writeTorchZip writes path as torch.save's zip does: folder/data.pkl
// holding pkl, the storage records blobs under folder/data/ in the order
// of keys, and folder/version.
func writeTorchZip(t testing.TB, path, folder string, pkl []byte, keys []string, blobs map[string][]byte) {
	t.Helper()
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	write := func(name string, b []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	write(folder+"/data.pkl", pkl)
	for _, k := range keys {
		write(folder+"/data/"+k, blobs[k])
	}
	write(folder+"/version", []byte("3\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, zbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixtureHparams are the constructor arguments of v1_small_hparams.json.
var fixtureHparams = map[string]any{
	"data_size": 16, "capacity": 8, "latent_size": 16, "ratios": []int{4, 4, 4, 2},
	"bias": true, "loud_stride": 1, "use_noise": true, "noise_ratios": []int{4, 4, 4},
	"noise_bands": 5, "d_capacity": 4, "d_multiplier": 4, "d_n_layers": 4,
	"warmup": 1000000, "mode": "hinge", "no_latency": false, "sr": 48000,
	"min_kl": 0.1, "max_kl": 0.1, "cropped_latent_size": 0, "feature_match": true,
}

// TestImportCheckpoint imports hand-built PyTorch zip checkpoints of the
// fixture weights (a Lightning .ckpt with hyper-parameters and callback
// state, and a bare state dict) and checks the forward pass against the
// reference.
func TestImportCheckpoint(t *testing.T) {
	sdPath := fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors")
	_, ref := parity.FixtureModel(t)
	tf, err := core.ReadSafetensors(sdPath)
	if err != nil {
		t.Fatal(err)
	}
	// A Lightning file whose hyper-parameters omit most keys: the tensors
	// supply the rest.
	t.Run("partial_hparams", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "partial.ckpt")
		writeCheckpoint(t, path, tf, map[string]any{"sr": 48000, "mode": "hinge"}, true)
		m, err := interop.Import(path)
		if err != nil {
			t.Fatal(err)
		}
		checkFixtureConfig(t, m.Config)
	})
	for _, lightning := range []bool{true, false} {
		t.Run(fmt.Sprintf("lightning=%v", lightning), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "last.ckpt")
			writeCheckpoint(t, path, tf, fixtureHparams, lightning)
			m, info, err := interop.ImportWithInfo(path)
			if err != nil {
				t.Fatal(err)
			}
			wantSrc := "inferred from tensor shapes"
			if lightning {
				wantSrc = "hyper_parameters"
				if m.Step != 1234 {
					t.Errorf("Step = %d, want 1234 (global_step)", m.Step)
				}
			}
			if info.ConfigSource != wantSrc {
				t.Errorf("ConfigSource = %q, want %q", info.ConfigSource, wantSrc)
			}
			if len(info.Filled) != 0 || len(info.Ignored) != 0 {
				t.Errorf("Filled %v, Ignored %v; want none", info.Filled, info.Ignored)
			}
			checkFixtureConfig(t, m.Config)
			out := parity.ForwardOutputs(t, m, ref)
			for _, k := range []string{"enc_mean", "enc_scale", "dec_out_mb_nonoise", "dec_out_fb_nonoise", "dec_noise_amp"} {
				if _, err := parity.Compare(ref, k, out[k], parity.ForwardTol); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// checkFixtureConfig checks the configuration of the fixture model.
func checkFixtureConfig(t *testing.T, c model.Config) {
	t.Helper()
	if c.Capacity != 8 || c.LatentSize != 16 || c.DataSize != 16 || fmt.Sprint(c.Ratios) != "[4 4 4 2]" ||
		!c.Bias || !c.UseNoise || fmt.Sprint(c.NoiseRatios) != "[4 4 4]" || c.NoiseBands != 5 || c.SR != 48000 || c.LoudStride != 1 {
		t.Errorf("config = %+v, want the fixture's hyper-parameters", c)
	}
}

// writeTensors writes ts as a safetensors state dict in a temporary folder.
func writeTensors(t *testing.T, ts []*core.Tensor) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sd.safetensors")
	if err := core.WriteSafetensors(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	return path
}
