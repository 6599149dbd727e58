package audio

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ravestation/rave/sessions/layout"
)

// datasetSeed returns a dataset.bin of count chunks of chunkLen samples.
func datasetSeed(count, chunkLen int) []byte {
	h := datasetHeader{version: DatasetVersion, rate: 48000, chunkLen: uint32(chunkLen), count: uint64(count), headerSize: datasetHeaderSize, buildID: 7}
	b := h.marshal()
	for i := range count * chunkLen {
		b = append(b, byte(i), byte(i>>8))
	}
	return b
}

// FuzzOpenDataset feeds mutated dataset.bin files to OpenDataset and
// reads every chunk of one it accepts: no input may panic, and an
// accepted file holds exactly the chunks its header says.
func FuzzOpenDataset(f *testing.F) {
	f.Add(datasetSeed(3, 8))
	f.Add(datasetSeed(0, 16))
	b := datasetSeed(2, 4)
	f.Add(b[:len(b)-1])
	f.Add(b[:40])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(layout.DatasetBin(dir), data, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := OpenDataset(dir)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrDatasetVersion) {
				t.Fatalf("OpenDataset: error %v wraps neither ErrCorrupt nor ErrDatasetVersion", err)
			}
			return
		}
		defer d.Close()
		if int64(d.Len())*int64(d.ChunkLen())*2+datasetMinHeader > int64(len(data)) {
			t.Fatalf("OpenDataset accepted %d chunks of %d samples from %d bytes", d.Len(), d.ChunkLen(), len(data))
		}
		buf := make([]float32, d.ChunkLen())
		for i := range d.Len() {
			if len(d.Chunk(i)) != d.ChunkLen() || len(d.ChunkFloat(buf, i)) != d.ChunkLen() {
				t.Fatalf("chunk %d is not %d samples long", i, d.ChunkLen())
			}
		}
	})
}

// FuzzReadDatasetInfo feeds mutated dataset.json files to ReadDatasetInfo.
func FuzzReadDatasetInfo(f *testing.F) {
	info := DatasetInfo{
		FormatVersion: DatasetVersion, BuildID: "0000000000000007", SampleRate: 48000, ChunkLen: 8, ChunkCount: 3,
		Int16Scale: Int16Scale, Seed: 1, PadRule: "pad", TotalSeconds: 0.0005, SourceSeconds: 0.0004,
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Updated: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Files:    []DatasetFile{{Path: "/music/take.wav", Size: 100, SHA256: "ab", Format: "WAV", SourceRate: 44100, Channels: 2, Seconds: 0.0004, EndChunk: 3}},
		Rejected: []Rejection{{Path: "/music/notes.txt", Reason: "not audio"}},
	}
	js, err := json.Marshal(info)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(js)
	f.Add(js[:len(js)/2])
	f.Add([]byte(`{"format_version": 1}`))
	f.Add([]byte(`{"format_version": 2, "files": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(layout.DatasetJSON(dir), data, 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := ReadDatasetInfo(dir)
		if err == nil && info.FormatVersion != DatasetVersion {
			t.Fatalf("ReadDatasetInfo accepted format version %d", info.FormatVersion)
		}
	})
}
