package stream

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ravestation/rave/core/internal/panel"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/modelv2"
)

// V2 runs a RAVE v2 model (core/modelv2) on a live stream, buffer by
// buffer, with the semantics of the reference's cached convolutions, as
// Streamer does for v1: every Conv1d keeps its padding's worth of past
// input and pads nothing on the right (the right padding becomes latency),
// the strided ones of the encoder add cached_conv's stride-alignment
// delay, the transposed ones keep their overlap, and the identity path of
// every residual unit, in the encoder as in the generator, is delayed by
// its branch's delay (AlignBranches). The output is the model's offline
// output delayed by Latency samples, exactly once the warm-up after a
// Reset has passed (to float32 rounding); a model built with
// Config.Causal (configs/causal.gin) streams with only the transposed
// convolutions' delays, the PQMF's being absorbed by the encoder's stride
// alignment.
//
// Buffers are mono float32 at the model's sample rate whose length is a
// multiple of the compression ratio (2048 for v2). Latent frames are
// frame-major ([frame][dim]) in PCA space (latent_pca·(z − latent_mean),
// the first Dims dimensions) or raw with Options.Raw; the amplitude
// modulation tanh(x·σ(a)) is applied to the waveform convolution's output
// before the synthesis PQMF. Processing a buffer allocates nothing.
// Options.Noise is refused for a model with a noise generator (its
// streaming is not implemented); the other options are Streamer's.
//
// A V2 copies the model's weights when it is built and is not safe for
// concurrent use, except SetEdit and SetHook, which may be called from any
// goroutine.
type V2 struct {
	latentState // R, maxN, D, L, k, the PCA, edits, the RNG, the latency

	cfg  modelv2.Config
	opts Options
	M    int // bands

	// encoder
	anaIn    []float32 // M × maxN/M: the chunk in polyphase form
	ana      *sconv
	anaOut   []float32
	anaCd    int // the analysis sign fix's phase: its delay in sub-band frames (0 with ReferenceAlignment)
	anaFrame int64
	encIn    *sconv
	enc      []v2Stage
	encH     []float32 // the last strided conv's output, C × maxF
	encOut   *sconv
	post     []float32 // 2L × maxF: means, then scales

	// decoder
	decIn  *sconv
	hin    []float32 // the input conv's output, C × maxF
	dec    []v2Stage
	wave   *sconv
	waveC  int       // the waveform convolution's channels: 2M, or M without amplitude modulation
	waveY  []float32 // waveC × maxSub
	syn    *sconv
	synIn  []float32
	synOut []float32
	synCd  int // the synthesis sign fix's phase: the generator's delay in sub-band samples (0 with ReferenceAlignment)
	synPos int64
	am     amStep

	slots []stateSlot // the caches by their reference names (LoadState)
}

// v2Stage is one stage of the encoder (units on h, then down into the next
// stage's trunk) or of the generator (up into h, then the units).
type v2Stage struct {
	down  *sconv  // encoder: the strided conv
	up    *sconvT // generator: the transposed conv
	r     int     // its ratio
	units []streamRes
	h, t  []float32 // the trunk and the branch scratch, C × largest chunk
}

// NewV2 builds a streamer for the v2 model m (its current weights).
func NewV2(m *modelv2.Model, opts Options) (*V2, error) {
	lay := m.Layers()
	c := lay.Config
	s := &V2{cfg: c, opts: opts, M: c.Bands}
	s.setOptions(opts, s)
	s.R = c.CompressionRatio()
	s.D, s.L = c.LatentSize, c.LatentSize
	if opts.Noise && c.Noise != nil {
		return nil, errors.New("stream: streaming the v2 noise generator is not supported (leave Options.Noise unset)")
	}
	maxN := opts.MaxBuffer
	if maxN <= 0 {
		maxN = defaultMaxBuffer
	}
	s.maxN = (maxN + s.R - 1) / s.R * s.R
	pca, mu, fid := lay.Latent()
	if opts.Raw && opts.Fidelity.F != 0 {
		return nil, errors.New("stream: a fidelity share needs PCA-space latents (Raw is set)")
	}
	var curve []float32
	if fid[len(fid)-1] > 0 { // a latent analysis was made
		curve = fid
	}
	k, err := opts.Fidelity.Kept(s.L, curve)
	if err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	s.k = k
	needRNG := opts.Sample || (s.k < s.D && opts.Fidelity.Fill == latent.FillNoise)
	if needRNG && s.rng == nil {
		return nil, errors.New("stream: Sample and noise-filled dimensions need an RNG")
	}
	b := &v2Builder{s: s, prec: opts.Weights.panel()}
	if err := b.build(lay); err != nil {
		return nil, err
	}
	s.allocLatent(pca, mu)
	s.Reset()
	return s, nil
}

// v2Builder creates a V2's layers and accounts for their delays.
type v2Builder struct {
	s    *V2
	prec panel.Precision
	// audio is the delay of the layers added so far, in audio samples
	// (with ReferenceAlignment the cumulative delays in the layers' own
	// samples are rounded down).
	audio int
}

// conv adds a cached convolution for layer c on a stream delayed by cd
// input samples whose chunks have at most maxIn samples; rate is the audio
// samples per input sample. It returns the layer, its outgoing delay and
// its contribution to the warm-up bound (audio samples).
func (b *v2Builder) conv(c modelv2.Conv, cd, maxIn, rate int) (l *sconv, cdOut, mem int) {
	g := c.Geometry()
	cin, cout := c.Channels()
	sd, cdOut := alignStride(g.PadRight, g.Stride, cd)
	if b.s.opts.ReferenceAlignment {
		// v2.3.1 gives cached_conv no cumulative delay: each convolution
		// aligns its stride as if it were the first.
		sd, _ = alignStride(g.PadRight, g.Stride, 0)
		cdOut = (g.PadRight + sd + cd) / g.Stride
	}
	b.audio += (g.PadRight + sd) * rate
	hist := g.PadLeft + g.PadRight + sd
	b.s.lat.record(c.Name(), rate, rate*g.Stride, g.PadRight+sd, cdOut)
	w, bias := c.Weights()
	geom := convGeom{cin: cin, cout: cout, k: g.K, stride: g.Stride, dil: g.Dilation, groups: 1, padL: g.PadLeft, padR: g.PadRight}
	l = newSConv(w, bias, geom, hist, act{Leaky: c.Leaky()}, maxIn, b.prec)
	b.s.slots = append(b.s.slots, stateSlot{name: c.Name(), conv: l, cached: g.PadLeft + g.PadRight})
	return l, cdOut, (hist + g.Stride) * rate
}

// units adds a stage's residual units on a C-channel trunk with chunks of
// at most T samples; it returns the outgoing delay and their warm-up
// bound.
func (b *v2Builder) units(us []modelv2.Unit, C, cd, T, rate int) (out []streamRes, cdOut, mem int) {
	for _, u := range us {
		start := cd
		var r streamRes
		var m1, m2 int
		r.c1, cd, m1 = b.conv(u.Dilated, cd, T, rate)
		r.c2, cd, m2 = b.conv(u.Pointwise, cd, T, rate)
		mem += max(m1+m2, (cd-start)*rate)
		b.s.lat.record(strings.TrimSuffix(u.Dilated.Name(), ".aligned.branches.0.net.1")+" (identity delayed)", rate, rate, cd-start, cd)
		r.id = newSDelay(C, cd-start, T)
		b.s.slots = append(b.s.slots, stateSlot{name: strings.TrimSuffix(u.Dilated.Name(), ".branches.0.net.1") + ".paddings.1.pad", delay: r.id})
		out = append(out, r)
	}
	return out, cd, mem
}

func (b *v2Builder) build(lay *modelv2.Layers) error {
	s := b.s
	c := s.cfg
	M, R := s.M, s.R
	maxSub := s.maxN / M
	maxF := s.maxN / R

	// PQMF analysis: a stride-M convolution of L+1 taps padded as the
	// configuration says, run in polyphase form (M phases, Q taps).
	anaW, synW := lay.PQMF()
	K := len(anaW) / M
	pl, pr := c.Padding(K, 1)
	sd, cd := alignStride(pr, M, 0)
	Q := (K + M - 1) / M
	if pl+pr+sd != (Q-1)*M {
		return fmt.Errorf("stream: unsupported PQMF analysis kernel of %d taps for %d bands", K, M)
	}
	s.anaCd = cd
	s.lat.record("pqmf.forward_conv", 1, M, pr+sd, cd)
	b.audio = pr + sd
	if s.opts.ReferenceAlignment {
		s.anaCd = 0 // reverse_half alternates with each call's samples
	}
	memEnc := pl + pr + sd + M
	s.ana = newSConv(polyphaseAnalysis(anaW, M, K), nil, convGeom{cin: M, cout: M, k: Q, stride: 1, dil: 1, groups: 1}, Q-1, act{}, maxSub, panel.Float32)
	s.slots = append(s.slots, stateSlot{name: "pqmf.forward_conv", conv: s.ana, cached: pl + pr, poly: true})
	s.anaIn = make([]float32, M*maxSub)
	s.anaOut = make([]float32, M*maxSub)

	// Encoder: conv, then per stage the residual units and LeakyReLU →
	// strided conv, then LeakyReLU → conv (mean and scale).
	rate, T := M, maxSub
	var mem int
	s.encIn, cd, mem = b.conv(lay.EncoderIn, cd, T, rate)
	memEnc += mem
	_, C := lay.EncoderIn.Channels()
	h := make([]float32, C*T)
	for _, st := range lay.EncoderStages {
		es := v2Stage{h: h, t: make([]float32, C*T)}
		es.units, cd, mem = b.units(st.Units, C, cd, T, rate)
		memEnc += mem
		es.down, cd, mem = b.conv(st.Resample, cd, T, rate)
		memEnc += mem
		es.r = st.Resample.Geometry().Stride
		_, C = st.Resample.Channels()
		T, rate = T/es.r, rate*es.r
		h = make([]float32, C*T)
		s.enc = append(s.enc, es)
	}
	s.encOut, cd, mem = b.conv(lay.EncoderOut, cd, T, rate)
	memEnc += mem
	if _, out := lay.EncoderOut.Channels(); out != 2*s.L || rate != R {
		return fmt.Errorf("stream: the encoder gives %d channels every %d samples, want %d every %d", out, rate, 2*s.L, R)
	}
	s.encH = h
	s.post = make([]float32, 2*s.L*T)
	s.lat.EncoderSamples = b.audio // cd · R without ReferenceAlignment
	s.lat.EncoderFrames = b.audio / R
	s.lat.EncoderWarmup = memEnc + R

	// Generator.
	cd, T, rate = 0, maxF, R
	var memDec int
	s.decIn, cd, memDec = b.conv(lay.GeneratorIn, cd, T, rate)
	_, C = lay.GeneratorIn.Channels()
	s.hin = make([]float32, C*T)
	for _, st := range lay.GeneratorStages {
		up := st.Resample
		g := up.Geometry()
		cin, cout := up.Channels()
		r := g.Stride
		cd = g.PadLeft + cd*r
		s.lat.record(up.Name(), rate, rate/r, g.PadLeft, cd)
		memDec += ((g.K+r-1)/r + 1) * rate
		w, bias := up.Weights()
		ds := v2Stage{up: newSConvT(w, bias, cin, cout, g.K, r, act{Leaky: up.Leaky()}, T, b.prec), r: r}
		s.slots = append(s.slots, stateSlot{name: up.Name(), convT: ds.up})
		rate /= r
		T *= r
		C = cout
		ds.h, ds.t = make([]float32, C*T), make([]float32, C*T)
		ds.units, cd, mem = b.units(st.Units, C, cd, T, rate)
		memDec += mem
		s.dec = append(s.dec, ds)
	}
	if rate != M {
		return fmt.Errorf("stream: the generator up-samples to %d audio samples per sample, want %d", rate, M)
	}
	s.wave, cd, mem = b.conv(lay.Wave, cd, T, rate)
	memDec += mem
	_, W := lay.Wave.Channels()
	if W != M && W != 2*M {
		return fmt.Errorf("stream: the waveform convolution has %d channels for %d bands", W, M)
	}
	s.waveC, s.waveY = W, make([]float32, W*T)
	s.synCd = cd
	if s.opts.ReferenceAlignment {
		s.synCd = 0
	}

	// PQMF synthesis: the sign fix, a stride-1 convolution padded as the
	// configuration says, ×M, channel flip and interleave.
	K = len(synW) / (M * M)
	pl, pr = c.Padding(K, 1)
	cd += pr
	s.lat.record("pqmf.inverse_conv", rate, rate, pr, cd)
	memDec += (pl + pr + 1) * rate
	s.syn = newSConv(synW, nil, convGeom{cin: M, cout: M, k: K, stride: 1, dil: 1, groups: 1}, pl+pr, act{}, T, panel.Float32)
	s.slots = append(s.slots, stateSlot{name: "pqmf.inverse_conv", conv: s.syn, cached: pl + pr})
	s.synIn = make([]float32, M*T)
	s.synOut = make([]float32, M*T)
	s.lat.finish(cd*M, memDec+R, c.SampleRate, R)
	return nil
}

// Reset clears every cache, as at the start of a new stream. The latent
// edit stays; frozen dimensions are released.
func (s *V2) Reset() {
	for _, l := range s.allConvs() {
		l.reset()
	}
	for _, st := range append(s.enc, s.dec...) {
		if st.up != nil {
			st.up.reset()
		}
		for _, u := range st.units {
			u.id.reset()
		}
	}
	s.anaFrame, s.synPos = 0, 0
	clear(s.frozen)
}

// WeightBytes returns the size of the weights the layers read per chunk
// (packed panels in Options.Weights, the others in float32).
func (s *V2) WeightBytes() int {
	n := 0
	for _, l := range s.allConvs() {
		n += l.weightBytes()
	}
	for _, st := range s.dec {
		n += st.up.weightBytes()
	}
	return n
}

func (s *V2) allConvs() []*sconv {
	out := []*sconv{s.ana, s.encIn, s.encOut, s.decIn, s.wave, s.syn}
	for _, st := range append(s.enc, s.dec...) {
		if st.down != nil {
			out = append(out, st.down)
		}
		for _, u := range st.units {
			out = append(out, u.c1, u.c2)
		}
	}
	return out
}

// runUnits runs residual units on the trunk h (C × T) in place, t being
// scratch of the same size.
func runUnits(units []streamRes, h, t []float32, T int) {
	for _, r := range units {
		r.c1.run(t, h, T, false)
		r.id.run(h, T)          // h ← h delayed by the branch's delay
		r.c2.run(h, t, T, true) // h += branch
	}
}

// encodeChunk runs the encoder on x (at most maxN samples) and returns its
// frames in PCA space (views of zp, k wide).
func (s *V2) encodeChunk(x []float32) [][]float32 {
	M, n := s.M, len(x)
	T := n / M
	deinterleave(s.anaIn[:n], x, M)
	s.ana.run(s.anaOut, s.anaIn[:n], T, false)
	flipOddBands(s.anaOut[:n], M, T, s.anaFrame-int64(s.anaCd))
	s.anaFrame += int64(T)
	s.encIn.run(s.enc[0].h, s.anaOut, T, false)
	for i := range s.enc {
		st := &s.enc[i]
		runUnits(st.units, st.h, st.t, T)
		next := s.encH
		if i+1 < len(s.enc) {
			next = s.enc[i+1].h
		}
		st.down.run(next, st.h, T, false)
		T /= st.r
	}
	s.encOut.run(s.post, s.encH, T, false)
	return s.toFrames(s.post, T)
}

// decodeChunk runs the generator on zdec (D × nF) and the synthesis PQMF
// into dst (nF·R samples).
func (s *V2) decodeChunk(dst []float32, nF int) {
	T := nF
	s.decIn.run(s.hin, s.zdec[:s.D*nF], T, false)
	cur := s.hin
	for i := range s.dec {
		st := &s.dec[i]
		st.up.run(st.h, cur, T)
		T *= st.r
		runUnits(st.units, st.h, st.t, T)
		cur = st.h
	}
	M := s.M
	W := s.waveC
	wy := s.waveY[:W*T]
	s.wave.run(wy, cur, T, false)
	y := s.synIn[:M*T]
	a := &s.am
	a.m, a.t, a.w, a.y, a.mod = M, T, wy, y, W == 2*M
	a.parts = partsFor(M*T, parMinWork/8, 8) // tanh and exp cost ~10 ns each
	parRun(a.parts, a)
	a.w, a.y = nil, nil

	flipOddBands(y, M, T, s.synPos-int64(s.synCd))
	s.synPos += int64(T)
	u := s.synOut[:M*T]
	s.syn.run(u, y, T, false)
	interleaveBands(dst, u, M, T)
}

// amStep is the generator's output nonlinearity as a parallel step
// (parTask) over ranges of sub-band samples: y = tanh(x·σ(a)) for the
// channel halves x, a of the waveform convolution's output w, or tanh(w)
// without amplitude modulation.
type amStep struct {
	m, t, parts int
	mod         bool
	w, y        []float32
}

// part computes the samples of part i (parTask).
func (a *amStep) part(i, _ int) {
	M, T := a.m, a.t
	t0, t1 := parRange(i, a.parts, T, 16)
	for c := range M {
		x, y := a.w[c*T:(c+1)*T], a.y[c*T:(c+1)*T]
		for t := t0; t < t1; t++ {
			v := float64(x[t])
			if a.mod {
				v /= 1 + math.Exp(-float64(a.w[(M+c)*T+t]))
			}
			y[t] = float32(math.Tanh(v))
		}
	}
}

// LatencyOfV2 returns the latency a V2 for cfg would have. It depends on
// the layers' kernels, strides, dilations and padding only, so it is
// computed on a model of cfg's network at the smallest width.
func LatencyOfV2(cfg modelv2.Config) (Latency, error) {
	cfg.Capacity, cfg.LatentSize, cfg.Noise = 1, 1, nil
	m, err := modelv2.New(cfg, false)
	if err != nil {
		return Latency{}, err
	}
	s, err := NewV2(m, Options{MaxBuffer: cfg.CompressionRatio()})
	if err != nil {
		return Latency{}, err
	}
	return s.lat, nil
}
