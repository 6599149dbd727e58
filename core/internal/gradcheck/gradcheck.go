// Package gradcheck is the one finite-difference gradient checker shared by
// the tests of every differentiable op.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// Check works as follows. The scalar loss is L = Σ out ⊙ r with a fixed-seed random r, accumulated in
// float64. Each input element is perturbed by ±Eps in float32 and the
// central difference (L₊ − L₋)/(x₊ − x₋) is taken in float64, dividing by the
// perturbation actually representable in float32. The ops compute in
// float32, so the forward values carry a relative rounding error of about
// 6e-8; over a loss of O(10) that is ~1e-6 absolute, which divided by 2·eps
// = 2e-2 gives ~5e-5 of noise, and the O(eps²) truncation error is ~2e-5 for
// the smooth functions here. The tolerances leave a margin over both while
// still catching any real mistake in a backward (those are O(1) relative).
const (
	// Eps is the perturbation of each input element.
	Eps = 1e-2
	// AbsTol is the absolute tolerance, after scaling by max(1, max |grad|).
	AbsTol = 2e-3
	// RelTol is the tolerance relative to the larger of the two values.
	RelTol = 1e-2
)

// Kind says how test inputs are drawn.
type Kind int

const (
	// Signed draws uniformly from [−1, 1].
	Signed Kind = iota
	// Positive draws uniformly from [0.2, 1.5].
	Positive
	// AwayZero draws from ±[0.1, 1], never within Eps of a kink at 0.
	AwayZero
)

// Input describes one input of the function under test.
type Input struct {
	Shape []int
	Kind  Kind
	Fixed bool // no gradient wanted
}

// In is an input that receives a gradient.
func In(kind Kind, shape ...int) Input { return Input{Shape: shape, Kind: kind} }

// Const is an input that must not receive a gradient.
func Const(kind Kind, shape ...int) Input {
	return Input{Shape: shape, Kind: kind, Fixed: true}
}

func makeInput(rng *rand.Rand, s Input) *core.Tensor {
	t := core.Zeros(s.Shape...)
	d := t.Data()
	for i := range d {
		u := rng.Float64()
		switch s.Kind {
		case Signed:
			d[i] = float32(2*u - 1)
		case Positive:
			d[i] = float32(0.2 + 1.3*u)
		case AwayZero:
			v := 0.1 + 0.9*u
			if rng.IntN(2) == 0 {
				v = -v
			}
			d[i] = float32(v)
		}
	}
	return t.SetRequiresGrad(!s.Fixed)
}

// Mismatch describes the first disagreement found by Check.
type Mismatch struct {
	Input, Index      int
	Analytic, Numeric float64
}

func (m Mismatch) Error() string {
	return fmt.Sprintf("input %d element %d: analytic %.6g, numeric %.6g", m.Input, m.Index, m.Analytic, m.Numeric)
}

// Check compares the tape's gradients of L = Σ f(inputs) ⊙ r with
// central differences and returns the first mismatch beyond tolerance.
func Check(seed uint64, specs []Input, f func(tp *core.Tape, x []*core.Tensor) *core.Tensor) error {
	rng := rand.New(rand.NewPCG(seed, 1))
	xs := make([]*core.Tensor, len(specs))
	for i, s := range specs {
		xs[i] = makeInput(rng, s)
	}
	tp := core.NewTape()
	out := f(tp, xs)
	r := make([]float32, out.Len())
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	tp.BackwardFrom(out, r)
	loss := func() float64 {
		o := f(nil, xs)
		var s float64
		for i, v := range o.Data() {
			s += float64(v) * float64(r[i])
		}
		return s
	}
	for k, x := range xs {
		if specs[k].Fixed {
			if x.Grad() != nil {
				return fmt.Errorf("input %d is fixed but received a gradient", k)
			}
			continue
		}
		var scale float64 = 1
		for _, g := range x.Grad() {
			scale = max(scale, math.Abs(float64(g)))
		}
		xd := x.Data()
		for i := range xd {
			orig := xd[i]
			xd[i] = orig + Eps
			hi := float64(xd[i])
			lp := loss()
			xd[i] = orig - Eps
			lo := float64(xd[i])
			lm := loss()
			xd[i] = orig
			numeric := (lp - lm) / (hi - lo)
			var analytic float64
			if g := x.Grad(); g != nil {
				analytic = float64(g[i])
			}
			diff := math.Abs(analytic - numeric)
			if diff > AbsTol*scale && diff > RelTol*max(math.Abs(analytic), math.Abs(numeric)) {
				return Mismatch{Input: k, Index: i, Analytic: analytic, Numeric: numeric}
			}
		}
	}
	return nil
}

// Case is one entry of a table of gradient checks: F, on inputs drawn as
// Inputs says, checked by Check. It is a plain struct type, so a test may
// list its cases as a type of its own defined from it.
type Case = struct {
	Name   string
	Inputs []Input
	F      func(tp *core.Tape, x []*core.Tensor) *core.Tensor
}

// Run checks every case in a subtest of its name, case i with the seed
// first+i.
func Run[C ~Case](t *testing.T, first uint64, cases []C) {
	t.Helper()
	for i, c := range cases {
		c := Case(c)
		t.Run(c.Name, func(t *testing.T) {
			if err := Check(first+uint64(i), c.Inputs, c.F); err != nil {
				t.Error(err)
			}
		})
	}
}
