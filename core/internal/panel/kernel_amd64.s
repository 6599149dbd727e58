//go:build amd64 && !purego

#include "textflag.h"

// HSUM16 stores the sum of the 16 lanes of z at off(BX) (Y24, X25 scratch).
#define HSUM16(z, y, off) \
	VEXTRACTF64X4 $1, z, Y24; \
	VADDPS        Y24, y, Y24; \
	VEXTRACTF32X4 $1, Y24, X25; \
	VADDPS        X25, X24, X24; \
	VMOVHLPS      X24, X24, X25; \
	VADDPS        X25, X24, X24; \
	VMOVSHDUP     X24, X25; \
	VADDSS        X25, X24, X24; \
	VMOVSS        X24, off(BX)

#define DOTROW4(za, acc0, acc1, acc2, acc3) \
	VFMADD231PS Z16, za, acc0; \
	VFMADD231PS Z17, za, acc1; \
	VFMADD231PS Z18, za, acc2; \
	VFMADD231PS Z19, za, acc3

// func hdot4x4(k int, a *uint16, b0, b1, b2, b3 *float32, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q], k a multiple of 16, a a packed group:
// 16 halves of row 0, of row 1, of row 2, of row 3, then the next 16
// columns. R8 walks a (128 bytes per step), AX the float32 rows (64).
TEXT ·hdot4x4(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ b0+16(FP), R12
	MOVQ b1+24(FP), R13
	MOVQ b2+32(FP), SI
	MOVQ b3+40(FP), DI
	MOVQ out+48(FP), BX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	SHRQ $4, CX
	JZ   h44sum

h44loop:
	VMOVUPS   (R12)(AX*1), Z16
	VMOVUPS   (R13)(AX*1), Z17
	VMOVUPS   (SI)(AX*1), Z18
	VMOVUPS   (DI)(AX*1), Z19
	VCVTPH2PS (R8), Z20
	VCVTPH2PS 32(R8), Z21
	VCVTPH2PS 64(R8), Z22
	VCVTPH2PS 96(R8), Z23
	DOTROW4(Z20, Z0, Z1, Z2, Z3)
	DOTROW4(Z21, Z4, Z5, Z6, Z7)
	DOTROW4(Z22, Z8, Z9, Z10, Z11)
	DOTROW4(Z23, Z12, Z13, Z14, Z15)
	ADDQ $128, R8
	ADDQ $64, AX
	DECQ CX
	JNZ  h44loop

h44sum:
	HSUM16(Z0, Y0, 0)
	HSUM16(Z1, Y1, 4)
	HSUM16(Z2, Y2, 8)
	HSUM16(Z3, Y3, 12)
	HSUM16(Z4, Y4, 16)
	HSUM16(Z5, Y5, 20)
	HSUM16(Z6, Y6, 24)
	HSUM16(Z7, Y7, 28)
	HSUM16(Z8, Y8, 32)
	HSUM16(Z9, Y9, 36)
	HSUM16(Z10, Y10, 40)
	HSUM16(Z11, Y11, 44)
	HSUM16(Z12, Y12, 48)
	HSUM16(Z13, Y13, 52)
	HSUM16(Z14, Y14, 56)
	HSUM16(Z15, Y15, 60)
	VZEROUPPER
	RET

// func hdot4x1(k int, a *uint16, b0 *float32, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q], k a multiple of 16, a a packed group.
TEXT ·hdot4x1(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ b0+16(FP), R12
	MOVQ out+24(FP), BX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	SHRQ $4, CX
	JZ   h41sum

h41loop:
	VMOVUPS     (R12)(AX*1), Z16
	VCVTPH2PS   (R8), Z20
	VCVTPH2PS   32(R8), Z21
	VCVTPH2PS   64(R8), Z22
	VCVTPH2PS   96(R8), Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z16, Z21, Z1
	VFMADD231PS Z16, Z22, Z2
	VFMADD231PS Z16, Z23, Z3
	ADDQ $128, R8
	ADDQ $64, AX
	DECQ CX
	JNZ  h41loop

h41sum:
	HSUM16(Z0, Y0, 0)
	HSUM16(Z1, Y1, 4)
	HSUM16(Z2, Y2, 8)
	HSUM16(Z3, Y3, 12)
	VZEROUPPER
	RET

// func sdot4x4(k int, a *float32, b0, b1, b2, b3 *float32, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q], k a multiple of 16, a a packed group:
// 16 floats of row 0, of row 1, of row 2, of row 3, then the next 16
// columns. R8 walks a (256 bytes per step), AX the float32 rows (64).
TEXT ·sdot4x4(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ b0+16(FP), R12
	MOVQ b1+24(FP), R13
	MOVQ b2+32(FP), SI
	MOVQ b3+40(FP), DI
	MOVQ out+48(FP), BX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	SHRQ $4, CX
	JZ   s44sum

s44loop:
	VMOVUPS   (R12)(AX*1), Z16
	VMOVUPS   (R13)(AX*1), Z17
	VMOVUPS   (SI)(AX*1), Z18
	VMOVUPS   (DI)(AX*1), Z19
	VMOVUPS   (R8), Z20
	VMOVUPS   64(R8), Z21
	VMOVUPS   128(R8), Z22
	VMOVUPS   192(R8), Z23
	DOTROW4(Z20, Z0, Z1, Z2, Z3)
	DOTROW4(Z21, Z4, Z5, Z6, Z7)
	DOTROW4(Z22, Z8, Z9, Z10, Z11)
	DOTROW4(Z23, Z12, Z13, Z14, Z15)
	ADDQ $256, R8
	ADDQ $64, AX
	DECQ CX
	JNZ  s44loop

s44sum:
	HSUM16(Z0, Y0, 0)
	HSUM16(Z1, Y1, 4)
	HSUM16(Z2, Y2, 8)
	HSUM16(Z3, Y3, 12)
	HSUM16(Z4, Y4, 16)
	HSUM16(Z5, Y5, 20)
	HSUM16(Z6, Y6, 24)
	HSUM16(Z7, Y7, 28)
	HSUM16(Z8, Y8, 32)
	HSUM16(Z9, Y9, 36)
	HSUM16(Z10, Y10, 40)
	HSUM16(Z11, Y11, 44)
	HSUM16(Z12, Y12, 48)
	HSUM16(Z13, Y13, 52)
	HSUM16(Z14, Y14, 56)
	HSUM16(Z15, Y15, 60)
	VZEROUPPER
	RET

// func sdot4x1(k int, a *float32, b0 *float32, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q], k a multiple of 16, a a packed group of float32 rows.
TEXT ·sdot4x1(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ b0+16(FP), R12
	MOVQ out+24(FP), BX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	SHRQ $4, CX
	JZ   s41sum

s41loop:
	VMOVUPS     (R12)(AX*1), Z16
	VMOVUPS     (R8), Z20
	VMOVUPS     64(R8), Z21
	VMOVUPS     128(R8), Z22
	VMOVUPS     192(R8), Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z16, Z21, Z1
	VFMADD231PS Z16, Z22, Z2
	VFMADD231PS Z16, Z23, Z3
	ADDQ $256, R8
	ADDQ $64, AX
	DECQ CX
	JNZ  s41loop

s41sum:
	HSUM16(Z0, Y0, 0)
	HSUM16(Z1, Y1, 4)
	HSUM16(Z2, Y2, 8)
	HSUM16(Z3, Y3, 12)
	VZEROUPPER
	RET

// ISUM2 adds the low 8 and the high 8 int32 lanes of the accumulator z
// (whose low half is y) and stores them, converted to float32, at lo(BX)
// and hi(BX) (Y8, Y9, X10 scratch: VPHADDD has no EVEX form).
#define ISUM2(z, y, lo, hi) \
	VEXTRACTI64X4 $1, z, Y8; \
	VPHADDD       Y8, y, Y9; \
	VPHADDD       Y9, Y9, Y9; \
	VEXTRACTI128  $1, Y9, X10; \
	VPADDD        X10, X9, X9; \
	VCVTDQ2PS     X9, X9; \
	VMOVSS        X9, lo(BX); \
	VEXTRACTPS    $1, X9, hi(BX)

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
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ b0+16(FP), R12
	MOVQ b1+24(FP), R13
	MOVQ b2+32(FP), SI
	MOVQ b3+40(FP), DI
	MOVQ out+48(FP), BX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	SHRQ $4, CX
	JZ   i44sum

i44loop:
	// The weights come from L3 or DRAM in a streaming step: fetch 32
	// chunks ahead (PREFETCHT0 past the end is harmless).
	PREFETCHT0      2048(R8)
	VPMOVSXBW       (R8), Z20
	VPMOVSXBW       32(R8), Z21
	VMOVDQU64       (R12)(AX*1), Z16
	VMOVDQU64       (R13)(AX*1), Z17
	VMOVDQU64       (SI)(AX*1), Z18
	VMOVDQU64       (DI)(AX*1), Z19
	VPDPWSSD        Z16, Z20, Z0
	VPDPWSSD        Z17, Z20, Z1
	VPDPWSSD        Z18, Z20, Z2
	VPDPWSSD        Z19, Z20, Z3
	VPDPWSSD        Z16, Z21, Z4
	VPDPWSSD        Z17, Z21, Z5
	VPDPWSSD        Z18, Z21, Z6
	VPDPWSSD        Z19, Z21, Z7
	ADDQ $64, R8
	ADDQ $64, AX
	DECQ CX
	JNZ  i44loop

i44sum:
	ISUM2(Z0, Y0, 0, 16)
	ISUM2(Z1, Y1, 4, 20)
	ISUM2(Z2, Y2, 8, 24)
	ISUM2(Z3, Y3, 12, 28)
	ISUM2(Z4, Y4, 32, 48)
	ISUM2(Z5, Y5, 36, 52)
	ISUM2(Z6, Y6, 40, 56)
	ISUM2(Z7, Y7, 44, 60)
	VZEROUPPER
	RET

// func idot4x1(k int, a *int8, b0 *int16, out *float32)
//
// out[r] = float32(Σ_q a_r[q]·b0[q]) as idot4x4, four 16-column steps per
// iteration into separate accumulators (VPDPWSSD's latency), then single
// steps.
TEXT ·idot4x1(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ b0+16(FP), R12
	MOVQ out+24(FP), BX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	SHRQ $4, CX
	CMPQ CX, $4
	JLT  i41tail

i41loop4:
	VPMOVSXBW       (R8), Z20
	VPMOVSXBW       32(R8), Z21
	VPMOVSXBW       64(R8), Z22
	VPMOVSXBW       96(R8), Z23
	VPMOVSXBW       128(R8), Z24
	VPMOVSXBW       160(R8), Z25
	VPMOVSXBW       192(R8), Z26
	VPMOVSXBW       224(R8), Z27
	VMOVDQU64       (R12), Z16
	VMOVDQU64       64(R12), Z17
	VMOVDQU64       128(R12), Z18
	VMOVDQU64       192(R12), Z19
	VPDPWSSD        Z16, Z20, Z0
	VPDPWSSD        Z16, Z21, Z1
	VPDPWSSD        Z17, Z22, Z2
	VPDPWSSD        Z17, Z23, Z3
	VPDPWSSD        Z18, Z24, Z4
	VPDPWSSD        Z18, Z25, Z5
	VPDPWSSD        Z19, Z26, Z6
	VPDPWSSD        Z19, Z27, Z7
	ADDQ $256, R8
	ADDQ $256, R12
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  i41loop4

i41tail:
	TESTQ CX, CX
	JZ    i41sum

i41loop1:
	VPMOVSXBW       (R8), Z20
	VPMOVSXBW       32(R8), Z21
	VMOVDQU64       (R12), Z16
	VPDPWSSD        Z16, Z20, Z0
	VPDPWSSD        Z16, Z21, Z1
	ADDQ $64, R8
	ADDQ $64, R12
	DECQ CX
	JNZ  i41loop1

i41sum:
	VPADDD Z2, Z0, Z0
	VPADDD Z4, Z0, Z0
	VPADDD Z6, Z0, Z0
	VPADDD Z3, Z1, Z1
	VPADDD Z5, Z1, Z1
	VPADDD Z7, Z1, Z1
	ISUM2(Z0, Y0, 0, 4)
	ISUM2(Z1, Y1, 8, 12)
	VZEROUPPER
	RET

// func absBits(n int, x *float32) uint32
//
// Returns max_i (bits(x[i]) & 0x7fffffff) for n a multiple of 16: the
// bits of the largest magnitude, ≥ 0x7f800000 when a value is ±Inf or NaN.
TEXT ·absBits(SB), NOSPLIT, $0-20
	MOVQ         n+0(FP), CX
	MOVQ         x+8(FP), SI
	VPXORD       Z0, Z0, Z0
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z1
	SHRQ         $4, CX
	JZ           abdone

abloop:
	VPANDD  (SI), Z1, Z2
	VPMAXSD Z2, Z0, Z0
	ADDQ    $64, SI
	DECQ    CX
	JNZ     abloop

abdone:
	VEXTRACTI64X4 $1, Z0, Y2
	VPMAXSD       Y2, Y0, Y0
	VEXTRACTI128  $1, Y0, X2
	VPMAXSD       X2, X0, X0
	VPSHUFD       $0x4e, X0, X2
	VPMAXSD       X2, X0, X0
	VPSHUFD       $0xb1, X0, X2
	VPMAXSD       X2, X0, X0
	VMOVD         X0, AX
	MOVL          AX, ret+16(FP)
	VZEROUPPER
	RET

// func quant16(n int, x *float32, inv float32, q *int16)
//
// q[2i − i mod 16] = q[2i − i mod 16 + 16] = int16(round(x[i]·inv)) (to
// nearest, ties to even; the caller keeps |x[i]·inv| ≤ 32767) for n a
// multiple of 16: each 16 codes twice, 64 bytes.
TEXT ·quant16(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), CX
	MOVQ         x+8(FP), SI
	VBROADCASTSS inv+16(FP), Z1
	MOVQ         q+24(FP), DI
	SHRQ         $4, CX
	JZ           qdone

qloop:
	VMULPS    (SI), Z1, Z2
	VCVTPS2DQ Z2, Z2
	VPMOVSDW  Z2, (DI)
	VPMOVSDW  Z2, 32(DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       qloop

qdone:
	VZEROUPPER
	RET
