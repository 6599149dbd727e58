//go:build arm64 && !purego

package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
)

// TestNEONMicro checks microNEON on every tile shape up to 8×12 against a
// float64 product of the packed panels, that edge tiles round exactly like
// the same elements of a full tile, that beta == 0 does not read C and
// that nothing outside the tile is written.
func TestNEONMicro(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const ldc = nrNEON + 5
	for _, k := range []int{1, 2, 7, 64, kcNEON} {
		a := randSlice(r, k*mrNEON)
		b := randSlice(r, k*nrNEON)
		for _, sc := range []struct{ alpha, beta float32 }{{1, 0}, {-0.75, 1}, {2, -0.5}} {
			c0 := randSlice(r, mrNEON*ldc)
			if sc.beta == 0 {
				for i := range c0 {
					c0[i] = float32(math.NaN())
				}
			}
			full := append([]float32(nil), c0...)
			microNEON(mrNEON, nrNEON, k, &a[0], &b[0], &full[0], ldc, sc.alpha, sc.beta)
			for mr := 1; mr <= mrNEON; mr++ {
				for nr := 1; nr <= nrNEON; nr++ {
					what := fmt.Sprintf("k=%d alpha=%g beta=%g %d×%d", k, sc.alpha, sc.beta, mr, nr)
					c := append([]float32(nil), c0...)
					microNEON(mr, nr, k, &a[0], &b[0], &c[0], ldc, sc.alpha, sc.beta)
					for i := 0; i < mrNEON; i++ {
						for j := 0; j < ldc; j++ {
							got, old := c[i*ldc+j], c0[i*ldc+j]
							if i >= mr || j >= nr {
								if math.Float32bits(got) != math.Float32bits(old) {
									t.Fatalf("%s: C[%d][%d] outside the tile overwritten", what, i, j)
								}
								continue
							}
							if math.Float32bits(got) != math.Float32bits(full[i*ldc+j]) {
								t.Fatalf("%s: C[%d][%d] = %v, the full tile's is %v", what, i, j, got, full[i*ldc+j])
							}
							var s, mag float64
							for p := 0; p < k; p++ {
								v := float64(a[p*mrNEON+i]) * float64(b[p*nrNEON+j])
								s += v
								mag += math.Abs(v)
							}
							want := float64(sc.alpha) * s
							if sc.beta != 0 {
								want += float64(sc.beta) * float64(old)
							}
							if d := math.Abs(float64(got) - want); math.IsNaN(float64(got)) || d > 1e-6*(mag+1) {
								t.Fatalf("%s: C[%d][%d] = %v, want %v", what, i, j, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestNEONDot checks dot4x4NEON and dot4x1NEON against float64 sums for
// depths around the 4-wide steps, and that dot4x1NEON rounds exactly like
// every column of dot4x4NEON.
func TestNEONDot(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 15, 16, 17, 33, 100, 1001} {
		rows := make([][]float32, 8)
		for i := range rows {
			rows[i] = randSlice(r, k+1) // one extra so &s[0] exists for k == 0
		}
		as, bs := rows[:4], rows[4:]
		var out, one [16]float32
		dot4x4NEON(k, &as[0][0], &as[1][0], &as[2][0], &as[3][0], &bs[0][0], &bs[1][0], &bs[2][0], &bs[3][0], &out[0])
		for i := range 4 {
			for j := range 4 {
				var s, mag float64
				for q := range k {
					v := float64(as[i][q]) * float64(bs[j][q])
					s += v
					mag += math.Abs(v)
				}
				if d := math.Abs(float64(out[4*i+j]) - s); d > 1e-6*mag {
					t.Fatalf("k=%d: dot4x4 out[%d][%d] = %v, want %v", k, i, j, out[4*i+j], s)
				}
			}
		}
		for j := range 4 {
			one = [16]float32{}
			dot4x1NEON(k, &as[0][0], &as[1][0], &as[2][0], &as[3][0], &bs[j][0], &one[0])
			for i := range 4 {
				if math.Float32bits(one[i]) != math.Float32bits(out[4*i+j]) {
					t.Fatalf("k=%d: dot4x1 row %d column %d = %v, dot4x4 %v", k, i, j, one[i], out[4*i+j])
				}
			}
			for i := 4; i < 16; i++ {
				if one[i] != 0 {
					t.Fatalf("k=%d: dot4x1 wrote out[%d]", k, i)
				}
			}
		}
	}
}

// TestNEONPack checks packT4x8 and packRows against their definitions,
// and that they write nothing else.
func TestNEONPack(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	const sentinel = -12345
	for _, w := range []int{4, 8, 12} {
		for _, kc := range []int{0, 8, 16, 72} {
			ld := kc + 3
			src := randSlice(r, 3*ld+kc+1)
			dst := make([]float32, (kc+1)*w)
			for i := range dst {
				dst[i] = sentinel
			}
			packT4x8(&dst[0], &src[0], ld, kc, w)
			for q := 0; q <= kc; q++ {
				for l := 0; l < w; l++ {
					want := float32(sentinel)
					if q < kc && l < 4 {
						want = src[l*ld+q]
					}
					if got := dst[q*w+l]; got != want {
						t.Fatalf("packT4x8 w=%d kc=%d: dst[%d*w+%d] = %v, want %v", w, kc, q, l, got, want)
					}
				}
			}
		}
	}
	for _, w := range []int{32, 16, 12, 6} {
		for _, kc := range []int{1, 2, 5} {
			for _, np := range []int{1, 3} {
				ld := np*w + 2
				src := randSlice(r, kc*ld)
				dst := make([]float32, np*kc*w+16)
				for i := range dst {
					dst[i] = sentinel
				}
				packRows(&dst[0], &src[0], ld, kc, np, w)
				for i, got := range dst {
					want := float32(sentinel)
					if i < np*kc*w {
						p, q, l := i/(kc*w), i%(kc*w)/w, i%w
						want = src[q*ld+p*w+l]
					}
					if got != want {
						t.Fatalf("packRows w=%d kc=%d np=%d: dst[%d] = %v, want %v", w, kc, np, i, got, want)
					}
				}
			}
		}
	}
}

// TestNEONPath checks that the isa path selects the neon kernel and its
// packing, and the generic ones.
func TestNEONPath(t *testing.T) {
	for _, p := range []isa.Path{isa.Generic, isa.NEON} {
		restore, err := isa.Use(p)
		if err != nil {
			t.Fatal(err)
		}
		if Kernel() != string(p) || hasAsmPack != (p == isa.NEON) {
			t.Errorf("path %s: kernel %s, hasAsmPack %v", p, Kernel(), hasAsmPack)
		}
		restore()
	}
}
