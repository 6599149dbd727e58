package tsexport_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/interop/torchscript"
	"github.com/ravestation/rave/core/interop/tsexport"
	"github.com/ravestation/rave/core/model"
)

// requiredToolsEnv set to "required" (make test-interop, which installs
// Debian's python3-torch) turns the skip of a test that needs PyTorch
// into a failure. pythonEnv names a Python to use instead of searching
// PATH.
const (
	requiredToolsEnv = "RAVE_TEST_TOOLS"
	pythonEnv        = "RAVE_TEST_PYTHON"
)

// torchTol is the largest relative error (max |got − want| / max |want|)
// allowed between torch.jit.load's outputs and ours.
const torchTol = 1e-4

var torchPython = sync.OnceValues(func() (string, error) {
	var candidates []string
	if p := os.Getenv(pythonEnv); p != "" {
		candidates = append(candidates, p)
	}
	// Every python3 on PATH, in order: a virtual environment or pyenv
	// shim may come before the system Python that has Debian's torch.
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "python3")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && !slices.Contains(candidates, p) {
			candidates = append(candidates, p)
		}
	}
	var last error = exec.ErrNotFound
	for _, p := range candidates {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, p, "-c", "import torch, numpy").CombinedOutput()
		cancel()
		if err == nil {
			return p, nil
		}
		last = fmt.Errorf("%s: import torch, numpy: %v (%s)", p, err, lastLine(out))
	}
	return "", last
})

// lastLine returns the last non-empty line of out.
func lastLine(out []byte) []byte {
	lines := slices.DeleteFunc(splitLines(out), func(l []byte) bool { return len(l) == 0 })
	if len(lines) == 0 {
		return nil
	}
	return lines[len(lines)-1]
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := slices.Index(b, '\n')
		if i < 0 {
			return append(out, b)
		}
		out, b = append(out, b[:i]), b[i+1:]
	}
	return out
}

// needTorch returns a python3 that imports torch and numpy, skipping the
// test without one (failing it under RAVE_TEST_TOOLS=required) and in
// short mode.
func needTorch(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs PyTorch: not in short mode")
	}
	p, err := torchPython()
	if err != nil {
		if os.Getenv(requiredToolsEnv) == "required" {
			t.Fatalf("no python3 with torch (%v), and %s=required: make test-interop installs Debian's python3-torch", err, requiredToolsEnv)
		}
		t.Skipf("no python3 with torch and numpy (apt-get install python3-torch): %v", err)
	}
	return p
}

// torchRun is one run of testdata/run_export.py.
type torchRun struct {
	dir      string
	manifest map[string][]int
}

// runTorch exports m (keeping kept dims) and runs run_export.py on it
// with the input x; cfg adds to the script's configuration.
func runTorch(t *testing.T, py string, m *model.Model, o tsexport.Options, x []float32, cfg map[string]any) *torchRun {
	t.Helper()
	return runTorchWith(t, py, func(path string) error { return tsexport.WriteFile(path, m, o) }, x, cfg)
}

// runTorchWith is runTorch for an export that write writes at path.
func runTorchWith(t *testing.T, py string, write func(path string) error, x []float32, cfg map[string]any) *torchRun {
	t.Helper()
	dir := t.TempDir()
	ts := filepath.Join(dir, "export.ts")
	if err := write(ts); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "input.f32")
	if err := os.WriteFile(in, f32bytes(x), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	c := map[string]any{"ts": ts, "input": in, "out": out}
	for k, v := range cfg {
		c[k] = v
	}
	js, _ := json.Marshal(c)
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, js, 0o600); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "run_export.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if outb, err := exec.CommandContext(ctx, py, script, cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("%s run_export.py: %v\n%s", py, err, outb)
	}
	r := &torchRun{dir: out}
	mj, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mj, &r.manifest); err != nil {
		t.Fatal(err)
	}
	return r
}

// tensor reads an output of the run, nil if the run has none of that
// name.
func (r *torchRun) tensor(t *testing.T, name string) *core.Tensor {
	t.Helper()
	shape, ok := r.manifest[name]
	if !ok {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(r.dir, name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return core.New(v, shape...)
}

func f32bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// compare checks torch's output name against ours.
func compare(t *testing.T, name string, torch, ours *core.Tensor) {
	t.Helper()
	if torch == nil {
		t.Errorf("%s: torch gave no output", name)
		return
	}
	if !slices.Equal(torch.Shape(), ours.Shape()) {
		t.Errorf("%s: torch's shape %v, ours %v", name, torch.Shape(), ours.Shape())
		return
	}
	e := relErr(ours.Data(), torch.Data())
	if !(e <= torchTol) {
		t.Errorf("%s: max relative error %.3g > %g", name, e, torchTol)
		return
	}
	t.Logf("%s: max relative error %.2g", name, e)
}

// TestTorchJITLoadsExport exports each model, loads it with PyTorch's
// torch.jit.load and compares encode, encode_amortized, decode and
// forward on a test signal with our model's outputs (the random draws
// replayed), then checks what nn~ reads: the methods it lists, their
// params and their output lengths.
func TestTorchJITLoadsExport(t *testing.T) {
	py := needTorch(t)
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			m, kept := c.model(t)
			L := m.Config.LatentSize
			if kept == 0 {
				kept = L
			}
			R := m.Config.CompressionRatio()
			F := max(49152/R, 4)
			x := signal(F * R)
			var noise any
			if fn := noiseFrames(m, F); fn > 0 {
				noise = []int{fn, m.Config.DataSize, m.Config.NoiseRatio()}
			}
			run := runTorch(t, py, m, tsexport.Options{Kept: kept}, x, map[string]any{
				"seed": 1234, "latent_size": L, "kept": kept, "frames": F, "noise": noise, "nn_buffer": 4 * R,
			})
			xt := core.New(x, 1, 1, len(x))
			z := goEncode(m, xt, run.tensor(t, "encode.eps"), kept)
			compare(t, "encode", run.tensor(t, "encode"), z)
			mean, std := goAmortized(m, xt, kept)
			compare(t, "encode_amortized mean", run.tensor(t, "encode_amortized.mean"), mean)
			compare(t, "encode_amortized std", run.tensor(t, "encode_amortized.std"), std)
			if tz := run.tensor(t, "encode"); tz != nil {
				compare(t, "decode", run.tensor(t, "decode"), goDecode(m, tz, run.tensor(t, "decode.pad"), run.tensor(t, "decode.uniform")))
			}
			zf := goEncode(m, xt, run.tensor(t, "forward.eps"), kept)
			compare(t, "forward", run.tensor(t, "forward"), goDecode(m, zf, run.tensor(t, "forward.pad"), run.tensor(t, "forward.uniform")))

			nn := run.nn(t)
			nn.checkMethods(t, kept, R)
			if nn.LatentSize != L || nn.SamplingRate != m.Config.SR || nn.MaxBatchSize != tsexport.MaxBatchSize || nn.CroppedLatentSize != kept {
				t.Errorf("attributes %+v, want latent_size %d, sampling_rate %d, max_batch_size %d, cropped_latent_size %d",
					nn, L, m.Config.SR, tsexport.MaxBatchSize, kept)
			}
		})
	}
}

// nnInfo is what nn~ reads of an export (run_export.py's nn.json).
type nnInfo struct {
	Methods           []string         `json:"methods"`
	GetMethods        []string         `json:"get_methods"`
	Params            map[string][]int `json:"params"`
	SamplesOK         map[string]bool  `json:"samples_ok"`
	LatentSize        int              `json:"latent_size"`
	FullLatentSize    int              `json:"full_latent_size"`
	SamplingRate      int              `json:"sampling_rate"`
	SR                int              `json:"sr"`
	MaxBatchSize      int              `json:"max_batch_size"`
	CroppedLatentSize int              `json:"cropped_latent_size"`
}

// nn reads what nn~ reads of the run's export, its method lists sorted.
func (r *torchRun) nn(t *testing.T) nnInfo {
	t.Helper()
	var nn nnInfo
	js, err := os.ReadFile(filepath.Join(r.dir, "nn.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &nn); err != nil {
		t.Fatal(err)
	}
	slices.Sort(nn.Methods)
	slices.Sort(nn.GetMethods)
	return nn
}

// checkMethods checks that nn~ lists encode, decode and forward, reads
// their params for kept latent dimensions at compression ratio R, and
// that each returns as many samples as it is given.
func (nn nnInfo) checkMethods(t *testing.T, kept, R int) {
	t.Helper()
	if want := []string{"decode", "encode", "forward"}; !slices.Equal(nn.Methods, want) {
		t.Errorf("nn~ lists methods %v, want %v", nn.Methods, want)
	}
	for name, want := range map[string][]int{"encode": {1, 1, kept, R}, "decode": {kept, R, 1, 1}, "forward": {1, 1, 1, 1}} {
		if !slices.Equal(nn.Params[name], want) {
			t.Errorf("nn~ reads %s_params %v, want %v", name, nn.Params[name], want)
		}
		if !nn.SamplesOK[name] {
			t.Errorf("nn~: %s does not return as many samples as it is given", name)
		}
	}
}

// intAttr returns the int attribute name of mod, failing the test
// without one.
func intAttr(t *testing.T, mod *torchscript.Module, name string) int {
	t.Helper()
	if mod == nil {
		t.Fatalf("no module for attribute %s", name)
	}
	v, ok := mod.Int(name)
	if !ok {
		t.Fatalf("no int attribute %s", name)
	}
	return v
}

// writeLatents writes z's values (float32, little-endian) to a file
// latents.f32 of a temporary folder and returns its path.
func writeLatents(t *testing.T, z *core.Tensor) string {
	t.Helper()
	lat := filepath.Join(t.TempDir(), "latents.f32")
	if err := os.WriteFile(lat, f32bytes(z.Data()), 0o600); err != nil {
		t.Fatal(err)
	}
	return lat
}

// replayedUniform returns the noise draws of a streaming run
// (stream.decode.uniform), the first dn frames, the noise generator's
// latency, dropped and 0.5 (no excitation) past the draws.
func (r *torchRun) replayedUniform(t *testing.T, dn int) *core.Tensor {
	t.Helper()
	us := r.tensor(t, "stream.decode.uniform")
	if us == nil {
		t.Fatal("no replayed noise draws")
	}
	u := core.Zeros(us.Shape()...)
	per := us.Len() / us.Dim(1)
	for i := range u.Data() {
		u.Data()[i] = 0.5 // no excitation past the draws
	}
	copy(u.Data(), us.Data()[dn*per:])
	return u
}

// shifted returns, for tensors (1, C, N), the values of stream from
// sample from on and those of offline lat samples earlier.
func shifted(stream, offline *core.Tensor, lat, from int) (s, o []float32) {
	C, N, No := stream.Dim(1), stream.Dim(2), offline.Dim(2)
	for c := range C {
		for t := from; t < N && t-lat < No; t++ {
			s = append(s, stream.Data()[c*N+t])
			o = append(o, offline.Data()[c*No+t-lat])
		}
	}
	return s, o
}

// compareShifted checks the second half of a streamed output against
// the offline output lat samples earlier (the first half is the
// warm-up, where the caches still hold the zeros they started with).
func compareShifted(t *testing.T, name string, stream, offline *core.Tensor, lat int) {
	t.Helper()
	if stream == nil {
		t.Errorf("%s: torch gave no output", name)
		return
	}
	if stream.Dim(1) != offline.Dim(1) || stream.Dim(2) != offline.Dim(2) {
		t.Errorf("%s: torch's shape %v, ours %v", name, stream.Shape(), offline.Shape())
		return
	}
	s, o := shifted(stream, offline, lat, stream.Dim(2)/2)
	e := relErr(s, o)
	if len(s) == 0 || !(e <= torchTol) {
		t.Errorf("%s: max relative error %.3g > %g (%d values) against ours %d samples earlier", name, e, torchTol, len(s), lat)
		return
	}
	if lat > 0 {
		name += fmt.Sprintf(" (ours %d samples earlier)", lat)
	}
	t.Logf("%s: max relative error %.2g", name, e)
}

// delayFrames returns z (1, C, N) delayed by d frames (zeros first).
func delayFrames(z *core.Tensor, d int) *core.Tensor {
	C, N := z.Dim(1), z.Dim(2)
	out := core.Zeros(1, C, N)
	for c := range C {
		copy(out.Data()[c*N+d:(c+1)*N], z.Data()[c*N:c*N+N-d])
	}
	return out
}

// TestTorchJITStreamingExport runs the streaming export of each model
// under torch.jit.load buffer by buffer (2048 samples) and compares, past
// the warm-up, with our offline model delayed by the latency the export
// declares: forward with deterministic set; encode and decode with
// their random draws replayed buffer by buffer.
func TestTorchJITStreamingExport(t *testing.T) {
	py := needTorch(t)
	const buffer = 2048
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			m, kept := c.model(t)
			cfg := m.Config
			L := cfg.LatentSize
			if kept == 0 {
				kept = L
			}
			R := cfg.CompressionRatio()
			T := 48 * buffer
			J := T / R
			x := core.New(signal(T), 1, 1, T)
			mean, std := m.Encode(nil, x)
			z := keep(rotate(m, mean, false), kept)
			lat := writeLatents(t, z)
			var noise any
			fn := noiseFrames(m, J)
			if fn > 0 {
				noise = []int{fn, cfg.DataSize, cfg.NoiseRatio()}
			}
			o := tsexport.Options{Kept: kept, Streaming: true}
			run := runTorch(t, py, m, o, x.Data(), map[string]any{
				"seed": 99, "latent_size": L, "kept": kept, "frames": J, "noise": noise, "buffer": buffer, "latents": lat,
			})
			ts := filepath.Join(filepath.Dir(run.dir), "export.ts")
			a, err := torchscript.Open(ts)
			if err != nil {
				t.Fatal(err)
			}
			encLat, decLat, fwdLat := intAttr(t, a.Root, "encode_latency"), intAttr(t, a.Root, "decode_latency"), intAttr(t, a.Root, "forward_latency")
			if encLat%R != 0 || fwdLat != encLat+decLat || decLat <= 0 {
				t.Fatalf("latencies encode %d, decode %d, forward %d", encLat, decLat, fwdLat)
			}

			var pad *core.Tensor
			if kept < L {
				pad = core.Zeros(1, L-kept, J)
			}
			compareShifted(t, "stream forward (deterministic)", run.tensor(t, "stream.forward"), goDecode(m, z, pad, nil), fwdLat)

			le := encLat / R
			eps := run.tensor(t, "stream.encode.eps")
			if eps == nil {
				t.Fatal("no replayed encode draws")
			}
			zr := sample(delayFrames(mean, le), delayFrames(std, le), eps)
			compareShifted(t, fmt.Sprintf("stream encode (draws replayed; ours %d frames earlier)", le), run.tensor(t, "stream.encode"), keep(rotate(m, zr, false), kept), 0)

			var u *core.Tensor
			if fn > 0 {
				u = run.replayedUniform(t, intAttr(t, a.Root.Lookup("decoder.synth.branches.2"), "latency"))
			}
			if kept < L {
				pad = run.tensor(t, "stream.decode.pad")
			}
			compareShifted(t, "stream decode", run.tensor(t, "stream.decode"), goDecode(m, z, pad, u), decLat)
		})
	}
}
