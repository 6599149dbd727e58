package prior

import (
	"fmt"
	"math"

	"github.com/ravestation/rave/core"
)

// xentOp is the fused log-softmax + negative log-likelihood, kept with the
// softmax probabilities its backward needs.
type xentOp struct {
	logits, out *core.Tensor
	probs       []float32
	targets     []int32
	N, Q, T     int
}

// CrossEntropy returns the mean over N·T positions of −log softmax(x)[y]
// for logits (N, Q, T), classes along axis 1, and targets (N·T, row-major
// (N, T)) in [0, Q): torch.nn.functional.cross_entropy on (N, Q, T) with
// reduction "mean". The result is a scalar in nats. The softmax is taken in
// float64 after subtracting the column maximum.
func CrossEntropy(tp *core.Tape, logits *core.Tensor, targets []int32) *core.Tensor {
	sh := logits.Shape()
	if len(sh) != 3 {
		panic(fmt.Sprintf("prior: CrossEntropy: logits %v must be (N, Q, T)", sh))
	}
	N, Q, T := sh[0], sh[1], sh[2]
	if len(targets) != N*T {
		panic(fmt.Sprintf("prior: CrossEntropy: %d targets for logits %v", len(targets), sh))
	}
	x := logits.Data()
	probs := make([]float32, len(x))
	var total float64
	for n := range N {
		base := n * Q * T
		for t := range T {
			y := int(targets[n*T+t])
			if y < 0 || y >= Q {
				panic(fmt.Sprintf("prior: CrossEntropy: target %d outside [0, %d)", y, Q))
			}
			m := math.Inf(-1)
			for q := range Q {
				m = max(m, float64(x[base+q*T+t]))
			}
			var s float64
			for q := range Q {
				e := math.Exp(float64(x[base+q*T+t]) - m)
				probs[base+q*T+t] = float32(e)
				s += e
			}
			for q := range Q {
				probs[base+q*T+t] = float32(float64(probs[base+q*T+t]) / s)
			}
			total += m + math.Log(s) - float64(x[base+y*T+t])
		}
	}
	out := core.Scalar(float32(total / float64(max(N*T, 1))))
	tp.Record(&xentOp{logits: logits, out: out, probs: probs, targets: targets, N: N, Q: Q, T: T}, out, logits)
	return out
}

// Backward adds g·(softmax − onehot)/(N·T) to the logits' gradient.
func (o *xentOp) Backward() {
	g := o.out.Grad()
	if g == nil || !o.logits.RequiresGrad() {
		return
	}
	scale := g[0] / float32(max(o.N*o.T, 1))
	gx := o.logits.EnsureGrad()
	for i, p := range o.probs {
		gx[i] += scale * p
	}
	for n := range o.N {
		for t := range o.T {
			y := int(o.targets[n*o.T+t])
			gx[n*o.Q*o.T+y*o.T+t] -= scale
		}
	}
}
