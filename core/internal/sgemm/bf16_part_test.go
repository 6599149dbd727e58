package sgemm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
)

// TestBF16MulRowsPart checks that MulRowsPart over a grid of row and
// column ranges gives exactly MulRows's result, and allocates nothing, on
// every path.
func TestBF16MulRowsPart(t *testing.T) {
	forEachPath(t, func(t *testing.T, _ isa.Path) { testBF16MulRowsPart(t) })
}

// testBF16MulRowsPart is TestBF16MulRowsPart on the path in use.
func testBF16MulRowsPart(t *testing.T) {
	for _, c := range []struct {
		m, n, k      int
		rowCuts      []int // row range ends (multiples of BF16RowTile, last M)
		colCuts      []int // column range ends (last n)
		accumulate   bool
		shift, inLen int // rows of B: base[r·shift : r·shift+n] (overlapping when shift < n)
	}{
		{m: 128, n: 64, k: 384, rowCuts: []int{48, 96, 128}, colCuts: []int{32, 64}, shift: 70},
		{m: 16, n: 128, k: 528, rowCuts: []int{16}, colCuts: []int{32, 64, 96, 128}, accumulate: true, shift: 1},
		{m: 25, n: 50, k: 7, rowCuts: []int{12, 24, 25}, colCuts: []int{13, 50}, shift: 3},
		{m: 64, n: 128, k: 1030, rowCuts: []int{36, 64}, colCuts: []int{128}, accumulate: true, shift: 129},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d", c.m, c.n, c.k), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.m), uint64(c.k)))
			a := make([]float32, c.m*c.k)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			base := make([]float32, (c.k-1)*c.shift+c.n)
			for i := range base {
				base[i] = float32(rng.NormFloat64())
			}
			off := make([]int, c.k)
			for r := range off {
				off[r] = r * c.shift
			}
			c0 := make([]float32, c.m*c.n)
			for i := range c0 {
				c0[i] = float32(rng.NormFloat64())
			}
			am := NewBF16Matrix(false, c.m, c.k, a, c.k)
			want := slices.Clone(c0)
			am.MulRows(c.n, base, off, c.accumulate, want, c.n)
			got := slices.Clone(c0)
			sc := NewBF16Scratch()
			run := func() {
				i0 := 0
				for _, i1 := range c.rowCuts {
					j0 := 0
					for _, j1 := range c.colCuts {
						am.MulRowsPart(i0, i1, j0, j1, c.n, base, off, c.accumulate, got, c.n, sc)
						j0 = j1
					}
					i0 = i1
				}
			}
			run()
			if !slices.Equal(got, want) {
				t.Fatalf("MulRowsPart differs from MulRows")
			}
			if a := testing.AllocsPerRun(3, run); a != 0 {
				t.Errorf("MulRowsPart allocates %v times", a)
			}
		})
	}
}
