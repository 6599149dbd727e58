//go:build (amd64 || arm64) && !purego

package sgemm

import "unsafe"

// Edge tiles. An assembly micro-kernel always writes a whole mr×nr tile, so
// a tile of C with fewer rows or columns is computed into a scratch tile t
// (row stride ldt, the kernel's nr) with the same instruction sequence and
// copied out, so that it rounds exactly like a full tile: edgeIn before the
// kernel, edgeOut after it.

// edgeIn returns the mr×nr tile of C at c (row stride ldc) as a slice and,
// when beta ≠ 0 (the kernel reads C), copies it into t.
func edgeIn(t []float32, ldt, mr, nr int, c *float32, ldc int, beta float32) []float32 {
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	if beta != 0 {
		for i := 0; i < mr; i++ {
			copy(t[i*ldt:i*ldt+nr], cs[i*ldc:i*ldc+nr])
		}
	}
	return cs
}

// edgeOut copies the mr×nr tile computed in t back to cs, edgeIn's slice
// of C.
func edgeOut(cs, t []float32, ldt, mr, nr, ldc int) {
	for i := 0; i < mr; i++ {
		copy(cs[i*ldc:i*ldc+nr], t[i*ldt:i*ldt+nr])
	}
}
