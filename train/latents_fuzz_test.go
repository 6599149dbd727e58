package train

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLatentsKey is the key the fuzzed caches are read with.
var fuzzLatentsKey = latentsKey{model: [32]byte{1, 2, 3}, dataset: "ds", dims: 2}

// latentsBody returns a cache body (without its CRC) of the fuzz key with
// the given chunks and frames and that many bytes of values.
func latentsBody(chunks, frames uint32, values int) []byte {
	le := binary.LittleEndian
	b := append([]byte(latentsMagic), 1, 0, 0, 0)
	b = append(b, fuzzLatentsKey.model[:]...)
	b = le.AppendUint32(b, uint32(len(fuzzLatentsKey.dataset)))
	b = append(b, fuzzLatentsKey.dataset...)
	b = le.AppendUint32(b, uint32(fuzzLatentsKey.dims))
	b = le.AppendUint32(b, chunks)
	b = le.AppendUint32(b, frames)
	return append(b, make([]byte, values)...)
}

// FuzzReadLatents feeds mutated latent caches to readLatents. The input is
// the body: the fuzz function appends its CRC, as anyone writing a file
// could, so that the parser behind the checksum is what is fuzzed.
func FuzzReadLatents(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "latents.bin")
	if err := writeLatents(path, fuzzLatentsKey, [][]float32{{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}}, 3); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:len(good)-4])
	f.Add(latentsBody(0, 0, 0))
	// Wrapped around to zero bytes before: 4·2³¹·2·2³⁰ = 2⁶⁴.
	f.Add(latentsBody(1<<31, 1<<30, 0))
	f.Add(latentsBody(1<<31, 0, 0))
	f.Fuzz(func(t *testing.T, body []byte) {
		data := binary.LittleEndian.AppendUint32(append([]byte{}, body...), crc32.ChecksumIEEE(body))
		path := filepath.Join(t.TempDir(), "latents.bin")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		lat, frames, err := readLatents(path, fuzzLatentsKey)
		if err != nil {
			return
		}
		for i, row := range lat {
			if len(row) != fuzzLatentsKey.dims*frames {
				t.Fatalf("chunk %d has %d values, want %d", i, len(row), fuzzLatentsKey.dims*frames)
			}
		}
		if 4*len(lat)*fuzzLatentsKey.dims*frames > len(data) {
			t.Fatalf("readLatents returned %d chunks of %d frames from %d bytes", len(lat), frames, len(data))
		}
	})
}
