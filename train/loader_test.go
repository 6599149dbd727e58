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
	for _, tc := range []struct {
		name string
		aug  Augment
	}{
		{"default", DefaultAugment()},
		{"pitch shift", Augment{PitchShift: 0.7, PitchSemitones: 2, Gain: 0.5, GainMinDB: -6, GainMaxDB: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) { testLoaderResumable(t, tc.aug) })
	}
}

func testLoaderResumable(t *testing.T, aug Augment) {
	src := sineSource{n: 10, chunkLen: 4096}
	trainIdx, _ := Split(src.Len(), 0.2, 42)
	mk := func() *Loader {
		l, err := NewLoader(src, trainIdx, 3, 1024, 7, aug)
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

// TestResample checks the pitch shift's interpolation: a sine read at a
// ratio is the sine at ratio times its frequency, to the accuracy of a
// cubic interpolator well below Nyquist, and ratio 1 from a whole sample
// copies.
func TestResample(t *testing.T) {
	const f, sr = 440.0, 48000.0
	src := make([]float32, 8192)
	for i := range src {
		src[i] = float32(math.Sin(2 * math.Pi * f * float64(i) / sr))
	}
	for _, tc := range []struct {
		ratio, from, tol float64
	}{
		{1, 10, 0},
		{math.Exp2(1.0 / 12), 3.5, 2e-4},
		{math.Exp2(-2.0 / 12), 100.25, 2e-4},
		{1.5, 1, 2e-4},
	} {
		dst := make([]float32, 4096)
		Resample(dst, src, tc.from, tc.ratio)
		worst := 0.0
		for i, v := range dst {
			want := math.Sin(2 * math.Pi * f * (tc.from + float64(i)*tc.ratio) / sr)
			worst = max(worst, math.Abs(float64(v)-want))
		}
		if worst > tc.tol+1e-7 {
			t.Errorf("ratio %.4f from %g: worst error %.2e, want ≤ %.0e", tc.ratio, tc.from, worst, tc.tol)
		}
	}
}

// TestPitchShiftMovesPitch checks that the loader's pitch shift transposes
// a crop: the zero-crossing rate of a shifted sine crop is the chunk's
// times a ratio within ±PitchSemitones, and every crop stays in the
// chunk (no repeated end samples).
func TestPitchShiftMovesPitch(t *testing.T) {
	src := sineSource{n: 1, chunkLen: 48000}
	aug := Augment{PitchShift: 1, PitchSemitones: 3}
	l, err := NewLoader(src, []int{0}, 4, 16384, 3, aug)
	if err != nil {
		t.Fatal(err)
	}
	shifted := 0
	for k := range int64(8) {
		x := l.Batch(nil, k)
		for b := range 4 {
			crop := x[b*16384 : (b+1)*16384]
			cross := 0
			for i := 1; i < len(crop); i++ {
				if (crop[i-1] < 0) != (crop[i] < 0) {
					cross++
				}
			}
			ratio := float64(cross) / (2 * 100 * 16384 / 48000.0) // 100 Hz chunk
			semis := 12 * math.Log2(ratio)
			if math.Abs(semis) > 3.2 {
				t.Errorf("batch %d crop %d moved by %.2f semitones, beyond ±3", k, b, semis)
			}
			if math.Abs(semis) > 0.3 {
				shifted++
			}
		}
	}
	if shifted < 16 {
		t.Errorf("only %d of 32 crops moved by more than 0.3 semitones", shifted)
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
