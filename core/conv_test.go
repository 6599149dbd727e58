package core_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// reflectIndex is PyTorch's reflect padding written independently of core.
func padIndex(p, n int, mode core.PadMode) int {
	for p < 0 || p >= n {
		switch mode {
		case core.PadZero:
			return -1
		case core.PadReplicate:
			if p < 0 {
				return 0
			}
			return n - 1
		case core.PadReflect:
			if p < 0 {
				p = -p
			} else {
				p = 2*(n-1) - p
			}
		}
	}
	return p
}

// directConv1d is the textbook definition: y[b,o,t] = bias[o] + Σ_c Σ_j
// w[o,c,j] · xpad[b, g·Cg+c, t·s + j·d − padLeft].
func directConv1d(x, w, bias *core.Tensor, p core.ConvParams) []float64 {
	B, Cin, T := x.Dim(0), x.Dim(1), x.Dim(2)
	Cout, Cg, K := w.Dim(0), w.Dim(1), w.Dim(2)
	G, S, D := max(p.Groups, 1), max(p.Stride, 1), max(p.Dilation, 1)
	Tout := (T+p.PadLeft+p.PadRight-D*(K-1)-1)/S + 1
	Og := Cout / G
	xd, wd := x.Data(), w.Data()
	y := make([]float64, B*Cout*Tout)
	for b := range B {
		for o := range Cout {
			g := o / Og
			for t := range Tout {
				var s float64
				if bias != nil {
					s = float64(bias.Data()[o])
				}
				for c := range Cg {
					for j := range K {
						i := padIndex(t*S+j*D-p.PadLeft, T, p.PadMode)
						if i < 0 {
							continue
						}
						s += float64(wd[(o*Cg+c)*K+j]) * float64(xd[(b*Cin+g*Cg+c)*T+i])
					}
				}
				y[(b*Cout+o)*Tout+t] = s
			}
		}
	}
	return y
}

// directConvTranspose1d scatters every input sample through the kernel:
// y[b, g·Og+o, t·s + j·d − pad] += x[b, g·Cg+c, t] · w[g·Cg+c, o, j].
func directConvTranspose1d(x, w, bias *core.Tensor, p core.ConvTransposeParams) []float64 {
	B, Cin, T := x.Dim(0), x.Dim(1), x.Dim(2)
	Og, K := w.Dim(1), w.Dim(2)
	G, S, D := max(p.Groups, 1), max(p.Stride, 1), max(p.Dilation, 1)
	Cg, Cout := Cin/G, Og*G
	Tout := (T-1)*S - 2*p.Padding + D*(K-1) + p.OutputPadding + 1
	y := make([]float64, B*Cout*Tout)
	for b := range B {
		for o := range Cout {
			for t := range Tout {
				if bias != nil {
					y[(b*Cout+o)*Tout+t] = float64(bias.Data()[o])
				}
			}
		}
		for ci := range Cin {
			g := ci / Cg
			for t := range T {
				for o := range Og {
					for j := range K {
						q := t*S + j*D - p.Padding
						if q < 0 || q >= Tout {
							continue
						}
						y[(b*Cout+g*Og+o)*Tout+q] += float64(x.Data()[(b*Cin+ci)*T+t]) * float64(w.Data()[(ci*Og+o)*K+j])
					}
				}
			}
		}
	}
	return y
}

func maxRelErr(got []float32, want []float64) float64 {
	var scale, worst float64
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i, v := range want {
		worst = max(worst, math.Abs(float64(got[i])-v))
	}
	return worst / max(scale, 1e-30)
}

func TestConv1dMatchesDefinition(t *testing.T) {
	cases := []struct {
		name               string
		B, Cin, Cout, T, K int
		p                  core.ConvParams
	}{
		{"same_k7", 2, 16, 8, 50, 7, core.ConvParams{PadLeft: 3, PadRight: 3}},
		{"stride4_k9", 3, 8, 16, 64, 9, core.ConvParams{Stride: 4, PadLeft: 4, PadRight: 4}},
		{"groups2_k5", 1, 8, 6, 17, 5, core.ConvParams{Groups: 2, PadLeft: 2, PadRight: 2}},
		{"dilation9", 2, 4, 4, 41, 3, core.ConvParams{Dilation: 9, PadLeft: 9, PadRight: 9}},
		{"reflect_stride3", 2, 3, 5, 23, 4, core.ConvParams{Stride: 3, PadLeft: 3, PadRight: 2, PadMode: core.PadReflect}},
		{"replicate", 1, 2, 3, 9, 3, core.ConvParams{PadLeft: 2, PadRight: 2, PadMode: core.PadReplicate}},
		{"causal", 2, 4, 4, 30, 3, core.ConvParams{Dilation: 3, PadLeft: 6}},
		{"padding_longer_than_input", 1, 2, 2, 4, 3, core.ConvParams{Dilation: 9, PadLeft: 9, PadRight: 9}},
		{"depthwise_k41_s4", 2, 16, 64, 200, 41, core.ConvParams{Groups: 16, Stride: 4, PadLeft: 20, PadRight: 20}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			x := core.Randn(rng, c.B, c.Cin, c.T)
			w := core.Randn(rng, c.Cout, c.Cin/max(c.p.Groups, 1), c.K)
			b := core.Randn(rng, c.Cout)
			got := (*core.Tape)(nil).Conv1d(x, w, b, c.p)
			want := directConv1d(x, w, b, c.p)
			if got.Len() != len(want) {
				t.Fatalf("Conv1d output has %d values, want %d", got.Len(), len(want))
			}
			if e := maxRelErr(got.Data(), want); e > 1e-5 {
				t.Errorf("Conv1d max relative error %.3g, want ≤ 1e-5", e)
			}
		})
	}
}

func TestConvTranspose1dMatchesDefinition(t *testing.T) {
	cases := []struct {
		name             string
		B, Cin, Og, T, K int
		p                core.ConvTransposeParams
	}{
		{"rave_up4", 2, 16, 8, 12, 8, core.ConvTransposeParams{Stride: 4, Padding: 2}},
		{"rave_up2", 1, 8, 4, 33, 4, core.ConvTransposeParams{Stride: 2, Padding: 1}},
		{"groups2_outpad", 2, 6, 2, 7, 5, core.ConvTransposeParams{Stride: 3, Groups: 2, OutputPadding: 2}},
		{"dilation2", 1, 3, 3, 10, 3, core.ConvTransposeParams{Dilation: 2, Padding: 2}},
		{"short_input_crop", 1, 2, 2, 1, 8, core.ConvTransposeParams{Stride: 4, Padding: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			x := core.Randn(rng, c.B, c.Cin, c.T)
			w := core.Randn(rng, c.Cin, c.Og, c.K)
			b := core.Randn(rng, c.Og*max(c.p.Groups, 1))
			got := (*core.Tape)(nil).ConvTranspose1d(x, w, b, c.p)
			want := directConvTranspose1d(x, w, b, c.p)
			if got.Len() != len(want) {
				t.Fatalf("ConvTranspose1d output has %d values, want %d", got.Len(), len(want))
			}
			if e := maxRelErr(got.Data(), want); e > 1e-5 {
				t.Errorf("ConvTranspose1d max relative error %.3g, want ≤ 1e-5", e)
			}
		})
	}
}

// TestConvDeterministicAcrossThreads checks that forward and backward give
// the same bits on one thread and on all of them.
func TestConvDeterministicAcrossThreads(t *testing.T) {
	c := core.ConvBenchCase{Name: "small", B: 4, Cin: 32, Cout: 48, T: 700, K: 5, Stride: 2, Dilation: 1}
	run := func() (y, gx, gw []float32) {
		rng := rand.New(rand.NewPCG(3, 3))
		x, w, b := c.Inputs(rng)
		tp := core.NewTape()
		out := c.Run(tp, x, w, b)
		seed := make([]float32, out.Len())
		for i := range seed {
			seed[i] = float32(rng.NormFloat64())
		}
		tp.BackwardFrom(out, seed)
		return out.Data(), x.Grad(), w.Grad()
	}
	prev := setProcs(1)
	y1, gx1, gw1 := run()
	setProcs(prev)
	y2, gx2, gw2 := run()
	for name, pair := range map[string][2][]float32{"y": {y1, y2}, "dx": {gx1, gx2}, "dw": {gw1, gw2}} {
		for i := range pair[0] {
			if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
				t.Fatalf("%s[%d] differs between 1 thread and %d: %v vs %v", name, i, prev, pair[0][i], pair[1][i])
			}
		}
	}
}
