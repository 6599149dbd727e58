package dsp

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/ravestation/rave/core"
)

// TestDeterministicAcrossThreads checks that the distance and its gradient
// are bit-identical with one and with several goroutines.
func TestDeterministicAcrossThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := core.Randn(rng, 3, 2, 5000)
	y := core.Randn(rng, 3, 2, 5000)
	run := func(procs int) (float32, []float32) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		yy := y.Clone().SetRequiresGrad(true)
		tp := core.NewTape()
		total := DistanceV1().Distance(tp, x, yy).Total
		tp.Backward(total)
		return total.Item(), yy.Grad()
	}
	v1, g1 := run(1)
	v4, g4 := run(4)
	if v1 != v4 || !slices.Equal(g1, g4) {
		t.Errorf("GOMAXPROCS 1 and 4 differ: distance %v vs %v", v1, v4)
	}
}
