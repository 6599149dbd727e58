package core_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/gradcheck"
)

// convGradsDirect returns the gradients of Σ conv(x, w, b)·seed with
// respect to x and w computed from the textbook definition in float64.
func convGradsDirect(x, w *core.Tensor, p core.ConvParams, seed []float32) (gx, gw []float64) {
	B, Cin, T := x.Dim(0), x.Dim(1), x.Dim(2)
	Cout, Cg, K := w.Dim(0), w.Dim(1), w.Dim(2)
	G, S, D := max(p.Groups, 1), max(p.Stride, 1), max(p.Dilation, 1)
	Tout := (T+p.PadLeft+p.PadRight-D*(K-1)-1)/S + 1
	Og := Cout / G
	xd, wd := x.Data(), w.Data()
	gx = make([]float64, len(xd))
	gw = make([]float64, len(wd))
	for b := range B {
		for o := range Cout {
			g := o / Og
			for t := range Tout {
				s := float64(seed[(b*Cout+o)*Tout+t])
				for c := range Cg {
					for j := range K {
						i := padIndex(t*S+j*D-p.PadLeft, T, p.PadMode)
						if i < 0 {
							continue
						}
						gx[(b*Cin+g*Cg+c)*T+i] += s * float64(wd[(o*Cg+c)*K+j])
						gw[(o*Cg+c)*K+j] += s * float64(xd[(b*Cin+g*Cg+c)*T+i])
					}
				}
			}
		}
	}
	return gx, gw
}

func maxRelErr64(got []float32, want []float64) float64 {
	var scale, worst float64
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i, v := range want {
		worst = max(worst, math.Abs(float64(got[i])-v))
	}
	return worst / max(scale, 1e-30)
}

// TestConvBlockedAndWinograd checks the blocked im2col paths (blocks of a
// row, groups of rows) and the Winograd path against the definition,
// forward and backward, on a recycling tape and a plain one.
func TestConvBlockedAndWinograd(t *testing.T) {
	cases := []struct {
		name               string
		B, Cin, Cout, T, K int
		p                  core.ConvParams
		budget, width      int
		wino               int
	}{
		{"row_blocks", 3, 4, 6, 301, 5, core.ConvParams{Stride: 1, PadLeft: 2, PadRight: 2}, 64, 32, 1 << 30},
		{"row_blocks_items", 4, 4, 6, 301, 5, core.ConvParams{Stride: 1, PadLeft: 2, PadRight: 2}, 64, 32, 1 << 30},
		{"row_blocks_items_strided", 5, 4, 6, 403, 9, core.ConvParams{Stride: 4, Dilation: 2, PadLeft: 8, PadRight: 8}, 64, 32, 1 << 30},
		{"row_blocks_strided", 2, 4, 6, 403, 9, core.ConvParams{Stride: 4, PadLeft: 4, PadRight: 4}, 64, 32, 1 << 30},
		{"row_blocks_reflect", 2, 3, 4, 200, 3, core.ConvParams{Stride: 1, Dilation: 3, PadLeft: 3, PadRight: 3, PadMode: core.PadReflect}, 64, 32, 1 << 30},
		{"batch_groups", 5, 4, 6, 40, 3, core.ConvParams{Stride: 1, PadLeft: 1, PadRight: 1}, 500, 32, 1 << 30},
		{"batch_groups_uneven", 5, 4, 6, 40, 3, core.ConvParams{Stride: 1, PadLeft: 1, PadRight: 1}, 1200, 32, 1 << 30},
		{"batch_groups_uneven2", 8, 4, 6, 40, 3, core.ConvParams{Stride: 1, PadLeft: 1, PadRight: 1}, 1560, 32, 1 << 30},
		{"batch_groups_grouped", 5, 8, 12, 40, 5, core.ConvParams{Stride: 2, Groups: 4, PadLeft: 2, PadRight: 2}, 500, 32, 1 << 30},
		{"winograd_same", 3, 8, 12, 50, 3, core.ConvParams{Stride: 1, PadLeft: 1, PadRight: 1}, 1 << 18, 512, 8},
		{"winograd_dilated", 2, 8, 8, 61, 3, core.ConvParams{Stride: 1, Dilation: 3, PadLeft: 3, PadRight: 3}, 1 << 18, 512, 8},
		{"winograd_causal", 2, 9, 8, 37, 3, core.ConvParams{Stride: 1, Dilation: 9, PadLeft: 18}, 1 << 18, 512, 8},
		{"winograd_short", 3, 8, 8, 5, 3, core.ConvParams{Stride: 1, Dilation: 2, PadLeft: 2, PadRight: 2}, 1 << 18, 512, 8},
	}
	for _, c := range cases {
		for _, recycle := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/recycle=%v", c.name, recycle), func(t *testing.T) {
				defer core.SetConvTuning(c.budget, c.width, c.wino)()
				rng := rand.New(rand.NewPCG(7, 7))
				x := core.Randn(rng, c.B, c.Cin, c.T).SetRequiresGrad(true)
				w := core.Randn(rng, c.Cout, c.Cin/max(c.p.Groups, 1), c.K).SetRequiresGrad(true)
				b := core.Randn(rng, c.Cout).SetRequiresGrad(true)
				tp := core.NewTape()
				tp.SetRecycling(recycle)
				for range 2 { // the second pass reuses the arena's buffers
					tp.Reset()
					x.ZeroGrad()
					w.ZeroGrad()
					b.ZeroGrad()
					y := tp.Conv1d(x, w, b, c.p)
					if e := maxRelErr64(y.Data(), directConv1d(x, w, b, c.p)); e > 1e-5 {
						t.Fatalf("forward: max relative error %.3g", e)
					}
					seed := make([]float32, y.Len())
					for i := range seed {
						seed[i] = float32(rng.NormFloat64())
					}
					tp.BackwardFrom(y, seed)
					gx, gw := convGradsDirect(x, w, c.p, seed)
					if e := maxRelErr64(x.Grad(), gx); e > 1e-5 {
						t.Fatalf("dx: max relative error %.3g", e)
					}
					if e := maxRelErr64(w.Grad(), gw); e > 1e-5 {
						t.Fatalf("dw: max relative error %.3g", e)
					}
				}
			})
		}
	}
}

// TestConvTransposeBlocked checks the blocked paths of ConvTranspose1d
// against the definition.
func TestConvTransposeBlocked(t *testing.T) {
	for _, budget := range []int{64, 1000, 1500} {
		for _, B := range []int{1, 3, 5, 8} {
			for _, T := range []int{7, 40, 150} {
				testConvTransposeBlocked(t, budget, B, T)
			}
		}
	}
	// Gradients through the finite-difference checker, blocks included.
	defer core.SetConvTuning(64, 32, 1<<30)()
	err := gradcheck.Check(3, []gradcheck.Input{gradcheck.In(gradcheck.Signed, 3, 4, 40), gradcheck.In(gradcheck.Signed, 4, 2, 6)},
		func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return tp.ConvTranspose1d(x[0], x[1], nil, core.ConvTransposeParams{Stride: 3, Padding: 1})
		})
	if err != nil {
		t.Fatal(err)
	}
}

func testConvTransposeBlocked(t *testing.T, budget, B, T int) {
	defer core.SetConvTuning(budget, 32, 1<<30)()
	{
		{
			rng := rand.New(rand.NewPCG(5, uint64(T)))
			x := core.Randn(rng, B, 6, T).SetRequiresGrad(true)
			w := core.Randn(rng, 6, 4, 8).SetRequiresGrad(true)
			b := core.Randn(rng, 4).SetRequiresGrad(true)
			p := core.ConvTransposeParams{Stride: 4, Padding: 2}
			tp := core.NewTape()
			tp.SetRecycling(true)
			y := tp.ConvTranspose1d(x, w, b, p)
			if e := maxRelErr64(y.Data(), directConvTranspose1d(x, w, b, p)); e > 1e-5 {
				t.Fatalf("budget=%d B=%d T=%d: forward max relative error %.3g", budget, B, T, e)
			}
			seed := make([]float32, y.Len())
			for i := range seed {
				seed[i] = float32(rng.NormFloat64())
			}
			tp.BackwardFrom(y, seed)
			// The adjoint of the transposed convolution is the convolution
			// with the same weight: check dx against it.
			gx := (*core.Tape)(nil).Conv1d(core.New(seed, y.Shape()...), w, nil, core.ConvParams{Stride: p.Stride, PadLeft: p.Padding, PadRight: p.Padding})
			if e := maxRelErr(x.Grad(), toF64(gx.Data())); e > 1e-5 {
				t.Fatalf("budget=%d B=%d T=%d: dx max relative error %.3g", budget, B, T, e)
			}
		}
	}
}

func toF64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// TestRecyclingTapeMatchesPlain runs a small network on a plain tape and on
// a recycling one, several steps, and requires bit-identical values and
// leaf gradients, and intermediate gradients handed back.
func TestRecyclingTapeMatchesPlain(t *testing.T) {
	defer core.SetConvTuning(256, 32, 8)()
	rng := rand.New(rand.NewPCG(9, 9))
	x := core.Randn(rng, 2, 8, 64)
	w1 := core.Randn(rng, 8, 8, 3).SetRequiresGrad(true)
	w2 := core.Randn(rng, 8, 4, 4).SetRequiresGrad(true)
	w3 := core.Randn(rng, 8, 8, 3).SetRequiresGrad(true)
	gamma := core.Randn(rng, 8).SetRequiresGrad(true)
	beta := core.Randn(rng, 8).SetRequiresGrad(true)
	leaves := []*core.Tensor{w1, w2, w3, gamma, beta}
	net := func(tp *core.Tape) (*core.Tensor, *core.Tensor) {
		h := tp.Conv1d(x, w1, nil, core.ConvParams{Dilation: 3, PadLeft: 3, PadRight: 3})
		h = tp.BatchNorm(h, gamma, beta, core.NewBatchNorm(8), true)
		h = tp.Add(h, tp.LeakyReLU(h, 0.2))
		h = tp.Conv1d(tp.Scale(h, 0.5), w3, nil, core.ConvParams{Dilation: 1, PadLeft: 1, PadRight: 1}) // Winograd
		u := tp.ConvTranspose1d(tp.Tanh(h), w2, nil, core.ConvTransposeParams{Stride: 2, Padding: 1})
		v := tp.Mul(tp.Slice(u, 1, 0, 2), tp.Sigmoid(tp.Mean(u, true, 1)))
		loss := tp.Mean(tp.Abs(tp.Sub(tp.Reshape(v, -1), tp.Pad(tp.Reshape(tp.Slice(u, 1, 2, 4), -1), 0, 0, core.PadZero))), false)
		return loss, h
	}
	run := func(recycle bool) (vals []float32, grads [][]float32) {
		tp := core.NewTape()
		tp.SetRecycling(recycle)
		for range 3 {
			tp.Reset()
			for _, l := range leaves {
				l.SetGrad(nil)
			}
			loss, h := net(tp)
			vals = append(vals, loss.Item())
			tp.Backward(loss)
			if recycle && h.Grad() != nil {
				t.Fatal("intermediate gradient kept on a recycling tape")
			}
			for _, l := range leaves {
				grads = append(grads, append([]float32(nil), l.Grad()...))
			}
		}
		return vals, grads
	}
	v1, g1 := run(false)
	v2, g2 := run(true)
	for i := range v1 {
		if math.Float32bits(v1[i]) != math.Float32bits(v2[i]) {
			t.Fatalf("loss %d: %v plain, %v recycling", i, v1[i], v2[i])
		}
	}
	for i := range g1 {
		for j := range g1[i] {
			if math.Float32bits(g1[i][j]) != math.Float32bits(g2[i][j]) {
				t.Fatalf("gradient %d[%d]: %v plain, %v recycling", i, j, g1[i][j], g2[i][j])
			}
		}
	}
}

// TestTrainingOpsDeterministicAcrossThreads checks that the Winograd and
// blocked convolutions, the element-wise ops and the reductions give the
// same bits on one thread and on all of them.
func TestTrainingOpsDeterministicAcrossThreads(t *testing.T) {
	defer core.SetConvTuning(1<<12, 64, 16)()
	run := func() [][]float32 {
		rng := rand.New(rand.NewPCG(4, 4))
		x := core.Randn(rng, 4, 16, 3000).SetRequiresGrad(true)
		w := core.Randn(rng, 16, 16, 3).SetRequiresGrad(true)
		w2 := core.Randn(rng, 16, 16, 5).SetRequiresGrad(true)
		w3 := core.Randn(rng, 32, 2, 41).SetRequiresGrad(true)
		tp := core.NewTape()
		tp.SetRecycling(true)
		h := tp.Conv1d(x, w, nil, core.ConvParams{Dilation: 3, PadLeft: 3, PadRight: 3})
		h = tp.Conv1d(tp.LeakyReLU(h, 0.2), w2, nil, core.ConvParams{PadLeft: 2, PadRight: 2})
		h = tp.Conv1d(h, w3, nil, core.ConvParams{Stride: 4, Groups: 8, PadLeft: 20, PadRight: 20})
		loss := tp.Add(tp.Mean(tp.Square(h), false), tp.Sum(tp.Abs(h), false))
		tp.Backward(loss)
		return [][]float32{{loss.Item()}, x.Grad(), w.Grad(), w2.Grad(), w3.Grad()}
	}
	prev := setProcs(1)
	a := run()
	setProcs(prev)
	b := run()
	for i := range a {
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				t.Fatalf("output %d[%d] differs between 1 thread and %d: %v vs %v", i, j, prev, a[i][j], b[i][j])
			}
		}
	}
}

// TestMeanAbsDiffMatchesComposite checks that the fused L1 distance gives
// the bits of Mean(Abs(Sub(a, b))), value and gradients.
func TestMeanAbsDiffMatchesComposite(t *testing.T) {
	for _, n := range []int{1, 7, 300, 8192, 20001} {
		for _, which := range []int{0, 1, 2} { // both, a only, b only
			for _, recycle := range []bool{false, true} {
				run := func(fused bool) []float32 {
					rng := rand.New(rand.NewPCG(uint64(n), 2))
					a := core.Randn(rng, 2, n)
					b := core.Randn(rng, 2, n)
					for i := range 5 { // exact ties: no gradient
						b.Data()[i*7%(2*n)] = a.Data()[i*7%(2*n)]
					}
					a.SetRequiresGrad(which != 2)
					b.SetRequiresGrad(which != 1)
					tp := core.NewTape()
					tp.SetRecycling(recycle)
					// Put both inputs through an op so that their gradients
					// are fresh arena buffers on a recycling tape.
					ea, eb := tp.Scale(a, 1.5), tp.Scale(b, -0.5)
					var loss *core.Tensor
					if fused {
						loss = tp.MeanAbsDiff(ea, eb)
					} else {
						loss = tp.Mean(tp.Abs(tp.Sub(ea, eb)), false)
					}
					out := []float32{loss.Item()}
					tp.Backward(tp.Scale(loss, 3))
					out = append(out, a.Grad()...)
					return append(out, b.Grad()...)
				}
				got, want := run(true), run(false)
				if len(got) != len(want) {
					t.Fatalf("n=%d: %d values, want %d", n, len(got), len(want))
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d which=%d recycle=%v: value %d = %v, composite %v", n, which, recycle, i, got[i], want[i])
					}
				}
			}
		}
	}
	if err := gradcheck.Check(5, []gradcheck.Input{gradcheck.In(gradcheck.Signed, 3, 4), gradcheck.Const(gradcheck.Signed, 3, 4)},
		func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return tp.MeanAbsDiff(tp.Scale(x[0], 10), x[1]) // |a − b| well away from 0
		}); err != nil {
		t.Fatal(err)
	}
}

// TestLeakyConv1dMatchesComposite checks that LeakyConv1d gives the bits of
// Conv1d(LeakyReLU(x)), value and gradients, on every path of the
// convolution (direct and strided im2col, blocked, grouped work items,
// reflect padding, Winograd), on plain and recycling tapes, with x also
// used elsewhere (its gradient accumulates) or needing no gradient.
func TestLeakyConv1dMatchesComposite(t *testing.T) {
	defer core.SetConvTuning(1<<12, 32, 8)()
	for _, c := range []struct {
		name      string
		B, Cin, T int
		Cout, K   int
		p         core.ConvParams
		slope     float32
	}{
		{"k3_same", 2, 4, 300, 6, 3, core.ConvParams{PadLeft: 1, PadRight: 1}, 0.2},
		{"winograd_dil3", 3, 8, 200, 8, 3, core.ConvParams{Dilation: 3, PadLeft: 3, PadRight: 3}, 0.2},
		{"winograd_16to8", 2, 16, 130, 8, 3, core.ConvParams{PadLeft: 1, PadRight: 1}, 0.2},
		{"blocked_k7", 2, 6, 2000, 4, 7, core.ConvParams{PadLeft: 3, PadRight: 3}, 0.2},
		{"stride4_k9", 4, 4, 256, 8, 9, core.ConvParams{Stride: 4, PadLeft: 4, PadRight: 4}, 0.2},
		{"stride4_k9_slope1.5", 4, 4, 256, 8, 9, core.ConvParams{Stride: 4, PadLeft: 4, PadRight: 4}, 1.5},
		{"groups2_k5", 8, 8, 64, 4, 5, core.ConvParams{Groups: 2, PadLeft: 2, PadRight: 2}, 0.2},
		{"reflect_k5", 2, 3, 50, 3, 5, core.ConvParams{PadLeft: 2, PadRight: 2, PadMode: core.PadReflect}, 0.2},
		{"reflect_stride2_negative_slope", 2, 3, 51, 2, 3, core.ConvParams{Stride: 2, PadLeft: 1, PadRight: 1, PadMode: core.PadReflect}, -0.3},
		{"reflect_stride2_slope3", 2, 3, 51, 2, 3, core.ConvParams{Stride: 2, PadLeft: 1, PadRight: 1, PadMode: core.PadReflect}, 3},
	} {
		for _, recycle := range []bool{false, true} {
			for _, mode := range []string{"shared", "only", "fixed_x"} {
				run := func(fused bool) [][]float32 {
					rng := rand.New(rand.NewPCG(21, uint64(c.T)))
					x0 := core.Randn(rng, c.B, c.Cin, c.T).SetRequiresGrad(mode != "fixed_x")
					w := core.Randn(rng, c.Cout, c.Cin/max(c.p.Groups, 1), c.K).SetRequiresGrad(true)
					b := core.Randn(rng, c.Cout).SetRequiresGrad(true)
					tp := core.NewTape()
					tp.SetRecycling(recycle)
					var out [][]float32
					for range 2 { // a second step reuses the recycled buffers
						tp.Reset()
						for _, l := range []*core.Tensor{x0, w, b} {
							l.SetGrad(nil)
						}
						// x is made by an op so that its gradient is a
						// fresh arena buffer on a recycling tape.
						x := tp.Scale(x0, 1.5)
						var y *core.Tensor
						if fused {
							y = tp.LeakyConv1d(x, w, b, c.slope, c.p)
						} else {
							y = tp.Conv1d(tp.LeakyReLU(x, c.slope), w, b, c.p)
						}
						loss := tp.Mean(tp.Square(y), false)
						if mode == "shared" {
							loss = tp.Add(loss, tp.Mean(tp.Tanh(x), false))
						}
						tp.Backward(loss)
						out = append(out, append([]float32(nil), y.Data()...), []float32{loss.Item()})
						for _, l := range []*core.Tensor{x0, w, b} {
							out = append(out, append([]float32(nil), l.Grad()...))
						}
					}
					return out
				}
				got, want := run(true), run(false)
				for i := range want {
					if len(got[i]) != len(want[i]) {
						t.Fatalf("%s recycle=%v %s: output %d has %d values, want %d", c.name, recycle, mode, i, len(got[i]), len(want[i]))
					}
					for j := range want[i] {
						if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
							t.Fatalf("%s recycle=%v %s: output %d[%d] = %v, composite %v", c.name, recycle, mode, i, j, got[i][j], want[i][j])
						}
					}
				}
			}
		}
	}
}

// TestLeakyConv1dWinogradGradients checks LeakyConv1d's gradients by finite
// differences on the Winograd path (narrow layers forced through it).
func TestLeakyConv1dWinogradGradients(t *testing.T) {
	defer core.SetConvTuning(1<<18, 512, 2)()
	for i, p := range []core.ConvParams{{PadLeft: 1, PadRight: 1}, {Dilation: 3, PadLeft: 3, PadRight: 3}} {
		err := gradcheck.Check(uint64(30+i), []gradcheck.Input{gradcheck.In(gradcheck.AwayZero, 2, 3, 14), gradcheck.In(gradcheck.Signed, 4, 3, 3), gradcheck.In(gradcheck.Signed, 4)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				return tp.LeakyConv1d(x[0], x[1], x[2], 0.2, p)
			})
		if err != nil {
			t.Fatalf("dilation %d: %v", max(p.Dilation, 1), err)
		}
	}
}
