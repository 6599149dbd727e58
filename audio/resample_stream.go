package audio

import "fmt"

// Resampler is Resample for a signal that arrives in pieces: pushed the
// same samples, in pieces of any sizes, it produces the same output
// sample for sample (the same filter on the same input windows), holding
// only the filter's span of input. The signal's length must be known up
// front, since it fixes the output's length, round(inLen·to/from).
type Resampler struct {
	k      *resampleKernel // nil when from == to
	inLen  int64
	outLen int64
	buf    []float32 // input samples from index base on
	base   int64
	in     int64 // input samples pushed
	next   int64 // output samples produced
}

// NewResampler returns a Resampler from from Hz to to Hz for a signal of
// inLen samples.
func NewResampler(from, to int, inLen int64) (*Resampler, error) {
	if from < MinSampleRate || from > MaxSampleRate || to < MinSampleRate || to > MaxSampleRate {
		return nil, fmt.Errorf("audio: resample %d Hz to %d Hz: %w: rates must be in %d..%d",
			from, to, ErrUnsupportedFormat, MinSampleRate, MaxSampleRate)
	}
	r := &Resampler{inLen: inLen, outLen: (inLen*int64(to) + int64(from)/2) / int64(from)}
	if from != to {
		r.k = kernelFor(from, to)
	} else {
		r.outLen = inLen
	}
	return r, nil
}

// OutLen returns the length of the output.
func (r *Resampler) OutLen() int64 { return r.outLen }

// Push takes the next input samples x and appends to dst every output
// sample that no longer depends on later input (all the remaining ones
// once the inLen-th sample is pushed); it returns the extended dst.
// Pushing beyond inLen samples panics.
func (r *Resampler) Push(dst, x []float32) []float32 {
	if r.in+int64(len(x)) > r.inLen {
		panic(fmt.Sprintf("audio: Resampler.Push: %d samples pushed of a %d-sample signal", r.in+int64(len(x)), r.inLen))
	}
	r.in += int64(len(x))
	if r.k == nil {
		r.next += int64(len(x))
		return append(dst, x...)
	}
	r.buf = append(r.buf, x...)
	L, M, K := int64(r.k.up), int64(r.k.down), int64(r.k.half)
	last := r.outLen
	if r.in < r.inLen {
		// Output j reads inputs up to ⌊j·M/L⌋ + K, all pushed while
		// ⌊j·M/L⌋ ≤ in − 1 − K, that is j < (in − K)·L/M.
		last = min(last, max(0, ((r.in-K)*L+M-1)/M))
	}
	if last > r.next {
		n := len(dst)
		dst = append(dst, make([]float32, last-r.next)...)
		r.k.runAt(dst[n:], r.buf, int(r.next), r.base)
		r.next = last
	}
	// The next output reads from ⌊next·M/L⌋ − K + 1 on.
	if keep := r.next*M/L - K + 1; keep > r.base {
		drop := min(keep-r.base, int64(len(r.buf)))
		r.buf = append(r.buf[:0], r.buf[drop:]...)
		r.base += drop
	}
	return dst
}
