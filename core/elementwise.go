package core

import (
	"fmt"
	"math"

	"github.com/ravestation/rave/core/internal/sgemm"
)

// unaryKind selects an element-wise function. Each kind has a forward
// y = f(x) and a derivative written in terms of x and y.
type unaryKind int

const (
	kindLeakyReLU unaryKind = iota
	kindTanh
	kindSigmoid
	kindSoftplus
	kindExp
	kindLog
	kindAbs
	kindPow
	kindScale
	kindAddScalar
)

var unaryNames = [...]string{"leaky_relu", "tanh", "sigmoid", "softplus", "exp", "log", "abs", "pow", "scale", "add_scalar"}

// unaryOp is the one op behind every element-wise function; p is its
// parameter (slope, exponent, factor or offset).
type unaryOp struct {
	kind unaryKind
	p    float32
	x, y *Tensor
}

func (tp *Tape) unary(kind unaryKind, p float32, x *Tensor) *Tensor {
	rec := tp.record1(x)
	y := tp.output(rec, x.shape)
	unaryForward(kind, p, y.data, x.data)
	if rec {
		tp.push(&unaryOp{kind: kind, p: p, x: x, y: y}, y)
	}
	return y
}

// softplusThreshold mirrors torch.nn.functional.softplus(beta=1,
// threshold=20): above it the function is the identity.
const softplusThreshold = 20

// unaryCost is the rough cost of one element of each kind relative to a
// plain arithmetic loop, for the parallel split.
func unaryCost(kind unaryKind) int {
	switch kind {
	case kindTanh, kindSigmoid, kindSoftplus, kindExp, kindLog, kindPow:
		return 16
	}
	return 1
}

func unaryForward(kind unaryKind, p float32, y, x []float32) {
	y = y[:len(x)]
	parallelElems(len(x), unaryCost(kind), func(lo, hi int) {
		unaryRange(kind, p, y[lo:hi], x[lo:hi])
	})
}

func unaryRange(kind unaryKind, p float32, y, x []float32) {
	y = y[:len(x)]
	switch kind {
	case kindLeakyReLU:
		sgemm.LeakyReLU(y, x, p)
	case kindTanh:
		for i, v := range x {
			y[i] = float32(math.Tanh(float64(v)))
		}
	case kindSigmoid:
		for i, v := range x {
			y[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case kindSoftplus:
		for i, v := range x {
			if v > softplusThreshold {
				y[i] = v
			} else {
				y[i] = float32(math.Log1p(math.Exp(float64(v))))
			}
		}
	case kindExp:
		for i, v := range x {
			y[i] = float32(math.Exp(float64(v)))
		}
	case kindLog:
		for i, v := range x {
			y[i] = float32(math.Log(float64(v)))
		}
	case kindAbs:
		for i, v := range x {
			y[i] = math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
		}
	case kindPow:
		switch p {
		case 2:
			for i, v := range x {
				y[i] = v * v
			}
		case 0.5:
			for i, v := range x {
				y[i] = float32(math.Sqrt(float64(v)))
			}
		default:
			for i, v := range x {
				y[i] = float32(math.Pow(float64(v), float64(p)))
			}
		}
	case kindScale:
		for i, v := range x {
			y[i] = v * p
		}
	case kindAddScalar:
		for i, v := range x {
			y[i] = v + p
		}
	default:
		panic(fmt.Sprintf("core: unknown unary kind %d", kind))
	}
}

func (o *unaryOp) backward() {
	gy := o.y.grad
	if gy == nil || !o.x.requiresGrad {
		return
	}
	gx, fresh := o.x.gradOut()
	cost := 1
	if o.kind == kindSoftplus || (o.kind == kindPow && o.p != 2) {
		cost = 16
	}
	parallelElems(len(gy), cost, func(lo, hi int) {
		if fresh && o.assignRange(gx[lo:hi], gy[lo:hi], o.x.data[lo:hi]) {
			return
		}
		if fresh {
			clear(gx[lo:hi])
		}
		o.backwardRange(gx[lo:hi], gy[lo:hi], o.x.data[lo:hi], o.y.data[lo:hi])
	})
}

// assignRange sets gx (instead of adding into it) for the kinds that matter
// most for memory traffic, and reports whether it did.
func (o *unaryOp) assignRange(gx, gy, x []float32) bool {
	gx, x = gx[:len(gy)], x[:len(gy)]
	switch o.kind {
	case kindLeakyReLU:
		sgemm.LeakyReLUGrad(gx, gy, x, o.p, false)
	case kindAbs:
		for i, g := range gy {
			gx[i] = g * sign(x[i])
		}
	case kindScale:
		p := o.p
		for i, g := range gy {
			gx[i] = g * p
		}
	case kindAddScalar:
		copy(gx, gy)
	default:
		return false
	}
	return true
}

// sign returns 1, −1 or 0 (±0, NaN) for x, by selects rather than
// branches: the signs are random.
func sign(x float32) float32 {
	s := uint32(0)
	if x > 0 {
		s = 0x3f800000 // 1
	}
	if x < 0 {
		s = 0xbf800000 // −1
	}
	return math.Float32frombits(s)
}

func (o *unaryOp) backwardRange(gx, gy, x, y []float32) {
	gx, x, y = gx[:len(gy)], x[:len(gy)], y[:len(gy)]
	p := o.p
	switch o.kind {
	case kindLeakyReLU:
		sgemm.LeakyReLUGrad(gx, gy, x, p, true)
	case kindTanh:
		for i, g := range gy {
			gx[i] += g * (1 - y[i]*y[i])
		}
	case kindSigmoid:
		for i, g := range gy {
			gx[i] += g * y[i] * (1 - y[i])
		}
	case kindSoftplus:
		for i, g := range gy {
			if x[i] > softplusThreshold {
				gx[i] += g
			} else {
				gx[i] += g * float32(1/(1+math.Exp(-float64(x[i]))))
			}
		}
	case kindExp:
		for i, g := range gy {
			gx[i] += g * y[i]
		}
	case kindLog:
		for i, g := range gy {
			gx[i] += g / x[i]
		}
	case kindAbs:
		for i, g := range gy {
			gx[i] += g * sign(x[i])
		}
	case kindPow:
		if p == 2 {
			for i, g := range gy {
				gx[i] += g * 2 * x[i]
			}
			break
		}
		for i, g := range gy {
			gx[i] += g * p * float32(math.Pow(float64(x[i]), float64(p-1)))
		}
	case kindScale:
		for i, g := range gy {
			gx[i] += g * p
		}
	case kindAddScalar:
		addTo(gx, gy)
	}
}

// LeakyReLU returns x where x ≥ 0 and slope·x elsewhere (torch.nn.LeakyReLU).
func (tp *Tape) LeakyReLU(x *Tensor, slope float32) *Tensor { return tp.unary(kindLeakyReLU, slope, x) }

// Tanh returns tanh(x) element-wise.
func (tp *Tape) Tanh(x *Tensor) *Tensor { return tp.unary(kindTanh, 0, x) }

// Sigmoid returns 1/(1+e^(−x)) element-wise.
func (tp *Tape) Sigmoid(x *Tensor) *Tensor { return tp.unary(kindSigmoid, 0, x) }

// Softplus returns log(1+e^x) element-wise, and x itself above 20, as
// torch.nn.functional.softplus does with its defaults.
func (tp *Tape) Softplus(x *Tensor) *Tensor { return tp.unary(kindSoftplus, 0, x) }

// Exp returns e^x element-wise.
func (tp *Tape) Exp(x *Tensor) *Tensor { return tp.unary(kindExp, 0, x) }

// Log returns the natural logarithm element-wise.
func (tp *Tape) Log(x *Tensor) *Tensor { return tp.unary(kindLog, 0, x) }

// Abs returns |x| element-wise; its derivative at 0 is 0, as in PyTorch.
func (tp *Tape) Abs(x *Tensor) *Tensor { return tp.unary(kindAbs, 0, x) }

// Pow returns x^p element-wise.
func (tp *Tape) Pow(x *Tensor, p float32) *Tensor { return tp.unary(kindPow, p, x) }

// Sqrt returns √x element-wise.
func (tp *Tape) Sqrt(x *Tensor) *Tensor { return tp.unary(kindPow, 0.5, x) }

// Square returns x² element-wise.
func (tp *Tape) Square(x *Tensor) *Tensor { return tp.unary(kindPow, 2, x) }

// Scale returns c·x.
func (tp *Tape) Scale(x *Tensor, c float32) *Tensor { return tp.unary(kindScale, c, x) }

// AddScalar returns x + c.
func (tp *Tape) AddScalar(x *Tensor, c float32) *Tensor { return tp.unary(kindAddScalar, c, x) }
