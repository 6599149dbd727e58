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
	ops []op
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

// Reset forgets every recorded op, keeping the capacity.
func (tp *Tape) Reset() {
	if tp == nil {
		return
	}
	clear(tp.ops)
	tp.ops = tp.ops[:0]
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

func (tp *Tape) push(o op) { tp.ops = append(tp.ops, o) }

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
	out.requiresGrad = true
	tp.push(customOp{op})
	return true
}
