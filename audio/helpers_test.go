package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// riffChunk is a chunk for makeRIFF.
type riffChunk struct {
	id   string
	body []byte
	size int64 // written size field; -1 means len(body)
}

// makeRIFF assembles a RIFF/WAVE file from chunks, padding odd bodies. A
// riffSize of -1 writes the true size.
func makeRIFF(riffSize int64, chunks ...riffChunk) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, c := range chunks {
		body.WriteString(c.id)
		size := c.size
		if size < 0 {
			size = int64(len(c.body))
		}
		binary.Write(&body, binary.LittleEndian, uint32(size))
		body.Write(c.body)
		if len(c.body)%2 == 1 {
			body.WriteByte(0)
		}
	}
	if riffSize < 0 {
		riffSize = int64(body.Len())
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(riffSize))
	out.Write(body.Bytes())
	return out.Bytes()
}

// fmtBody builds a fmt chunk body. With extensible set it writes
// WAVE_FORMAT_EXTENSIBLE carrying tag in the sub-format GUID.
func fmtBody(tag, channels, rate, container, validBits int, extensible bool) []byte {
	le := binary.LittleEndian
	b := le.AppendUint16(nil, uint16(tag))
	if extensible {
		b = le.AppendUint16(nil, 0xfffe)
	}
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*container))
	b = le.AppendUint16(b, uint16(channels*container))
	b = le.AppendUint16(b, uint16(8*container))
	if extensible {
		b = le.AppendUint16(b, 22)
		b = le.AppendUint16(b, uint16(validBits))
		b = le.AppendUint32(b, 0)
		b = le.AppendUint16(b, uint16(tag))
		b = append(b, wavGUIDSuffix...)
	}
	return b
}

// pcmCodes returns frames×channels integer sample codes for a given width,
// including both extremes, as float values v/2^(bits-1) (want) and the bytes.
// 8-bit samples are unsigned (WAV).
func pcmCodes(frames, channels, container int, float bool) (data []byte, want [][]float32) {
	want = make([][]float32, channels)
	for c := range want {
		want[c] = make([]float32, frames)
	}
	le := binary.LittleEndian
	for i := range frames {
		for c := range channels {
			// A deterministic pattern that hits the extremes and zero.
			u := math.Sin(float64(i*(c+1))*0.37 + float64(c))
			switch i % 7 {
			case 0:
				u = 1
			case 1:
				u = -1
			case 2:
				u = 0
			}
			switch {
			case float && container == 4:
				v := float32(u * 0.75)
				data = le.AppendUint32(data, math.Float32bits(v))
				want[c][i] = v
			case float && container == 8:
				v := u * 0.75
				data = le.AppendUint64(data, math.Float64bits(v))
				want[c][i] = float32(v)
			default:
				bits := 8 * container
				full := int64(1) << (bits - 1)
				code := int64(math.Round(u * float64(full)))
				code = min(code, full-1)
				want[c][i] = float32(float64(code) / float64(full))
				switch container {
				case 1:
					data = append(data, byte(code+128))
				case 2:
					data = le.AppendUint16(data, uint16(code))
				case 3:
					data = append(data, byte(code), byte(code>>8), byte(code>>16))
				case 4:
					data = le.AppendUint32(data, uint32(code))
				}
			}
		}
	}
	return data, want
}

// checkBuffer compares a decoded buffer with the expected samples exactly.
func checkBuffer(t *testing.T, name string, b *Buffer, rate int, want [][]float32) {
	t.Helper()
	if b.SampleRate != rate {
		t.Errorf("%s: SampleRate = %d, want %d", name, b.SampleRate, rate)
	}
	if len(b.Channels) != len(want) {
		t.Fatalf("%s: %d channels, want %d", name, len(b.Channels), len(want))
	}
	for c := range want {
		if len(b.Channels[c]) != len(want[c]) {
			t.Fatalf("%s: channel %d has %d frames, want %d", name, c, len(b.Channels[c]), len(want[c]))
		}
		for i := range want[c] {
			if b.Channels[c][i] != want[c][i] {
				t.Fatalf("%s: channel %d frame %d = %v, want %v", name, c, i, b.Channels[c][i], want[c][i])
			}
		}
	}
}

// writeTemp writes data to name inside dir and returns the path.
func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sentinels are the errors every decode failure must wrap.
var sentinels = []error{ErrUnsupportedFormat, ErrCorrupt, ErrTruncated, ErrEmpty, ErrTooLarge}

// wrapsSentinel reports whether err wraps one of the package sentinels.
func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// wavBytes encodes channels with WriteWAVTo.
func wavBytes(t testing.TB, channels [][]float32, rate int, f SampleFormat) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteWAVTo(&buf, channels, rate, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
