package train

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/ravestation/rave/core"
)

// Latent cache layout (little-endian): magic "RVPL", version uint32,
// model hash [32]byte, dataset hash (uint32 length, bytes), dims, chunks,
// frames (uint32 each), then chunks × dims × frames float32 values, then
// the CRC-32 (IEEE) of everything before it. The cache is valid only for
// the model, dataset and k it names.
const (
	latentsMagic   = "RVPL"
	latentsVersion = 1
)

// latentsKey identifies what a latent cache was made from.
type latentsKey struct {
	model   [32]byte
	dataset string
	dims    int
}

// writeLatents writes the cache atomically.
func writeLatents(path string, key latentsKey, lat [][]float32, frames int) error {
	return core.WriteFileAtomic(path, func(w *os.File) error {
		crc := crc32.NewIEEE()
		bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<16)
		le := binary.LittleEndian
		var hdr []byte
		hdr = append(hdr, latentsMagic...)
		hdr = le.AppendUint32(hdr, latentsVersion)
		hdr = append(hdr, key.model[:]...)
		hdr = le.AppendUint32(hdr, uint32(len(key.dataset)))
		hdr = append(hdr, key.dataset...)
		hdr = le.AppendUint32(hdr, uint32(key.dims))
		hdr = le.AppendUint32(hdr, uint32(len(lat)))
		hdr = le.AppendUint32(hdr, uint32(frames))
		bw.Write(hdr)
		buf := make([]byte, 0, 4*key.dims*frames)
		for _, row := range lat {
			buf = buf[:0]
			for _, v := range row {
				buf = le.AppendUint32(buf, math.Float32bits(v))
			}
			bw.Write(buf)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		_, err := w.Write(le.AppendUint32(nil, crc.Sum32()))
		return err
	})
}

// errStaleLatents says a cache was made from another model, dataset or k.
var errStaleLatents = errors.New("latent cache is for another model, dataset or number of dimensions")

// readLatents reads a cache made for key.
func readLatents(path string, key latentsKey) (lat [][]float32, frames int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	le := binary.LittleEndian
	if len(b) < 4+4+32+4+12+4 || string(b[:4]) != latentsMagic {
		return nil, 0, errors.New("not a latent cache")
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != le.Uint32(b[len(b)-4:]) {
		return nil, 0, errors.New("latent cache is corrupt (checksum mismatch)")
	}
	if v := le.Uint32(b[4:]); v != latentsVersion {
		return nil, 0, fmt.Errorf("latent cache version %d, want %d", v, latentsVersion)
	}
	off := 8
	if !bytes.Equal(b[off:off+32], key.model[:]) {
		return nil, 0, errStaleLatents
	}
	off += 32
	n := int(le.Uint32(b[off:]))
	off += 4
	if off+n+12 > len(body) || string(b[off:off+n]) != key.dataset {
		return nil, 0, errStaleLatents
	}
	off += n
	dims, chunks := int(le.Uint32(b[off:])), int(le.Uint32(b[off+4:]))
	frames = int(le.Uint32(b[off+8:]))
	off += 12
	if dims != key.dims {
		return nil, 0, errStaleLatents
	}
	// In uint64, each factor below 2³²: the product is checked by division
	// so that it cannot wrap around to the length of the file.
	avail, row := uint64(len(body)-off), uint64(dims)*uint64(frames)
	if chunks > 0 && (row == 0 || uint64(chunks) > avail/4/row) || 4*uint64(chunks)*row != avail {
		return nil, 0, errors.New("latent cache is corrupt (bad length)")
	}
	lat = make([][]float32, chunks)
	for i := range lat {
		row := make([]float32, dims*frames)
		for j := range row {
			row[j] = math.Float32frombits(le.Uint32(body[off:]))
			off += 4
		}
		lat[i] = row
	}
	return lat, frames, nil
}
