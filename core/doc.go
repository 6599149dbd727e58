// Package core is the numerical engine of RAVE Station: float32 tensors, a
// reverse-mode autograd tape, the differentiable ops of the RAVE model, flat
// parameter slabs and the Adam optimiser.
//
// # Layout
//
// Tensors are row-major. Audio activations are (B, C, T): batch, channels,
// time. Conv1d weights use PyTorch's cross-correlation layout (Cout, Cin/groups,
// K); ConvTranspose1d weights are (Cin, Cout/groups, K), as in PyTorch.
//
// # Tensors and gorgonia
//
// A [Tensor] holds its value as a gorgonia.org/tensor *tensor.Dense of
// float32, so any gorgonia operation can be applied to [Tensor.Dense]; the
// kernels here work on the same backing slice ([Tensor.Data]) without copies.
// Importing core registers our assembly sgemm with gorgonia (tensor.Use), so
// tensor.MatMul runs at the speed of our kernels.
//
// # Autograd
//
// Ops are methods of a [Tape]. Each op computes its output at once and, when
// the tape is non-nil and an input requires a gradient, records itself. A nil
// *Tape is valid and means inference: nothing is recorded. [Tape.Backward]
// runs the recorded ops in reverse order; every op's backward accumulates
// (+=) into the gradients of its inputs, so a tensor used twice receives the
// sum. The tape runs one op after another; parallelism lives inside the
// kernels, split over disjoint output ranges, so results are bit-identical
// for any number of threads.
//
// A training loop turns on [Tape.SetRecycling] and calls [Tape.Reset] before
// every step: the values and gradients of recorded ops then come from an
// arena owned by the tape and are reused step after step (gradients of
// intermediate tensors are handed back during the backward pass itself), so
// a warm step allocates almost nothing and its memory stays at one step's
// working set.
//
// Kernel-3, stride-1 convolutions with at least 128 channels (the residual
// stacks of the decoder) run through Winograd F(4, 3), forward and backward,
// with half the multiply-adds of the im2col GEMM; their results differ from
// the im2col path in the last bits.
//
// [Tape.LeakyConv1d] is Conv1d(LeakyReLU(x)) with the activation applied
// while the convolution reads its input (im2col or Winograd tiles), in the
// forward pass and again in the backward pass: the activation tensor is
// never made, and the results are bit-identical to the composition.
//
// # Conventions
//
// Shape mismatches and other programmer errors panic with a message prefixed
// "core: "; I/O and data problems return wrapped errors. A function named
// FooTo(dst, …) fills dst and returns it; if dst is nil a new slice is
// allocated, otherwise a wrong length panics.
package core
