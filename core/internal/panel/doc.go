// Package panel multiplies fixed weight matrices by a few columns at a
// time — the shape of streaming inference, where every layer's weights are
// read once per buffer for one to a few dozen frames, so memory traffic,
// not arithmetic, bounds the time.
//
// A Matrix is packed once: rows in groups of 4, each group stored as
// consecutive 16-column chunks of its 4 rows, so that a product reads the
// whole matrix as one sequential stream, which the hardware prefetchers
// follow (four separate row streams restart them at every group). Its
// Precision is Float32; Half, IEEE 754 binary16 (half the bytes, relative
// rounding error ≤ 2⁻¹¹ per weight), multiplied in float32 arithmetic; or
// Int8 (a quarter of the bytes: a chunk of 4 rows is one 64-byte cache
// line), each row symmetric int8 codes times one scale max|row|/127. Int8
// products also round each column of B to int16 codes times a scale
// (max|column|/Levels, Levels ≤ 32767 chosen so that no sum can overflow)
// and sum the integer products exactly: the result depends neither on the
// kernel nor on the order of the additions, and the weights never go
// through float32.
//
// On amd64 with AVX-512 the 4×4 and 4×1 dot-product kernels are assembly:
// float32, half (converting 16 halves per VCVTPH2PS) and, with AVX512-VNNI,
// int8 (two rows of 16 codes widened by one VPMOVSXBW and multiplied by a
// column broadcast to both halves by one VPDPWSSD: 32 multiply-adds per
// instruction where VFMADD231PS does 16, and no int→float conversion);
// the column rounding is assembly too. Elsewhere, and with the purego
// build tag, pure-Go kernels give the same results up to the order of the
// float32 additions (Int8: the same results). Products of at least
// MinParallel multiply-adds are split by groups of rows over persistent
// goroutines (GOMAXPROCS), so the result does not depend on the number of
// threads, and nothing is allocated once the workers have started (Int8
// products need room for their column codes: Matrix.Reserve, or the first
// product wider than any before, allocates it). Callers with their own
// goroutines (core/model's streaming layers) split a product themselves:
// Matrix.PrepareT on ranges of columns, then Matrix.MulTRows on ranges of
// rows, with MulT's result.
//
// Shape and length errors are programmer errors and panic with messages
// prefixed "panel: ".
package panel
