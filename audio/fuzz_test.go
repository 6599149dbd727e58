package audio

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// checkDecoded holds every decode result to the package contract: either a
// well-formed buffer or an error wrapping a package sentinel.
func checkDecoded(t *testing.T, b *Buffer, err error) {
	t.Helper()
	if err != nil {
		if !wrapsSentinel(err) {
			t.Fatalf("error wraps no package sentinel: %v", err)
		}
		return
	}
	if b.SampleRate < MinSampleRate || b.SampleRate > MaxSampleRate {
		t.Fatalf("sample rate %d outside limits", b.SampleRate)
	}
	if len(b.Channels) < 1 || len(b.Channels) > MaxChannels {
		t.Fatalf("%d channels", len(b.Channels))
	}
	n := b.Frames()
	if n == 0 {
		t.Fatal("success with zero frames")
	}
	for c, ch := range b.Channels {
		if len(ch) != n {
			t.Fatalf("channel %d has %d frames, channel 0 has %d", c, len(ch), n)
		}
		if i := firstNonFinite(ch); i >= 0 {
			t.Fatalf("channel %d frame %d is %v", c, i, ch[i])
		}
	}
}

// fuzzWAVSeeds returns small WAV files covering the parser's branches.
func fuzzWAVSeeds(t testing.TB) [][]byte {
	x := []float32{0, 0.5, -0.5, 1, -1, 0.25, -0.125, 0.0625}
	seeds := [][]byte{
		wavBytes(t, [][]float32{x}, 8000, Int16),
		wavBytes(t, [][]float32{x, x}, 44100, Int24), // extensible
		wavBytes(t, [][]float32{x, x, x}, 48000, Float32),
	}
	for _, spec := range []struct{ tag, ch, container int }{{wavFormatPCM, 1, 1}, {wavFormatPCM, 2, 4}, {wavFormatFloat, 1, 8}} {
		data, _ := pcmCodes(8, spec.ch, spec.container, spec.tag == wavFormatFloat)
		seeds = append(seeds, makeRIFF(-1,
			riffChunk{id: "LIST", body: []byte("INFOabc"), size: -1},
			riffChunk{id: "fmt ", body: fmtBody(spec.tag, spec.ch, 22050, spec.container, 8*spec.container, false), size: -1},
			riffChunk{id: "data", body: data, size: 0xffffffff}))
	}
	return seeds
}

func fuzzFLACSeed(t testing.TB) []byte {
	ints, _ := intSine(300, 2, 16, 8000)
	return encodeFLAC(t, ints, 8000, 16)
}

func readFixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Our own parsers run unguarded, so the fuzzer sees their panics.
func FuzzDecodeWAV(f *testing.F) {
	for _, s := range fuzzWAVSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeWAV(bytes.NewReader(data))
		if err == nil && b.Frames() == 0 {
			return // decodeReader turns this into ErrEmpty
		}
		checkDecoded(t, b, err)
	})
}

func FuzzDecodeAIFF(f *testing.F) {
	f.Add(readFixture(f, "sine_440hz_22050_mono_16bit_0.1s.aiff")[:600])
	f.Add(aiffFile(true, "sowt", 2, 44100, make([]byte, 16), 4, 16))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeAIFF(bytes.NewReader(data))
		if err == nil && b.Frames() == 0 {
			return
		}
		checkDecoded(t, b, err)
	})
}

// Third-party decoders are fuzzed through DecodeReader, which recovers their
// panics; the fuzzer looks for hangs, huge allocations and contract breaks.
func fuzzDecodeReader(t *testing.T, data []byte) {
	b, err := DecodeReader(bytes.NewReader(data), "fuzz")
	checkDecoded(t, b, err)
}

func FuzzDecodeFLAC(f *testing.F) {
	f.Add(fuzzFLACSeed(f))
	f.Add(readFixture(f, "sine_1000hz_44100_mono_16bit_0.1s.flac"))
	f.Fuzz(fuzzDecodeReader)
}

func FuzzDecodeMP3(f *testing.F) {
	mp3 := readFixture(f, "sine_440hz_44100_mono_0.5s.mp3")
	f.Add(mp3[:600])
	f.Add(append([]byte("ID3\x03\x00\x00\x00\x00\x00\x0a"+"0123456789"), mp3[:400]...))
	f.Fuzz(fuzzDecodeReader)
}

func FuzzDecodeOgg(f *testing.F) {
	f.Add(readFixture(f, "sine_440hz_48000_stereo_0.5s.ogg"))
	f.Fuzz(fuzzDecodeReader)
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzWAVSeeds(f) {
		f.Add(s)
	}
	f.Add(fuzzFLACSeed(f))
	f.Add(readFixture(f, "sine_440hz_44100_mono_0.5s.mp3")[:1200])
	f.Add(readFixture(f, "sine_440hz_48000_stereo_0.5s.ogg")[:1500])
	f.Add(readFixture(f, "sine_440hz_22050_mono_16bit_0.1s.aiff")[:600])
	f.Add([]byte("just some text\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecodeReader(t, data)
		// Sniff never fails on an in-memory reader with a recognised or
		// unknown format, and leaves the offset where it was.
		r := bytes.NewReader(data)
		Sniff(r)
		if pos, _ := r.Seek(0, io.SeekCurrent); pos != 0 {
			t.Fatalf("Sniff moved the reader to %d", pos)
		}
	})
}
