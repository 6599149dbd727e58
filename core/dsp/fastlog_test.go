package dsp

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLog32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var worst float64
	check := func(x float32) {
		got, want := float64(log32(x)), math.Log(float64(x))
		_, e := math.Frexp(want)
		ulp := math.Ldexp(1, e-24) // float32 ulp at want
		err := math.Abs(got-want) / ulp
		if math.Abs(got-want) <= 2.5e-7 {
			err = 0 // near x = 1 the result is tiny: absolute accuracy counts
		}
		worst = max(worst, err)
		if err > 3 {
			t.Fatalf("log32(%g) = %.9g, want %.9g", x, got, want)
		}
	}
	for _, x := range []float32{1, 2, 0.5, 1e-7, 1.2e-38, 3e38, math.MaxFloat32, math.Nextafter32(1, 2), math.Nextafter32(1, 0)} {
		check(x)
	}
	for range 200000 {
		check(float32(math.Exp(rng.Float64()*160 - 80)))
	}
	t.Logf("max error %.3g float32 ulp (or ≤ 2.5e-7 absolute)", worst)
}

func BenchmarkLog(b *testing.B) {
	xs := make([]float32, 1024)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range xs {
		xs[i] = rng.Float32() * 10
	}
	b.Run("math", func(b *testing.B) {
		var s float64
		for i := range b.N {
			s += math.Log(float64(xs[i&1023]))
		}
		_ = s
	})
	b.Run("log32", func(b *testing.B) {
		var s float32
		for i := range b.N {
			s += log32(xs[i&1023])
		}
		_ = s
	})
}
