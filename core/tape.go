package core

import "fmt"

// op is a recorded operation: backward reads its output's gradient and
// accumulates into the gradients of its inputs that require one.
type op interface {
	backward()
}

// Tape records ops in execution order for reverse-mode differentiation. A nil
// *Tape records nothing (inference mode). A Tape is not safe for concurrent
// use.
type Tape struct {
	ops  []op
	outs []*Tensor // outs[i] is the output of ops[i]
	pool *arena    // non-nil when buffers are recycled (SetRecycling)
}

// NewTape returns an empty tape.
func NewTape() *Tape { return &Tape{} }

// Len returns the number of recorded ops.
func (tp *Tape) Len() int {
	if tp == nil {
		return 0
	}
	return len(tp.ops)
}

// Reset forgets every recorded op, keeping the capacity. On a recycling
// tape (SetRecycling) it also takes back every buffer handed out since the
// previous Reset: the values of tensors made by the tape's ops become
// invalid.
func (tp *Tape) Reset() {
	if tp == nil {
		return
	}
	clear(tp.ops)
	tp.ops = tp.ops[:0]
	clear(tp.outs)
	tp.outs = tp.outs[:0]
	if tp.pool != nil {
		tp.pool.reset()
	}
}

// SetRecycling turns buffer recycling on or off. A recycling tape keeps
// the storage of the values and gradients its ops create in an arena and
// reuses it, so that a training loop that calls Reset before every step
// allocates nothing once warm and its memory stays at one step's peak. The
// price is a shorter lifetime, as in PyTorch:
//
//   - the gradient of a tensor made by an op (not a leaf) is handed back as
//     soon as the backward pass has gone through the op that made it, so
//     Grad returns nil for it afterwards; leaves (tensors with
//     SetRequiresGrad, parameters) keep theirs;
//   - the values of tensors made by recorded ops (those with an input that
//     requires a gradient) and by the tape's Zeros are valid until the next
//     Reset; copy what must outlive the step (Clone). Ops outside the graph
//     allocate ordinary memory.
//
// Turning recycling off drops the arena. A nil tape ignores the call.
func (tp *Tape) SetRecycling(on bool) {
	if tp == nil {
		return
	}
	switch {
	case on && tp.pool == nil:
		tp.pool = newArena()
	case !on:
		tp.pool = nil
	}
}

// Recycling reports whether the tape recycles buffers (SetRecycling).
func (tp *Tape) Recycling() bool { return tp != nil && tp.pool != nil }

// Zeros returns a zero-filled tensor of the given shape for an op's output.
// On a recycling tape its storage comes from the tape's arena and is
// reused after the next Reset; otherwise (and on a nil tape) it is the same
// as the package-level Zeros.
func (tp *Tape) Zeros(shape ...int) *Tensor {
	t := newTensor(tp.allocZeroed(numel(shape)), shape)
	if tp != nil {
		t.arena = tp.pool
	}
	return t
}

// Output returns a tensor of the given shape for the result of an op
// implemented outside this package (see Record), its values unspecified:
// the op must write every element. On a recycling tape its storage comes
// from the tape's arena and is reused after the next Reset, as with Zeros,
// so an op run every step allocates nothing once warm; otherwise (and on a
// nil tape) it is ordinary memory.
func (tp *Tape) Output(shape ...int) *Tensor {
	t := newTensor(tp.alloc(numel(shape)), shape)
	if tp != nil {
		t.arena = tp.pool
	}
	return t
}

// alloc returns a buffer of n values with unspecified contents (zeros when
// it is freshly allocated); the caller must write every element.
func (tp *Tape) alloc(n int) []float32 {
	if tp == nil || tp.pool == nil {
		return make([]float32, n)
	}
	return tp.pool.getValue(n)
}

// allocZeroed returns a zero-filled buffer of n values.
func (tp *Tape) allocZeroed(n int) []float32 {
	if tp == nil || tp.pool == nil {
		return make([]float32, n)
	}
	b := tp.pool.getValue(n)
	clear(b)
	return b
}

// output returns a tensor of the given shape for an op's result, its
// values unspecified (the op writes all of them). rec says whether the op
// will be recorded: only then is the value tied to the tape (taken from
// its arena); an op outside the graph gets ordinary memory, which the
// collector reclaims as soon as it is dropped, however long the step.
func (tp *Tape) output(rec bool, shape []int) *Tensor {
	if !rec {
		return newTensor(make([]float32, numel(shape)), shape)
	}
	t := newTensor(tp.alloc(numel(shape)), shape)
	t.arena = tp.pool
	return t
}

// outputZeroed is output with zero-filled values.
func (tp *Tape) outputZeroed(rec bool, shape []int) *Tensor {
	if !rec {
		return newTensor(make([]float32, numel(shape)), shape)
	}
	t := newTensor(tp.allocZeroed(numel(shape)), shape)
	t.arena = tp.pool
	return t
}

// record reports whether an op on these inputs must be recorded; it is the
// single place that decides whether outputs require gradients.
func (tp *Tape) record(inputs ...*Tensor) bool {
	if tp == nil {
		return false
	}
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			return true
		}
	}
	return false
}

func (tp *Tape) record1(x *Tensor) bool { return tp != nil && x.requiresGrad }

func (tp *Tape) record2(a, b *Tensor) bool {
	return tp != nil && (a.requiresGrad || (b != nil && b.requiresGrad))
}

// push appends op o whose output is out, which is marked as requiring a
// gradient.
func (tp *Tape) push(o op, out *Tensor) {
	out.requiresGrad = true
	tp.ops = append(tp.ops, o)
	tp.outs = append(tp.outs, out)
}

// Backward seeds the gradient of the scalar loss with 1 and propagates it
// back through every recorded op.
func (tp *Tape) Backward(loss *Tensor) {
	if loss.Len() != 1 {
		panic(fmt.Sprintf("core: Backward: loss has shape %v, want a scalar", loss.shape))
	}
	tp.BackwardFrom(loss, []float32{1})
}

// BackwardFrom seeds out's gradient with seed (added to any gradient out
// already has) and propagates it back through every recorded op.
func (tp *Tape) BackwardFrom(out *Tensor, seed []float32) {
	if tp == nil {
		panic("core: Backward on a nil tape")
	}
	if len(seed) != out.Len() {
		panic(fmt.Sprintf("core: BackwardFrom: seed has %d values, output %d", len(seed), out.Len()))
	}
	g := out.ensureGrad()
	for i, v := range seed {
		g[i] += v
	}
	for i := len(tp.ops) - 1; i >= 0; i-- {
		tp.ops[i].backward()
		if tp.pool != nil {
			// Nothing reads this gradient any more: every op that
			// consumed the tensor was recorded after the one that made it.
			if o := tp.outs[i]; o.gradPooled {
				tp.pool.putGrad(o.grad)
				o.grad, o.gradPooled = nil, false
			}
		}
	}
}

// Backwarder is an op defined outside this package. Its Backward must read
// the output's gradient (Tensor.Grad, nil if none reached it) and add into
// the gradient of each input that requires one (Tensor.EnsureGrad).
type Backwarder interface {
	Backward()
}

type customOp struct{ b Backwarder }

func (c customOp) backward() { c.b.Backward() }

// Record registers an op implemented outside this package whose output out
// was computed from inputs. If the tape is nil or no input requires a
// gradient it records nothing and returns false; otherwise out is marked as
// requiring a gradient, op is appended, and it returns true.
func (tp *Tape) Record(op Backwarder, out *Tensor, inputs ...*Tensor) bool {
	if !tp.record(inputs...) {
		return false
	}
	if out.arena == nil {
		out.arena = tp.pool
	}
	tp.push(customOp{op}, out)
	return true
}

// arena recycles float32 buffers by exact length. Value buffers handed out
// since the last reset are listed in live and all come back at reset;
// gradient buffers come back one by one during the backward pass.
type arena struct {
	free map[int]*sizeClass
	live [][]float32
}

// sizeClass is the free list of one buffer length, with the number of its
// buffers in use and the most in use during this step and the previous one,
// so that reset can drop buffers no recent step needed.
type sizeClass struct {
	bufs           [][]float32
	inUse          int
	peak, prevPeak int
}

func newArena() *arena { return &arena{free: map[int]*sizeClass{}} }

func (a *arena) class(n int) *sizeClass {
	c := a.free[n]
	if c == nil {
		c = &sizeClass{}
		a.free[n] = c
	}
	return c
}

// get returns a buffer of length n with unspecified contents.
func (a *arena) get(n int) []float32 {
	c := a.class(n)
	c.inUse++
	c.peak = max(c.peak, c.inUse)
	if k := len(c.bufs); k > 0 {
		b := c.bufs[k-1]
		c.bufs[k-1] = nil
		c.bufs = c.bufs[:k-1]
		return b
	}
	return make([]float32, n)
}

func (a *arena) put(b []float32) {
	c := a.class(len(b))
	c.inUse--
	c.bufs = append(c.bufs, b)
}

// getValue returns a value buffer, taken back at reset.
func (a *arena) getValue(n int) []float32 {
	if n == 0 {
		return []float32{}
	}
	b := a.get(n)
	a.live = append(a.live, b)
	return b
}

// getZeroed returns a zero-filled gradient buffer.
func (a *arena) getZeroed(n int) []float32 {
	if n == 0 {
		return []float32{}
	}
	b := a.get(n)
	clear(b)
	return b
}

// putGrad takes back a gradient buffer.
func (a *arena) putGrad(b []float32) {
	if len(b) > 0 {
		a.put(b)
	}
}

// reset takes back every value buffer and trims each free list to what the
// last two steps needed at most. Gradient buffers still out (a leaf made by
// the tape's Zeros, for instance) are forgotten and left to the collector.
func (a *arena) reset() {
	for i, b := range a.live {
		a.put(b)
		a.live[i] = nil
	}
	a.live = a.live[:0]
	for n, c := range a.free {
		c.inUse = 0
		keep := max(c.peak, c.prevPeak)
		if len(c.bufs) > keep {
			clear(c.bufs[keep:])
			c.bufs = c.bufs[:keep]
		}
		if keep == 0 {
			delete(a.free, n)
			continue
		}
		c.prevPeak, c.peak = c.peak, 0
	}
}
