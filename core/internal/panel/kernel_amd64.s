//go:build amd64 && !purego

#include "textflag.h"
#include "kernel_amd64.h"

// HSUM16 stores the sum of the 16 lanes of z at off(BX) (Y24, X25 scratch).
#define HSUM16(z, y, off) \
	VEXTRACTF64X4 $1, z, Y24; VADDPS Y24, y, Y24; \
	VEXTRACTF32X4 $1, Y24, X25; VADDPS X25, X24, X24; \
	VMOVHLPS X24, X24, X25; VADDPS X25, X24, X24; \
	VMOVSHDUP X24, X25; VADDSS X25, X24, X24; VMOVSS X24, off(BX)

#define DOTROW4(za, acc0, acc1, acc2, acc3) \
	VFMADD231PS Z16, za, acc0; VFMADD231PS Z17, za, acc1; VFMADD231PS Z18, za, acc2; VFMADD231PS Z19, za, acc3

// ZERO4 clears four registers; ZERO16 clears Z0–Z15.
#define ZERO4(a, b, c, d) VPXORD a, a, a; VPXORD b, b, b; VPXORD c, c, c; VPXORD d, d, d
#define ZERO16 ZERO4(Z0, Z1, Z2, Z3); ZERO4(Z4, Z5, Z6, Z7); ZERO4(Z8, Z9, Z10, Z11); ZERO4(Z12, Z13, Z14, Z15)

// HSUM4 stores the sums of accumulators a–d (low halves ya–yd) at off,
// off+4, off+8 and off+12 (BX).
#define HSUM4(a, b, c, d, ya, yb, yc, yd, off) HSUM16(a, ya, off); HSUM16(b, yb, off+4); HSUM16(c, yc, off+8); HSUM16(d, yd, off+12)

// LOADB4 loads 16 floats of each column, at AX, into Z16–Z19.
#define LOADB4 VMOVUPS (R12)(AX*1), Z16; VMOVUPS (R13)(AX*1), Z17; VMOVUPS (SI)(AX*1), Z18; VMOVUPS (DI)(AX*1), Z19

// LOADH4 converts 16 halves of each of the 4 rows at R8 into Z20–Z23;
// LOADS4 loads 16 floats of each.
#define LOADH4 VCVTPH2PS (R8), Z20; VCVTPH2PS 32(R8), Z21; VCVTPH2PS 64(R8), Z22; VCVTPH2PS 96(R8), Z23
#define LOADS4 VMOVUPS (R8), Z20; VMOVUPS 64(R8), Z21; VMOVUPS 128(R8), Z22; VMOVUPS 192(R8), Z23

// DOTHEAD clears the accumulators (ZERO) and skips to sum for k = 0;
// DOTNEXT advances a by stepA bytes and the columns by 16 floats, and
// loops while steps are left.
#define DOTHEAD(ZERO, sum) XORQ AX, AX; ZERO; SHRQ $4, CX; JZ sum
#define DOTNEXT(stepA, loop) ADDQ $stepA, R8; ADDQ $64, AX; DECQ CX; JNZ loop

// DOT4x4 is the body of hdot4x4 and sdot4x4 once their arguments are
// loaded: LOADA loads a step of the 4 rows (stepA bytes of a), and the 16
// accumulators Z0–Z15 hold the 4×4 dot products, stored at out.
#define DOT4x4(LOADA, stepA, loop, sum) \
	DOTHEAD(ZERO16, sum); \
loop: \
	LOADB4; LOADA; \
	DOTROW4(Z20, Z0, Z1, Z2, Z3); DOTROW4(Z21, Z4, Z5, Z6, Z7); \
	DOTROW4(Z22, Z8, Z9, Z10, Z11); DOTROW4(Z23, Z12, Z13, Z14, Z15); \
	DOTNEXT(stepA, loop); \
sum: \
	HSUM4(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, 0); HSUM4(Z4, Z5, Z6, Z7, Y4, Y5, Y6, Y7, 16); \
	HSUM4(Z8, Z9, Z10, Z11, Y8, Y9, Y10, Y11, 32); HSUM4(Z12, Z13, Z14, Z15, Y12, Y13, Y14, Y15, 48); \
	VZEROUPPER; \
	RET

// DOTFN4x4 and DOTFN4x1 are the functions hdot4x4, sdot4x4 and hdot4x1,
// sdot4x1: their arguments loaded, then DOT4x4 or DOT4x1.
#define DOTFN4x4(name, LOADA, stepA, loop, sum) \
TEXT name(SB), NOSPLIT, $0-56; \
	ARGS4x4; \
	DOT4x4(LOADA, stepA, loop, sum)

#define DOTFN4x1(name, LOADA, stepA, loop, sum) \
TEXT name(SB), NOSPLIT, $0-32; \
	ARGS4x1; \
	DOT4x1(LOADA, stepA, loop, sum)
#define DOT4x1(LOADA, stepA, loop, sum) \
	DOTHEAD(ZERO4(Z0, Z1, Z2, Z3), sum); \
loop: \
	VMOVUPS (R12)(AX*1), Z16; LOADA; \
	VFMADD231PS Z16, Z20, Z0; VFMADD231PS Z16, Z21, Z1; VFMADD231PS Z16, Z22, Z2; VFMADD231PS Z16, Z23, Z3; \
	DOTNEXT(stepA, loop); \
sum: \
	HSUM4(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, 0); VZEROUPPER; \
	RET

// func hdot4x4(k int, a *uint16, b0, b1, b2, b3 *float32, out *float32)
// func sdot4x4(k int, a *float32, b0, b1, b2, b3 *float32, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q], k a multiple of 16, a a packed group:
// 16 halves (hdot4x4) or floats (sdot4x4) of row 0, of row 1, of row 2,
// of row 3, then the next 16 columns. R8 walks a (128 or 256 bytes per
// step), AX the float32 rows (64).
DOTFN4x4(·hdot4x4, LOADH4, 128, h44loop, h44sum)
DOTFN4x4(·sdot4x4, LOADS4, 256, s44loop, s44sum)

// func hdot4x1(k int, a *uint16, b0 *float32, out *float32)
// func sdot4x1(k int, a *float32, b0 *float32, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q], k a multiple of 16, a a packed group.
DOTFN4x1(·hdot4x1, LOADH4, 128, h41loop, h41sum)
DOTFN4x1(·sdot4x1, LOADS4, 256, s41loop, s41sum)

// ISUM2 adds the low 8 and the high 8 int32 lanes of the accumulator z
// (whose low half is y) and stores them, converted to float32, at lo(BX)
// and hi(BX) (Y8, Y9, X10 scratch: VPHADDD has no EVEX form).
#define ISUM2(z, y, lo, hi) \
	VEXTRACTI64X4 $1, z, Y8; \
	VPHADDD Y8, y, Y9; VPHADDD Y9, Y9, Y9; \
	VEXTRACTI128  $1, Y9, X10; \
	VPADDD        X10, X9, X9; \
	VCVTDQ2PS     X9, X9; \
	VMOVSS        X9, lo(BX); \
	VEXTRACTPS    $1, X9, hi(BX)

// IDOT4 adds the products of the 32 words of row pair za with the
// columns Z16–Z19 into a–d.
#define IDOT4(za, a, b, c, d) VPDPWSSD Z16, za, a; VPDPWSSD Z17, za, b; VPDPWSSD Z18, za, c; VPDPWSSD Z19, za, d

// func idot4x4(k int, a *int8, b0, b1, b2, b3 *int16, out *float32)
//
// out[4r+c] = float32(Σ_q a_r[q]·b_c[q]) in exact int32 arithmetic (the
// caller bounds the sums), for int8 codes a and int16 columns b, k a
// multiple of 16, a a packed group (16 bytes of each of the 4 rows per 16
// columns), each 16 words of b stored twice. Each step widens rows 0–1
// and rows 2–3 to 32 words (VPMOVSXBW) and multiplies them by the 2×16
// words of a column (VPDPWSSD: 32 products per instruction, summed in
// pairs). R8 walks a (64 bytes per step), AX the columns (64 bytes).
TEXT ·idot4x4(SB), NOSPLIT, $0-56
	ARGS4x4
	XORQ AX, AX
	ZERO4(Z0, Z1, Z2, Z3); ZERO4(Z4, Z5, Z6, Z7)
	SHRQ $4, CX; JZ i44sum

i44loop:
	// The weights come from L3 or DRAM in a streaming step: fetch 32
	// chunks ahead (PREFETCHT0 past the end is harmless).
	PREFETCHT0 2048(R8)
	VPMOVSXBW  (R8), Z20; VPMOVSXBW 32(R8), Z21
	VMOVDQU64  (R12)(AX*1), Z16; VMOVDQU64 (R13)(AX*1), Z17; VMOVDQU64 (SI)(AX*1), Z18; VMOVDQU64 (DI)(AX*1), Z19
	IDOT4(Z20, Z0, Z1, Z2, Z3)
	IDOT4(Z21, Z4, Z5, Z6, Z7)
	ADDQ $64, R8; ADDQ $64, AX
	DECQ CX; JNZ i44loop

i44sum:
	ISUM2(Z0, Y0, 0, 16); ISUM2(Z1, Y1, 4, 20); ISUM2(Z2, Y2, 8, 24); ISUM2(Z3, Y3, 12, 28)
	ISUM2(Z4, Y4, 32, 48); ISUM2(Z5, Y5, 36, 52); ISUM2(Z6, Y6, 40, 56); ISUM2(Z7, Y7, 44, 60)
	VZEROUPPER
	RET

// func idot4x1(k int, a *int8, b0 *int16, out *float32)
//
// out[r] = float32(Σ_q a_r[q]·b0[q]) as idot4x4, four 16-column steps per
// iteration into separate accumulators (VPDPWSSD's latency), then single
// steps.
TEXT ·idot4x1(SB), NOSPLIT, $0-32
	ARGS4x1
	ZERO4(Z0, Z1, Z2, Z3); ZERO4(Z4, Z5, Z6, Z7)
	SHRQ $4, CX
	CMPQ CX, $4; JLT i41tail

i41loop4:
	VPMOVSXBW (R8), Z20; VPMOVSXBW 32(R8), Z21; VPMOVSXBW 64(R8), Z22; VPMOVSXBW 96(R8), Z23
	VPMOVSXBW 128(R8), Z24; VPMOVSXBW 160(R8), Z25; VPMOVSXBW 192(R8), Z26; VPMOVSXBW 224(R8), Z27
	VMOVDQU64 (R12), Z16; VMOVDQU64 64(R12), Z17; VMOVDQU64 128(R12), Z18; VMOVDQU64 192(R12), Z19
	VPDPWSSD  Z16, Z20, Z0; VPDPWSSD Z16, Z21, Z1; VPDPWSSD Z17, Z22, Z2; VPDPWSSD Z17, Z23, Z3
	VPDPWSSD  Z18, Z24, Z4; VPDPWSSD Z18, Z25, Z5; VPDPWSSD Z19, Z26, Z6; VPDPWSSD Z19, Z27, Z7
	ADDQ $256, R8; ADDQ $256, R12
	SUBQ $4, CX
	CMPQ CX, $4; JGE i41loop4

i41tail:
	TESTQ CX, CX; JZ i41sum

i41loop1:
	VPMOVSXBW (R8), Z20; VPMOVSXBW 32(R8), Z21
	VMOVDQU64 (R12), Z16
	VPDPWSSD  Z16, Z20, Z0; VPDPWSSD Z16, Z21, Z1
	ADDQ $64, R8; ADDQ $64, R12
	DECQ CX; JNZ i41loop1

i41sum:
	VPADDD Z2, Z0, Z0; VPADDD Z4, Z0, Z0; VPADDD Z6, Z0, Z0
	VPADDD Z3, Z1, Z1; VPADDD Z5, Z1, Z1; VPADDD Z7, Z1, Z1
	ISUM2(Z0, Y0, 0, 4)
	ISUM2(Z1, Y1, 8, 12)
	VZEROUPPER
	RET

// func absBits(n int, x *float32) uint32
//
// Returns max_i (bits(x[i]) & 0x7fffffff) for n a multiple of 16: the
// bits of the largest magnitude, ≥ 0x7f800000 when a value is ±Inf or NaN.
TEXT ·absBits(SB), NOSPLIT, $0-20
	MOVQ n+0(FP), CX; MOVQ x+8(FP), SI
	VPXORD       Z0, Z0, Z0
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z1
	SHRQ $4, CX; JZ abdone

abloop:
	VPANDD  (SI), Z1, Z2
	VPMAXSD Z2, Z0, Z0
	ADDQ    $64, SI
	DECQ CX; JNZ abloop

abdone:
	VEXTRACTI64X4 $1, Z0, Y2; VPMAXSD Y2, Y0, Y0
	HMAXD(X2)
	MOVL AX, ret+16(FP)
	VZEROUPPER
	RET

// QSTEP quantises 16 floats with one VCVTPS2DQ and stores the 16
// saturated words twice (VPMOVSDW).
#define QSTEP VMULPS (SI), Z1, Z2; VCVTPS2DQ Z2, Z2; VPMOVSDW Z2, (DI); VPMOVSDW Z2, 32(DI)

// func quant16(n int, x *float32, inv float32, q *int16)
//
// q[2i − i mod 16] = q[2i − i mod 16 + 16] = int16(round(x[i]·inv)) (to
// nearest, ties to even; the caller keeps |x[i]·inv| ≤ 32767) for n a
// multiple of 16: each 16 codes twice, 64 bytes.
TEXT ·quant16(SB), NOSPLIT, $0-32
	QUANT16(Z1, QSTEP)
