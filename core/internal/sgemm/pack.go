package sgemm

import (
	"unsafe"
)

// Packing copies a block of op(A) or op(B) into micro-panels laid out in the
// order the micro-kernel reads them, zero-padding the last panel to a full
// MR (or NR) width so that edge tiles need no special code in the kernel.
//
// An A micro-panel holds, for p = 0..kc-1, the MR values op(A)[i0..i0+MR][p]
// contiguously; a B micro-panel holds, for p = 0..kc-1, the NR values
// op(B)[p][j0..j0+NR] contiguously. Transposition is absorbed here: a panel
// is either gathered across rows of the stored matrix (packAcross) or copied
// along them (packAlong).

// packA packs rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) into
// ceil(mc/mr) micro-panels of mr×kc, one after another in dst.
func (p *problem) packA(dst []float32, mr, i0, mc, p0, kc int) {
	if p.transA {
		// op(A)[i][q] = a[q*lda+i]: each k-step is contiguous.
		packAlong(dst, p.a, p.lda, p0, kc, i0, mc, mr)
		return
	}
	// op(A)[i][q] = a[i*lda+q]: each row of A becomes one lane.
	for ir := 0; ir < mc; ir += mr {
		packAcross(dst[ir*kc:ir*kc+mr*kc], p.a, p.lda, i0+ir, min(mr, mc-ir), p0, kc, mr)
	}
}

// packB packs rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into
// ceil(nc/nr) micro-panels of kc×nr, one after another in dst.
func (p *problem) packB(dst []float32, nr, p0, kc, j0, nc int) {
	if !p.transB {
		// op(B)[q][j] = b[q*ldb+j]: each k-step is contiguous.
		packAlong(dst, p.b, p.ldb, p0, kc, j0, nc, nr)
		return
	}
	// op(B)[q][j] = b[j*ldb+q]: each column of op(B) becomes one lane.
	for jr := 0; jr < nc; jr += nr {
		packAcross(dst[jr*kc:jr*kc+nr*kc], p.b, p.ldb, j0+jr, min(nr, nc-jr), p0, kc, nr)
	}
}

// packAlong packs lanes [l0, l0+n) of rows [q0, q0+kc) of src into
// ceil(n/w) panels of kc×w: dst[(l/w)*kc*w + q*w + l%w] = src[(q0+q)*ld+l0+l],
// zero for the lanes past n in the last panel.
func packAlong(dst, src []float32, ld, q0, kc, l0, n, w int) {
	full := n / w * w
	if full > 0 && hasAsmPack && (w == 32 || w == 16 || w == 12 || w == 6) {
		s := q0*ld + l0
		_ = src[s+(kc-1)*ld+full-1] // the last source row is in bounds
		_ = dst[full*kc-1]
		packRows(&dst[0], &src[s], ld, kc, full/w, w)
	} else {
		for l := 0; l < full; l += w {
			d := dst[l*kc : l*kc+kc*w]
			s := q0*ld + l0 + l
			for q := 0; q < kc; q++ {
				copy(d[q*w:q*w+w], src[s+q*ld:s+q*ld+w])
			}
		}
	}
	if full < n {
		d := dst[full*kc : full*kc+kc*w]
		for q := 0; q < kc; q++ {
			s := (q0+q)*ld + l0 + full
			t := d[q*w : q*w+w]
			copy(t, src[s:s+n-full])
			clear(t[n-full:])
		}
	}
}

// packAcross sets dst[q*w+l] = src[(l0+l)*ld+q0+q] for q < kc, l < lanes,
// and zero for lanes ≤ l < w: lane l is gathered from row l0+l of src.
func packAcross(dst, src []float32, ld, l0, lanes, q0, kc, w int) {
	dst = dst[:kc*w]
	l := 0
	if hasAsmPack && kc >= 8 && lanes >= 4 {
		k8 := kc &^ 7
		for l < lanes {
			// The last group of four overlaps the previous one when lanes
			// is not a multiple of 4 (6-lane AVX2 panels): its shared lanes
			// are written twice with the same values.
			l = min(l, lanes-4)
			s := (l0+l)*ld + q0
			_ = src[s+3*ld+kc-1] // all four source rows are in bounds
			packT4x8(&dst[l], &src[s], ld, k8, w)
			for q := k8; q < kc; q++ {
				d := dst[q*w+l : q*w+l+4]
				d[0] = src[s+q]
				d[1] = src[s+ld+q]
				d[2] = src[s+2*ld+q]
				d[3] = src[s+3*ld+q]
			}
			l += 4
		}
	}
	for ; l+4 <= lanes; l += 4 {
		s0 := src[(l0+l)*ld+q0:][:kc]
		s1 := src[(l0+l+1)*ld+q0:][:kc]
		s2 := src[(l0+l+2)*ld+q0:][:kc]
		s3 := src[(l0+l+3)*ld+q0:][:kc]
		d := unsafe.Pointer(&dst[l])
		for q := 0; q < kc; q++ {
			dq := (*[4]float32)(unsafe.Add(d, q*w*4))
			dq[0] = s0[q]
			dq[1] = s1[q]
			dq[2] = s2[q]
			dq[3] = s3[q]
		}
	}
	for ; l < lanes; l++ {
		s := src[(l0+l)*ld+q0:][:kc]
		for q, v := range s {
			dst[q*w+l] = v
		}
	}
	if lanes < w {
		for q := 0; q < kc; q++ {
			clear(dst[q*w+lanes : q*w+w])
		}
	}
}

// packBuf holds one goroutine's packing buffers, 64-byte aligned.
type packBuf struct {
	a, b []float32
	out  [16]float32 // scratch for the dot-product kernels
}

// freeBufs holds the packing buffers not in use.
var freeBufs = freeList[packBuf]{newItem: func() *packBuf { return new(packBuf) }}

// getBuf takes a packing buffer from the free list, or makes an empty one.
func getBuf() *packBuf { return freeBufs.get() }

// putBuf returns a buffer taken with getBuf.
func putBuf(b *packBuf) { freeBufs.put(b) }

// Reserve makes sure that n goroutines multiplying at once with the kernel
// in use find packing buffers ready: it makes buffers until n exist and
// sizes the free ones for the largest product the kernel packs. Real-time
// callers (the streaming decoders) call it once when built, so that no
// audio block allocates, however the blocks interleave on the goroutines.
func Reserve(n int) {
	kn := active.Load()
	freeBufs.reserve(n, func(b *packBuf) { b.get(kn, 0, 0) })
}

// get returns aligned buffers of at least na and nb elements. A buffer
// that must grow grows to the largest blocks kn packs (mc×kc of A, kc×nc of
// B), so that it grows at most once whatever products it later serves:
// buffers are interchangeable, and which goroutine takes which one depends
// on timing.
func (pb *packBuf) get(kn *kernel, na, nb int) (a, b []float32) {
	if len(pb.a) < na || pb.a == nil {
		pb.a = alignedSlice(max(na, roundUp(kn.mc, kn.mr)*kn.kc))
	}
	if len(pb.b) < nb || pb.b == nil {
		pb.b = alignedSlice(max(nb, roundUp(kn.nc, kn.nr)*kn.kc))
	}
	return pb.a, pb.b
}

// alignedSlice returns a zeroed slice of n float32s starting on a 64-byte
// boundary.
func alignedSlice(n int) []float32 {
	s := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&s[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return s[off : off+n : off+n]
}
