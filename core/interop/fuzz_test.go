package interop_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/modelv2"
)

// fuzzLimit is the time one fuzz input may take before the fuzz run fails
// as a hang (generous: fuzz workers share the machine).
const fuzzLimit = 5 * time.Second

// fuzzRead writes data to a file named name and reads it as Import does
// (and, if it reads, imports it), failing on a hang, a panic (the fuzzer
// reports it) or an error message of more than one line.
func fuzzRead(t *testing.T, name string, data []byte) {
	f, err := os.CreateTemp("", "fuzz-*-"+name)
	if err != nil {
		t.Fatal(err)
	}
	path := f.Name()
	defer os.Remove(path)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		names []string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		names, err := interop.ReadStateDict(path)
		if err == nil {
			interop.Import(path) // the configuration and tensors, into a model
		}
		done <- result{names, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && strings.Contains(r.err.Error(), "\n") {
			t.Fatalf("error of more than one line: %q", r.err)
		}
		if r.err == nil && len(r.names) == 0 && strings.HasSuffix(name, ".ckpt") {
			t.Fatal("a checkpoint without tensors was accepted")
		}
	case <-time.After(fuzzLimit):
		t.Fatalf("reading %d bytes as %s has not returned after %v", len(data), name, fuzzLimit)
	}
}

// smallTensorFile returns a TensorFile of a few small tensors named like a
// RAVE state dict, one of them an integer scalar.
func smallTensorFile(t testing.TB) *core.TensorFile {
	t.Helper()
	w := core.Zeros(2, 3)
	for i := range w.Data() {
		w.Data()[i] = float32(i) - 2.5
	}
	w.Name = "encoder.net.0.bias"
	s := core.Zeros()
	s.Data()[0] = 7
	s.Name = "saved_step"
	path := filepath.Join(t.TempDir(), "small.safetensors")
	if err := core.WriteSafetensors(path, []*core.Tensor{w, s}, nil); err != nil {
		t.Fatal(err)
	}
	tf, err := core.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

// smallV2TensorFile returns the state dict of a small RAVE v2 model
// (2 bands, capacity 2, latent 1, one stage of ratio 2), the
// discriminator left out.
func smallV2TensorFile(t testing.TB) *core.TensorFile {
	t.Helper()
	c, err := modelv2.Preset("v2-small")
	if err != nil {
		t.Fatal(err)
	}
	c.Bands, c.Capacity, c.LatentSize, c.Ratios, c.Dilations = 2, 2, 1, []int{2}, [][]int{{1}}
	m, err := modelv2.New(c, false)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 2)))
	var buf bytes.Buffer
	if err := core.EncodeSafetensors(&buf, m.StateDict(), nil); err != nil {
		t.Fatal(err)
	}
	tf, err := core.ParseSafetensors(buf.Bytes(), "small v2")
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

func readBack(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzReadCheckpoint feeds mutated PyTorch zip checkpoints to the .ckpt
// reader (zip, pickle scan, gopickle, storages), each under fuzzLimit.
func FuzzReadCheckpoint(f *testing.F) {
	tf := smallTensorFile(f)
	dir := f.TempDir()
	for i, lightning := range []bool{true, false} {
		path := filepath.Join(dir, "seed"+string(rune('0'+i))+".ckpt")
		writeCheckpoint(f, path, tf, map[string]any{"ratios": []int{4, 2}, "sr": 48000, "bias": true, "mode": "hinge", "min_kl": 0.1, "x": nil}, lightning)
		b := readBack(f, path)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	// Hyper-parameters for a model of gigabytes, with a few weights.
	huge := filepath.Join(dir, "huge.ckpt")
	writeCheckpoint(f, huge, tf, map[string]any{"capacity": 4096, "latent_size": 2048}, true)
	f.Add(readBack(f, huge))
	// A small RAVE v2 checkpoint, which Import reads as ImportV2 does
	// (the configuration inferred from its shapes).
	v2 := filepath.Join(dir, "v2.ckpt")
	writeCheckpoint(f, v2, smallV2TensorFile(f), nil, true)
	b := readBack(f, v2)
	f.Add(b)
	f.Add(b[:len(b)*3/4])
	var one pickler
	one.op(0x80, 2, '}', '(')
	one.str("w")
	one.tensor("0", "HalfStorage", []int{2, 2}, 4)
	one.op('u', '.')
	f.Add(zipOf(f, map[string][]byte{"archive/data.pkl": one.Bytes(), "archive/data/0": make([]byte, 8)}))
	f.Add(zipOf(f, map[string][]byte{"archive/data.pkl": one.Bytes()}))
	f.Add([]byte{})
	f.Add([]byte("PK"))
	f.Add([]byte("\x80\x02}q\x00."))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "f.ckpt", data)
	})
}

// npyArray returns a .npy file of the given little-endian type, shape and
// raw data, as numpy.save writes it.
func npyArray(descr string, shape []int, raw []byte) []byte {
	dims := ""
	for _, d := range shape {
		dims += fmt.Sprintf("%d, ", d)
	}
	h := fmt.Sprintf("{'descr': '<%s', 'fortran_order': False, 'shape': (%s), }", descr, strings.TrimSuffix(dims, " "))
	h += strings.Repeat(" ", (64-(10+len(h)+1)%64)%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), raw...)
}

// FuzzReadNPZ feeds mutated .npz state dicts to the .npz reader.
func FuzzReadNPZ(f *testing.F) {
	for _, files := range []map[string][]byte{
		{"encoder.net.0.bias.npy": npyArray("f4", []int{3}, make([]byte, 12)), "saved_step.npy": npyArray("i8", nil, make([]byte, 8))},
		{"a.npy": npyArray("f8", []int{2, 1}, make([]byte, 16)), "b.npy": npyArray("i4", []int{2, 1, 2}, make([]byte, 16))},
	} {
		b := zipOf(f, files)
		f.Add(b)
		f.Add(b[:len(b)*2/3])
	}
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "f.npz", data)
	})
}
