package core_test

import (
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/gradcheck"
)

// gradCase is a gradient check of the table (gradcheck.Run).
type gradCase gradcheck.Case

// bias returns the third input of a convolution's case, its bias, or nil
// for a case without one.
func bias(x []*core.Tensor) *core.Tensor {
	if len(x) > 2 {
		return x[2]
	}
	return nil
}

func unaryCase(name string, kind gradcheck.Kind, f func(tp *core.Tape, x *core.Tensor) *core.Tensor) gradCase {
	return gradCase{name, []gradcheck.Input{gradcheck.In(kind, 2, 3, 7)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return f(tp, x[0]) }}
}

func gradCases() []gradCase {
	cases := []gradCase{
		unaryCase("leaky_relu", gradcheck.AwayZero, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.LeakyReLU(x, 0.2) }),
		unaryCase("tanh", gradcheck.Signed, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Tanh(x) }),
		unaryCase("sigmoid", gradcheck.Signed, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Sigmoid(x) }),
		unaryCase("softplus", gradcheck.Signed, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Softplus(x) }),
		unaryCase("softplus_above_threshold", gradcheck.Positive, func(tp *core.Tape, x *core.Tensor) *core.Tensor {
			return tp.Softplus(tp.AddScalar(x, 20))
		}),
		unaryCase("exp", gradcheck.Signed, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Exp(x) }),
		unaryCase("log", gradcheck.Positive, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Log(x) }),
		unaryCase("abs", gradcheck.AwayZero, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Abs(x) }),
		unaryCase("pow_2.3", gradcheck.Positive, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Pow(x, 2.3) }),
		unaryCase("pow_3_signed", gradcheck.Signed, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Pow(x, 3) }),
		unaryCase("sqrt", gradcheck.Positive, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Sqrt(x) }),
		unaryCase("square", gradcheck.Signed, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Square(x) }),
		unaryCase("scale", gradcheck.Signed, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.Scale(x, -1.7) }),
		unaryCase("add_scalar", gradcheck.Signed, func(tp *core.Tape, x *core.Tensor) *core.Tensor { return tp.AddScalar(x, 0.3) }),
	}
	binaries := []struct {
		name string
		f    func(tp *core.Tape, a, b *core.Tensor) *core.Tensor
		bk   gradcheck.Kind
	}{
		{"add", (*core.Tape).Add, gradcheck.Signed},
		{"sub", (*core.Tape).Sub, gradcheck.Signed},
		{"mul", (*core.Tape).Mul, gradcheck.Signed},
		{"div", (*core.Tape).Div, gradcheck.Positive},
	}
	shapes := []struct {
		name string
		a, b []int
	}{
		{"same", []int{2, 3, 5}, []int{2, 3, 5}},
		{"channel", []int{2, 3, 5}, []int{3, 1}},
		{"both_stretch", []int{2, 1, 5}, []int{1, 3, 1}},
		{"scalar", []int{3, 4}, []int{}},
	}
	for _, op := range binaries {
		for _, s := range shapes {
			f := op.f
			cases = append(cases, gradCase{op.name + "_" + s.name,
				[]gradcheck.Input{gradcheck.In(gradcheck.Signed, s.a...), gradcheck.In(op.bk, s.b...)},
				func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return f(tp, x[0], x[1]) }})
		}
	}
	cases = append(cases,
		gradCase{"sum_all", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.Sum(x[0], false) }},
		gradCase{"sum_axes_0_2_keep", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.Sum(x[0], true, 0, 2) }},
		gradCase{"mean_axis_1", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.Mean(x[0], false, 1) }},
		gradCase{"mean_last_negative_axis", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.Mean(x[0], false, -1) }},
		gradCase{"reshape", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return tp.Mul(tp.Reshape(x[0], 6, -1), tp.Reshape(x[0], 6, 5))
		}},
		gradCase{"slice_channels", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 5, 7)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.Slice(x[0], 1, 1, 4) }},
		gradCase{"slice_time", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 9)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.Slice(x[0], -1, 2, 7) }},
		gradCase{"concat_channels", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5), gradcheck.In(gradcheck.Signed, 2, 1, 5)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return tp.Concat(1, x[0], x[1], x[0])
		}},
		gradCase{"concat_time_one_fixed", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5), gradcheck.Const(gradcheck.Signed, 2, 3, 2)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return tp.Concat(2, x[0], x[1])
		}},
	)
	for _, mode := range []core.PadMode{core.PadZero, core.PadReflect, core.PadReplicate} {
		cases = append(cases, gradCase{"pad_" + mode.String(), []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 7)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return tp.Pad(x[0], 3, 5, mode)
		}})
	}
	convs := []struct {
		name         string
		B, Cin, T    int
		Cout, K      int
		p            core.ConvParams
		bias, fixedW bool
	}{
		{"k3_same", 2, 3, 11, 4, 3, core.ConvParams{PadLeft: 1, PadRight: 1}, true, false},
		{"k1", 1, 5, 7, 3, 1, core.ConvParams{}, true, false},
		{"stride2_odd", 2, 2, 13, 3, 5, core.ConvParams{Stride: 2, PadLeft: 2, PadRight: 2}, true, false},
		{"dilation3", 1, 2, 17, 2, 3, core.ConvParams{Dilation: 3, PadLeft: 3, PadRight: 3}, false, false},
		{"groups2", 2, 4, 9, 6, 3, core.ConvParams{Groups: 2, PadLeft: 1, PadRight: 1}, true, false},
		{"depthwise_stride4", 1, 4, 23, 8, 9, core.ConvParams{Groups: 4, Stride: 4, PadLeft: 4, PadRight: 4}, true, false},
		{"reflect", 2, 2, 10, 3, 5, core.ConvParams{PadLeft: 2, PadRight: 2, PadMode: core.PadReflect}, true, false},
		{"reflect_stride2_dil2", 1, 3, 12, 2, 3, core.ConvParams{Stride: 2, Dilation: 2, PadLeft: 2, PadRight: 2, PadMode: core.PadReflect}, true, false},
		{"replicate_asym", 2, 2, 8, 2, 4, core.ConvParams{PadLeft: 1, PadRight: 2, PadMode: core.PadReplicate}, true, false},
		{"causal", 2, 3, 9, 2, 3, core.ConvParams{Dilation: 2, PadLeft: 4}, true, false},
		{"padding_longer_than_input", 1, 2, 3, 2, 3, core.ConvParams{Dilation: 5, PadLeft: 5, PadRight: 5}, true, false},
		{"valid_no_pad", 2, 3, 9, 2, 4, core.ConvParams{}, true, false},
		{"fixed_weight", 2, 3, 9, 2, 3, core.ConvParams{PadLeft: 1, PadRight: 1}, false, true},
	}
	for _, c := range convs {
		specs := []gradcheck.Input{gradcheck.In(gradcheck.Signed, c.B, c.Cin, c.T), gradcheck.In(gradcheck.Signed, c.Cout, c.Cin/max(c.p.Groups, 1), c.K)}
		if c.fixedW {
			specs[1].Fixed = true
		}
		if c.bias {
			specs = append(specs, gradcheck.In(gradcheck.Signed, c.Cout))
		}
		p := c.p
		cases = append(cases, gradCase{"conv1d_" + c.name, specs, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.Conv1d(x[0], x[1], bias(x), p) }})
		// The same convolution with LeakyReLU fused on its input; x away
		// from 0 so the finite differences do not straddle the kink.
		lspecs := append([]gradcheck.Input{gradcheck.In(gradcheck.AwayZero, c.B, c.Cin, c.T)}, specs[1:]...)
		cases = append(cases, gradCase{"leaky_conv1d_" + c.name, lspecs, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.LeakyConv1d(x[0], x[1], bias(x), 0.2, p) }})
	}
	convTs := []struct {
		name      string
		B, Cin, T int
		Og, K     int
		p         core.ConvTransposeParams
		bias      bool
	}{
		{"stride2_k4_pad1", 2, 3, 5, 2, 4, core.ConvTransposeParams{Stride: 2, Padding: 1}, true},
		{"stride4_k8_pad2_batch1", 1, 2, 4, 3, 8, core.ConvTransposeParams{Stride: 4, Padding: 2}, true},
		{"stride3_k5_outpad1_groups2", 2, 4, 5, 1, 5, core.ConvTransposeParams{Stride: 3, Groups: 2, OutputPadding: 1}, true},
		{"dilation2", 1, 2, 6, 2, 3, core.ConvTransposeParams{Dilation: 2, Padding: 1}, false},
		{"stride1", 2, 2, 7, 3, 3, core.ConvTransposeParams{Padding: 1}, true},
	}
	for _, c := range convTs {
		specs := []gradcheck.Input{gradcheck.In(gradcheck.Signed, c.B, c.Cin, c.T), gradcheck.In(gradcheck.Signed, c.Cin, c.Og, c.K)}
		if c.bias {
			specs = append(specs, gradcheck.In(gradcheck.Signed, c.Og*max(c.p.Groups, 1)))
		}
		p := c.p
		cases = append(cases, gradCase{"conv_transpose1d_" + c.name, specs, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.ConvTranspose1d(x[0], x[1], bias(x), p) }})
	}
	for _, training := range []bool{true, false} {
		name := "batch_norm_eval"
		if training {
			name = "batch_norm_train"
		}
		cases = append(cases, gradCase{name, []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5), gradcheck.In(gradcheck.Signed, 3), gradcheck.In(gradcheck.Signed, 3)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			bn := core.NewBatchNorm(3)
			bn.RunningMean = []float32{0.1, -0.2, 0.3}
			bn.RunningVar = []float32{0.5, 1.5, 2}
			return tp.BatchNorm(x[0], x[1], x[2], bn, training)
		}})
	}
	cases = append(cases,
		gradCase{"avg_pool_k4_s2_p1", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 11)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.AvgPool1d(x[0], 4, 2, 1) }},
		gradCase{"avg_pool_k3_s3", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 1, 2, 10)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return tp.AvgPool1d(x[0], 3, 3, 0) }},
		gradCase{"composition_shared_input", []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 3, 5)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			// x feeds two branches; gradients must add up.
			return tp.Mul(tp.Tanh(x[0]), tp.Sigmoid(tp.Scale(x[0], 2)))
		}},
	)
	return cases
}

func TestGradients(t *testing.T) { gradcheck.Run(t, 1, gradCases()) }

// brokenTanh has a deliberately wrong derivative (1 − y instead of 1 − y²);
// the harness must reject it, or it could not catch a real mistake.
type brokenTanh struct{ x, y *core.Tensor }

func (o *brokenTanh) Backward() {
	gx := o.x.EnsureGrad()
	for i, g := range o.y.Grad() {
		gx[i] += g * (1 - o.y.Data()[i])
	}
}

func TestGradCheckCatchesWrongBackward(t *testing.T) {
	broken := func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
		y := (*core.Tape)(nil).Tanh(x[0])
		tp.Record(&brokenTanh{x: x[0], y: y}, y, x[0])
		return y
	}
	if err := gradcheck.Check(1, []gradcheck.Input{gradcheck.In(gradcheck.Signed, 3, 4)}, broken); err == nil {
		t.Fatal("checkGrad accepted a wrong derivative")
	}
	dropped := func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
		return tp.Add(x[0], x[1].Detach()) // gradient to x[1] is lost
	}
	if err := gradcheck.Check(1, []gradcheck.Input{gradcheck.In(gradcheck.Signed, 3), gradcheck.In(gradcheck.Signed, 3)}, dropped); err == nil {
		t.Fatal("checkGrad accepted a missing gradient")
	}
}
