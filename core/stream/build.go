package stream

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/internal/panel"
	"github.com/ravestation/rave/core/model"
)

// Latency is the delay of a Streamer's outputs with respect to the
// model's offline outputs, computed from its layer list as cached_conv
// accumulates it (rave-spec.md §9.1, §9.4): the right padding of every
// convolution, the stride-alignment delays, the transposed convolutions'
// padding and the PQMF's, with branches aligned to the slowest one. It does
// not include the host's buffering (one buffer of input is needed before
// anything comes out: add the buffer length for end-to-end latency).
type Latency struct {
	// SampleRate is the model's sample rate in Hz.
	SampleRate int `json:"sample_rate"`
	// CompressionRatio is the number of audio samples per latent frame.
	CompressionRatio int `json:"compression_ratio"`
	// EncoderFrames is the delay of EncodeBuffer's latent frames, in frames
	// (the analysis PQMF's delay is absorbed by the stride alignment):
	// EncoderSamples / CompressionRatio.
	EncoderFrames int `json:"encoder_frames"`
	// EncoderSamples is the encoder's delay in samples: EncoderFrames ×
	// CompressionRatio, except with Options.ReferenceAlignment, where the
	// remainder (EncoderSamples mod CompressionRatio) is the delay of the
	// input the streamed frames encode (see ReferenceAlignment).
	EncoderSamples int `json:"encoder_samples"`
	// DecoderSamples is the delay of DecodeBuffer's audio, in samples.
	DecoderSamples int `json:"decoder_samples"`
	// Samples is the delay of Process's audio: EncoderSamples +
	// DecoderSamples.
	Samples int `json:"samples"`
	// Ms is Samples in milliseconds.
	Ms float64 `json:"ms"`
	// EncoderWarmup and DecoderWarmup bound the number of output samples
	// after a Reset that depend on the caches' initial zeros (Process's
	// bound is their sum); later outputs equal the offline ones.
	EncoderWarmup int `json:"encoder_warmup_samples"`
	DecoderWarmup int `json:"decoder_warmup_samples"`
	// Layers is the per-layer account, in processing order.
	Layers []LayerDelay `json:"layers"`
}

// LayerDelay is one streaming layer's share of the latency.
type LayerDelay struct {
	// Name is the layer's state-dict prefix (or a description).
	Name string `json:"name"`
	// InRate and OutRate are the audio samples per input and per output
	// sample of the layer.
	InRate  int `json:"in_rate"`
	OutRate int `json:"out_rate"`
	// Added is the delay the layer adds, in its input samples: right
	// padding plus stride alignment for a convolution, the padding (in
	// output samples) for a transposed one, the inserted delay for an
	// alignment.
	Added int `json:"added"`
	// Delay is the cumulative delay after the layer, in its output
	// samples; DelaySamples is the same in audio samples.
	Delay        int `json:"delay"`
	DelaySamples int `json:"delay_samples"`
}

// MsOf converts a number of samples to milliseconds at the model's rate.
func (l Latency) MsOf(samples int) float64 {
	return 1000 * float64(samples) / float64(l.SampleRate)
}

// streamBuilder creates a Streamer's layers and accounts for their delays.
// With dry set it allocates nothing and only computes the delays.
type streamBuilder struct {
	s   *Streamer
	dry bool
}

func (b *streamBuilder) record(name string, in, out, added, delay int) {
	b.s.lat.record(name, in, out, added, delay)
}

// finish completes l once the encoder's latency is recorded: the
// decoder's delay and warm-up in samples, the total, and the sample rate
// sr and compression ratio R it is counted in.
func (l *Latency) finish(decoderSamples, decoderWarmup, sr, R int) {
	l.DecoderSamples = decoderSamples
	l.DecoderWarmup = decoderWarmup
	l.Samples = l.EncoderSamples + l.DecoderSamples
	l.SampleRate = sr
	l.CompressionRatio = R
	l.Ms = l.MsOf(l.Samples)
}

// record appends a layer's share to the account.
func (l *Latency) record(name string, in, out, added, delay int) {
	l.Layers = append(l.Layers, LayerDelay{Name: name, InRate: in, OutRate: out, Added: added, Delay: delay, DelaySamples: delay * out})
}

// polyphaseAnalysis returns the analysis PQMF's kernel w (M × 1 × K), a
// stride-M convolution, as a stride-1 one on the M phases of the input
// (deinterleave): (M × M × Q), Q = ⌈K/M⌉, tap q of phase ph being
// w[k][M·q + ph].
func polyphaseAnalysis(w []float32, M, K int) []float32 {
	Q := (K + M - 1) / M
	poly := make([]float32, M*M*Q)
	for k := range M {
		for ph := range M {
			for q := range Q {
				if j := M*q + ph; j < K {
					poly[(k*M+ph)*Q+q] = w[k*K+j]
				}
			}
		}
	}
	return poly
}

// conv adds a cached convolution for layer c on a stream delayed by cd
// input samples whose chunks have at most maxIn samples; rate is the audio
// samples per input sample. It returns the layer, its outgoing delay and
// its contribution to the warm-up bound (audio samples).
func (b *streamBuilder) conv(c model.Conv, cd, maxIn, rate int) (l *sconv, cdOut, mem int) {
	g := geomOf(c)
	sd, cdOut := alignStride(g.padR, g.stride, cd)
	hist := g.padL + g.padR + sd
	b.record(c.Name(), rate, rate*g.stride, g.padR+sd, cdOut)
	if !b.dry {
		w, bias := c.Weights()
		l = newSConv(w, bias, g, hist, c.Activation(), maxIn, b.s.opts.Weights.panel())
	}
	return l, cdOut, (hist + g.stride) * rate
}

// chain adds cached convolutions for layers run one after the other (as
// conv does for each) and output buffers for their chunks; it returns the
// outgoing delay, chunk length and rate, and the layers' warm-up bound.
func (b *streamBuilder) chain(layers []model.Conv, cd, maxIn, rate int) (ls []*sconv, outs [][]float32, cdOut, maxOut, rateOut, mem int) {
	for _, cv := range layers {
		l, c, m := b.conv(cv, cd, maxIn, rate)
		g := geomOf(cv)
		ls = append(ls, l)
		outs = append(outs, b.buf(g.cout*(maxIn/g.stride)))
		mem += m
		cd, maxIn, rate = c, maxIn/g.stride, rate*g.stride
	}
	return ls, outs, cd, maxIn, rate, mem
}

func (b *streamBuilder) buf(n int) []float32 {
	if b.dry {
		return nil
	}
	return make([]float32, n)
}

func (b *streamBuilder) build(lay *model.Layers) error {
	s := b.s
	c := s.cfg
	M, R := s.M, s.R
	maxSub := s.maxN / M
	maxF := s.maxN / R

	// PQMF analysis: a stride-M convolution with the centred padding of
	// its L+1 taps, run in polyphase form (M phases, Q = L/M + 1 taps).
	K := lay.AnalysisTaps
	anaW, synW := lay.PQMF()
	pl, pr := core.SamePadding(K, 1)
	sd, cd := alignStride(pr, M, 0)
	Q := (K + M - 1) / M
	if pl+pr+sd != (Q-1)*M {
		return fmt.Errorf("stream: unsupported PQMF analysis kernel of %d taps for %d bands", K, M)
	}
	s.anaCd = cd
	b.record("pqmf.forward_conv", 1, M, pr+sd, cd)
	anaCd := cd
	if s.opts.ReferenceAlignment {
		// The reference's encoder counts its alignment from its input.
		s.anaCd, cd = 0, 0
	}
	memEnc := (pl + pr + sd + M)
	if !b.dry {
		s.ana = newSConv(polyphaseAnalysis(anaW, M, K), nil, convGeom{cin: M, cout: M, k: Q, stride: 1, dil: 1, groups: 1}, Q-1, act{}, maxSub, panel.Float32)
		s.anaIn = make([]float32, M*maxSub)
		s.anaOut = make([]float32, M*maxSub)
	}

	// Encoder: conv, then per ratio eval BatchNorm → LeakyReLU → strided
	// conv, then LeakyReLU → grouped conv (mean and scale).
	rate, T := M, maxSub
	var mem int
	s.enc, s.encOut, cd, T, rate, mem = b.chain(lay.Encoder, cd, T, rate)
	memEnc += mem
	if rate != R {
		return fmt.Errorf("stream: the encoder decimates by %d, the compression ratio is %d", rate, R)
	}
	s.lat.EncoderSamples = cd * R
	if s.opts.ReferenceAlignment {
		s.lat.EncoderSamples += anaCd * M
	}
	s.lat.EncoderFrames = s.lat.EncoderSamples / R
	s.lat.EncoderWarmup = memEnc + R

	// Decoder trunk.
	cd, T, rate = 0, maxF, R
	l, cdOut, memDec := b.conv(lay.DecoderIn, cd, T, rate)
	s.din, cd = l, cdOut
	s.hin = b.buf(lay.DecoderIn.Geometry().Cout * T)
	for _, stage := range lay.Stages {
		var st streamStage
		if up := stage.Up; up.Transposed() {
			g := up.Geometry()
			cin, cout, k, r := g.Cin, g.Cout, g.K, g.Stride
			st.r, st.c = r, cout
			cd = g.PadLeft + cd*r
			b.record(up.Name(), rate, rate/r, g.PadLeft, cd)
			memDec += ((k+r-1)/r + 1) * rate
			if !b.dry {
				w, bias := up.Weights()
				st.upT = newSConvT(w, bias, cin, cout, k, r, up.Activation(), T, s.opts.Weights.panel())
			}
			rate /= r
		} else {
			st.r, st.c = 1, up.Geometry().Cout
			var mem int
			st.up, cd, mem = b.conv(up, cd, T, rate)
			memDec += mem
		}
		T *= st.r
		st.h, st.t = b.buf(st.c*T), b.buf(st.c*T)
		for j, blk := range stage.Residual {
			start := cd
			var m1, m2 int
			st.res[j].c1, cd, m1 = b.conv(blk[0], cd, T, rate)
			st.res[j].c2, cd, m2 = b.conv(blk[1], cd, T, rate)
			memDec += max(m1+m2, (cd-start)*rate)
			b.record(strings.TrimSuffix(blk[0].Name(), ".aligned.branches.0.1")+" (identity delayed)", rate, rate, cd-start, cd)
			if !b.dry {
				st.res[j].id = newSDelay(st.c, cd-start, T)
			}
		}
		s.stages = append(s.stages, st)
	}
	if rate != M {
		return fmt.Errorf("stream: the decoder up-samples to %d audio samples per sample, want %d", rate, M)
	}

	// Heads, each delayed to the slowest.
	h := cd
	var memW, memL, memN int
	s.wave, cd, memW = b.conv(lay.Wave, h, T, rate)
	cdW := cd
	ls := c.LoudStride
	cd0 := h // the delay the loudness head's alignment starts from
	if s.opts.ReferenceAlignment {
		cd0 = 0 // the reference builds it without a cumulative delay
	}
	s.loud, cd, memL = b.conv(lay.Loud, cd0, T, rate)
	cdL := h - cd0 + cd*ls
	maxd := max(cdW, cdL)
	var noiseDelay, block int
	if s.opts.Noise && c.UseNoise {
		block = c.NoiseRatio()
		if s.G%block != 0 && block%s.G != 0 {
			return fmt.Errorf("stream: the noise head's %d-sample frames and the %d sub-band samples of a latent frame do not nest", block, s.G)
		}
		n := &snoise{block: block, bands: M, nb: c.NoiseBands, chIn: lay.Noise[0].Geometry().Cin}
		wait := 0 // samples a noise frame waits for its last input
		if s.G%block != 0 {
			if s.opts.ReferenceAlignment {
				// The reference runs whole noise frames in each call
				// (newStreamer rounds MaxBuffer to them).
				n.whole = true
			} else {
				wait = block - s.G
			}
		}
		nIn := max(T, block)
		var cdn int
		cd0 := h // the delay the noise generator's alignment starts from
		if s.opts.ReferenceAlignment {
			cd0 = 0
		}
		n.convs, n.outs, cdn, _, _, memN = b.chain(lay.Noise, cd0, nIn, rate)
		cdN := h - cd0 + cdn*block + wait
		noiseDelay = cdN - wait // sub-band samples, the wait excluded
		b.record("decoder.synth.branches.2 (noise frames wait for their last sample)", rate, rate, wait, cdN)
		memN += (block + wait) * rate
		if s.opts.ReferenceAlignment && cdN < maxd {
			return fmt.Errorf("stream: reference alignment: the noise head (delay %d) is faster than the others (%d), and the reference would delay its input: not supported", cdN, maxd)
		}
		maxd = max(maxd, cdN)
		s.noise = n
		if !b.dry {
			n.phi, n.taps = noiseBasis(c.NoiseBands, block)
			n.amp = make([]float32, M*c.NoiseBands)
			n.ir = make([]float32, block)
			n.u = make([]float32, block)
			n.pend = make([]float32, n.chIn*block)
			n.gen = make([]float32, M*max(T, block))
			// The queue starts with the wait plus the alignment delay.
			pre := maxd - noiseDelay
			n.fifo = newSFIFO(M, pre, pre+max(T, block)+block)
			s.noiseY = make([]float32, M*T)
		}
	}
	b.record("decoder.synth.branches.0 (aligned)", rate, rate, maxd-cdW, maxd)
	b.record("decoder.synth.branches.1 (aligned)", rate, rate, maxd-cdL, maxd)
	memHeads := max(memW+(maxd-cdW)*rate, memL+(maxd-cdL)*rate)
	if s.noise != nil {
		memHeads = max(memHeads, memN+(maxd-noiseDelay)*rate)
	}
	memDec += memHeads
	if !b.dry {
		s.waveD = newSDelay(M, maxd-cdW, T)
		s.loudD = newSDelay(1, maxd-cdL, T)
		if s.opts.ReferenceAlignment {
			// The reference delays the heads' inputs: during the delay a
			// head sees zeros and gives its bias.
			wf, err := zeroResponse(lay.Wave, M)
			if err != nil {
				return err
			}
			lf, err := zeroResponse(lay.Loud, 1)
			if err != nil {
				return err
			}
			s.waveD.setFill(wf)
			s.loudD.setFill(lf)
		}
		s.waveY = make([]float32, M*T)
		s.loudY = make([]float32, T/ls)
		s.loudR = make([]float32, T)
	}
	s.synCd = maxd
	if s.opts.ReferenceAlignment {
		s.synCd = 0 // reverse_half alternates with each call's samples
	}

	// PQMF synthesis: the sign fix, a stride-1 convolution with centred
	// padding, ×M, channel flip and interleave.
	K = lay.SynthesisTaps
	pl, pr = core.SamePadding(K, 1)
	cd = maxd + pr
	b.record("pqmf.inverse_conv", rate, rate, pr, cd)
	memDec += (pl + pr + 1) * rate
	if !b.dry {
		s.syn = newSConv(synW, nil, convGeom{cin: M, cout: M, k: K, stride: 1, dil: 1, groups: 1}, pl+pr, act{}, T, panel.Float32)
		s.synIn = make([]float32, M*T)
		s.synOut = make([]float32, M*T)
	}
	s.lat.finish(cd*M, memDec+R, c.SR, R)
	return nil
}

// zeroResponse returns the output of head c on an input of zeros (its
// bias, or zeros without one), one value for each of its cout channels;
// an activation that does not keep zero is refused.
func zeroResponse(c model.Conv, cout int) ([]float32, error) {
	if a := c.Activation(); len(a.Scale) > 0 || len(a.Shift) > 0 {
		return nil, fmt.Errorf("stream: reference alignment: head %s normalises its input", c.Name())
	}
	_, bias := c.Weights()
	out := make([]float32, cout)
	copy(out, bias)
	return out, nil
}

// snoise is the noise synthesiser head on a stream (rave-spec.md §4.2):
// its amplitude network (strided cached convolutions) runs on whole noise
// frames of block sub-band samples; when a latent frame is shorter than a
// noise frame the trunk's samples wait in pend until a frame is complete,
// and the filtered noise goes through a queue that delays it by that wait
// plus the heads' alignment.
type snoise struct {
	convs      []*sconv
	outs       [][]float32
	block      int  // sub-band samples per noise frame (Π noise ratios)
	whole      bool // chunks are whole noise frames (ReferenceAlignment)
	bands, nb  int
	chIn       int
	phi        []float32 // block × nb: impulse response = phi·amplitudes
	taps       []int
	amp, ir, u []float32
	pend       []float32 // chIn × block
	npend      int
	gen        []float32 // bands × chunk: filtered noise
	fifo       *sfifo
}

// run feeds the trunk chunk h (chIn × T) and writes T samples of noise per
// band into dst (bands × T).
func (n *snoise) run(dst, h []float32, T int, rng Rand) {
	if n.whole && T%n.block != 0 {
		panic(fmt.Sprintf("stream: with ReferenceAlignment and the noise head, a chunk of %d sub-band samples is not a whole number of %d-sample noise frames", T, n.block))
	}
	if n.npend == 0 && T%n.block == 0 {
		n.process(h, T, rng)
	} else {
		for off := 0; off < T; {
			take := min(n.block-n.npend, T-off)
			for c := range n.chIn {
				copy(n.pend[c*n.block+n.npend:c*n.block+n.npend+take], h[c*T+off:c*T+off+take])
			}
			n.npend += take
			off += take
			if n.npend == n.block {
				n.process(n.pend, n.block, rng)
				n.npend = 0
			}
		}
	}
	n.fifo.pop(dst, T)
}

// process runs whole noise frames of the trunk h (chIn × T, T a multiple of
// block) and queues their filtered noise.
func (n *snoise) process(h []float32, T int, rng Rand) {
	cur, t := h, T
	for i, c := range n.convs {
		c.run(n.outs[i], cur, t, false)
		cur, t = n.outs[i], t/c.stride
	}
	frames, nb, blk := t, n.nb, n.block
	out := n.gen[:n.bands*T]
	for f := range frames {
		for b := range n.bands {
			// amplitudes mod_sigmoid(a − 5), then the impulse response
			for k := range nb {
				v := float64(cur[(b*nb+k)*frames+f]) - 5
				sg := 1 / (1 + math.Exp(-v))
				n.amp[k] = float32(2*math.Pow(sg, 2.3) + 1e-7)
			}
			for _, i := range n.taps {
				var s float32
				for k := range nb {
					s += n.phi[i*nb+k] * n.amp[k]
				}
				n.ir[i] = s
			}
			for j := range n.u {
				n.u[j] = rng.Float32()*2 - 1
			}
			dst := out[b*T+f*blk : b*T+(f+1)*blk]
			for j := range dst {
				var s float32
				for _, i := range n.taps {
					if i > j {
						break
					}
					s += n.u[j-i] * n.ir[i]
				}
				dst[j] = s
			}
		}
	}
	n.fifo.push(out, T)
}

func (n *snoise) reset() {
	for _, c := range n.convs {
		c.reset()
	}
	n.npend = 0
	n.fifo.reset()
}

// SpecLatency returns the streaming delay (model only, in samples)
// that rave-spec.md §9.4 computes for the reference, for the
// configurations it lists: 16 bands, ratios 4,4,4,2 at 48 kHz (v1 and
// small), centred (28,240 = encoder 8,448 + decoder 19,792) or no_latency
// (1,616). ok is false for other configurations. The figures sum each
// layer's delay without chaining the analysis PQMF's into the encoder's
// stride alignment, as the reference's cached_conv does, and are what
// LatencyOf gives with Options.ReferenceAlignment; without it Latency's
// chain them, as exact alignment with the offline model requires.
func SpecLatency(cfg model.Config) (samples int, ok bool) {
	if cfg.DataSize != 16 || !slices.Equal(cfg.Ratios, []int{4, 4, 4, 2}) || cfg.SR != 48000 || cfg.LoudStride != 1 {
		return 0, false
	}
	if cfg.NoLatency {
		return 1616, true
	}
	return 28240, true
}

// noiseBasis returns the noise synthesiser's map from the nb amplitudes of
// one band and frame to its impulse response, ir = phi·a with phi
// (target × nb), read off dsp.NoiseFilter by filtering a unit impulse with
// one-hot amplitudes, and the rows of phi that are not zero.
func noiseBasis(nb, target int) (phi []float32, taps []int) {
	nf := dsp.NewNoiseFilter(1, nb, target)
	phi = make([]float32, target*nb)
	impulse := core.Zeros(1, 1, 1, target)
	impulse.Data()[0] = 1
	for k := range nb {
		amp := core.Zeros(1, nb, 1)
		amp.Data()[k] = 1
		for i, v := range nf.Filter(nil, amp, impulse).Data() {
			phi[i*nb+k] = v
		}
	}
	for i := range target {
		for k := range nb {
			if phi[i*nb+k] != 0 {
				taps = append(taps, i)
				break
			}
		}
	}
	return phi, taps
}
