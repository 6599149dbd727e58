package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDecodeWAVFormats(t *testing.T) {
	tests := []struct {
		name       string
		tag        int
		channels   int
		rate       int
		container  int
		validBits  int
		extensible bool
	}{
		{"pcm8 mono", wavFormatPCM, 1, 8000, 1, 8, false},
		{"pcm16 stereo", wavFormatPCM, 2, 44100, 2, 16, false},
		{"pcm24 mono", wavFormatPCM, 1, 48000, 3, 24, false},
		{"pcm32 stereo", wavFormatPCM, 2, 96000, 4, 32, false},
		{"float32 stereo", wavFormatFloat, 2, 48000, 4, 32, false},
		{"float64 mono", wavFormatFloat, 1, 44100, 8, 64, false},
		{"extensible pcm24 6ch", wavFormatPCM, 6, 48000, 3, 24, true},
		{"extensible pcm 20-in-24", wavFormatPCM, 2, 48000, 3, 20, true},
		{"extensible float32 3ch", wavFormatFloat, 3, 22050, 4, 32, true},
		{"extensible pcm16 64ch", wavFormatPCM, 64, 16000, 2, 16, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, want := pcmCodes(101, tt.channels, tt.container, tt.tag == wavFormatFloat)
			if tt.validBits < 8*tt.container { // left-justified: clear the unused low bits
				data, want = pcmCodesMasked(data, want, tt.container, tt.validBits)
			}
			file := makeRIFF(-1,
				riffChunk{id: "fmt ", body: fmtBody(tt.tag, tt.channels, tt.rate, tt.container, tt.validBits, tt.extensible), size: -1},
				riffChunk{id: "data", body: data, size: -1})
			b, err := DecodeReader(bytes.NewReader(file), "test.wav")
			if err != nil {
				t.Fatal(err)
			}
			checkBuffer(t, tt.name, b, tt.rate, want)
		})
	}
}

// pcmCodesMasked zeroes the low bits of 24-bit codes below validBits.
func pcmCodesMasked(data []byte, want [][]float32, container, validBits int) ([]byte, [][]float32) {
	shift := 8*container - validBits
	ch := len(want)
	for i := 0; i+container <= len(data); i += container {
		v := int32(uint32(data[i])<<8|uint32(data[i+1])<<16|uint32(data[i+2])<<24) >> 8
		v = v >> shift << shift
		data[i], data[i+1], data[i+2] = byte(v), byte(v>>8), byte(v>>16)
		s := i / container
		want[s%ch][s/ch] = float32(v) / (1 << 23)
	}
	return data, want
}

func TestDecodeWAVChunkLayout(t *testing.T) {
	data, want := pcmCodes(33, 2, 2, false)
	fmtC := riffChunk{id: "fmt ", body: fmtBody(wavFormatPCM, 2, 44100, 2, 16, false), size: -1}
	dataC := riffChunk{id: "data", body: data, size: -1}
	odd := riffChunk{id: "LIST", body: []byte("INFOISFT\x03\x00\x00\x00ab\x00"), size: -1} // 15 bytes: padded
	junk := riffChunk{id: "JUNK", body: make([]byte, 28), size: -1}
	tests := []struct {
		name string
		file []byte
	}{
		{"unknown chunks first, odd size padded", makeRIFF(-1, odd, junk, fmtC, odd, dataC)},
		{"data before fmt", makeRIFF(-1, dataC, odd, fmtC)},
		{"chunks after data", makeRIFF(-1, fmtC, dataC, odd)},
		{"wrong riff size", makeRIFF(12345, fmtC, dataC)},
		{"streamed: data size 0xFFFFFFFF", makeRIFF(0xffffffff, fmtC, riffChunk{id: "data", body: data, size: 0xffffffff})},
		{"streamed: data size 0", makeRIFF(0, fmtC, riffChunk{id: "data", body: data, size: 0})},
		{"sox pipe placeholders", makeRIFF(0x7ffff024, fmtC, riffChunk{id: "data", body: data, size: 0x7ffff000})},
		{"partial last frame ignored", makeRIFF(-1, fmtC, riffChunk{id: "data", body: append(data[:len(data):len(data)], 1, 2, 3), size: -1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeReader(bytes.NewReader(tt.file), "x.wav")
			if err != nil {
				t.Fatal(err)
			}
			checkBuffer(t, tt.name, b, 44100, want)
		})
	}
}

func TestDecodeWAVRF64(t *testing.T) {
	data, want := pcmCodes(20, 1, 2, false)
	ds64 := binary.LittleEndian.AppendUint64(nil, 0)
	ds64 = binary.LittleEndian.AppendUint64(ds64, uint64(len(data)))
	ds64 = binary.LittleEndian.AppendUint64(ds64, 20)
	ds64 = binary.LittleEndian.AppendUint32(ds64, 0)
	file := makeRIFF(0xffffffff,
		riffChunk{id: "ds64", body: ds64, size: -1},
		riffChunk{id: "fmt ", body: fmtBody(wavFormatPCM, 1, 48000, 2, 16, false), size: -1},
		riffChunk{id: "data", body: data, size: 0xffffffff},
		riffChunk{id: "JUNK", body: []byte{1, 2, 3, 4}, size: -1}) // must not be read as audio
	copy(file, "RF64")
	b, err := DecodeReader(bytes.NewReader(file), "x.wav")
	if err != nil {
		t.Fatal(err)
	}
	checkBuffer(t, "rf64", b, 48000, want)
}

func TestDecodeWAVErrors(t *testing.T) {
	data, _ := pcmCodes(50, 2, 2, false)
	fmt16 := riffChunk{id: "fmt ", body: fmtBody(wavFormatPCM, 2, 44100, 2, 16, false), size: -1}
	withFmt := func(body []byte) []byte {
		return makeRIFF(-1, riffChunk{id: "fmt ", body: body, size: -1}, riffChunk{id: "data", body: data, size: -1})
	}
	nan := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
	badGUID := fmtBody(wavFormatPCM, 2, 44100, 2, 16, true)
	badGUID[30] ^= 0xff
	tests := []struct {
		name string
		file []byte
		want error
		text string // expected in the message
	}{
		{"truncated data chunk", makeRIFF(-1, fmt16, riffChunk{id: "data", body: data[:100], size: int64(len(data))}), ErrTruncated, "data chunk announces 200 bytes, 100 present"},
		{"truncated header", makeRIFF(-1, fmt16, riffChunk{id: "data", body: data, size: -1})[:30], ErrTruncated, "fmt chunk"},
		{"riff header only", []byte("RIFF\x04\x00\x00\x00WAVE"), ErrCorrupt, "no fmt or data chunk"},
		{"no data chunk", makeRIFF(-1, fmt16), ErrCorrupt, "no data chunk"},
		{"no fmt chunk", makeRIFF(-1, riffChunk{id: "data", body: data, size: -1}), ErrCorrupt, "no fmt chunk"},
		{"chunk overruns file", makeRIFF(-1, fmt16, riffChunk{id: "LIST", body: data[:10], size: 5000}), ErrTruncated, `"LIST" chunk`},
		{"short fmt", withFmt(make([]byte, 8)), ErrCorrupt, "fmt chunk of 8 bytes"},
		{"zero channels", withFmt(fmtBody(wavFormatPCM, 0, 44100, 2, 16, false)), ErrCorrupt, "0 channels"},
		{"65 channels", withFmt(fmtBody(wavFormatPCM, 65, 44100, 2, 16, false)), ErrTooLarge, "65 channels"},
		{"rate too low", withFmt(fmtBody(wavFormatPCM, 2, 100, 2, 16, false)), ErrTooLarge, "sample rate 100"},
		{"rate too high", withFmt(fmtBody(wavFormatPCM, 2, 10_000_000, 2, 16, false)), ErrTooLarge, "sample rate"},
		{"mu-law", withFmt(fmtBody(7, 2, 8000, 1, 8, false)), ErrUnsupportedFormat, "codec 0x0007"},
		{"bad extensible guid", withFmt(badGUID), ErrUnsupportedFormat, "GUID"},
		{"12-byte samples", withFmt(fmtBody(wavFormatPCM, 1, 8000, 12, 96, false)), ErrUnsupportedFormat, "96-bit"},
		{"float16", withFmt(fmtBody(wavFormatFloat, 1, 8000, 2, 16, false)), ErrUnsupportedFormat, "16-bit float"},
		{"zero frames", makeRIFF(-1, fmt16, riffChunk{id: "data", size: -1}), ErrEmpty, "no audio frames"},
		{"nan float", makeRIFF(-1, riffChunk{id: "fmt ", body: fmtBody(wavFormatFloat, 1, 8000, 4, 32, false), size: -1},
			riffChunk{id: "data", body: nan, size: -1}), ErrCorrupt, "non-finite"},
		{"big-endian RIFX", append([]byte("RIFX\x00\x00\x00\x00WAVE"), make([]byte, 40)...), ErrUnsupportedFormat, "RIFX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeReader(bytes.NewReader(tt.file), "bad.wav")
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeReader = %v, %v; want error %v", b, err, tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "audio: decode bad.wav: ") || !strings.Contains(msg, tt.text) {
				t.Errorf("error %q: want prefix %q and %q in it", msg, "audio: decode bad.wav: ", tt.text)
			}
		})
	}
}

func TestDecodeWAVHonestEmptyDataWithTrailingChunk(t *testing.T) {
	// An empty data chunk with a correct RIFF size is empty, not streamed:
	// the LIST chunk after it must not be read as samples.
	fmt16 := riffChunk{id: "fmt ", body: fmtBody(wavFormatPCM, 1, 44100, 2, 16, false), size: -1}
	file := makeRIFF(-1, fmt16, riffChunk{id: "data", size: -1}, riffChunk{id: "LIST", body: make([]byte, 64), size: -1})
	if _, err := DecodeReader(bytes.NewReader(file), "x.wav"); !errors.Is(err, ErrEmpty) {
		t.Fatalf("DecodeReader = %v, want ErrEmpty", err)
	}
}

func TestDecodeWAVAtOffset(t *testing.T) {
	// DecodeReader starts at the reader's current offset.
	want := [][]float32{{0.5, -0.25, 0}}
	file := append([]byte("garbage-prefix"), wavBytes(t, want, 8000, Float32)...)
	r := bytes.NewReader(file)
	r.Seek(14, 0)
	b, err := DecodeReader(r, "x")
	if err != nil {
		t.Fatal(err)
	}
	checkBuffer(t, "offset", b, 8000, want)
}

func benchmarkDecodeWAV(b *testing.B, frames int, f SampleFormat) {
	x := sine(frames, 440, 48000, 0.5)
	file := wavBytes(b, [][]float32{x, x}, 48000, f)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := DecodeReader(bytes.NewReader(file), "bench.wav"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeWAVInt16(b *testing.B)   { benchmarkDecodeWAV(b, 480000, Int16) }
func BenchmarkDecodeWAVInt24(b *testing.B)   { benchmarkDecodeWAV(b, 480000, Int24) }
func BenchmarkDecodeWAVFloat32(b *testing.B) { benchmarkDecodeWAV(b, 480000, Float32) }
