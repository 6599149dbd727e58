package prior

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/ravestation/rave/core"
)

// Sampler runs the prior one frame at a time. Each unit keeps a ring
// buffer of its last (Kernel−1)·dilation+1 inputs, so a step costs one
// small matrix–vector product per conv, independent of the history length;
// it computes the same logits as [Prior.Forward] over the whole sequence.
// The weights are packed when the sampler is made: later changes to the
// prior's parameters are not seen. A Sampler is not safe for concurrent
// use.
type Sampler struct {
	p     *Prior
	cfg   Config
	preW  []float32 // (R, k·Q)
	units []cachedUnit
	post0 []float32 // (S, S)
	post1 []float32 // (k·Q, S)
	// scratch
	h, gate, skip, s0, taps, a, logits []float32
	frames                             int
}

type cachedUnit struct {
	dil  []float32 // (2R, K·R): row o is [W[o,:,0] … W[o,:,K−1]]
	res  []float32 // (R, R)
	skip []float32 // (S, R)
	ring []float32 // (span, R) past inputs, zero at the start
	span int       // (K−1)·d + 1
	d    int
}

// NewSampler returns a sampler at the start of a sequence (all past
// inputs zero, as the causal padding of Forward).
func (p *Prior) NewSampler() *Sampler {
	c := p.cfg
	R, S, K, D, Q := c.Residual, c.Skip, c.Kernel, c.Dims, c.Classes
	s := &Sampler{
		p: p, cfg: c,
		preW:   append([]float32(nil), p.preW.Data()...),
		post0:  append([]float32(nil), p.post0W.Data()...),
		post1:  append([]float32(nil), p.post1W.Data()...),
		h:      make([]float32, R),
		gate:   make([]float32, R),
		skip:   make([]float32, S),
		s0:     make([]float32, S),
		taps:   make([]float32, K*R),
		a:      make([]float32, 2*R),
		logits: make([]float32, D*Q),
	}
	s.units = make([]cachedUnit, c.Layers)
	for i, u := range p.units {
		d := c.Dilation(i)
		cu := cachedUnit{d: d, span: (K-1)*d + 1}
		cu.dil = make([]float32, 2*R*K*R)
		w := u.dilW.Data()
		for o := range 2 * R {
			for ci := range R {
				for k := range K {
					cu.dil[o*K*R+k*R+ci] = w[(o*R+ci)*K+k]
				}
			}
		}
		cu.res = append([]float32(nil), u.resW.Data()...)
		cu.skip = append([]float32(nil), u.skipW.Data()...)
		cu.ring = make([]float32, cu.span*R)
		s.units[i] = cu
	}
	return s
}

// Reset returns the sampler to the start of a sequence.
func (s *Sampler) Reset() {
	for i := range s.units {
		clear(s.units[i].ring)
	}
	s.frames = 0
}

// Frames returns how many frames have been fed since the start.
func (s *Sampler) Frames() int { return s.frames }

// matVec sets y = W·x + b for W (len(y), len(x)) row-major. Rows are split
// over goroutines when the product is large; each row is summed the same
// way whatever the split, so results do not depend on the thread count.
func matVec(y, w, x, b []float32) {
	n, m := len(y), len(x)
	rows := func(lo, hi int) {
		for o := lo; o < hi; o++ {
			row := w[o*m : (o+1)*m : (o+1)*m]
			var s0, s1, s2, s3 float32
			j := 0
			for ; j+4 <= m; j += 4 {
				s0 += row[j] * x[j]
				s1 += row[j+1] * x[j+1]
				s2 += row[j+2] * x[j+2]
				s3 += row[j+3] * x[j+3]
			}
			for ; j < m; j++ {
				s0 += row[j] * x[j]
			}
			y[o] = b[o] + (s0 + s1) + (s2 + s3)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || n*m < 1<<16 {
		rows(0, n)
		return
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		wg.Add(1)
		go func() { defer wg.Done(); rows(lo, hi) }()
	}
	wg.Wait()
}

func leaky(v []float32) {
	for i, x := range v {
		if x < 0 {
			v[i] = 0.2 * x
		}
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// Step feeds the class indices of one frame (k; a negative index feeds a
// zero input, as OneHot) and returns the logits (k·Classes, channel
// d·Classes+q) for the next frame. The slice is reused by the next call.
func (s *Sampler) Step(frame []int32) []float32 {
	c := s.cfg
	R, K, Q := c.Residual, c.Kernel, c.Classes
	if len(frame) != c.Dims {
		panic(fmt.Sprintf("prior: Sampler.Step: %d classes, want %d", len(frame), c.Dims))
	}
	p := s.p
	// The 1×1 conv of a one-hot frame sums one weight column per dim.
	copy(s.h, p.preB.Data())
	for d, cls := range frame {
		if cls < 0 {
			continue
		}
		if int(cls) >= Q {
			panic(fmt.Sprintf("prior: Sampler.Step: class %d of %d", cls, Q))
		}
		col := d*Q + int(cls)
		for j := range R {
			s.h[j] += s.preW[j*c.Dims*Q+col]
		}
	}
	clear(s.skip)
	t := s.frames
	for i := range s.units {
		u := &s.units[i]
		copy(u.ring[(t%u.span)*R:], s.h)
		for k := range K {
			back := (K - 1 - k) * u.d
			slot := ((t-back)%u.span + u.span) % u.span
			copy(s.taps[k*R:(k+1)*R], u.ring[slot*R:(slot+1)*R])
		}
		pu := p.units[i]
		matVec(s.a, u.dil, s.taps, pu.dilB.Data())
		for j := range R {
			s.gate[j] = sigmoid(s.a[j]) * float32(math.Tanh(float64(s.a[R+j])))
		}
		matVec(s.s0, u.skip, s.gate, pu.skipB.Data())
		for j, v := range s.s0 {
			s.skip[j] += v
		}
		matVec(s.taps[:R], u.res, s.gate, pu.resB.Data())
		for j := range R {
			s.h[j] += s.taps[j]
		}
	}
	leaky(s.skip)
	matVec(s.s0, s.post0, s.skip, p.post0B.Data())
	leaky(s.s0)
	matVec(s.logits, s.post1, s.s0, p.post1B.Data())
	s.frames++
	return s.logits
}

// softmaxInto writes softmax(logits/temperature) in float64 to dst.
func softmaxInto(dst []float64, logits []float32, temperature float64) {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, float64(v))
	}
	var sum float64
	for i, v := range logits {
		dst[i] = math.Exp((float64(v) - m) / temperature)
		sum += dst[i]
	}
	for i := range dst {
		dst[i] /= sum
	}
}

// GenerateOptions controls [Prior.Generate].
type GenerateOptions struct {
	// Frames is the number of new frames to generate.
	Frames int
	// Temperature divides the logits before sampling; 0 picks the most
	// probable class, 1 samples the model's distribution.
	Temperature float64
	// Prompt, if non-nil, is a (1, k, P) clip of continuous latents to
	// continue; it is quantised and fed before sampling starts.
	Prompt *core.Tensor
}

// Generate samples new latent frames autoregressively and returns their
// dequantised values (1, k, Frames) and class indices ((k, Frames)
// row-major). Without a prompt the first prediction follows an empty
// (all-zero) input frame. Results are fixed by rng's seed.
func (p *Prior) Generate(rng *rand.Rand, opt GenerateOptions) (*core.Tensor, []int32, error) {
	c := p.cfg
	D, Q := c.Dims, c.Classes
	if opt.Frames < 0 || opt.Temperature < 0 || math.IsNaN(opt.Temperature) {
		return nil, nil, fmt.Errorf("prior: generate: %d frames at temperature %v", opt.Frames, opt.Temperature)
	}
	s := p.NewSampler()
	frame := make([]int32, D)
	var logits []float32
	if opt.Prompt != nil {
		sh := opt.Prompt.Shape()
		if len(sh) != 3 || sh[0] != 1 || sh[1] != D || sh[2] < 1 {
			return nil, nil, fmt.Errorf("prior: generate: prompt %v, want (1, %d, P ≥ 1)", sh, D)
		}
		P := sh[2]
		pd := opt.Prompt.Data()
		for t := range P {
			for d := range D {
				frame[d] = p.quant.Index(pd[d*P+t])
			}
			logits = s.Step(frame)
		}
	} else {
		for d := range frame {
			frame[d] = -1
		}
		logits = s.Step(frame)
	}
	T := opt.Frames
	idx := make([]int32, D*T)
	probs := make([]float64, Q)
	for t := range T {
		for d := range D {
			l := logits[d*Q : (d+1)*Q]
			var cls int
			if opt.Temperature == 0 {
				for q, v := range l {
					if v > l[cls] {
						cls = q
					}
				}
			} else {
				softmaxInto(probs, l, opt.Temperature)
				u := rng.Float64()
				cls = Q - 1
				for q, pq := range probs {
					if u < pq {
						cls = q
						break
					}
					u -= pq
				}
			}
			idx[d*T+t] = int32(cls)
			frame[d] = int32(cls)
		}
		if t+1 < T {
			logits = s.Step(frame)
		}
	}
	return p.quant.Values(idx, 1, D, T), idx, nil
}
