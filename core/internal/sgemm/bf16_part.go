package sgemm

import "fmt"

// BF16RowTile is the number of rows of a BF16Matrix computed together: the
// row ranges of BF16Matrix.MulRowsPart start at multiples of it.
const BF16RowTile = bfMR

// BF16Scratch is the packing room of one goroutine's BF16Matrix.MulRowsPart
// calls, so that they allocate nothing.
type BF16Scratch struct{ s bfScratch }

// NewBF16Scratch allocates packing room for MulRowsPart.
func NewBF16Scratch() *BF16Scratch {
	return &BF16Scratch{s: bfScratch{b: make([]uint32, bfKC*bfNC)}}
}

// MulRowsPart computes rows i0 … i1−1 and columns j0 … j1−1 of MulRows's
// C on the calling goroutine, packing B into scratch (i0 a multiple of
// BF16RowTile, i1 one too or M). Every element is computed as MulRows
// computes it, so disjoint parts run on several goroutines give MulRows's
// result whatever the split.
func (a *BF16Matrix) MulRowsPart(i0, i1, j0, j1, n int, base []float32, rowOff []int, accumulate bool, c []float32, ldc int, scratch *BF16Scratch) {
	if i0 < 0 || i1 > a.M || i0 > i1 || i0%bfMR != 0 || (i1%bfMR != 0 && i1 != a.M) || j0 < 0 || j1 > n || j0 > j1 {
		panic(fmt.Sprintf("sgemm: MulRowsPart: rows %d…%d of %d, columns %d…%d of %d", i0, i1, a.M, j0, j1, n))
	}
	if len(rowOff) != a.K {
		panic(fmt.Sprintf("sgemm: MulRowsPart: %d row offsets for K = %d", len(rowOff), a.K))
	}
	if i0 == i1 || j0 == j1 {
		return
	}
	for r, o := range rowOff {
		if o < 0 || o+n > len(base) {
			panic(fmt.Sprintf("sgemm: MulRowsPart: row %d at %d of %d columns overruns %d values", r, o, n, len(base)))
		}
	}
	checkMatrix("C", a.M, n, len(c), ldc)
	a.mulPartWith(&scratch.s, i0/bfMR, (i1+bfMR-1)/bfMR, j0, j1, base, rowOff, accumulate, c, ldc)
}

// mulPartWith computes row tiles [t0, t1) and columns [j0, j1) of C,
// packing B into s: for each block of columns and of k pairs, the B panels
// are packed once and every row tile's A panel runs over them. Each element
// goes through the same sums wherever its tile lies, so the result does not
// depend on how MulRows or MulRowsPart split the work.
func (a *BF16Matrix) mulPartWith(s *bfScratch, t0, t1, j0, j1 int, base []float32, rowOff []int, accumulate bool, c []float32, ldc int) {
	for jb := j0; jb < j1; jb += bfNC {
		nc := min(bfNC, j1-jb)
		for pb := 0; pb < a.kp; pb += bfKC {
			np := min(bfKC, a.kp-pb)
			acc := accumulate || pb > 0
			for jt := 0; jt < nc; jt += bfNR {
				packBF16Panel(s.b[jt*np:(jt+bfNR)*np], base, rowOff, 2*pb, np, jb+jt, min(bfNR, nc-jt))
			}
			for t := t0; t < t1; t++ {
				ap := a.data[(t*a.kp+pb)*bfMR:]
				mr := min(bfMR, a.M-t*bfMR)
				for jt := 0; jt < nc; jt += bfNR {
					nr := min(bfNR, nc-jt)
					bp := s.b[jt*np:]
					cp := c[t*bfMR*ldc+jb+jt:]
					if mr == bfMR && nr == bfNR {
						bfKernel(np, ap, bp, cp, ldc, acc)
						continue
					}
					bfKernel(np, ap, bp, s.tile[:], bfNR, false)
					for i := range mr {
						row := cp[i*ldc : i*ldc+nr]
						src := s.tile[i*bfNR : i*bfNR+nr]
						if acc {
							for j, v := range src {
								row[j] += v
							}
						} else {
							copy(row, src)
						}
					}
				}
			}
		}
	}
}
