package audio

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unsafe"

	"github.com/ravestation/rave/sessions/layout"
)

// Dataset file format constants.
const (
	// DatasetMagic opens every dataset.bin.
	DatasetMagic = "RAVEDSET"
	// DatasetVersion is the dataset.bin and dataset.json format version this
	// package writes and reads.
	DatasetVersion = 1
	// datasetHeaderSize is the header size this package writes. The data
	// that follows starts 64-byte aligned.
	datasetHeaderSize = 64
	// datasetMinHeader is the smallest header that holds all fields.
	datasetMinHeader = 64
	// Int16Scale converts stored samples to float: x = v / Int16Scale.
	Int16Scale = 32768
)

// datasetHeader is the fixed little-endian header of dataset.bin:
//
//	offset size field
//	0      8    magic "RAVEDSET"
//	8      4    format version (uint32)
//	12     4    sample rate, Hz (uint32)
//	16     4    chunk length, samples (uint32)
//	20     8    chunk count (uint64)
//	28     4    header size, bytes (uint32): where the samples start
//	32     8    build id (uint64): matches dataset.json's build_id
//	40     8    base build id (uint64): the build this one appended to, or 0
//	48     8    base chunk count (uint64): chunks kept unchanged from the base
//	56     8    reserved, zero
//
// The samples follow as [count][chunkLen]int16, little-endian. The build ids
// let BuildDataset tell a consistent dataset.bin/dataset.json pair from one
// left by an update interrupted between the two renames.
type datasetHeader struct {
	version    uint32
	rate       uint32
	chunkLen   uint32
	count      uint64
	headerSize uint32
	buildID    uint64
	baseID     uint64
	baseCount  uint64
}

func (h datasetHeader) marshal() []byte {
	b := make([]byte, datasetHeaderSize)
	le := binary.LittleEndian
	copy(b, DatasetMagic)
	le.PutUint32(b[8:], h.version)
	le.PutUint32(b[12:], h.rate)
	le.PutUint32(b[16:], h.chunkLen)
	le.PutUint64(b[20:], h.count)
	le.PutUint32(b[28:], h.headerSize)
	le.PutUint64(b[32:], h.buildID)
	le.PutUint64(b[40:], h.baseID)
	le.PutUint64(b[48:], h.baseCount)
	return b
}

// parseDatasetHeader validates the header against the file size.
func parseDatasetHeader(b []byte, fileSize int64) (datasetHeader, error) {
	var h datasetHeader
	if len(b) < datasetMinHeader || string(b[:8]) != DatasetMagic {
		n := min(len(b), 8)
		return h, fmt.Errorf("%w: magic %q is not %q: not a dataset.bin written by rave; run `rave preprocess` to build one",
			ErrDatasetVersion, b[:n], DatasetMagic)
	}
	le := binary.LittleEndian
	h = datasetHeader{
		version:    le.Uint32(b[8:]),
		rate:       le.Uint32(b[12:]),
		chunkLen:   le.Uint32(b[16:]),
		count:      le.Uint64(b[20:]),
		headerSize: le.Uint32(b[28:]),
	}
	if len(b) >= 56 {
		h.buildID, h.baseID, h.baseCount = le.Uint64(b[32:]), le.Uint64(b[40:]), le.Uint64(b[48:])
	}
	if h.version != DatasetVersion {
		hint := "rebuild it with `rave preprocess` (the source files are listed in dataset.json)"
		if h.version > DatasetVersion {
			hint = "it was written by a newer rave; upgrade rave, or rebuild it with this one"
		}
		return h, fmt.Errorf("%w: format version %d, this build reads version %d: %s",
			ErrDatasetVersion, h.version, DatasetVersion, hint)
	}
	switch {
	case h.headerSize < datasetMinHeader || h.headerSize > 1<<16 || h.headerSize%2 != 0:
		return h, fmt.Errorf("%w: header size %d", ErrCorrupt, h.headerSize)
	case h.rate < MinSampleRate || h.rate > MaxSampleRate:
		return h, fmt.Errorf("%w: sample rate %d", ErrCorrupt, h.rate)
	case h.chunkLen == 0 || h.chunkLen > 1<<28:
		return h, fmt.Errorf("%w: chunk length %d", ErrCorrupt, h.chunkLen)
	case h.count > uint64(fileSize)/2:
		return h, fmt.Errorf("%w: chunk count %d", ErrCorrupt, h.count)
	}
	if want := int64(h.headerSize) + int64(h.count)*int64(h.chunkLen)*2; want != fileSize {
		return h, fmt.Errorf("%w: file has %d bytes, the header implies %d (%d chunks of %d samples); it may be from an interrupted write: run `rave preprocess` again",
			ErrCorrupt, fileSize, want, h.count, h.chunkLen)
	}
	return h, nil
}

// Dataset is a read-only view of a dataset.bin: fixed-length int16 chunks at
// one sample rate, memory-mapped where the platform allows. It is safe for
// concurrent use until Close.
type Dataset struct {
	hdr               datasetHeader
	rate, chunkLen, n int
	samples           []int16 // n·chunkLen samples
	unmap             func() error
	mapped            bool
}

// OpenDataset opens dir/dataset.bin. It validates the header (magic, format
// version, sizes) and maps the samples read-only; where mapping fails it reads
// them into memory instead. Errors for a foreign or outdated file wrap
// ErrDatasetVersion and say what to do.
func OpenDataset(dir string) (*Dataset, error) {
	path := layout.DatasetBin(dir)
	d, err := openDataset(path)
	if err != nil {
		return nil, fmt.Errorf("audio: open dataset %s: %w", path, err)
	}
	return d, nil
}

func openDataset(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	head := make([]byte, datasetHeaderSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	h, err := parseDatasetHeader(head[:n], size)
	if err != nil {
		return nil, err
	}
	d := &Dataset{hdr: h, rate: int(h.rate), chunkLen: int(h.chunkLen), n: int(h.count), unmap: func() error { return nil }}
	total := d.n * d.chunkLen
	if total == 0 {
		return d, nil
	}
	if hostLittleEndian {
		if mm, unmap, err := mmapFile(f, size); err == nil {
			d.samples = unsafe.Slice((*int16)(unsafe.Pointer(&mm[h.headerSize])), total)
			d.unmap, d.mapped = unmap, true
			return d, nil
		}
	}
	// Fallback: read and decode into memory.
	raw := make([]byte, 2*total)
	if _, err := f.ReadAt(raw, int64(h.headerSize)); err != nil {
		return nil, err
	}
	d.samples = make([]int16, total)
	for i := range d.samples {
		d.samples[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return d, nil
}

// hostLittleEndian reports whether int16 in memory matches the file layout.
var hostLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Len returns the number of chunks.
func (d *Dataset) Len() int { return d.n }

// ChunkLen returns the number of samples per chunk.
func (d *Dataset) ChunkLen() int { return d.chunkLen }

// SampleRate returns the sample rate of the stored audio, in Hz.
func (d *Dataset) SampleRate() int { return d.rate }

// Mapped reports whether the samples are memory-mapped (true) or were read
// into memory by the fallback path.
func (d *Dataset) Mapped() bool { return d.mapped }

// Chunk returns chunk i (0 ≤ i < Len) as a zero-copy view. The slice must not
// be modified (mapped memory is read-only: writing faults) and must not be
// used after Close. Chunk panics if i is out of range or d is closed.
func (d *Dataset) Chunk(i int) []int16 {
	if d.samples == nil && d.n > 0 {
		panic("audio: dataset chunk: dataset is closed")
	}
	if i < 0 || i >= d.n {
		panic(fmt.Sprintf("audio: dataset chunk: index %d out of range [0, %d)", i, d.n))
	}
	lo, hi := i*d.chunkLen, (i+1)*d.chunkLen
	return d.samples[lo:hi:hi]
}

// ChunkFloat converts chunk i to float32 (v / Int16Scale) into dst and
// returns it. If dst is nil a new slice is allocated; otherwise a length other
// than ChunkLen panics.
func (d *Dataset) ChunkFloat(dst []float32, i int) []float32 {
	c := d.Chunk(i)
	if dst == nil {
		dst = make([]float32, len(c))
	}
	if len(dst) != len(c) {
		panic(fmt.Sprintf("audio: dataset chunk float: dst has %d samples, chunk has %d", len(dst), len(c)))
	}
	for j, v := range c {
		dst[j] = float32(v) * (1.0 / Int16Scale)
	}
	return dst
}

// Close releases the mapping. Slices from Chunk become invalid. Close is
// idempotent.
func (d *Dataset) Close() error {
	unmap := d.unmap
	d.samples, d.unmap = nil, func() error { return nil }
	if unmap == nil {
		return nil
	}
	return unmap()
}

// DatasetInfo is the content of dataset.json: the index that says where
// every chunk came from.
type DatasetInfo struct {
	FormatVersion int    `json:"format_version"` // DatasetVersion
	BuildID       string `json:"build_id"`       // matches dataset.bin's header (hex)
	SampleRate    int    `json:"sample_rate"`    // Hz
	ChunkLen      int    `json:"chunk_len"`      // samples per chunk
	ChunkCount    int    `json:"chunk_count"`    // chunks in dataset.bin
	Int16Scale    int    `json:"int16_scale"`    // x = v / Int16Scale
	Seed          uint64 `json:"seed"`           // for the trainer (DatasetOptions.Seed)
	PadRule       string `json:"pad_rule"`       // how partial chunks were handled (PadRule)
	// TotalSeconds is the audio stored in chunks (padding included).
	TotalSeconds float64 `json:"total_seconds"`
	// SourceSeconds is the summed duration of the kept source files.
	SourceSeconds float64       `json:"source_seconds"`
	Created       time.Time     `json:"created"`            // first build, UTC
	Updated       time.Time     `json:"updated"`            // last build, UTC
	Files         []DatasetFile `json:"files"`              // in chunk order
	Rejected      []Rejection   `json:"rejected"`           // inputs left out, latest reason per path
	Warnings      []string      `json:"warnings,omitempty"` // from the last build
}

// DatasetFile describes one source file kept in the dataset.
type DatasetFile struct {
	Path       string    `json:"path"`        // absolute, cleaned
	Size       int64     `json:"size"`        // bytes
	ModTime    time.Time `json:"mtime"`       // modification time, UTC
	SHA256     string    `json:"sha256"`      // hex digest of the file's bytes
	Format     string    `json:"format"`      // container, as Format.String names it
	SourceRate int       `json:"source_rate"` // Hz, before resampling
	Channels   int       `json:"channels"`    // before the mono mixdown
	Seconds    float64   `json:"seconds"`     // duration of the source
	// FirstChunk and EndChunk delimit the file's chunks: [FirstChunk, EndChunk).
	FirstChunk int `json:"first_chunk"`
	EndChunk   int `json:"end_chunk"` // exclusive
	// PaddedSamples is the number of zeros appended to fill the last chunk.
	PaddedSamples int `json:"padded_samples"`
	// DroppedSamples is the number of trailing samples left out (see PadRule).
	DroppedSamples int `json:"dropped_samples"`
	// ClippedSamples counts samples outside the int16 range.
	ClippedSamples int `json:"clipped_samples"`
}

// Rejection names a file left out of the dataset and why.
type Rejection struct {
	Path   string `json:"path"`   // as given or found, absolute where possible
	Reason string `json:"reason"` // for a person to read
}

// ReadDatasetInfo reads and checks dir/dataset.json.
func ReadDatasetInfo(dir string) (*DatasetInfo, error) {
	path := layout.DatasetJSON(dir)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audio: read dataset index: %w", err)
	}
	var info DatasetInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("audio: read dataset index %s: %w: %v", path, ErrCorrupt, err)
	}
	if info.FormatVersion != DatasetVersion {
		return nil, fmt.Errorf("audio: read dataset index %s: %w: format version %d, this build reads version %d: rebuild it with `rave preprocess`",
			path, ErrDatasetVersion, info.FormatVersion, DatasetVersion)
	}
	return &info, nil
}
