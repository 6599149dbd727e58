package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
	"github.com/mewkiz/flac/meta"
)

// noise returns n samples of seeded noise in [-0.9, 0.9).
func noise(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.Float64()*1.8 - 0.9)
	}
	return x
}

// readInPieces reads s to the end in reads of the sizes given in turn.
func readInPieces(t *testing.T, s Stream, sizes ...int) []float32 {
	t.Helper()
	var out []float32
	for i := 0; ; i++ {
		buf := make([]float32, sizes[i%len(sizes)])
		n, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if n != len(buf) {
			t.Fatalf("read %d of %d samples without an error", n, len(buf))
		}
	}
}

// TestFileStreamMatchesDecode reads files block by block and compares the
// mono stream with Decode(…).Mono(), sample for sample.
func TestFileStreamMatchesDecode(t *testing.T) {
	dir := t.TempDir()
	stereo := [][]float32{noise(1, 70001), noise(2, 70001)}
	five := [][]float32{noise(3, 999), noise(4, 999), noise(5, 999), noise(6, 999), noise(7, 999)}
	tests := []struct {
		name string
		path string
	}{
		{"16-bit stereo wav", writeTemp(t, dir, "s16.wav", wavBytes(t, stereo, 44100, Int16))},
		{"24-bit 5-channel wav", writeTemp(t, dir, "s24.wav", wavBytes(t, five, 48000, Int24))},
		{"float mono wav", writeTemp(t, dir, "f32.wav", wavBytes(t, stereo[:1], 22050, Float32))},
		{"aiff", "testdata/sine_440hz_22050_mono_16bit_0.1s.aiff"},
		{"24-bit stereo wav fixture", "testdata/sine_1000hz_48000_stereo_24bit_0.05s.wav"},
		{"flac", "testdata/sine_1000hz_44100_mono_16bit_0.1s.flac"},
		{"ogg vorbis", "testdata/sine_440hz_48000_stereo_0.5s.ogg"},
		{"mp3 (mono: two equal channels)", "testdata/sine_440hz_44100_mono_0.5s.mp3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Decode(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			want := b.Mono()
			s, err := OpenStream(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.SampleRate() != b.SampleRate || s.Channels() != len(b.Channels) || s.Frames() != int64(len(want)) {
				t.Fatalf("stream %d Hz, %d channels, %d frames; want %d, %d, %d",
					s.SampleRate(), s.Channels(), s.Frames(), b.SampleRate, len(b.Channels), len(want))
			}
			got := readInPieces(t, s, 1, 4097, 333, 70000)
			if len(got) != len(want) {
				t.Fatalf("read %d samples, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("sample %d = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestFileStreamErrors checks that a stream reports what Decode reports:
// at open for a bad header or an empty file, and from Read for samples
// that turn out to be missing or not finite.
func TestFileStreamErrors(t *testing.T) {
	dir := t.TempDir()
	good := wavBytes(t, [][]float32{noise(1, 1000)}, 8000, Float32)
	t.Run("empty data", func(t *testing.T) {
		p := writeTemp(t, dir, "empty.wav", wavBytes(t, [][]float32{{}}, 8000, Int16))
		if _, err := OpenStream(p); !errors.Is(err, ErrEmpty) {
			t.Errorf("OpenStream = %v, want ErrEmpty", err)
		}
	})
	t.Run("not audio", func(t *testing.T) {
		p := writeTemp(t, dir, "text.wav", []byte("hello, this is text and not a wav file at all\n"))
		if _, err := OpenStream(p); !errors.Is(err, ErrUnsupportedFormat) {
			t.Errorf("OpenStream = %v, want ErrUnsupportedFormat", err)
		}
	})
	t.Run("truncated at open", func(t *testing.T) {
		p := writeTemp(t, dir, "trunc.wav", good[:len(good)-100])
		if _, err := OpenStream(p); !errors.Is(err, ErrTruncated) {
			t.Errorf("OpenStream = %v, want ErrTruncated", err)
		}
	})
	t.Run("non-finite sample", func(t *testing.T) {
		bad := bytes.Clone(good)
		copy(bad[len(bad)-8:], []byte{0, 0, 0xc0, 0x7f}) // NaN in the second-last sample
		p := writeTemp(t, dir, "nan.wav", bad)
		s, err := OpenStream(p)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = s.Read(make([]float32, 2000))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Read = %v, want ErrCorrupt", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := OpenStream(filepath.Join(dir, "none.wav")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("OpenStream = %v, want os.ErrNotExist", err)
		}
	})
}

// TestResamplerMatchesResample pushes signals in pieces of awkward sizes
// and compares the output with Resample of the whole signal, bit for bit.
func TestResamplerMatchesResample(t *testing.T) {
	tests := []struct {
		from, to, n int
	}{
		{48000, 44100, 30011},
		{44100, 48000, 30011},
		{48000, 48000, 1000},
		{22050, 48000, 5},
		{96000, 8000, 40000},
		{44100, 44101, 3000}, // L > maxExactPhases: interpolated rows
	}
	for _, tt := range tests {
		x := noise(uint64(tt.n), tt.n)
		want, err := Resample(x, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		for _, pieces := range [][]int{{1}, {7, 1000, 3}, {tt.n}} {
			r, err := NewResampler(tt.from, tt.to, int64(tt.n))
			if err != nil {
				t.Fatal(err)
			}
			if r.OutLen() != int64(len(want)) {
				t.Fatalf("%d→%d: OutLen %d, want %d", tt.from, tt.to, r.OutLen(), len(want))
			}
			var got []float32
			for i, at := 0, 0; at < tt.n; i++ {
				n := min(pieces[i%len(pieces)], tt.n-at)
				got = r.Push(got, x[at:at+n])
				at += n
			}
			if len(got) != len(want) {
				t.Fatalf("%d→%d in pieces %v: %d samples, want %d", tt.from, tt.to, pieces, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%d→%d in pieces %v: sample %d = %v, want %v", tt.from, tt.to, pieces, i, got[i], want[i])
				}
			}
		}
	}
}

// TestWAVWriterMatchesWriteWAV writes the same samples block by block and
// whole: the files are byte for byte the same, and nothing is at the path
// before Close or after Abort.
func TestWAVWriterMatchesWriteWAV(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []SampleFormat{Int16, Int24, Float32} {
		for _, ch := range []int{1, 2, 3} {
			x := make([][]float32, ch)
			for c := range x {
				x[c] = noise(uint64(c), 10001)
			}
			want := wavBytes(t, x, 44100, f)
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.wav", f, ch))
			w, err := CreateWAV(path, ch, 44100, f)
			if err != nil {
				t.Fatal(err)
			}
			for at := 0; at < 10001; at += 3000 {
				part := make([][]float32, ch)
				for c := range part {
					part[c] = x[c][at:min(at+3000, 10001)]
				}
				if err := w.Write(part); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(path); err == nil {
				t.Errorf("%s × %d: the file exists before Close", f, ch)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s × %d channels: %d bytes differ from WriteWAV's %d", f, ch, len(got), len(want))
			}
		}
	}
	path := filepath.Join(dir, "aborted.wav")
	w, err := CreateWAV(path, 1, 8000, Int16)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([][]float32{noise(1, 100)}); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := w.Close(); err != nil {
		t.Errorf("Close after Abort = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 9 {
		t.Errorf("after Abort the folder holds %d files, want the 9 written", len(ents))
	}
}

// writeLongFLAC writes seconds of a 16-bit mono sine at rate Hz as FLAC
// (verbatim frames of 4096 samples, stream info patched on Close) and
// returns its path.
func writeLongFLAC(t *testing.T, dir string, rate int, seconds float64) string {
	t.Helper()
	path := filepath.Join(dir, "long.flac")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	info := &meta.StreamInfo{BlockSizeMin: 4096, BlockSizeMax: 4096, SampleRate: uint32(rate), NChannels: 1, BitsPerSample: 16}
	enc, err := flac.NewEncoder(f, info)
	if err != nil {
		t.Fatal(err)
	}
	enc.AnalysisEnabled = false
	n := int(seconds * float64(rate))
	for at := 0; at < n; at += 4096 {
		k := min(4096, n-at)
		s := make([]int32, k)
		for i := range s {
			s[i] = int32(8000 * math.Sin(2*math.Pi*440*float64(at+i)/float64(rate)))
		}
		fr := &frame.Frame{
			Header:    frame.Header{HasFixedBlockSize: false, BlockSize: uint16(k), SampleRate: uint32(rate), Channels: frame.ChannelsMono, BitsPerSample: 16},
			Subframes: []*frame.Subframe{{SubHeader: frame.SubHeader{Pred: frame.PredVerbatim}, Samples: s, NSamples: k}},
		}
		if err := enc.WriteFrame(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFileStreamCompressedMemory streams a FLAC file of 40 s: half-way
// through, the live heap holds a block, not the 7.7 MB the whole mono
// signal would take (Decode's), and every sample matches Decode's.
func TestFileStreamCompressedMemory(t *testing.T) {
	const rate, seconds = 48000, 40.0
	path := writeLongFLAC(t, t.TempDir(), rate, seconds)
	b, err := Decode(path)
	if err != nil {
		t.Fatal(err)
	}
	want := b.Mono()
	b = nil
	s, err := OpenStream(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Frames() != int64(len(want)) {
		t.Fatalf("%d frames, want %d", s.Frames(), len(want))
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	buf := make([]float32, 10000)
	var grew uint64
	for at := 0; at < len(want); {
		n, err := s.Read(buf)
		for i := range n {
			if buf[i] != want[at+i] {
				t.Fatalf("sample %d = %v, want %v", at+i, buf[i], want[at+i])
			}
		}
		at += n
		if at >= len(want)/2 && grew == 0 {
			runtime.GC()
			var mid runtime.MemStats
			runtime.ReadMemStats(&mid)
			grew = max(1, mid.HeapAlloc-min(mid.HeapAlloc, before.HeapAlloc))
		}
		if err != nil {
			if !errors.Is(err, io.EOF) || at != len(want) {
				t.Fatalf("read stopped at %d of %d: %v", at, len(want), err)
			}
			break
		}
	}
	if whole := uint64(4 * len(want)); grew > whole/8 {
		t.Errorf("the live heap grew by %d bytes half-way through; the whole signal is %d", grew, whole)
	}
}
