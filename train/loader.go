package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// ChunkSource is the dataset seen by the loader: fixed-length chunks of
// audio (audio.Dataset implements it over its memory-mapped file).
type ChunkSource interface {
	Len() int
	ChunkLen() int
	SampleRate() int
	// ChunkFloat converts chunk i to float32 in [−1, 1] into dst.
	ChunkFloat(dst []float32, i int) []float32
}

// Augment configures the per-example transforms (rave-spec §7.1), applied in
// this order: random crop, gain, phase mangle, dequantise.
type Augment struct {
	// PhaseMangle is the probability of the random all-pass filter
	// (reference: 0.8): f log-uniform in [20, 2000] Hz, r = 0.99.
	PhaseMangle float64
	// Gain is the probability of a random gain in [GainMinDB, GainMaxDB].
	Gain                 float64
	GainMinDB, GainMaxDB float64
	// Dequantize adds U[0,1)/2^bits, undoing 16-bit quantisation steps
	// (reference: 16 bits). Zero disables it.
	DequantizeBits int
	// PitchShift is the probability of resampling the crop so that its
	// pitch moves by a uniform draw in ±PitchSemitones (and its length in
	// time by the same factor), before the other transforms: the random
	// pitch augmentation of the reference's v2 data pipeline, which fills
	// the pitches between the recorded ones. Zero (every preset but quick
	// when so configured) leaves the random stream of the crops as it was.
	PitchShift     float64 `json:",omitempty"`
	PitchSemitones float64 `json:",omitempty"`
}

// DefaultAugment is the reference v1 pipeline plus the gain augmentation
// v2.3 intended (its implementation returns the input unchanged; ours
// applies it): gain [−6, +3] dB with p = 0.5.
func DefaultAugment() Augment {
	return Augment{PhaseMangle: 0.8, Gain: 0.5, GainMinDB: -6, GainMaxDB: 3, DequantizeBits: 16}
}

// Split partitions chunk indices into training and validation sets: a
// fraction of the chunks (at least one when there are two or more) chosen
// with a fixed seed, as the reference's 98/2 split with seed 42.
func Split(n int, valFraction float64, seed uint64) (trainIdx, valIdx []int) {
	perm := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(n)
	nVal := int(math.Round(float64(n) * valFraction))
	if nVal == 0 && n >= 2 && valFraction > 0 {
		nVal = 1
	}
	valIdx = slices.Clone(perm[:nVal])
	trainIdx = slices.Clone(perm[nVal:])
	slices.Sort(valIdx)
	slices.Sort(trainIdx)
	return trainIdx, valIdx
}

// Loader makes training batches of random crops from a ChunkSource. Batch
// k depends only on (seed, k), never on timing or on earlier batches, so a
// resumed run sees exactly the batches an uninterrupted run would. The next
// batch is prepared on another goroutine while the current one is used, and
// after the first batches no memory is allocated.
type Loader struct {
	src     ChunkSource
	indices []int
	batch   int
	nSignal int
	seed    uint64
	aug     Augment
	bufs    [2][]float32
	chunk   [2][]float32
	next    int64
	pending chan struct{}
}

// NewLoader returns a loader over the chunks listed in indices, making
// batches of batch examples of nSignal samples each.
func NewLoader(src ChunkSource, indices []int, batch, nSignal int, seed uint64, aug Augment) (*Loader, error) {
	if len(indices) == 0 {
		return nil, fmt.Errorf("train: loader: no chunks to train on")
	}
	if nSignal > src.ChunkLen() {
		return nil, fmt.Errorf("train: loader: examples of %d samples do not fit in chunks of %d", nSignal, src.ChunkLen())
	}
	if batch < 1 {
		return nil, fmt.Errorf("train: loader: batch size %d", batch)
	}
	l := &Loader{src: src, indices: slices.Clone(indices), batch: batch, nSignal: nSignal, seed: seed, aug: aug}
	for i := range l.bufs {
		l.bufs[i] = make([]float32, batch*nSignal)
		l.chunk[i] = make([]float32, src.ChunkLen())
	}
	return l, nil
}

// BatchShape returns (batch, 1, nSignal).
func (l *Loader) BatchShape() []int { return []int{l.batch, 1, l.nSignal} }

// SetNext makes the next call to Next return batch k.
func (l *Loader) SetNext(k int64) {
	l.wait()
	l.next = k
}

func (l *Loader) wait() {
	if l.pending != nil {
		<-l.pending
		l.pending = nil
	}
}

// Next returns the next batch (batch × nSignal samples, row-major) and its
// index. The slice is valid until the call after next.
func (l *Loader) Next() ([]float32, int64) {
	k := l.next
	buf := k & 1
	if l.pending != nil {
		l.wait()
	} else {
		l.fill(l.bufs[buf], l.chunk[buf], k)
	}
	l.next = k + 1
	// Prepare batch k+1 in the other buffer while the caller trains.
	nb := (k + 1) & 1
	done := make(chan struct{})
	l.pending = done
	go func(k1 int64) {
		l.fill(l.bufs[nb], l.chunk[nb], k1)
		close(done)
	}(k + 1)
	return l.bufs[buf], k
}

// Batch fills dst with batch k without disturbing the prefetch; used by
// tests and validation.
func (l *Loader) Batch(dst []float32, k int64) []float32 {
	if dst == nil {
		dst = make([]float32, l.batch*l.nSignal)
	}
	l.fill(dst, make([]float32, l.src.ChunkLen()), k)
	return dst
}

func (l *Loader) fill(dst, chunk []float32, k int64) {
	rng := rand.New(rand.NewPCG(l.seed, uint64(k)))
	for b := range l.batch {
		idx := l.indices[rng.IntN(len(l.indices))]
		l.src.ChunkFloat(chunk, idx)
		x := dst[b*l.nSignal : (b+1)*l.nSignal]
		if l.aug.PitchShift > 0 {
			u, semis := rng.Float64(), (2*rng.Float64()-1)*l.aug.PitchSemitones
			if ratio := math.Exp2(semis / 12); u < l.aug.PitchShift && ratio != 1 {
				// Output sample i reads the chunk at start + i·ratio; the
				// cubic interpolation reads one sample before and two after.
				span := int(math.Ceil(float64(l.nSignal-1)*ratio)) + 3
				start := 1
				if extra := len(chunk) - span - 1; extra > 0 {
					start += rng.IntN(extra + 1)
				}
				Resample(x, chunk, float64(start), ratio)
				l.aug.apply(x, l.src.SampleRate(), rng)
				continue
			}
		}
		start := 0
		if extra := len(chunk) - l.nSignal; extra > 0 {
			start = rng.IntN(extra + 1)
		}
		copy(x, chunk[start:start+l.nSignal])
		l.aug.apply(x, l.src.SampleRate(), rng)
	}
}

// apply runs the augmentations on one example in place. Every random draw
// happens whether or not the transform is applied, so the stream of random
// numbers does not depend on earlier outcomes.
func (a Augment) apply(x []float32, rate int, rng *rand.Rand) {
	uGain, gainDB := rng.Float64(), a.GainMinDB+(a.GainMaxDB-a.GainMinDB)*rng.Float64()
	uPhase, logf := rng.Float64(), math.Log(20)+(math.Log(2000)-math.Log(20))*rng.Float64()
	if uGain < a.Gain {
		g := float32(math.Pow(10, gainDB/20))
		for i := range x {
			x[i] *= g
		}
	}
	if uPhase < a.PhaseMangle {
		AllPass(x, math.Exp(logf), 0.99, float64(rate))
	}
	if a.DequantizeBits > 0 {
		scale := 1 / math.Pow(2, float64(a.DequantizeBits))
		for i := range x {
			x[i] += float32(rng.Float64() * scale)
		}
	}
}

// Resample fills dst with src read at from, from + ratio, from + 2·ratio, …
// by cubic (Catmull-Rom) interpolation: played at the original rate, the
// result is src transposed up by log2(ratio) octaves. Reads outside src
// take its nearest end sample.
func Resample(dst, src []float32, from, ratio float64) {
	at := func(i int) float64 { return float64(src[min(max(i, 0), len(src)-1)]) }
	for i := range dst {
		p := from + float64(i)*ratio
		j := int(math.Floor(p))
		t := p - float64(j)
		y0, y1, y2, y3 := at(j-1), at(j), at(j+1), at(j+2)
		dst[i] = float32(y1 + 0.5*t*(y2-y0+t*(2*y0-5*y1+4*y2-y3+t*(3*(y1-y2)+y3-y0))))
	}
}

// AllPass filters x in place with the second-order all-pass of the
// reference's phase mangling (rave-spec §7.1), from zero state:
// H(z) = (r² − 2r·cos ω·z⁻¹ + z⁻²) / (1 − 2r·cos ω·z⁻¹ + r²·z⁻²), ω = 2πf/sr.
func AllPass(x []float32, f, r, sr float64) {
	w := 2 * math.Pi * f / sr
	c := 2 * r * math.Cos(w)
	b0, b1, b2 := r*r, -c, 1.0
	a1, a2 := -c, r*r
	var x1, x2, y1, y2 float64
	for i, v := range x {
		xv := float64(v)
		y := b0*xv + b1*x1 + b2*x2 - a1*y1 - a2*y2
		x2, x1 = x1, xv
		y2, y1 = y1, y
		x[i] = float32(y)
	}
}
