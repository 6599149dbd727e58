package rvz

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// testFile returns a valid file of frames × dims random latents coded with
// bits bits.
func testFile(t testing.TB, frames, dims, bits int, seed uint64) File {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	z := make([][]float32, dims)
	for d := range z {
		z[d] = make([]float32, frames)
		for i := range z[d] {
			z[d][i] = float32(rng.NormFloat64() * float64(d+1))
		}
	}
	off, step, codes := Quantize(z, bits)
	f := File{SampleRate: 48000, Ratio: 2048, Length: int64(frames*2048 - 100), Bits: bits, ZeroFill: seed%2 == 0, Offset: off, Step: step, Codes: codes}
	for i := range f.ModelHash {
		f.ModelHash[i] = byte(i * 7)
	}
	return f
}

func encode(t testing.TB, f File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct{ frames, dims, bits int }{
		{1, 1, 1}, {3, 5, 3}, {17, 8, 8}, {10, 16, 12}, {7, 3, 16}, {40, 128, 5},
	} {
		f := testFile(t, c.frames, c.dims, c.bits, uint64(c.bits))
		b := encode(t, f)
		if len(b) != f.Size() {
			t.Errorf("%v: wrote %d bytes, Size says %d", c, len(b), f.Size())
		}
		g, err := ReadBytes(b)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if g.ModelHash != f.ModelHash || g.SampleRate != f.SampleRate || g.Ratio != f.Ratio || g.Length != f.Length ||
			g.Bits != f.Bits || g.ZeroFill != f.ZeroFill {
			t.Errorf("%v: header %+v, want %+v", c, g, f)
		}
		for i := range f.Codes {
			if g.Codes[i] != f.Codes[i] {
				t.Fatalf("%v: code %d = %d, want %d", c, i, g.Codes[i], f.Codes[i])
			}
		}
		for d := range f.Offset {
			if g.Offset[d] != f.Offset[d] || g.Step[d] != f.Step[d] {
				t.Fatalf("%v: quantiser %d = (%g, %g), want (%g, %g)", c, d, g.Offset[d], g.Step[d], f.Offset[d], f.Step[d])
			}
		}
		if !bytes.Equal(encode(t, g), b) {
			t.Errorf("%v: re-encoding differs", c)
		}
	}
}

// TestQuantize checks the error bound of the quantiser: values inside the
// clipped range are within half a step, clipped ones land on the range's
// ends, and more bits give a smaller error.
func TestQuantize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	z := [][]float32{make([]float32, 4000), make([]float32, 4000), make([]float32, 4000)}
	for i := range z[0] {
		z[0][i] = float32(rng.NormFloat64())
		z[1][i] = float32(3 + 0.01*rng.NormFloat64())
		z[2][i] = 1.5 // constant
	}
	prev := math.Inf(1)
	for bits := 1; bits <= MaxBits; bits++ {
		off, step, codes := Quantize(z, bits)
		f := File{Offset: off, Step: step, Codes: codes, Ratio: 1, Length: 4000, Bits: bits}
		got := f.Latents()
		var mse float64
		for d := range z {
			lo, hi := float64(off[d]), float64(off[d])+float64(step[d])*float64(int(1)<<bits-1)
			for i, v := range z[d] {
				x, q := float64(v), float64(got[d][i])
				e := math.Abs(x - q)
				switch {
				case x < lo-1e-6:
					e = math.Abs(q - lo)
				case x > hi+1e-6:
					e = math.Abs(q - hi)
				}
				if e > float64(step[d])/2*(1+1e-5)+1e-6 {
					t.Fatalf("%d bits, dim %d: %g coded as %g (step %g, range [%g, %g])", bits, d, x, q, step[d], lo, hi)
				}
				if d == 0 {
					mse += (x - q) * (x - q)
				}
			}
		}
		if got[2][0] != 1.5 {
			t.Errorf("%d bits: constant 1.5 decoded as %g", bits, got[2][0])
		}
		mse /= 4000
		if mse >= prev {
			t.Errorf("%d bits: error %g is not below %d bits' %g", bits, mse, bits-1, prev)
		}
		prev = mse
	}
}

// TestLoading checks the loading factors against Max's table of optimum
// uniform quantisers for a Gaussian (J. Max, "Quantizing for minimum
// distortion", IRE Trans. IT-6, 1960: steps 1.596, 0.9957, 0.5860, 0.3352
// for 2, 4, 8, 16 levels).
func TestLoading(t *testing.T) {
	for bits, step := range map[int]float64{1: 1.596, 2: 0.9957, 3: 0.5860, 4: 0.3352} {
		want := step * float64(int(1)<<bits-1) / 2
		if got := Loading(bits); math.Abs(got-want) > 2e-3 {
			t.Errorf("Loading(%d) = %.4f, want %.4f", bits, got, want)
		}
	}
	if Loading(12) != 4 {
		t.Errorf("Loading(12) = %g, want 4", Loading(12))
	}
}

// TestReadDamaged flips every bit and truncates at every length of a
// small file: each must give the matching error and never panic.
func TestReadDamaged(t *testing.T) {
	b := encode(t, testFile(t, 5, 3, 7, 3))
	for n := range len(b) {
		if _, err := ReadBytes(b[:n]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("truncated to %d bytes: %v, want ErrTruncated", n, err)
		}
	}
	for i := range len(b) {
		for bit := range 8 {
			d := bytes.Clone(b)
			d[i] ^= 1 << bit
			_, err := ReadBytes(d)
			switch {
			case i == 4 || i == 5:
				if !errors.Is(err, ErrVersion) {
					t.Fatalf("byte %d bit %d: %v, want ErrVersion", i, bit, err)
				}
			case !errors.Is(err, ErrCorrupt):
				t.Fatalf("byte %d bit %d: %v, want ErrCorrupt", i, bit, err)
			}
		}
	}
	if _, err := ReadBytes(append(bytes.Clone(b), 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v, want ErrCorrupt", err)
	}
}

func TestReadErrorsName(t *testing.T) {
	b := encode(t, testFile(t, 2, 2, 4, 1))
	b[4] = 9
	_, err := ReadBytes(b)
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("version 9: %v", err)
	}
	_, err = ReadBytes([]byte("RIFF....WAVEfmt "))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "not an .rvz file") {
		t.Errorf("WAV bytes: %v", err)
	}
	f := testFile(t, 2, 2, 4, 1)
	var other [32]byte
	other[0] = 0xab
	err = CheckModel(f, other)
	if !errors.Is(err, ErrModelMismatch) || !strings.Contains(err.Error(), ShortHash(f.ModelHash)) || !strings.Contains(err.Error(), ShortHash(other)) {
		t.Errorf("CheckModel: %v", err)
	}
	if err := CheckModel(f, f.ModelHash); err != nil {
		t.Errorf("CheckModel(own hash): %v", err)
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	good := testFile(t, 3, 2, 4, 1)
	for name, mut := range map[string]func(f *File){
		"bits 0":      func(f *File) { f.Bits = 0 },
		"bits 17":     func(f *File) { f.Bits = 17 },
		"no dims":     func(f *File) { f.Offset, f.Step, f.Codes = nil, nil, nil },
		"short codes": func(f *File) { f.Codes = f.Codes[1:] },
		"big code":    func(f *File) { f.Codes[0] = 16 },
		"NaN offset":  func(f *File) { f.Offset[0] = float32(math.NaN()) },
		"no length":   func(f *File) { f.Length = 0 },
		"no rate":     func(f *File) { f.SampleRate = 0 },
	} {
		f := good
		f.Offset, f.Step, f.Codes = append([]float32(nil), good.Offset...), append([]float32(nil), good.Step...), append([]uint16(nil), good.Codes...)
		mut(&f)
		if err := Write(&bytes.Buffer{}, f); err == nil {
			t.Errorf("%s: Write accepted the file", name)
		}
	}
}

// FuzzRead checks that Read never panics and that what it accepts
// re-encodes to the same bytes.
func FuzzRead(f *testing.F) {
	for i, c := range []struct{ frames, dims, bits int }{{1, 1, 1}, {4, 3, 5}, {9, 8, 8}, {3, 2, 16}} {
		b := encode(f, testFile(f, c.frames, c.dims, c.bits, uint64(i)))
		f.Add(b)
		f.Add(b[:len(b)/2])
		d := bytes.Clone(b)
		d[len(d)-1] ^= 0x40
		f.Add(d)
	}
	f.Add([]byte("RAVZ"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrVersion) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		again := encode(t, file)
		if !bytes.Equal(again, data[:len(again)]) {
			t.Fatalf("accepted file re-encodes differently")
		}
	})
}
