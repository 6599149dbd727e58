package sgemm

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestSgemmSerialMatchesSgemm checks that SgemmSerial gives Sgemm's bits,
// also when several goroutines call it at once.
func TestSgemmSerialMatchesSgemm(t *testing.T) {
	shapes := []shape{{131, 301, 257}, {16, 164, 1489}, {4, 164, 1024}, {37, 513, 20}, {64, 192, 1000}}
	defer SetThreads(SetThreads(4))
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range shapes {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			a, lda, b, ldb, c0, ldc := operands(r, s, tr[0], tr[1], 1)
			want := append([]float32(nil), c0...)
			Sgemm(tr[0], tr[1], s.m, s.n, s.k, 1.5, a, lda, b, ldb, 0.25, want, ldc)
			var wg sync.WaitGroup
			got := make([][]float32, 3)
			for g := range got {
				got[g] = append([]float32(nil), c0...)
				wg.Add(1)
				go func() {
					defer wg.Done()
					SgemmSerial(tr[0], tr[1], s.m, s.n, s.k, 1.5, a, lda, b, ldb, 0.25, got[g], ldc)
				}()
			}
			wg.Wait()
			for _, c := range got {
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v tA=%v tB=%v: C[%d] = %v serial, %v parallel", s, tr[0], tr[1], i, c[i], want[i])
					}
				}
			}
		}
	}
}
