package prior

import (
	"fmt"
	"math"
	"sort"

	"github.com/ravestation/rave/core"
)

// Quantizer maps standard-normal values to Classes equal-probability bins
// and back (see the package comment).
type Quantizer struct {
	// Edges are the Classes−1 inner bin boundaries Φ⁻¹(i/Q), ascending.
	Edges []float64
	// Centres are the bin representatives Φ⁻¹((i+½)/Q).
	Centres []float32
}

// normalQuantile returns Φ⁻¹(p) = √2·erfinv(2p − 1).
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// NewQuantizer returns the quantiser with the given number of classes.
func NewQuantizer(classes int) *Quantizer {
	if classes < 2 {
		panic(fmt.Sprintf("prior: NewQuantizer: %d classes, need at least 2", classes))
	}
	q := &Quantizer{Edges: make([]float64, classes-1), Centres: make([]float32, classes)}
	for i := range q.Edges {
		q.Edges[i] = normalQuantile(float64(i+1) / float64(classes))
	}
	for i := range q.Centres {
		q.Centres[i] = float32(normalQuantile((float64(i) + 0.5) / float64(classes)))
	}
	return q
}

// Index returns the bin of v; NaN maps to the middle bin.
func (q *Quantizer) Index(v float32) int32 {
	if v != v {
		return int32(len(q.Centres) / 2)
	}
	x := float64(v)
	return int32(sort.Search(len(q.Edges), func(i int) bool { return q.Edges[i] > x }))
}

// Indices quantises every value of z; dst has z.Len() entries or is nil.
func (q *Quantizer) Indices(dst []int32, z *core.Tensor) []int32 {
	if dst == nil {
		dst = make([]int32, z.Len())
	}
	if len(dst) != z.Len() {
		panic(fmt.Sprintf("prior: Indices: dst has %d entries for %d values", len(dst), z.Len()))
	}
	for i, v := range z.Data() {
		dst[i] = q.Index(v)
	}
	return dst
}

// Values returns a tensor of the given shape holding the bin centres of
// idx.
func (q *Quantizer) Values(idx []int32, shape ...int) *core.Tensor {
	t := core.Zeros(shape...)
	if t.Len() != len(idx) {
		panic(fmt.Sprintf("prior: Values: %d indices for shape %v", len(idx), shape))
	}
	d := t.Data()
	for i, c := range idx {
		d[i] = q.Centres[c]
	}
	return t
}
