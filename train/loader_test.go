package train

import (
	"math"
	"math/cmplx"
	"testing"
)

// sineSource is a ChunkSource of deterministic synthetic chunks.
type sineSource struct{ n, chunkLen int }

func (s sineSource) Len() int        { return s.n }
func (s sineSource) ChunkLen() int   { return s.chunkLen }
func (s sineSource) SampleRate() int { return 48000 }
func (s sineSource) ChunkFloat(dst []float32, i int) []float32 {
	for t := range dst[:s.chunkLen] {
		dst[t] = float32(0.5 * math.Sin(2*math.Pi*float64(100*(i+1))*float64(t)/48000))
	}
	return dst[:s.chunkLen]
}

func TestLoaderDeterministicAndResumable(t *testing.T) {
	src := sineSource{n: 10, chunkLen: 4096}
	trainIdx, _ := Split(src.Len(), 0.2, 42)
	mk := func() *Loader {
		l, err := NewLoader(src, trainIdx, 3, 1024, 7, DefaultAugment())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a := mk()
	var want [][]float32
	for range 5 {
		b, _ := a.Next()
		want = append(want, append([]float32(nil), b...))
	}
	// A fresh loader that seeks to batch 3 (a resumed run) sees batch 3.
	b := mk()
	b.SetNext(3)
	got, k := b.Next()
	if k != 3 {
		t.Fatalf("batch index %d, want 3", k)
	}
	for i := range got {
		if got[i] != want[3][i] {
			t.Fatalf("resumed batch differs at %d", i)
		}
	}
	if x := b.Batch(nil, 4); x[100] != want[4][100] {
		t.Fatal("Batch(4) differs from the 5th Next")
	}
}

func TestLoaderNoAllocationsAfterWarmUp(t *testing.T) {
	src := sineSource{n: 4, chunkLen: 2048}
	l, _ := NewLoader(src, []int{0, 1, 2, 3}, 2, 1024, 1, Augment{})
	l.Next()
	l.Next()
	allocs := testing.AllocsPerRun(20, func() { l.Next() })
	// The prefetch goroutine, its channel and the per-batch RNG are the
	// only allocations; the sample buffers are reused.
	if allocs > 6 {
		t.Errorf("Next allocates %.0f times per batch", allocs)
	}
}

func TestSplit(t *testing.T) {
	tr, va := Split(100, 0.02, 42)
	if len(va) != 2 || len(tr) != 98 {
		t.Fatalf("split 100 → %d train, %d val", len(tr), len(va))
	}
	tr2, va2 := Split(100, 0.02, 42)
	if va[0] != va2[0] || tr[5] != tr2[5] {
		t.Fatal("split not deterministic")
	}
	if _, va := Split(3, 0.02, 42); len(va) != 1 {
		t.Fatal("small dataset gets no validation chunk")
	}
}

// TestAllPassIsAllPass checks |H(e^{iω})| = 1 at several frequencies and
// that the filter changes the phase.
func TestAllPassIsAllPass(t *testing.T) {
	const sr, f, r = 48000.0, 300.0, 0.99
	w0 := 2 * math.Pi * f / sr
	c := 2 * r * math.Cos(w0)
	for _, w := range []float64{0.01, 0.1, w0, 1, 3} {
		z1 := cmplx.Exp(complex(0, -w))
		h := (complex(r*r, 0) - complex(c, 0)*z1 + z1*z1) / (1 - complex(c, 0)*z1 + complex(r*r, 0)*z1*z1)
		if math.Abs(cmplx.Abs(h)-1) > 1e-9 {
			t.Errorf("|H| at ω=%v is %v", w, cmplx.Abs(h))
		}
	}
	// Energy of a long sine is preserved (after the transient).
	x := make([]float32, 48000)
	for i := range x {
		x[i] = float32(math.Sin(2 * math.Pi * 1000 * float64(i) / sr))
	}
	var e0 float64
	for _, v := range x[24000:] {
		e0 += float64(v) * float64(v)
	}
	AllPass(x, f, r, sr)
	var e1 float64
	for _, v := range x[24000:] {
		e1 += float64(v) * float64(v)
	}
	if math.Abs(e1/e0-1) > 1e-3 {
		t.Errorf("energy ratio %v after all-pass", e1/e0)
	}
}
