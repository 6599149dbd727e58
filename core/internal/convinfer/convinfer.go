// Package convinfer holds the tape-free convolution pieces that RAVE v1
// (core/model) and v2 (core/modelv2) inference share: the blocked im2col
// GEMM over a stride-phase split input and the Go Winograd F(4,3) tile
// transforms.
package convinfer

import (
	"runtime"

	"github.com/ravestation/rave/core/internal/par"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// split is the threshold of the package's parallel loops; bufs recycles
// float32 buffers by power-of-two size class.
var (
	split = par.Split{MinWork: 1 << 15}
	bufs  par.Classes
)

// ChunkCols returns the number of output columns per im2col block of
// blockBytes for a GEMM of depth kk over tout columns, or 0 when blocks do
// not pay: when fewer than four blocks per worker would share the layer,
// or when a block narrower than 128 columns would repack the weights too
// often.
func ChunkCols(blockBytes, kk, tout int) int {
	nc := blockBytes / 4 / kk &^ 15
	if nc < 128 || tout < 4*runtime.GOMAXPROCS(0)*nc {
		return 0
	}
	return nc
}

// Beta is the GEMM's beta for an output that is added to (accumulate)
// or overwritten.
func Beta(accumulate bool) float32 {
	if accumulate {
		return 1
	}
	return 0
}

// SplitPhases writes the activated, zero-padded input x̃ of one batch
// element xb (cin × t) into xp split into its s stride phases of lph
// values: xp[(c·s + ph)·lph + v] = x̃[c][v·s + ph], with padL zeros before
// the input and zeros past it. act(dst, src, c) writes the activation of
// channel c's src into dst.
func SplitPhases(xp, xb []float32, cin, t, s, lph, padL int, act func(dst, src []float32, c int)) {
	split.For(cin, cin*t, func(lo, hi int) {
		var tmp []float32
		if s > 1 {
			tmp = bufs.Get(s * lph)
			defer bufs.Put(tmp)
		}
		for c := lo; c < hi; c++ {
			row := xp[c*s*lph : (c+1)*s*lph]
			dst := row
			if s > 1 {
				dst = tmp
			}
			clear(dst[:padL])
			act(dst[padL:padL+t], xb[c*t:(c+1)*t], c)
			clear(dst[padL+t:])
			if s == 1 {
				continue
			}
			for ph := range s {
				r := row[ph*lph : (ph+1)*lph]
				for v := range r {
					r[v] = tmp[v*s+ph]
				}
			}
		}
	})
}

// PhaseOffsets returns, for a convolution of cin channels, kernel k,
// stride s and dilation dil whose input is split into s phases of lph
// values per channel (xp[(c·s + ph)·lph + v] = x̃[c][v·s + ph]), where
// im2col row r = c·k + j, x̃[c][t·s + j·dil] over t, starts in xp.
func PhaseOffsets(cin, k, s, dil, lph int) []int {
	offs := make([]int, cin*k)
	for c := range cin {
		for j := range k {
			d := j * dil
			offs[c*k+j] = (c*s+d%s)*lph + d/s
		}
	}
	return offs
}

// MulPhased computes y = w·X + beta·y + bias for the cout × kk weights w
// and the kk × tout im2col matrix X whose row r is xp[offs[r]:][:tout],
// y being cout × tout, then calls post (when not nil) on every finished
// run of an output row. With nc = 0 the whole matrix is copied and
// multiplied by one parallel GEMM; otherwise every worker takes blocks of
// about nc columns, copies the block's rows into a buffer that stays in
// its L2 cache and multiplies it on its own (SgemmSerial), adding the
// bias while the block is warm. The products are those of the one large
// GEMM, element by element (sgemm never splits K), so the result does not
// depend on the block size or the number of workers.
func MulPhased(y, xp []float32, offs []int, w, bias []float32, cout, tout, nc int, beta float32, post func(row []float32)) {
	kk := len(offs)
	if nc == 0 {
		col := bufs.Get(kk * tout)
		defer bufs.Put(col)
		split.For(kk, kk*tout, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				copy(col[r*tout:(r+1)*tout], xp[offs[r]:offs[r]+tout])
			}
		})
		sgemm.Sgemm(false, false, cout, tout, kk, 1, w, kk, col, tout, beta, y, tout)
		Finish(y, bias, cout, tout, post)
		return
	}
	blocks := (tout + nc - 1) / nc
	par.Blocks(blocks, func(next func() int) {
		col := bufs.Get(kk * nc)
		defer bufs.Put(col)
		for i := next(); i >= 0; i = next() {
			t0, t1 := tout*i/blocks, tout*(i+1)/blocks
			n := t1 - t0
			for r, o := range offs {
				copy(col[r*n:(r+1)*n], xp[o+t0:o+t1])
			}
			sgemm.SgemmSerial(false, false, cout, n, kk, 1, w, kk, col, n, beta, y[t0:], tout)
			if bias == nil && post == nil {
				continue
			}
			for o := range cout {
				finishRow(y[o*tout+t0:o*tout+t1], bias, o, post)
			}
		}
	})
}

// Finish adds bias[c] to row c of y (C rows of n; a nil bias adds
// nothing) and then calls post (when not nil) on the row, in parallel.
func Finish(y, bias []float32, C, n int, post func(row []float32)) {
	if bias == nil && post == nil {
		return
	}
	split.For(C, C*n, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			finishRow(y[c*n:(c+1)*n], bias, c, post)
		}
	})
}

// finishRow adds bias[c] (when bias is not nil) to row, output row c, and
// then calls post (when not nil) on it.
func finishRow(row, bias []float32, c int, post func(row []float32)) {
	if bias != nil {
		v := bias[c]
		for i := range row {
			row[i] += v
		}
	}
	if post != nil {
		post(row)
	}
}

// BiasAt returns bias[o], or 0 for a nil bias.
func BiasAt(bias []float32, o int) float32 {
	if bias == nil {
		return 0
	}
	return bias[o]
}

// WinoIn writes the Winograd F(4,3) input transforms Bᵀ·d of the tiles of
// one row pr (tile q reads pr[4q : 4q+6]) to v0[q] … v5[q], for q below
// len(v0) (the other five at least as long):
//
//	Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
func WinoIn(pr, v0, v1, v2, v3, v4, v5 []float32) {
	nb := len(v0)
	v1, v2, v3, v4, v5 = v1[:nb], v2[:nb], v3[:nb], v4[:nb], v5[:nb]
	for q := range v0 {
		src := pr[4*q : 4*q+6]
		d0, d1, d2, d3, d4, d5 := src[0], src[1], src[2], src[3], src[4], src[5]
		d24 := d4 - 4*d2
		d13 := d3 - 4*d1
		v0[q] = 4*d0 - 5*d2 + d4
		v1[q] = d24 + d13
		v2[q] = d24 - d13
		e := 2 * (d3 - d1)
		f := d4 - d2
		v3[q] = f + e
		v4[q] = f - e
		v5[q] = 4*d1 - 5*d3 + d5
	}
}

// WinoOut returns the Winograd F(4,3) output transform Aᵀ·m of one tile,
// plus b on every output:
//
//	Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
func WinoOut(m0, m1, m2, m3, m4, m5, b float32) [4]float32 {
	s12, d12 := m1+m2, m1-m2
	s34, d34 := m3+m4, m3-m4
	return [4]float32{m0 + s12 + s34 + b, d12 + 2*d34 + b, s12 + 4*s34 + b, d12 + 8*d34 + m5 + b}
}
