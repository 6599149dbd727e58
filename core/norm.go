package core

import (
	"fmt"
	"math"
)

// BatchNorm holds the running statistics of a 1-D batch normalisation
// layer (torch.nn.BatchNorm1d) over the channels of (B, C, T) inputs.
type BatchNorm struct {
	// RunningMean and RunningVar are the running statistics (buffers).
	RunningMean, RunningVar []float32
	// Eps is added to the variance (PyTorch default 1e-5).
	Eps float32
	// Momentum weighs the newest batch in the running statistics
	// (PyTorch default 0.1).
	Momentum float32
	// BatchesTracked counts training batches seen.
	BatchesTracked int64
}

// NewBatchNorm returns running statistics for c channels with PyTorch's
// initial values (mean 0, variance 1, eps 1e-5, momentum 0.1).
func NewBatchNorm(c int) *BatchNorm {
	v := make([]float32, c)
	for i := range v {
		v[i] = 1
	}
	return &BatchNorm{RunningMean: make([]float32, c), RunningVar: v, Eps: 1e-5, Momentum: 0.1}
}

type batchNormOp struct {
	x, gamma, beta, y *Tensor
	// mean and rstd are the statistics used per channel; x̂ is recomputed
	// from them in the backward pass, bit for bit as the forward made it.
	mean, rstd []float64
	training   bool
}

// BatchNorm normalises x (B, C, T) per channel and applies the affine
// gamma, beta (C). In training mode it uses the batch statistics (biased
// variance) and updates bn's running statistics with the unbiased variance,
// as PyTorch does; otherwise it uses the running statistics.
func (tp *Tape) BatchNorm(x, gamma, beta *Tensor, bn *BatchNorm, training bool) *Tensor {
	if len(x.shape) != 3 {
		panic(fmt.Sprintf("core: BatchNorm: input %v must be (B, C, T)", x.shape))
	}
	B, C, T := x.shape[0], x.shape[1], x.shape[2]
	if gamma.Len() != C || beta.Len() != C || len(bn.RunningMean) != C {
		panic(fmt.Sprintf("core: BatchNorm: %d channels, parameters have %d", C, gamma.Len()))
	}
	n := B * T
	rec := tp.record(x, gamma, beta)
	y := tp.output(rec, x.shape)
	means := make([]float64, C)
	rstd := make([]float64, C)
	split.For(C, 3*x.Len(), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var mean, variance float64
			if training {
				for b := range B {
					mean += sum64(x.data[(b*C+c)*T:][:T])
				}
				mean /= float64(n)
				for b := range B {
					variance += sqDev64(x.data[(b*C+c)*T:][:T], mean)
				}
				variance /= float64(n)
				m := float64(bn.Momentum)
				bn.RunningMean[c] = float32((1-m)*float64(bn.RunningMean[c]) + m*mean)
				unbiased := variance
				if n > 1 {
					unbiased = variance * float64(n) / float64(n-1)
				}
				bn.RunningVar[c] = float32((1-m)*float64(bn.RunningVar[c]) + m*unbiased)
			} else {
				mean, variance = float64(bn.RunningMean[c]), float64(bn.RunningVar[c])
			}
			r := 1 / math.Sqrt(variance+float64(bn.Eps))
			means[c], rstd[c] = mean, r
			g, bt := gamma.data[c], beta.data[c]
			for b := range B {
				off := (b*C + c) * T
				yr := y.data[off : off+T]
				for i, v := range x.data[off : off+T] {
					h := float32((float64(v) - mean) * r)
					yr[i] = h*g + bt
				}
			}
		}
	})
	if training {
		bn.BatchesTracked++
	}
	if rec {
		tp.push(&batchNormOp{x: x, gamma: gamma, beta: beta, y: y, mean: means, rstd: rstd, training: training}, y)
	}
	return y
}

// sqDev64 returns Σ (s[i] − mean)² in float64.
func sqDev64(s []float32, mean float64) float64 {
	var a0, a1 float64
	i := 0
	for ; i+2 <= len(s); i += 2 {
		d0 := float64(s[i]) - mean
		d1 := float64(s[i+1]) - mean
		a0 += d0 * d0
		a1 += d1 * d1
	}
	for ; i < len(s); i++ {
		d := float64(s[i]) - mean
		a0 += d * d
	}
	return a0 + a1
}

func (o *batchNormOp) backward() {
	gy := o.y.grad
	if gy == nil {
		return
	}
	B, C, T := o.x.shape[0], o.x.shape[1], o.x.shape[2]
	n := float64(B * T)
	var gx, gg, gb []float32
	var fresh bool
	if o.x.requiresGrad {
		gx, fresh = o.x.gradOut()
	}
	if o.gamma.requiresGrad {
		gg = o.gamma.ensureGrad()
	}
	if o.beta.requiresGrad {
		gb = o.beta.ensureGrad()
	}
	xd := o.x.data
	split.For(C, 3*len(gy), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			mean, r := o.mean[c], o.rstd[c]
			var sumG, sumGH float64
			for b := range B {
				off := (b*C + c) * T
				xr := xd[off : off+T]
				for i, g := range gy[off : off+T] {
					h := float32((float64(xr[i]) - mean) * r)
					sumG += float64(g)
					sumGH += float64(g) * float64(h)
				}
			}
			if gg != nil {
				gg[c] += float32(sumGH)
			}
			if gb != nil {
				gb[c] += float32(sumG)
			}
			if gx == nil {
				continue
			}
			if fresh {
				for b := range B {
					clear(gx[(b*C+c)*T:][:T])
				}
			}
			k := float64(o.gamma.data[c]) * float64(float32(r))
			mg, mgh := sumG/n, sumGH/n
			for b := range B {
				off := (b*C + c) * T
				xr, gr := xd[off:off+T], gx[off:off+T]
				for i, g := range gy[off : off+T] {
					if o.training {
						// dx = γ·rstd·(g − mean(g) − x̂·mean(g·x̂))
						h := float32((float64(xr[i]) - mean) * r)
						gr[i] += float32(k * (float64(g) - mg - float64(h)*mgh))
					} else {
						gr[i] += float32(k * float64(g))
					}
				}
			}
		}
	})
}

type avgPoolOp struct {
	x, y                *Tensor
	kernel, stride, pad int
}

// AvgPool1d averages windows of kernel samples every stride samples along
// the last axis of x, with zero padding pad at both ends counted in the
// average (torch.nn.functional.avg_pool1d with count_include_pad=True).
func (tp *Tape) AvgPool1d(x *Tensor, kernel, stride, pad int) *Tensor {
	if stride <= 0 {
		stride = kernel
	}
	T := x.Dim(-1)
	Tout := (T+2*pad-kernel)/stride + 1
	if kernel <= 0 || Tout <= 0 || pad > kernel/2 {
		panic(fmt.Sprintf("core: AvgPool1d: kernel %d stride %d pad %d on length %d", kernel, stride, pad, T))
	}
	shape := append([]int(nil), x.shape...)
	shape[len(shape)-1] = Tout
	rec := tp.record1(x)
	y := tp.output(rec, shape)
	rows := x.Len() / T
	inv := 1 / float32(kernel)
	for r := range rows {
		src, dst := x.data[r*T:(r+1)*T], y.data[r*Tout:(r+1)*Tout]
		for t := range dst {
			var s float32
			for j := range kernel {
				if p := t*stride + j - pad; p >= 0 && p < T {
					s += src[p]
				}
			}
			dst[t] = s * inv
		}
	}
	if rec {
		tp.push(&avgPoolOp{x: x, y: y, kernel: kernel, stride: stride, pad: pad}, y)
	}
	return y
}

func (o *avgPoolOp) backward() {
	if o.y.grad == nil || !o.x.requiresGrad {
		return
	}
	gx := o.x.ensureGrad()
	T, Tout := o.x.Dim(-1), o.y.Dim(-1)
	inv := 1 / float32(o.kernel)
	for r := range o.x.Len() / T {
		src, dst := o.y.grad[r*Tout:(r+1)*Tout], gx[r*T:(r+1)*T]
		for t, g := range src {
			for j := range o.kernel {
				if p := t*o.stride + j - o.pad; p >= 0 && p < T {
					dst[p] += g * inv
				}
			}
		}
	}
}
