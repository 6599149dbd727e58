package prior

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/ravestation/rave/core"
)

// Config sizes a prior. The zero value is not valid; start from
// [DefaultConfig].
type Config struct {
	// Dims is k, the number of latent dimensions modelled per frame.
	Dims int
	// Classes is the number of quantisation bins per dimension (32).
	Classes int
	// Residual and Skip are the channel counts of the residual stream and
	// of the skip sum (512 and 256 in the reference).
	Residual, Skip int
	// Layers is the number of gated residual units (10).
	Layers int
	// Kernel is the kernel size of the dilated causal convs (3).
	Kernel int
	// Cycle sets the dilations: unit i has dilation 2^(i mod Cycle) (4).
	Cycle int
	// LR is the Adam learning rate (1e-4).
	LR float64
}

// DefaultConfig returns the reference prior (train_prior.py) for dims
// latent dimensions.
func DefaultConfig(dims int) Config {
	return Config{Dims: dims, Classes: 32, Residual: 512, Skip: 256, Layers: 10, Kernel: 3, Cycle: 4, LR: 1e-4}
}

// Validate reports an error if a field is out of range.
func (c Config) Validate() error {
	switch {
	case c.Dims < 1, c.Classes < 2, c.Residual < 1, c.Skip < 1, c.Layers < 1, c.Kernel < 1, c.Cycle < 1, c.Cycle > 30:
		return fmt.Errorf("prior: invalid config %+v", c)
	case !(c.LR > 0):
		return fmt.Errorf("prior: learning rate %v must be positive", c.LR)
	case c.Dims > 1<<12, c.Classes > 1<<16, c.Residual > 1<<14, c.Skip > 1<<14, c.Layers > 1<<10, c.Kernel > 64:
		// Far above any prior; a configuration read from a file must not
		// overflow a layer's size.
		return fmt.Errorf("prior: config %+v is larger than rave supports", c)
	}
	return nil
}

// paramValues returns the number of parameter values of a prior of c
// (New's layout) without allocating them.
func (c Config) paramValues() int {
	R, S, K, DC := c.Residual, c.Skip, c.Kernel, c.Dims*c.Classes
	unit := 2*R*R*K + 2*R + R*R + R + S*R + S
	return R*DC + R + c.Layers*unit + S*S + S + DC*S + DC
}

// Dilation returns the dilation of unit i.
func (c Config) Dilation(i int) int { return 1 << (i % c.Cycle) }

// ReceptiveField returns how many past frames (including the current one)
// the prediction of the next frame can see.
func (c Config) ReceptiveField() int {
	rf := 1
	for i := range c.Layers {
		rf += (c.Kernel - 1) * c.Dilation(i)
	}
	return rf
}

// unit holds the parameters of one gated residual unit.
type unit struct {
	dilW, dilB   *core.Tensor // (2R, R, K), (2R)
	resW, resB   *core.Tensor // (R, R, 1), (R)
	skipW, skipB *core.Tensor // (S, R, 1), (S)
}

// Prior is the autoregressive latent model. Its parameters live in one
// [core.ParamSet].
type Prior struct {
	cfg            Config
	params         *core.ParamSet
	quant          *Quantizer
	preW, preB     *core.Tensor
	units          []unit
	post0W, post0B *core.Tensor
	post1W, post1B *core.Tensor
}

// New builds a prior with PyTorch's default conv initialisation (uniform
// in ±1/√fan_in for weights and biases) drawn from rng. It panics on an
// invalid config.
func New(cfg Config, rng *rand.Rand) *Prior {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	R, S, K, D := cfg.Residual, cfg.Skip, cfg.Kernel, cfg.Dims
	ps := core.NewParamSet()
	p := &Prior{cfg: cfg, params: ps, quant: NewQuantizer(cfg.Classes)}
	p.preW, p.preB = ps.Add("pre.weight", R, D*cfg.Classes, 1), ps.Add("pre.bias", R)
	p.units = make([]unit, cfg.Layers)
	for i := range p.units {
		u := &p.units[i]
		n := "units." + strconv.Itoa(i) + "."
		u.dilW, u.dilB = ps.Add(n+"dilated.weight", 2*R, R, K), ps.Add(n+"dilated.bias", 2*R)
		u.resW, u.resB = ps.Add(n+"residual.weight", R, R, 1), ps.Add(n+"residual.bias", R)
		u.skipW, u.skipB = ps.Add(n+"skip.weight", S, R, 1), ps.Add(n+"skip.bias", S)
	}
	p.post0W, p.post0B = ps.Add("post.0.weight", S, S, 1), ps.Add("post.0.bias", S)
	p.post1W, p.post1B = ps.Add("post.1.weight", D*cfg.Classes, S, 1), ps.Add("post.1.bias", D*cfg.Classes)
	ps.Alloc()
	ts := ps.Params()
	for i := 0; i+1 < len(ts); i += 2 {
		w, b := ts[i], ts[i+1]
		bound := 1 / math.Sqrt(float64(w.Len()/w.Dim(0)))
		for _, t := range []*core.Tensor{w, b} {
			d := t.Data()
			for j := range d {
				d[j] = float32((2*rng.Float64() - 1) * bound)
			}
		}
	}
	return p
}

// Config returns the prior's configuration.
func (p *Prior) Config() Config { return p.cfg }

// Params returns the parameter set.
func (p *Prior) Params() *core.ParamSet { return p.params }

// Quantizer returns the quantiser of the prior's classes.
func (p *Prior) Quantizer() *Quantizer { return p.quant }

// OneHot returns the stacked one-hot encoding (B, k·Classes, T) of the
// class indices idx ((B, k, T) row-major): channel d·Classes+c is 1 where
// dimension d has class c. A negative index leaves its frame all zero.
func (p *Prior) OneHot(idx []int32, B, T int) *core.Tensor {
	D, Q := p.cfg.Dims, p.cfg.Classes
	if len(idx) != B*D*T {
		panic(fmt.Sprintf("prior: OneHot: %d indices for (%d, %d, %d)", len(idx), B, D, T))
	}
	x := core.Zeros(B, D*Q, T)
	xd := x.Data()
	for r := range B * D {
		for t := range T {
			if c := idx[r*T+t]; c >= 0 {
				if int(c) >= Q {
					panic(fmt.Sprintf("prior: OneHot: class %d of %d", c, Q))
				}
				xd[(r*Q+int(c))*T+t] = 1
			}
		}
	}
	return x
}

// Forward returns the logits (B, k·Classes, T) for the class indices idx
// ((B, k, T) row-major, see OneHot); the logits at frame t describe frame
// t+1.
func (p *Prior) Forward(tp *core.Tape, idx []int32, B, T int) *core.Tensor {
	R := p.cfg.Residual
	h := tp.Conv1d(p.OneHot(idx, B, T), p.preW, p.preB, core.ConvParams{})
	var skip *core.Tensor
	for i, u := range p.units {
		d := p.cfg.Dilation(i)
		left, right := core.CausalPadding(p.cfg.Kernel, d)
		a := tp.Conv1d(h, u.dilW, u.dilB, core.ConvParams{Dilation: d, PadLeft: left, PadRight: right})
		g := tp.Mul(tp.Sigmoid(tp.Slice(a, 1, 0, R)), tp.Tanh(tp.Slice(a, 1, R, 2*R)))
		h = tp.Add(h, tp.Conv1d(g, u.resW, u.resB, core.ConvParams{}))
		s := tp.Conv1d(g, u.skipW, u.skipB, core.ConvParams{})
		if skip == nil {
			skip = s
		} else {
			skip = tp.Add(skip, s)
		}
	}
	o := tp.Conv1d(tp.LeakyReLU(skip, 0.2), p.post0W, p.post0B, core.ConvParams{})
	return tp.Conv1d(tp.LeakyReLU(o, 0.2), p.post1W, p.post1B, core.ConvParams{})
}

// Loss quantises the continuous latents z (B, k, T), T ≥ 2, predicts frames
// 1…T−1 from the frames before them and returns the mean cross-entropy (a
// scalar tensor) and its value in nats per dimension and frame. The
// uniform bound is log(Classes).
func (p *Prior) Loss(tp *core.Tape, z *core.Tensor) (*core.Tensor, float64) {
	sh := z.Shape()
	if len(sh) != 3 || sh[1] != p.cfg.Dims || sh[2] < 2 {
		panic(fmt.Sprintf("prior: Loss: latents %v, want (B, %d, T ≥ 2)", sh, p.cfg.Dims))
	}
	B, D, T := sh[0], sh[1], sh[2]
	idx := p.quant.Indices(nil, z)
	in := make([]int32, 0, B*D*(T-1))
	tg := make([]int32, 0, B*D*(T-1))
	for r := range B * D {
		row := idx[r*T : (r+1)*T]
		in = append(in, row[:T-1]...)
		tg = append(tg, row[1:]...)
	}
	logits := p.Forward(tp, in, B, T-1)
	loss := CrossEntropy(tp, tp.Reshape(logits, B*D, p.cfg.Classes, T-1), tg)
	return loss, float64(loss.Item())
}

// ErrNaN is returned when a training step produces a non-finite loss.
var ErrNaN = errors.New("prior: non-finite loss")

// Trainer runs optimisation steps of a prior with Adam (β = 0.9, 0.999,
// PyTorch's defaults, as train_prior.py uses).
type Trainer struct {
	// Prior is the model being trained.
	Prior *Prior
	// Opt is the optimiser over the prior's parameter slab.
	Opt  *core.Adam
	tape *core.Tape
}

// NewTrainer returns a trainer with the learning rate of p's config.
func NewTrainer(p *Prior) *Trainer {
	tp := core.NewTape()
	tp.SetRecycling(true)
	return &Trainer{Prior: p, Opt: core.NewAdam(p.params.Count(), p.cfg.LR, 0.9, 0.999), tape: tp}
}

// Step does one update on the batch of continuous latents z (B, k, T) and
// returns the loss in nats per dimension before the update. A non-finite
// loss returns ErrNaN and leaves the parameters unchanged.
func (tr *Trainer) Step(z *core.Tensor) (float64, error) {
	tp := tr.tape
	tp.Reset()
	ps := tr.Prior.params
	ps.ZeroGrad()
	loss, nats := tr.Prior.Loss(tp, z)
	if math.IsNaN(nats) || math.IsInf(nats, 0) {
		return nats, fmt.Errorf("prior: step %d: %w", tr.Opt.Step+1, ErrNaN)
	}
	tp.Backward(loss)
	tr.Opt.Update(ps.Data(), ps.Grad(), nil)
	return nats, nil
}

// Evaluate returns the cross-entropy in nats per dimension of z (B, k, T)
// without recording gradients.
func (p *Prior) Evaluate(z *core.Tensor) float64 {
	_, nats := p.Loss(nil, z)
	return nats
}
