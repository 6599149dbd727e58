package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
	"github.com/mewkiz/flac/meta"
)

// encodeFLAC encodes integer samples (planar) with mewkiz/flac's encoder.
func encodeFLAC(t testing.TB, samples [][]int32, rate, bits int) []byte {
	t.Helper()
	ch := len(samples)
	n := len(samples[0])
	info := &meta.StreamInfo{
		BlockSizeMin: 4096, BlockSizeMax: 4096,
		SampleRate: uint32(rate), NChannels: uint8(ch), BitsPerSample: uint8(bits), NSamples: uint64(n),
	}
	var buf bytes.Buffer
	enc, err := flac.NewEncoder(&buf, info)
	if err != nil {
		t.Fatal(err)
	}
	chans := map[int]frame.Channels{1: frame.ChannelsMono, 2: frame.ChannelsLR, 3: frame.ChannelsLRC}
	for start := 0; start < n; start += 4096 {
		m := min(4096, n-start)
		f := &frame.Frame{Header: frame.Header{
			HasFixedBlockSize: true, BlockSize: uint16(m), SampleRate: uint32(rate),
			Channels: chans[ch], BitsPerSample: uint8(bits),
		}}
		for c := range ch {
			f.Subframes = append(f.Subframes, &frame.Subframe{
				SubHeader: frame.SubHeader{Pred: frame.PredVerbatim},
				Samples:   samples[c][start : start+m], NSamples: m,
			})
		}
		if err := enc.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// intSine returns planar integer sine samples and their float values.
func intSine(frames, channels, bits int, rate float64) ([][]int32, [][]float32) {
	ints := make([][]int32, channels)
	want := make([][]float32, channels)
	full := float64(int64(1) << (bits - 1))
	for c := range channels {
		ints[c] = make([]int32, frames)
		want[c] = make([]float32, frames)
		for i := range frames {
			v := int32(math.Round(0.6 * full * math.Sin(2*math.Pi*float64(220*(c+1))*float64(i)/rate)))
			ints[c][i] = v
			want[c][i] = float32(float64(v) / full)
		}
	}
	return ints, want
}

func TestDecodeFLAC(t *testing.T) {
	tests := []struct {
		name                   string
		frames, channels, bits int
		rate                   int
	}{
		{"16-bit stereo", 10000, 2, 16, 44100},
		{"24-bit mono", 5000, 1, 24, 96000},
		{"8-bit 3ch", 4097, 3, 8, 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ints, want := intSine(tt.frames, tt.channels, tt.bits, float64(tt.rate))
			file := encodeFLAC(t, ints, tt.rate, tt.bits)
			b, err := DecodeReader(bytes.NewReader(file), "x.flac")
			if err != nil {
				t.Fatal(err)
			}
			checkBuffer(t, tt.name, b, tt.rate, want)
		})
	}
}

func TestDecodeFLACErrors(t *testing.T) {
	ints, _ := intSine(10000, 2, 16, 44100)
	file := encodeFLAC(t, ints, 44100, 16)
	flipped := bytes.Clone(file)
	flipped[len(flipped)/2] ^= 0x55
	noInfo := bytes.Clone(file)
	binary.BigEndian.PutUint32(noInfo[4:], 0) // metadata block header scrambled
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"truncated mid-frame", file[:len(file)*2/3], ErrTruncated},
		{"truncated at stream info", file[:20], ErrCorrupt},
		{"flipped byte (crc)", flipped, ErrCorrupt},
		{"magic only", []byte("fLaC"), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeReader(bytes.NewReader(tt.file), "bad.flac")
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeReader = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeFixtures(t *testing.T) {
	// Files made by SoX (see testdata/README.md): an independent encoder.
	tests := []struct {
		file           string
		rate, channels int
		minFrames      int
		maxFrames      int
		freq           float64
		maxTHDN        float64 // dB over the middle half
		ampTol         float64 // the tone is 0.5 ± ampTol
	}{
		{"sine_1000hz_48000_stereo_24bit_0.05s.wav", 48000, 2, 2400, 2400, 1000, -100, 1e-4},
		{"sine_1000hz_44100_mono_16bit_0.1s.flac", 44100, 1, 4410, 4410, 1000, -80, 1e-4},
		{"sine_440hz_22050_mono_16bit_0.1s.aiff", 22050, 1, 2205, 2205, 440, -80, 1e-4},
		// LAME at 64 kb/s lowers the level by ~0.4 dB: sox's own decoder
		// reports a peak of 0.4786 for this file.
		{"sine_440hz_44100_mono_0.5s.mp3", 44100, 1, 22050, 22050 + 4*1152, 440, -30, 0.05},
		{"sine_440hz_48000_stereo_0.5s.ogg", 48000, 2, 24000, 24000, 440, -30, 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := Decode(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if b.SampleRate != tt.rate || len(b.Channels) != tt.channels || b.Frames() < tt.minFrames || b.Frames() > tt.maxFrames {
				t.Fatalf("got %d Hz, %d channels, %d frames; want %d Hz, %d channels, %d..%d frames",
					b.SampleRate, len(b.Channels), b.Frames(), tt.rate, tt.channels, tt.minFrames, tt.maxFrames)
			}
			n := b.Frames()
			// The MP3's encoder delay shifts the tone; the fit is phase-free.
			mid := b.Channels[len(b.Channels)-1][n/4 : 3*n/4]
			amp, db := sineFit(t, mid, tt.freq, float64(tt.rate), 0)
			t.Logf("%s: %d frames, amplitude %.4f, THD+N %.1f dB", tt.file, n, amp, db)
			if math.Abs(amp-0.5) > tt.ampTol || db > tt.maxTHDN {
				t.Errorf("tone amplitude %.4f (want 0.5), THD+N %.1f dB (want < %.0f)", amp, db, tt.maxTHDN)
			}
		})
	}
}

func TestDecodeLossyErrors(t *testing.T) {
	mp3File, err := os.ReadFile("testdata/sine_440hz_44100_mono_0.5s.mp3")
	if err != nil {
		t.Fatal(err)
	}
	oggFile, err := os.ReadFile("testdata/sine_440hz_48000_stereo_0.5s.ogg")
	if err != nil {
		t.Fatal(err)
	}
	garbage := func(prefix []byte) []byte {
		b := bytes.Clone(prefix)
		for i := range 3000 {
			b = append(b, byte(i*7919>>3))
		}
		return b
	}
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"mp3 header then garbage", garbage(mp3File[:4]), nil},
		{"ogg truncated in headers", oggFile[:200], ErrTruncated},
		{"ogg truncated in audio", oggFile[:len(oggFile)/2], nil},
		{"ogg page then garbage", garbage(oggFile[:64]), nil},
		{"ogg opus", append([]byte("OggS\x00\x02"+strings.Repeat("\x00", 20)+"\x01\x13OpusHead"), make([]byte, 40)...), ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeReader(bytes.NewReader(tt.file), "bad")
			switch {
			case err == nil:
				// Lossy decoders may resynchronise and return what they
				// could decode; only a panic or an untyped error is wrong.
				if tt.want != nil {
					t.Fatalf("DecodeReader succeeded, want %v", tt.want)
				}
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("DecodeReader = %v, want %v", err, tt.want)
			case !wrapsSentinel(err):
				t.Fatalf("DecodeReader = %v, which wraps no package sentinel", err)
			}
		})
	}
}

func TestDecodeMP3BehindID3(t *testing.T) {
	mp3File, err := os.ReadFile("testdata/sine_440hz_44100_mono_0.5s.mp3")
	if err != nil {
		t.Fatal(err)
	}
	want, err := DecodeReader(bytes.NewReader(mp3File), "plain.mp3")
	if err != nil {
		t.Fatal(err)
	}
	// ID3v2.4 header with a 300-byte body (syncsafe size), then the stream.
	tag := append([]byte("ID3\x04\x00\x00\x00\x00\x02\x2c"), make([]byte, 300)...)
	b, err := DecodeReader(bytes.NewReader(append(tag, mp3File...)), "tagged.mp3")
	if err != nil {
		t.Fatal(err)
	}
	checkBuffer(t, "mp3 behind id3", b, want.SampleRate, want.Channels)
	f, err := Sniff(bytes.NewReader(append(tag, mp3File...)))
	if f != FormatMP3 || err != nil {
		t.Errorf("Sniff = %v, %v; want mp3", f, err)
	}
}

// aiffFile builds an AIFF or AIFF-C file with 16-bit big-endian samples
// (or the layout named by comp).
func aiffFile(aifc bool, comp string, channels int, rate float64, data []byte, frames int, bits int) []byte {
	be := binary.BigEndian
	comm := be.AppendUint16(nil, uint16(channels))
	comm = be.AppendUint32(comm, uint32(frames))
	comm = be.AppendUint16(comm, uint16(bits))
	// 80-bit extended: exponent and 64-bit mantissa with explicit leading 1.
	exp := int(math.Floor(math.Log2(rate)))
	comm = be.AppendUint16(comm, uint16(exp+16383))
	comm = be.AppendUint64(comm, uint64(rate*math.Pow(2, float64(63-exp))))
	if aifc {
		comm = append(comm, comp...)
		comm = append(comm, 0, 0) // empty pascal string, padded
	}
	ssnd := append(make([]byte, 8), data...)
	var body bytes.Buffer
	form := "AIFF"
	if aifc {
		form = "AIFC"
	}
	body.WriteString(form)
	for _, c := range []struct {
		id string
		b  []byte
	}{{"COMM", comm}, {"ANNO", []byte("odd")}, {"SSND", ssnd}} {
		body.WriteString(c.id)
		binary.Write(&body, be, uint32(len(c.b)))
		body.Write(c.b)
		if len(c.b)%2 == 1 {
			body.WriteByte(0)
		}
	}
	var out bytes.Buffer
	out.WriteString("FORM")
	binary.Write(&out, be, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

func TestDecodeAIFF(t *testing.T) {
	frames := 37
	want := [][]float32{make([]float32, frames), make([]float32, frames)}
	var be16, le16, f32 []byte
	for i := range frames {
		for c := range 2 {
			v := int16((i*1000 + c*77) % 65536)
			want[c][i] = float32(v) / 32768
			be16 = binary.BigEndian.AppendUint16(be16, uint16(v))
			le16 = binary.LittleEndian.AppendUint16(le16, uint16(v))
			f32 = binary.BigEndian.AppendUint32(f32, math.Float32bits(want[c][i]))
		}
	}
	tests := []struct {
		name string
		file []byte
	}{
		{"aiff 16-bit", aiffFile(false, "", 2, 44100, be16, frames, 16)},
		{"aifc NONE", aiffFile(true, "NONE", 2, 44100, be16, frames, 16)},
		{"aifc sowt", aiffFile(true, "sowt", 2, 44100, le16, frames, 16)},
		{"aifc fl32", aiffFile(true, "fl32", 2, 44100, f32, frames, 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeReader(bytes.NewReader(tt.file), "x.aif")
			if err != nil {
				t.Fatal(err)
			}
			checkBuffer(t, tt.name, b, 44100, want)
		})
	}
	bad := []struct {
		name string
		file []byte
		want error
	}{
		{"ima4", aiffFile(true, "ima4", 2, 44100, be16, frames, 16), ErrUnsupportedFormat},
		{"more frames than data", aiffFile(false, "", 2, 44100, be16, frames+5, 16), ErrTruncated},
		{"rate 10 Hz", aiffFile(false, "", 2, 10, be16, frames, 16), ErrTooLarge},
		{"truncated file", aiffFile(false, "", 2, 44100, be16, frames, 16)[:60], ErrTruncated},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeReader(bytes.NewReader(tt.file), "x.aif"); !errors.Is(err, tt.want) {
				t.Fatalf("DecodeReader = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeByContentNotExtension(t *testing.T) {
	dir := t.TempDir()
	wav := wavBytes(t, [][]float32{{0.5, -0.5, 0.25}}, 16000, Int16)
	ints, _ := intSine(1000, 1, 16, 8000)
	flacFile := encodeFLAC(t, ints, 8000, 16)
	tests := []struct {
		name string
		data []byte
		want error // nil: decodes
		text string
	}{
		{"wav.mp3", wav, nil, ""},
		{"flac.wav", flacFile, nil, ""},
		{"noext", wav, nil, ""},
		{"notes.wav", []byte("These are my session notes.\nNothing to hear here.\n"), ErrUnsupportedFormat, "looks like text, not audio despite the .wav extension"},
		{"empty.wav", nil, ErrEmpty, "0 bytes"},
		{"random.flac", bytes.Repeat([]byte{0x00, 0x9c, 0x13, 0xfe}, 100), ErrUnsupportedFormat, "unrecognised content"},
		{"adts.aac", append([]byte{0xff, 0xf1, 0x50, 0x80}, make([]byte, 100)...), ErrUnsupportedFormat, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, dir, tt.name, tt.data)
			b, err := Decode(path)
			if tt.want == nil {
				if err != nil || b.Frames() == 0 {
					t.Fatalf("Decode(%s) = %v frames, %v; want audio", tt.name, b.Frames(), err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Decode(%s) error = %v; want %v naming the file and saying %q", tt.name, err, tt.want, tt.text)
			}
		})
	}
	if _, err := Decode(filepath.Join(dir, "missing.wav")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Decode(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestBuffer(t *testing.T) {
	b := &Buffer{SampleRate: 4, Channels: [][]float32{{1, 0, -1, 0.5, 0, 0}, {0, 0, 1, 0.5, 1, 0}, {0.5, 0, 0, 0.5, -1, 0}}}
	if b.Frames() != 6 {
		t.Errorf("Frames() = %d, want 6", b.Frames())
	}
	if d := b.Duration(); d != 1500*time.Millisecond {
		t.Errorf("Duration() = %v, want 1.5s", d)
	}
	want := []float32{0.5, 0, 0, 0.5, 0, 0}
	got := b.Mono()
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-7 {
			t.Fatalf("Mono() = %v, want %v", got, want)
		}
	}
	mono := &Buffer{SampleRate: 8000, Channels: [][]float32{{1, 2}}}
	if m := mono.Mono(); &m[0] != &mono.Channels[0][0] {
		t.Error("Mono() of a mono buffer copied it, want the channel itself")
	}
	var empty Buffer
	if empty.Frames() != 0 || empty.Duration() != 0 || empty.Mono() != nil {
		t.Error("zero Buffer: want 0 frames, 0 duration, nil mono")
	}
}
