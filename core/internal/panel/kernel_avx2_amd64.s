//go:build amd64 && !purego

#include "textflag.h"
#include "kernel_amd64.h"

// The AVX2 kernels: the contracts of kernel_amd64.s's AVX-512 ones, for
// CPUs with AVX2, FMA and F16C and so only 16 ymm registers of 8 lanes.
//
// The 4×4 products need 16 sums. One ymm accumulator per sum would leave
// no register for the operands, so each accumulator holds two sums of 4
// lanes (8 registers for the 16 sums, with the same number of
// multiply-adds as 16 full accumulators, and the weights still read once,
// as one sequential stream):
//
//   - sdot4x4avx2: (row r, column 2p) in the low 128 bits of Y(2r+p),
//     (r, 2p+1) in the high ones; a row's 4 floats are broadcast to both
//     halves (VBROADCASTF128), the pair of columns' 4 floats loaded side
//     by side (VINSERTF128);
//   - hdot4x4avx2 and idot4x4avx2: (row r, column c) in the low 128 bits,
//     (r+1, c) in the high ones; the halves or codes of rows r and r+1
//     side by side — two 16-byte loads blended (VPBLENDD), the first
//     converted by one VCVTPH2PS or widened by one VPMOVSXBW — times a
//     column's values broadcast to both halves (half) or loaded as they
//     are (int8: the second of the two copies of each 16 codes gives
//     columns 8–15 then 0–7, the order of the other row pair, without a
//     shuffle).
//
// idot4x4nAVX2 runs the int8 4×4 product over every block of 4 columns of
// a row group in one call, each column loaded once for the 4 rows, the
// rows optionally already widened (Matrix.w16), and stores the results
// scaled; transpose8AVX2 transposes 8 × 8 floats in registers
// (Transpose).
//
// The weights come from L3 or DRAM in a streaming step, read once:
// PREFETCHT0 fetches them PF bytes (a 4 KiB page, where the hardware
// prefetchers stop) ahead in the 4×4 kernels and idot4x1avx2 (past the
// end of the matrix is harmless). Measured on Zen 5 the float32 and half
// 4×1 kernels stream faster without it, leaving the hardware
// prefetchers alone.
#define PF 4096

// PAIRF loads the 4 floats at off of the columns in R12 and R13 (+AX) side
// by side into y (x its low half); PAIRF2 those of SI and DI.
#define PAIRF(off, y, x) \
	VMOVUPS     off(R12)(AX*1), x; \
	VINSERTF128 $1, off(R13)(AX*1), y, y

#define PAIRF2(off, y, x) \
	VMOVUPS     off(SI)(AX*1), x; \
	VINSERTF128 $1, off(DI)(AX*1), y, y

// MADD4 adds the products of the broadcast rows Y10–Y13 by the column
// pairs p0 (columns 0, 1) and p1 (2, 3) to the accumulators Y0–Y7.
#define MADD4(p0, p1) \
	VFMADD231PS p0, Y10, Y0; VFMADD231PS p1, Y10, Y1; VFMADD231PS p0, Y11, Y2; VFMADD231PS p1, Y11, Y3; \
	VFMADD231PS p0, Y12, Y4; VFMADD231PS p1, Y12, Y5; VFMADD231PS p0, Y13, Y6; VFMADD231PS p1, Y13, Y7

// SQUAD is the step of sdot4x4avx2 for columns off/4 … off/4+3 of a
// chunk: a row's 4 floats are 64 bytes apart.
#define SQUAD(off, p0, p0x, p1, p1x) \
	PAIRF(off, p0, p0x); \
	PAIRF2(off, p1, p1x); \
	VBROADCASTF128 off(R8), Y10; VBROADCASTF128 64+off(R8), Y11; VBROADCASTF128 128+off(R8), Y12; VBROADCASTF128 192+off(R8), Y13; \
	MADD4(p0, p1)

// SUM2ROWS stores the 8 sums of rows r (accumulators a0, a1) and r+1 (b0,
// b1) at off(BX) and off+16(BX), as float32 (Y10, Y11, X12 scratch): the
// 4 lanes of each half are added by two VHADDPS, then the low halves
// (columns 0, 2) and high halves (1, 3) interleaved.
#define SUM2ROWS(a0, a1, b0, b1, off) \
	VHADDPS a1, a0, Y10; VHADDPS b1, b0, Y11; VHADDPS Y11, Y10, Y10; \
	VEXTRACTF128 $1, Y10, X11; \
	VUNPCKLPS    X11, X10, X12; \
	VUNPCKHPS    X11, X10, X11; \
	VMOVUPS X12, off(BX); VMOVUPS X11, 16+off(BX)

// SUM4 stores the sums of the 8 lanes of y0–y3 at (BX) (Y8 scratch):
// out[r] = Σ lanes of y_r.
#define SUM4(y0, y1, y2, y3, x0) \
	VHADDPS y1, y0, y0; VHADDPS y3, y2, y2; VHADDPS y2, y0, y0; \
	VEXTRACTF128 $1, y0, X8; \
	VADDPS       X8, x0, x0; \
	VMOVUPS      x0, (BX)

// ZERO8 clears the accumulators Y0–Y7.
#define ZERO8 \
	VXORPS Y0, Y0, Y0; VXORPS Y1, Y1, Y1; VXORPS Y2, Y2, Y2; VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; VXORPS Y5, Y5, Y5; VXORPS Y6, Y6, Y6; VXORPS Y7, Y7, Y7

// FN4x4AVX2 is a 4×4 kernel of this file: its arguments loaded (ARGS4x4),
// the accumulators cleared (ZERO), then for every chunk of 16 columns
// STEP and a advanced by stepA bytes, the columns by 64; SUM stores the
// sums.
#define FN4x4AVX2(name, ZERO, STEP, stepA, SUM, loop, sum) \
TEXT name(SB), NOSPLIT, $0-56; \
	ARGS4x4; \
	XORQ AX, AX; \
	ZERO; \
	SHRQ $4, CX; JZ sum; \
loop: \
	STEP; \
	ADDQ $stepA, R8; ADDQ $64, AX; \
	DECQ CX; JNZ loop; \
sum: \
	SUM; \
	VZEROUPPER; \
	RET

// SSTEP and SSUM are sdot4x4avx2's chunk and sums.
#define SSTEP \
	PREFETCHT0 PF(R8); PREFETCHT0 PF+64(R8); PREFETCHT0 PF+128(R8); PREFETCHT0 PF+192(R8); \
	SQUAD(0, Y8, X8, Y9, X9); \
	SQUAD(16, Y14, X14, Y15, X15); \
	SQUAD(32, Y8, X8, Y9, X9); \
	SQUAD(48, Y14, X14, Y15, X15)
#define SSUM SUM2ROWS(Y0, Y1, Y2, Y3, 0); SUM2ROWS(Y4, Y5, Y6, Y7, 32)

// func sdot4x4avx2(k int, a *float32, b0, b1, b2, b3 *float32, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q] for r, c < 4, q < k, k a multiple of 16,
// a a packed group (per 16 columns: 16 floats of row 0, of row 1, of row
// 2, of row 3). R8 walks a (256 bytes per chunk), AX the columns (64).
FN4x4AVX2(·sdot4x4avx2, ZERO8, SSTEP, 256, SSUM, s44loop, s44sum)

// SROW1 adds the products of the 4 rows of the chunk at off(R8) by the
// column's 8 floats in yb (columns 0–7 of the chunk at boff=0, 8–15 at
// boff=32) to a0–a3, the weights as FMA memory operands.
#define SROW1(off, boff, yb, a0, a1, a2, a3) \
	VFMADD231PS off+boff(R8), yb, a0; VFMADD231PS off+boff+64(R8), yb, a1; VFMADD231PS off+boff+128(R8), yb, a2; VFMADD231PS off+boff+192(R8), yb, a3

// FN4x1AVX2 is a 4×1 kernel of this file that takes two chunks of 16
// columns per iteration (STEP2, then a and the column advanced by stepA2
// and stepB2 bytes) and a last one (STEP1): its arguments loaded
// (ARGS4x1), the accumulators cleared (ZERO), then the chunks; SUM
// stores the sums.
#define FN4x1AVX2(name, ZERO, STEP2, stepA2, stepB2, STEP1, SUM, loop2, tail, sum) \
TEXT name(SB), NOSPLIT, $0-32; \
	ARGS4x1; \
	ZERO; \
	SHRQ $4, CX; \
	CMPQ CX, $2; JLT tail; \
loop2: \
	STEP2; \
	ADDQ $stepA2, R8; ADDQ $stepB2, R12; \
	SUBQ $2, CX; \
	CMPQ CX, $2; JGE loop2; \
tail: \
	TESTQ CX, CX; JZ sum; \
	STEP1; \
sum: \
	SUM; \
	VZEROUPPER; \
	RET

// S1STEP2, S1STEP1 and S1SUM are sdot4x1avx2's two chunks, last chunk
// and sums.
#define S1STEP2 \
	VMOVUPS (R12), Y8; VMOVUPS 32(R12), Y9; VMOVUPS 64(R12), Y10; VMOVUPS 96(R12), Y11; \
	SROW1(0, 0, Y8, Y0, Y1, Y2, Y3); \
	SROW1(256, 0, Y10, Y4, Y5, Y6, Y7); \
	SROW1(0, 32, Y9, Y0, Y1, Y2, Y3); \
	SROW1(256, 32, Y11, Y4, Y5, Y6, Y7)
#define S1STEP1 \
	VMOVUPS (R12), Y8; VMOVUPS 32(R12), Y9; \
	SROW1(0, 0, Y8, Y0, Y1, Y2, Y3); SROW1(0, 32, Y9, Y4, Y5, Y6, Y7)
#define S1SUM \
	VADDPS Y4, Y0, Y0; VADDPS Y5, Y1, Y1; VADDPS Y6, Y2, Y2; VADDPS Y7, Y3, Y3; \
	SUM4(Y0, Y1, Y2, Y3, X0)

// func sdot4x1avx2(k int, a *float32, b0 *float32, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q] for r < 4, q < k, k a multiple of 16, a a
// packed group. Two chunks per iteration, the first into Y0–Y3, the
// second into Y4–Y7 (8 independent FMA chains hide their latency), the
// first halves of the 8 rows before the second halves; then one chunk.
// No software prefetch: measured on Zen 5, the hardware prefetchers
// alone stream faster here.
FN4x1AVX2(·sdot4x1avx2, ZERO8, S1STEP2, 512, 128, S1STEP1, S1SUM, s41loop2, s41tail, s41sum)

// BDUP broadcasts the 4 floats at off(+AX) of each column (R12, R13, SI,
// DI) to both halves of Y8–Y11.
#define BDUP(off) \
	VBROADCASTF128 off(R12)(AX*1), Y8; VBROADCASTF128 off(R13)(AX*1), Y9; VBROADCASTF128 off(SI)(AX*1), Y10; VBROADCASTF128 off(DI)(AX*1), Y11

// HPAIR sets ya to the 4 halves at aq of row r (at ar) and of row r+1
// (32 bytes on), as 8 floats: the low 8 bytes of the 16 at ar+aq and the
// high 8 of the 16 at ar+aq+24, blended, then converted.
#define HPAIR(ar, aq, ya, xa) \
	VMOVDQU   ar+aq(R8), xa; \
	VPBLENDD  $0x0c, ar+24+aq(R8), xa, xa; \
	VCVTPH2PS xa, ya

// FMAPAIR adds the products of the row pair ya by the 4 broadcast columns
// Y8–Y11 to the accumulators a0–a3.
#define FMAPAIR(ya, a0, a1, a2, a3) \
	VFMADD231PS Y8, ya, a0; VFMADD231PS Y9, ya, a1; VFMADD231PS Y10, ya, a2; VFMADD231PS Y11, ya, a3

// HQUAD is the step of hdot4x4avx2 for columns boff/4 … boff/4+3 of a
// chunk (aq = boff/2 bytes into a row of halves): rows 0 and 1 into
// Y0–Y3, rows 2 and 3 into Y4–Y7.
#define HQUAD(boff, aq) \
	BDUP(boff); \
	HPAIR(0, aq, Y12, X12); \
	HPAIR(64, aq, Y13, X13); \
	FMAPAIR(Y12, Y0, Y1, Y2, Y3); \
	FMAPAIR(Y13, Y4, Y5, Y6, Y7)

// SUMPAIR stores the sums of the accumulators c0–c3 of a row pair (the
// low 4 lanes of c_j: row r, column j; the high 4: row r+1) at off(BX) as
// out[4r … 4r+7]: three VHADDPS leave them in that order.
#define SUMPAIR(c0, c1, c2, c3, off) \
	VHADDPS c1, c0, c0; VHADDPS c3, c2, c2; VHADDPS c2, c0, c0; \
	VMOVUPS c0, off(BX)

// HSTEP and HSUM are hdot4x4avx2's chunk and sums.
#define HSTEP \
	PREFETCHT0 PF(R8); PREFETCHT0 PF+64(R8); \
	HQUAD(0, 0); \
	HQUAD(16, 8); \
	HQUAD(32, 16); \
	HQUAD(48, 24)
#define HSUM SUMPAIR(Y0, Y1, Y2, Y3, 0); SUMPAIR(Y4, Y5, Y6, Y7, 32)

// func hdot4x4avx2(k int, a *uint16, b0, b1, b2, b3 *float32, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q] as sdot4x4avx2, for a in half precision
// (per 16 columns: 16 halves of row 0, of row 1, of row 2, of row 3).
// R8 walks a (128 bytes per chunk), AX the columns (64).
FN4x4AVX2(·hdot4x4avx2, ZERO8, HSTEP, 128, HSUM, h44loop, h44sum)

// func hdot4x1avx2(k int, a *uint16, b0 *float32, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q] as sdot4x1avx2, for a in half precision: each
// 8 halves converted by one VCVTPH2PS (rows 32 bytes apart).
TEXT ·hdot4x1avx2(SB), NOSPLIT, $0-32
	ARGS4x1
	ZERO8
	SHRQ $4, CX; JZ h41sum

h41loop:
	VMOVUPS (R12), Y8; VMOVUPS 32(R12), Y9
	VCVTPH2PS (R8), Y10; VCVTPH2PS 16(R8), Y11; VCVTPH2PS 32(R8), Y12; VCVTPH2PS 48(R8), Y13
	VFMADD231PS Y8, Y10, Y0; VFMADD231PS Y9, Y11, Y4; VFMADD231PS Y8, Y12, Y1; VFMADD231PS Y9, Y13, Y5
	VCVTPH2PS 64(R8), Y10; VCVTPH2PS 80(R8), Y11; VCVTPH2PS 96(R8), Y12; VCVTPH2PS 112(R8), Y13
	VFMADD231PS Y8, Y10, Y2; VFMADD231PS Y9, Y11, Y6; VFMADD231PS Y8, Y12, Y3; VFMADD231PS Y9, Y13, Y7
	ADDQ $128, R8; ADDQ $64, R12
	DECQ CX; JNZ h41loop

h41sum:
	VADDPS Y4, Y0, Y0; VADDPS Y5, Y1, Y1; VADDPS Y6, Y2, Y2; VADDPS Y7, Y3, Y3
	SUM4(Y0, Y1, Y2, Y3, X0)
	VZEROUPPER
	RET

// IROWS widens the codes of rows r (at ar) and r+1 (ar+16) of a chunk
// for the 4×4 product: yz gets the codes 8–15 of row r and 0–7 of row
// r+1 (one load across the rows), yw the codes 0–7 of row r and 8–15 of
// row r+1 (two 16-byte loads blended), as words.
#define IROWS(ar, yz, yw, xw) \
	VPMOVSXBW ar+8(R8), yz; \
	VMOVDQU   ar(R8), xw; \
	VPBLENDD  $0x0c, ar+16(R8), xw, xw; \
	VPMOVSXBW xw, yw

// ICOLN adds the products of the four widened rows Y8–Y11 (IROWS: rows 0
// and 1 in Y8, Y9; rows 2 and 3 in Y10, Y11) by a column to a0 (rows 0,
// 1) and a1 (rows 2, 3) (Y12–Y15 scratch): the column's 16 words as
// stored at m0 (codes 0–15) multiply yw, the 16 at m1, 16 bytes on, from
// the middle of its two copies (codes 8–15, 0–7), multiply yz. The column
// is loaded once for the four rows; VPMADDWD sums the products in pairs.
#define ICOLN(m0, m1, a0, a1) \
	VMOVDQU m0, Y12; VMOVDQU m1, Y13; \
	VPMADDWD Y12, Y9, Y14; VPMADDWD Y13, Y8, Y15; \
	VPADDD Y14, a0, a0; VPADDD Y15, a0, a0; \
	VPMADDWD Y12, Y11, Y14; VPMADDWD Y13, Y10, Y15; \
	VPADDD Y14, a1, a1; VPADDD Y15, a1, a1

// ISUMPAIR is SUMPAIR for int32 accumulators: the exact sums, then
// converted to float32.
#define ISUMPAIR(c0, c1, c2, c3, off) \
	VPHADDD c1, c0, c0; VPHADDD c3, c2, c2; VPHADDD c2, c0, c0; \
	VCVTDQ2PS c0, c0; \
	VMOVUPS   c0, off(BX)

// IZERO8 clears the int32 accumulators Y0–Y7.
#define IZERO8 \
	VPXOR Y0, Y0, Y0; VPXOR Y1, Y1, Y1; VPXOR Y2, Y2, Y2; VPXOR Y3, Y3, Y3; \
	VPXOR Y4, Y4, Y4; VPXOR Y5, Y5, Y5; VPXOR Y6, Y6, Y6; VPXOR Y7, Y7, Y7

// ISTEP and ISUM are idot4x4avx2's chunk and sums.
#define ISTEP \
	PREFETCHT0 PF(R8); \
	IROWS(0, Y8, Y9, X9); \
	IROWS(32, Y10, Y11, X11); \
	ICOLN((R12)(AX*1), 16(R12)(AX*1), Y0, Y4); \
	ICOLN((R13)(AX*1), 16(R13)(AX*1), Y1, Y5); \
	ICOLN((SI)(AX*1), 16(SI)(AX*1), Y2, Y6); \
	ICOLN((DI)(AX*1), 16(DI)(AX*1), Y3, Y7)
#define ISUM ISUMPAIR(Y0, Y1, Y2, Y3, 0); ISUMPAIR(Y4, Y5, Y6, Y7, 32)

// func idot4x4avx2(k int, a *int8, b0, b1, b2, b3 *int16, out *float32)
//
// out[4r+c] = float32(Σ_q a_r[q]·b_c[q]) in exact int32 arithmetic (the
// caller bounds the sums), for int8 codes a and int16 columns b, k a
// multiple of 16, a a packed group (16 bytes of each of the 4 rows per 16
// columns), each 16 words of b stored twice (32 words, 64 bytes per
// chunk). R8 walks a (64 bytes per chunk), AX the columns (64 bytes).
FN4x4AVX2(·idot4x4avx2, IZERO8, ISTEP, 64, ISUM, i44loop, i44sum)

// ISCALE2 turns the int32 accumulators c0–c3 of a row pair (ICOLN's a0
// of columns 0–3) into the 8 values of rows r, r+1 (the low and high
// halves of c0), as float32 times the rows' scales (rs at AX + off,
// off + 4) times the columns' (Y10: qs, both halves), in that order, as
// Matrix.store computes them; Y8, Y9 scratch.
#define ISCALE2(c0, c1, c2, c3, off) \
	VPHADDD c1, c0, c0; VPHADDD c3, c2, c2; VPHADDD c2, c0, c0; \
	VCVTDQ2PS    c0, c0; \
	VBROADCASTSS off(AX), Y8; VBROADCASTSS off+4(AX), Y9; \
	VBLENDPS     $0xf0, Y9, Y8, Y8; \
	VMULPS Y8, c0, c0; VMULPS Y10, c0, c0

// ICOLS4 is ICOLN for the 4 columns of a block of idot4x4nAVX2, at R12,
// +DX, +2·DX and +R9 bytes.
#define ICOLS4 \
	ICOLN((R12), 16(R12), Y0, Y4); \
	ICOLN((R12)(DX*1), 16(R12)(DX*1), Y1, Y5); \
	ICOLN((R12)(DX*2), 16(R12)(DX*2), Y2, Y6); \
	ICOLN((R12)(R9*1), 16(R12)(R9*1), Y3, Y7)

// func idot4x4nAVX2(k int, a *int8, aw *int16, b *int16, bs int, n4 int, c *float32, ldc int, rs *float32, qs *float32, beta float32)
//
// For blocks jb < n4 of 4 columns, sets C[r][4jb+i] = float32(Σ_q
// a_r[q]·b_{4jb+i}[q])·rs[r]·qs[4jb+i] (+ beta·C[r][4jb+i] when beta ≠
// 0: the product then the sum, each rounded) for r, i < 4: idot4x4avx2's
// exact sums of the packed group a (k a multiple of 16) with the columns
// of int16 codes at b, bs words apart (each 16 twice), scaled and stored
// as Matrix.store does, C's rows ldc floats apart. The group, read once
// per block, stays in the L1 cache across blocks. When aw is not nil it
// holds the group's codes already widened (Matrix.w16: per chunk the
// four registers IROWS forms, 128 bytes), loaded instead of a.
//
// Registers: R8 walks a or aw and R12 the block's columns (at R12, +DX,
// +2·DX, +R9 = 3·DX bytes), CX counts chunks; DI is the block's first
// column, R10 its place in C, R11 in qs, SI the blocks left; BX is ldc in
// bytes.
TEXT ·idot4x4nAVX2(SB), NOSPLIT, $0-84
	MOVQ b+24(FP), DI; MOVQ bs+32(FP), DX
	SHLQ $1, DX
	LEAQ (DX)(DX*2), R9
	MOVQ n4+40(FP), SI; MOVQ c+48(FP), R10; MOVQ ldc+56(FP), BX
	SHLQ $2, BX
	MOVQ qs+72(FP), R11
	TESTQ SI, SI; JZ i4ndone

i4nblock:
	MOVQ DI, R12; MOVQ k+0(FP), CX
	IZERO8
	SHRQ $4, CX; JZ i4nstore
	MOVQ  aw+16(FP), R8
	TESTQ R8, R8; JNZ i4nwloop
	MOVQ  a+8(FP), R8

i4nloop:
	PREFETCHT0 PF(R8)
	IROWS(0, Y8, Y9, X9)
	IROWS(32, Y10, Y11, X11)
	ICOLS4
	ADDQ $64, R8; ADDQ $64, R12
	DECQ CX; JNZ i4nloop
	JMP  i4nstore

i4nwloop:
	PREFETCHT0 PF(R8); PREFETCHT0 PF+64(R8)
	VMOVDQU (R8), Y8; VMOVDQU 32(R8), Y9; VMOVDQU 64(R8), Y10; VMOVDQU 96(R8), Y11
	ICOLS4
	ADDQ $128, R8; ADDQ $64, R12
	DECQ CX; JNZ i4nwloop

i4nstore:
	MOVQ           rs+64(FP), AX
	VBROADCASTF128 (R11), Y10
	ISCALE2(Y0, Y1, Y2, Y3, 0)
	ISCALE2(Y4, Y5, Y6, Y7, 8)
	LEAQ           (R10)(BX*2), R13
	MOVL           beta+80(FP), AX
	ANDL           $0x7fffffff, AX
	JZ             i4nput
	VBROADCASTSS   beta+80(FP), Y11
	VMOVUPS        (R10), X12
	VINSERTF128    $1, (R10)(BX*1), Y12, Y12
	VMULPS         Y11, Y12, Y12
	VADDPS         Y12, Y0, Y0
	VMOVUPS        (R13), X12
	VINSERTF128    $1, (R13)(BX*1), Y12, Y12
	VMULPS         Y11, Y12, Y12
	VADDPS         Y12, Y4, Y4

i4nput:
	VMOVUPS      X0, (R10)
	VEXTRACTF128 $1, Y0, (R10)(BX*1)
	VMOVUPS      X4, (R13)
	VEXTRACTF128 $1, Y4, (R13)(BX*1)
	ADDQ $16, R10; ADDQ $16, R11
	LEAQ         (DI)(DX*4), DI
	DECQ SI; JNZ i4nblock

i4ndone:
	VZEROUPPER
	RET

// IROW1 adds the products of the 16 codes of each row of the chunk at
// off(R8), widened to words, by the column's 16 words in yb to acc0–acc3
// (Y10, Y11 scratch).
#define IROW1(off, yb, acc0, acc1, acc2, acc3) \
	VPMOVSXBW off(R8), Y10; VPMOVSXBW 16+off(R8), Y11; \
	VPMADDWD yb, Y10, Y10; VPMADDWD yb, Y11, Y11; \
	VPADDD Y10, acc0, acc0; VPADDD Y11, acc1, acc1; \
	VPMOVSXBW 32+off(R8), Y10; VPMOVSXBW 48+off(R8), Y11; \
	VPMADDWD yb, Y10, Y10; VPMADDWD yb, Y11, Y11; \
	VPADDD Y10, acc2, acc2; VPADDD Y11, acc3, acc3

// I1STEP2, I1STEP1 and I1SUM are idot4x1avx2's two chunks, last chunk
// and sums.
#define I1STEP2 \
	PREFETCHT0 PF(R8); PREFETCHT0 PF+64(R8); \
	VMOVDQU (R12), Y8; VMOVDQU 64(R12), Y9; \
	IROW1(0, Y8, Y0, Y1, Y2, Y3); \
	IROW1(64, Y9, Y4, Y5, Y6, Y7)
#define I1STEP1 \
	VMOVDQU (R12), Y8; \
	IROW1(0, Y8, Y0, Y1, Y2, Y3)
#define I1SUM \
	VPADDD Y4, Y0, Y0; VPADDD Y5, Y1, Y1; VPADDD Y6, Y2, Y2; VPADDD Y7, Y3, Y3; \
	VPHADDD Y1, Y0, Y0; VPHADDD Y3, Y2, Y2; VPHADDD Y2, Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDD       X1, X0, X0; \
	VCVTDQ2PS    X0, X0; \
	VMOVUPS      X0, (BX)

// func idot4x1avx2(k int, a *int8, b0 *int16, out *float32)
//
// out[r] = float32(Σ_q a_r[q]·b0[q]) as idot4x4avx2: two chunks per
// iteration into separate accumulators (Y0–Y3, Y4–Y7), then one.
FN4x1AVX2(·idot4x1avx2, IZERO8, I1STEP2, 128, 128, I1STEP1, I1SUM, i41loop2, i41tail, i41sum)

// func absBitsAVX2(n int, x *float32) uint32
//
// Returns max_i (bits(x[i]) & 0x7fffffff) for n a multiple of 16: the
// bits of the largest magnitude, ≥ 0x7f800000 when a value is ±Inf or NaN
// (as signed integers the masked bits order as the magnitudes).
TEXT ·absBitsAVX2(SB), NOSPLIT, $0-20
	MOVQ n+0(FP), CX; MOVQ x+8(FP), SI
	VPXOR Y0, Y0, Y0; VPXOR Y1, Y1, Y1
	MOVL         $0x7fffffff, AX
	VMOVD        AX, X2
	VPBROADCASTD X2, Y2
	SHRQ $4, CX; JZ abdone

abloop:
	VPAND (SI), Y2, Y3; VPAND 32(SI), Y2, Y4
	VPMAXSD Y3, Y0, Y0; VPMAXSD Y4, Y1, Y1
	ADDQ    $64, SI
	DECQ CX; JNZ abloop

abdone:
	VPMAXSD Y1, Y0, Y0
	HMAXD(X1)
	MOVL AX, ret+16(FP)
	VZEROUPPER
	RET

// QSTEP2 quantises 16 floats, 8 per VCVTPS2DQ, and stores the 16
// saturated words twice.
#define QSTEP2 \
	VMULPS (SI), Y1, Y2; VMULPS 32(SI), Y1, Y3; \
	VCVTPS2DQ Y2, Y2; VCVTPS2DQ Y3, Y3; \
	VPACKSSDW Y3, Y2, Y2; \
	VPERMQ    $0xd8, Y2, Y2; \
	VMOVDQU Y2, (DI); VMOVDQU Y2, 32(DI)

// func quant16AVX2(n int, x *float32, inv float32, q *int16)
//
// q[2i − i mod 16] = q[2i − i mod 16 + 16] = int16(round(x[i]·inv)) (the
// product rounded to float32, then to the nearest integer, ties to even:
// VCVTPS2DQ; the caller keeps |x[i]·inv| ≤ 32767, and a NaN or infinite
// product gives −32768, the integer indefinite saturated) for n a multiple
// of 16: each 16 codes twice, 64 bytes. VPACKSSDW packs within 128-bit
// lanes (codes 0–3, 8–11 | 4–7, 12–15); VPERMQ puts them in order.
TEXT ·quant16AVX2(SB), NOSPLIT, $0-32
	QUANT16(Y1, QSTEP2)

// func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, nb int)
//
// Transposes an 8 × 8·nb block: dst[t·ldd + r] = src[r·lds + t] for r < 8,
// t < 8·nb (ldd and lds in floats), 8 × 8 at a time: the 8 rows of src
// loaded, interleaved by VUNPCKLPS/VUNPCKHPS (pairs of rows), VSHUFPS
// (quads), VPERM2F128 (the 128-bit halves), stored as 8 rows of dst.
// SI and R10 walk rows 0 and 4 of src, DI and R11 rows t and t+4 of dst;
// AX, R8 are lds and 3·lds in bytes, BX, R9 ldd and 3·ldd.
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI; MOVQ ldd+8(FP), BX; MOVQ src+16(FP), SI; MOVQ lds+24(FP), AX
	MOVQ nb+32(FP), CX
	SHLQ $2, AX; SHLQ $2, BX
	LEAQ (AX)(AX*2), R8; LEAQ (BX)(BX*2), R9; LEAQ (SI)(AX*4), R10; LEAQ (DI)(BX*4), R11
	TESTQ CX, CX; JZ trdone

trloop:
	VMOVUPS (SI), Y0; VMOVUPS (SI)(AX*1), Y1; VMOVUPS (SI)(AX*2), Y2; VMOVUPS (SI)(R8*1), Y3
	VMOVUPS (R10), Y4; VMOVUPS (R10)(AX*1), Y5; VMOVUPS (R10)(AX*2), Y6; VMOVUPS (R10)(R8*1), Y7
	VUNPCKLPS  Y1, Y0, Y8
	VUNPCKHPS  Y1, Y0, Y9
	VUNPCKLPS  Y3, Y2, Y10
	VUNPCKHPS  Y3, Y2, Y11
	VUNPCKLPS  Y5, Y4, Y12
	VUNPCKHPS  Y5, Y4, Y13
	VUNPCKLPS  Y7, Y6, Y14
	VUNPCKHPS  Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0; VSHUFPS $0xee, Y10, Y8, Y1; VSHUFPS $0x44, Y11, Y9, Y2; VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4; VSHUFPS $0xee, Y14, Y12, Y5; VSHUFPS $0x44, Y15, Y13, Y6; VSHUFPS $0xee, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8; VPERM2F128 $0x20, Y5, Y1, Y9; VPERM2F128 $0x20, Y6, Y2, Y10; VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12; VPERM2F128 $0x31, Y5, Y1, Y13; VPERM2F128 $0x31, Y6, Y2, Y14; VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, (DI); VMOVUPS Y9, (DI)(BX*1); VMOVUPS Y10, (DI)(BX*2); VMOVUPS Y11, (DI)(R9*1)
	VMOVUPS Y12, (R11); VMOVUPS Y13, (R11)(BX*1); VMOVUPS Y14, (R11)(BX*2); VMOVUPS Y15, (R11)(R9*1)
	ADDQ $32, SI; ADDQ $32, R10
	LEAQ (DI)(BX*8), DI; LEAQ (R11)(BX*8), R11
	DECQ CX; JNZ trloop

trdone:
	VZEROUPPER
	RET
