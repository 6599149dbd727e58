package core

import (
	"encoding/binary"
	"hash"
	"math"
)

// HashFloat32s writes v to h as little-endian IEEE 754 float32 values, in
// slabs of at most 64 KiB: the byte stream that the model's and the
// prior's identity hashes are made of.
func HashFloat32s(h hash.Hash, v []float32) {
	buf := make([]byte, 0, min(4*len(v), 1<<16))
	for _, x := range v {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
}
