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
// The dot-product kernels (4×4 and 4×1) and the rounding of the columns
// follow the instruction-set path of core/internal/isa (RAVE_KERNELS):
//
//   - avx512 (amd64): assembly for float32, half (converting 16 halves per
//     VCVTPH2PS) and, with AVX512-VNNI, int8 (two rows of 16 codes widened
//     by one VPMOVSXBW and multiplied by a column broadcast to both halves
//     by one VPDPWSSD: 32 multiply-adds per instruction where VFMADD231PS
//     does 16, and no int→float conversion); without VNNI, the avx2 int8
//     kernels;
//   - avx2 (amd64 with AVX2, FMA and F16C: 16 registers of 8 lanes):
//     assembly for the three precisions. The 4×4 kernels keep two sums of
//     4 lanes per register, so that 8 accumulators hold the 16 sums and
//     the weights are still read once, in order: float32 rows broadcast
//     to both halves times two columns side by side; half and int8 rows r
//     and r+1 side by side (one VCVTPH2PS per 8 halves, one VPMOVSXBW per
//     16 codes) times a column. Int8 products are VPMADDWD (16
//     multiply-adds, summed in pairs into int32) then VPADDD: exact, as
//     with VNNI. A group of 4 int8 rows runs through all its blocks of 4
//     columns in one call, loading each column once for the 4 rows, and
//     stores the results scaled (what Matrix.store does, bit for bit);
//     for products of at least 8 columns the rows are kept widened to
//     int16 as well (Matrix.Reserve), so that the blocks after the first
//     do not widen them again. The 4×1 kernels keep two accumulators per
//     row;
//   - generic, and any build with the purego tag: pure-Go kernels.
//
// All give the same results up to the order of the float32 additions
// (Int8: the same results, bit for bit).
//
// Products of at least MinParallel multiply-adds are split by groups of
// rows over persistent goroutines (GOMAXPROCS), so the result does not
// depend on the number of threads, and nothing is allocated once the
// workers have started (Int8 products need room for their column codes:
// Matrix.Reserve, or the first product wider than any before, allocates
// it). Callers with their own goroutines (core/model's streaming layers)
// split a product themselves: Matrix.PrepareT (or, for Int8 operands
// made of runs of a larger array, Matrix.PrepareRuns) on ranges of
// columns, then Matrix.MulTRows on ranges of rows or Matrix.MulTPart on
// ranges of rows and columns, with MulT's result. Transpose forms a Bᵀ
// operand from channel-major data (8 × 8 blocks in registers on amd64).
//
// Shape and length errors are programmer errors and panic with messages
// prefixed "panel: ".
package panel
