package convinfer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
	"github.com/ravestation/rave/core/internal/isatest"
	"github.com/ravestation/rave/core/internal/modeltest"
)

// TestWinoRowTransforms compares the row transforms of every path with
// the Go loops (to float32 rounding: the assembly groups the sums
// differently) and the assembly paths with one another bit for bit (AVX2
// runs AVX-512's instructions on half-width registers), for tile counts
// around the 16-tile chunks, with and without accumulation, and checks
// that outputs past the limit are not written.
func TestWinoRowTransforms(t *testing.T) {
	type result struct{ v, y []float32 }
	run := func(nb, limit int, acc bool, rng *rand.Rand) result {
		pr := make([]float32, 4*nb+2+WinoSlack)
		for i := range 4*nb + 2 {
			pr[i] = float32(rng.NormFloat64())
		}
		v := make([]float32, 6*nb)
		var vk [6][]float32
		for k := range vk {
			vk[k] = v[k*nb : (k+1)*nb]
		}
		WinoInRow(pr, &vk, nb)
		y := make([]float32, 4*nb+8)
		for i := range y {
			y[i] = float32(rng.NormFloat64())
		}
		WinoOutRow(&vk, nb, y, limit, 0.375, acc)
		return result{v, y}
	}
	type tc struct {
		nb, limit int
		acc       bool
	}
	var cases []tc
	for _, nb := range []int{1, 15, 16, 17, 31, 32, 47, 64, 100} {
		for _, limit := range []int{4 * nb, 4*nb - 3, 64*(nb/16) - 1} {
			if limit > 0 {
				cases = append(cases, tc{nb, limit, false}, tc{nb, limit, true})
			}
		}
	}
	results := map[isa.Path][]result{}
	isatest.ForEachPath(t, func(t *testing.T, p isa.Path) {
		rng := rand.New(rand.NewPCG(4, 4))
		for _, c := range cases {
			results[p] = append(results[p], run(c.nb, c.limit, c.acc, rng))
		}
	})
	ref := results[isa.Generic]
	for p, rs := range results {
		for i, r := range rs {
			c := cases[i]
			if e := modeltest.RelDiff(r.v, ref[i].v); e > 1e-6 {
				t.Errorf("%s: nb %d: input transform differs from Go by %.3g", p, c.nb, e)
			}
			if e := modeltest.RelDiff(r.y, ref[i].y); e > 1e-6 {
				t.Errorf("%s: nb %d limit %d acc %v: output transform differs from Go by %.3g", p, c.nb, c.limit, c.acc, e)
			}
			for j := c.limit; j < len(r.y); j++ {
				if r.y[j] != ref[i].y[j] {
					t.Fatalf("%s: nb %d limit %d: y[%d] past the limit written", p, c.nb, c.limit, j)
				}
			}
		}
	}
	a2, a5 := results[isa.AVX2], results[isa.AVX512]
	if a2 == nil || a5 == nil {
		t.Skip("bit-for-bit comparison needs both the avx2 and avx512 paths")
	}
	for i := range a2 {
		for j, v := range a2[i].v {
			if math.Float32bits(v) != math.Float32bits(a5[i].v[j]) {
				t.Fatalf("nb %d: v[%d] = %g on avx2, %g on avx512", cases[i].nb, j, v, a5[i].v[j])
			}
		}
		for j, v := range a2[i].y {
			if math.Float32bits(v) != math.Float32bits(a5[i].y[j]) {
				t.Fatalf("nb %d limit %d acc %v: y[%d] = %g on avx2, %g on avx512", cases[i].nb, cases[i].limit, cases[i].acc, j, v, a5[i].y[j])
			}
		}
	}
}
