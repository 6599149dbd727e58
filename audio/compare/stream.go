package compare

import (
	"fmt"
	"math"
)

// Comparer is Compare for signals that arrive in pieces, as a long render
// produces them: Add takes the next samples of both, Report compares what
// was added. It analyses each frame as soon as its samples are in and
// keeps, besides a frame's span of samples, 16 bytes per frame (pitch
// and level of both signals in float32, 5.8 MB per hour of audio), since
// which frames count is decided by the loudest frame of the whole input.
// Its report equals Compare's up to that float32 rounding.
type Comparer struct {
	sr, span, hop int
	tin, tout     *tracker
	in, out       []float32 // samples from index base on
	base          int
	next          int // start of the next frame
	n             int // samples added
	pin, pout     []float32
	lin, lout     []float32
}

// NewComparer returns a Comparer for signals at sr Hz.
func NewComparer(sr int) (*Comparer, error) {
	if sr <= 0 {
		return nil, fmt.Errorf("compare: sample rate %d", sr)
	}
	return &Comparer{sr: sr, span: spanOf(sr), hop: hopOf(sr), tin: newTracker(sr), tout: newTracker(sr)}, nil
}

// Add appends the next samples of the input and of the output (the
// shorter length of the two is used, as Compare does).
func (c *Comparer) Add(in, out []float32) {
	k := min(len(in), len(out))
	c.in = append(c.in, in[:k]...)
	c.out = append(c.out, out[:k]...)
	c.n += k
	for c.next+c.span <= c.n {
		at := c.next - c.base
		c.pin = append(c.pin, float32(c.tin.frame(c.in, at)))
		c.pout = append(c.pout, float32(c.tout.frame(c.out, at)))
		c.lin = append(c.lin, float32(level(c.in[at:at+c.span])))
		c.lout = append(c.lout, float32(level(c.out[at:at+c.span])))
		c.next += c.hop
	}
	if drop := min(c.next-c.base, len(c.in)); drop > len(c.in)/2 {
		c.in = append(c.in[:0], c.in[drop:]...)
		c.out = append(c.out[:0], c.out[drop:]...)
		c.base += drop
	}
}

// Break marks a gap: the samples added next do not continue those added
// so far, so no frame spans the two (frames start afresh after the gap).
// It lets a long render be measured on excerpts.
func (c *Comparer) Break() {
	c.in, c.out = c.in[:0], c.out[:0]
	c.base, c.next = c.n, c.n
}

// level is the RMS level in dBFS of one frame's samples, as levels
// computes it.
func level(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return 10 * math.Log10(s/float64(len(x))+1e-20)
}

// Report compares the signals added so far; it returns ErrTooShort (as
// Compare does) while they are shorter than one analysis window.
func (c *Comparer) Report() (Report, error) {
	if len(c.lin) == 0 {
		return Report{}, fmt.Errorf("%w (%d samples, need %d)", ErrTooShort, c.n, c.span)
	}
	return report(c.pin, c.pout, c.lin, c.lout), nil
}
