// Package panel multiplies fixed weight matrices by a few columns at a
// time — the shape of streaming inference, where every layer's weights are
// read once per buffer for one to a few dozen frames, so memory traffic,
// not arithmetic, bounds the time.
//
// A Matrix is packed once: rows in groups of 4, each group stored as
// consecutive 16-column chunks of its 4 rows, so that a product reads the
// whole matrix as one sequential stream, which the hardware prefetchers
// follow (four separate row streams restart them at every group). It is
// held in float32 or, for half the bytes, in IEEE 754 binary16 ("half
// precision": relative rounding error ≤ 2⁻¹¹ per weight) and multiplied in
// float32 arithmetic either way.
//
// On amd64 with AVX-512 the 4×4 and 4×1 dot-product kernels are assembly
// (converting 16 halves per VCVTPH2PS); elsewhere, and with the purego
// build tag, pure-Go kernels give the same results up to the order of the
// float32 additions. Products of at least MinParallel multiply-adds are
// split by groups of rows over persistent goroutines (GOMAXPROCS), so the
// result does not depend on the number of threads, and nothing is
// allocated once the workers have started.
//
// Shape and length errors are programmer errors and panic with messages
// prefixed "panel: ".
package panel
