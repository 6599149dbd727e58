//go:build arm64 && !purego

#include "textflag.h"

// Assembly for Sgemm on arm64 (Advanced SIMD, 128-bit vectors, 32
// registers): the 8×12 GEMM micro-kernel, the dot-product kernels for
// small n and the packing helpers.
//
// The micro-kernel computes a tile of C from a packed A micro-panel (for
// every k, the 8 values of column k of op(A)) and a packed B micro-panel
// (for every k, the 12 values of row k of op(B)):
//
//	acc[i][j] = Σ_k a[k*8+i] · b[k*12+j]      (one FMLA per k, in k order)
//	C[i][j]   = alpha·acc[i][j]                 if beta == +0 (C is not read)
//	C[i][j]   = fma(beta, C[i][j], alpha·acc)   otherwise
//
// Every element goes through the same instruction sequence whatever its
// position in the tile, so edge tiles (computed by the Go side in a
// scratch tile) round exactly like interior ones.
//
// The Go assembler lacks some Advanced SIMD instructions; the macros
// below encode them with WORD. Register operands are numbers (n for Vn).

// FMLAE: FMLA Vd.4S, Vn.4S, Vm.S[i] — Vd += Vn·Vm[i], one rounding.
#define FMLAE(d, n, m, i) WORD $(0x4F801000 | (((i)&1)<<21) | ((m)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))

// FMULE: FMUL Vd.4S, Vn.4S, Vm.S[i] — Vd = Vn·Vm[i].
#define FMULE(d, n, m, i) WORD $(0x4F809000 | (((i)&1)<<21) | ((m)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))

// FADDP4: FADDP Vd.4S, Vn.4S, Vm.4S — Vd = {n0+n1, n2+n3, m0+m1, m2+m3}.
#define FADDP4(d, n, m) WORD $(0x6E20D400 | ((m)<<16) | ((n)<<5) | (d))

// ---------------------------------------------------------------------------
// Micro-kernel: MR=8, NR=12. Accumulators V0..V23 (row i of C in V(3i),
// V(3i+1), V(3i+2)), A column in V24 (rows 0–3) and V25 (rows 4–7), B row
// in V26..V28, alpha in V29.S[0], beta in V30.S[0].

// ROW8x12 adds row i of the tile: V(d), V(d+1), V(d+2) += B row · a[i],
// where a[i] is lane l of V(m).
#define ROW8x12(d, m, l) \
	FMLAE(d, 26, m, l); \
	FMLAE((d)+1, 27, m, l); \
	FMLAE((d)+2, 28, m, l)

// STORE0 stores row V(d)..V(d+2) (registers r0..r2) times alpha at (R3)
// and moves R3 to the next row of C.
#define STORE0(d, r0, r1, r2) \
	FMULE(d, d, 29, 0); \
	FMULE((d)+1, (d)+1, 29, 0); \
	FMULE((d)+2, (d)+2, 29, 0); \
	VST1.P [r0.S4, r1.S4, r2.S4], (R3)(R4)

// STORE1 is STORE0 with C = fma(beta, C, alpha·acc) (C read into V24..V26).
#define STORE1(d, r0, r1, r2) \
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]; \
	FMULE(d, d, 29, 0); \
	FMULE((d)+1, (d)+1, 29, 0); \
	FMULE((d)+2, (d)+2, 29, 0); \
	FMLAE(d, 24, 30, 0); \
	FMLAE((d)+1, 25, 30, 0); \
	FMLAE((d)+2, 26, 30, 0); \
	VST1.P [r0.S4, r1.S4, r2.S4], (R3)(R4)

// KSTEP is one k of the tile: the A column into V24, V25, the B row into
// V26..V28, then the 8 rows.
#define KSTEP \
	VLD1.P 32(R1), [V24.S4, V25.S4]; VLD1.P 48(R2), [V26.S4, V27.S4, V28.S4]; \
	ROW8x12(0, 24, 0); ROW8x12(3, 24, 1); ROW8x12(6, 24, 2); ROW8x12(9, 24, 3); \
	ROW8x12(12, 25, 0); ROW8x12(15, 25, 1); ROW8x12(18, 25, 2); ROW8x12(21, 25, 3)

// STORE8x12 stores the 8 rows of the tile with STORE (STORE0 or STORE1).
#define STORE8x12(STORE) \
	STORE(0, V0, V1, V2); STORE(3, V3, V4, V5); STORE(6, V6, V7, V8); STORE(9, V9, V10, V11); \
	STORE(12, V12, V13, V14); STORE(15, V15, V16, V17); STORE(18, V18, V19, V20); STORE(21, V21, V22, V23)

// func kernNEON(k int, a, b, c *float32, ldc int, alpha, beta float32)
//
// Computes a full 8×12 tile of C (rows ldc floats apart) from the packed
// micro-panels a (8 floats per k) and b (12 floats per k), k ≥ 1, as in
// the contract above. beta == +0 (the bits) means C is not read.
TEXT ·kernNEON(SB), NOSPLIT, $0-48
	MOVD k+0(FP), R0; MOVD a+8(FP), R1; MOVD b+16(FP), R2; MOVD c+24(FP), R3
	MOVD  ldc+32(FP), R4
	LSL   $2, R4
	FMOVS alpha+40(FP), F29; FMOVS beta+44(FP), F30
	VEOR V0.B16, V0.B16, V0.B16; VEOR V1.B16, V1.B16, V1.B16; VEOR V2.B16, V2.B16, V2.B16; VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16; VEOR V5.B16, V5.B16, V5.B16; VEOR V6.B16, V6.B16, V6.B16; VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16; VEOR V9.B16, V9.B16, V9.B16; VEOR V10.B16, V10.B16, V10.B16; VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16; VEOR V13.B16, V13.B16, V13.B16; VEOR V14.B16, V14.B16, V14.B16; VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16; VEOR V17.B16, V17.B16, V17.B16; VEOR V18.B16, V18.B16, V18.B16; VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16; VEOR V21.B16, V21.B16, V21.B16; VEOR V22.B16, V22.B16, V22.B16; VEOR V23.B16, V23.B16, V23.B16

kloop:
	KSTEP
	SUBS $1, R0; BNE kloop

	MOVWU beta+44(FP), R5
	CBZW  R5, store0
	STORE8x12(STORE1)
	RET

store0:
	STORE8x12(STORE0)
	RET

// ---------------------------------------------------------------------------
// Dot-product kernels for small n. Rows of A and of Bᵀ are read in place,
// 4 values of k per vector: lane l of an accumulator sums the products
// with q ≡ l (mod 4), in q order, over the first k&^3 values; the k%4
// last ones are added to lane 0, in q order. The 4 lanes are then summed
// as (l0+l1)+(l2+l3) by FADDP. Both kernels follow this order exactly, so
// dot4x1NEON rounds like column 0 of dot4x4NEON.

// DOT4x4 adds the products of A rows a0..a3 with B columns b0..b3 (one
// vector each) to the accumulators V0..V15 (V(4r+c) for row r, column c).
#define DOT4x4(a0, a1, a2, a3, b0, b1, b2, b3) \
	VFMLA b0.S4, a0.S4, V0.S4; VFMLA b1.S4, a0.S4, V1.S4; VFMLA b2.S4, a0.S4, V2.S4; VFMLA b3.S4, a0.S4, V3.S4; \
	VFMLA b0.S4, a1.S4, V4.S4; VFMLA b1.S4, a1.S4, V5.S4; VFMLA b2.S4, a1.S4, V6.S4; VFMLA b3.S4, a1.S4, V7.S4; \
	VFMLA b0.S4, a2.S4, V8.S4; VFMLA b1.S4, a2.S4, V9.S4; VFMLA b2.S4, a2.S4, V10.S4; VFMLA b3.S4, a2.S4, V11.S4; \
	VFMLA b0.S4, a3.S4, V12.S4; VFMLA b1.S4, a3.S4, V13.S4; VFMLA b2.S4, a3.S4, V14.S4; VFMLA b3.S4, a3.S4, V15.S4

// LOAD8 loads the next 4 values of each row of A (R1..R4) and of Bᵀ
// (R5..R8) into a0..a3 and b0..b3; LOAD8S loads one value of each into
// lane 0 (a scalar load zeroes lanes 1–3).
#define LOAD8(a0, a1, a2, a3, b0, b1, b2, b3) \
	VLD1.P 16(R1), [a0.S4]; VLD1.P 16(R2), [a1.S4]; VLD1.P 16(R3), [a2.S4]; VLD1.P 16(R4), [a3.S4]; \
	VLD1.P 16(R5), [b0.S4]; VLD1.P 16(R6), [b1.S4]; VLD1.P 16(R7), [b2.S4]; VLD1.P 16(R8), [b3.S4]
#define LOAD8S \
	FMOVS.P 4(R1), F16; FMOVS.P 4(R2), F17; FMOVS.P 4(R3), F18; FMOVS.P 4(R4), F19; \
	FMOVS.P 4(R5), F20; FMOVS.P 4(R6), F21; FMOVS.P 4(R7), F22; FMOVS.P 4(R8), F23

// HADD4 sums the lanes of two pairs of accumulators, V(a), V(a+1) and
// V(b), V(b+1), into V(d) as (l0+l1)+(l2+l3) (V(d+1) scratch).
#define HADD4(d, a, b) FADDP4(d, a, (a)+1); FADDP4((d)+1, b, (b)+1); FADDP4(d, d, (d)+1)

// func dot4x4NEON(k int, a0, a1, a2, a3, b0, b1, b2, b3, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q] for r, c < 4 and q < k (k ≥ 0), summed in
// the order described above. R1..R4 walk the rows of A, R5..R8 those of
// Bᵀ; V16..V23 and V24..V31 hold alternate steps of 4 values of k.
TEXT ·dot4x4NEON(SB), NOSPLIT, $0-80
	MOVD k+0(FP), R0; MOVD a0+8(FP), R1; MOVD a1+16(FP), R2; MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4; MOVD b0+40(FP), R5; MOVD b1+48(FP), R6; MOVD b2+56(FP), R7
	MOVD b3+64(FP), R8; MOVD out+72(FP), R9
	VEOR V0.B16, V0.B16, V0.B16; VEOR V1.B16, V1.B16, V1.B16; VEOR V2.B16, V2.B16, V2.B16; VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16; VEOR V5.B16, V5.B16, V5.B16; VEOR V6.B16, V6.B16, V6.B16; VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16; VEOR V9.B16, V9.B16, V9.B16; VEOR V10.B16, V10.B16, V10.B16; VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16; VEOR V13.B16, V13.B16, V13.B16; VEOR V14.B16, V14.B16, V14.B16; VEOR V15.B16, V15.B16, V15.B16
	LSR  $2, R0, R10 // steps of 4
	AND  $3, R0, R11 // tail
	CMP $2, R10; BLT d44one

d44two:
	LOAD8(V16, V17, V18, V19, V20, V21, V22, V23); LOAD8(V24, V25, V26, V27, V28, V29, V30, V31)
	DOT4x4(V16, V17, V18, V19, V20, V21, V22, V23); DOT4x4(V24, V25, V26, V27, V28, V29, V30, V31)
	SUB  $2, R10
	CMP $2, R10; BGE d44two

d44one:
	CBZ R10, d44tail
	LOAD8(V16, V17, V18, V19, V20, V21, V22, V23)
	DOT4x4(V16, V17, V18, V19, V20, V21, V22, V23)

d44tail:
	// A scalar load zeroes lanes 1–3: they add +0·+0.
	CBZ R11, d44sum
	LOAD8S
	DOT4x4(V16, V17, V18, V19, V20, V21, V22, V23)
	SUB  $1, R11
	B    d44tail

d44sum:
	HADD4(24, 0, 2); HADD4(25, 4, 6); HADD4(26, 8, 10); HADD4(27, 12, 14)
	VST1 [V24.S4, V25.S4, V26.S4, V27.S4], (R9)
	RET

// func dot4x1NEON(k int, a0, a1, a2, a3, b0, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q] for r < 4 and q < k (k ≥ 0), rounding exactly
// like column 0 of dot4x4NEON. Accumulators V0..V3 (row r in V(r)).
TEXT ·dot4x1NEON(SB), NOSPLIT, $0-56
	MOVD k+0(FP), R0; MOVD a0+8(FP), R1; MOVD a1+16(FP), R2; MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4; MOVD b0+40(FP), R5; MOVD out+48(FP), R9
	VEOR V0.B16, V0.B16, V0.B16; VEOR V1.B16, V1.B16, V1.B16; VEOR V2.B16, V2.B16, V2.B16; VEOR V3.B16, V3.B16, V3.B16
	LSR  $2, R0, R10
	AND  $3, R0, R11
	CBZ  R10, d41tail

d41loop:
	VLD1.P 16(R1), [V16.S4]; VLD1.P 16(R2), [V17.S4]; VLD1.P 16(R3), [V18.S4]; VLD1.P 16(R4), [V19.S4]
	VLD1.P 16(R5), [V20.S4]
	VFMLA V20.S4, V16.S4, V0.S4; VFMLA V20.S4, V17.S4, V1.S4; VFMLA V20.S4, V18.S4, V2.S4; VFMLA V20.S4, V19.S4, V3.S4
	SUBS $1, R10; BNE d41loop

d41tail:
	CBZ R11, d41sum
	FMOVS.P 4(R1), F16; FMOVS.P 4(R2), F17; FMOVS.P 4(R3), F18; FMOVS.P 4(R4), F19
	FMOVS.P 4(R5), F20
	VFMLA V20.S4, V16.S4, V0.S4; VFMLA V20.S4, V17.S4, V1.S4; VFMLA V20.S4, V18.S4, V2.S4; VFMLA V20.S4, V19.S4, V3.S4
	SUB     $1, R11
	B       d41tail

d41sum:
	HADD4(24, 0, 2)
	VST1 [V24.S4], (R9)
	RET

// ---------------------------------------------------------------------------
// func packT4x8(dst, src *float32, ld, kc, w int)
//
// Transposing pack of 4 lanes: dst[q*w+l] = src[l*ld+q] for l < 4 and
// q < kc (a multiple of 8; kc == 0 writes nothing). Each 4×8 block is
// loaded as 8 vectors, transposed in registers (TRN1/TRN2 on words, then
// on doublewords) and written as eight 4-float groups w floats apart.
TEXT ·packT4x8(SB), NOSPLIT, $0-40
	MOVD dst+0(FP), R0; MOVD src+8(FP), R1; MOVD ld+16(FP), R2; MOVD kc+24(FP), R3
	MOVD w+32(FP), R4
	LSL  $2, R2       // ld in bytes
	LSL  $2, R4       // w in bytes
	ADD  R2, R1, R5   // row 1
	ADD  R2, R5, R6   // row 2
	ADD  R2, R6, R7   // row 3
	LSR  $3, R3
	CBZ  R3, t48done

t48loop:
	VLD1.P 32(R1), [V0.S4, V1.S4]; VLD1.P 32(R5), [V2.S4, V3.S4]; VLD1.P 32(R6), [V4.S4, V5.S4]; VLD1.P 32(R7), [V6.S4, V7.S4]
	// q = 0..3 from V0, V2, V4, V6.
	VTRN1 V2.S4, V0.S4, V16.S4   // r0[0] r1[0] r0[2] r1[2]
	VTRN2 V2.S4, V0.S4, V17.S4   // r0[1] r1[1] r0[3] r1[3]
	VTRN1 V6.S4, V4.S4, V18.S4   // r2[0] r3[0] r2[2] r3[2]
	VTRN2 V6.S4, V4.S4, V19.S4   // r2[1] r3[1] r2[3] r3[3]
	VTRN1 V18.D2, V16.D2, V20.D2 // column 0
	VTRN1 V19.D2, V17.D2, V21.D2 // column 1
	VTRN2 V18.D2, V16.D2, V22.D2 // column 2
	VTRN2 V19.D2, V17.D2, V23.D2 // column 3
	// q = 4..7 from V1, V3, V5, V7.
	VTRN1 V3.S4, V1.S4, V16.S4
	VTRN2 V3.S4, V1.S4, V17.S4
	VTRN1 V7.S4, V5.S4, V18.S4
	VTRN2 V7.S4, V5.S4, V19.S4
	VTRN1 V18.D2, V16.D2, V24.D2; VTRN1 V19.D2, V17.D2, V25.D2
	VTRN2 V18.D2, V16.D2, V26.D2; VTRN2 V19.D2, V17.D2, V27.D2
	VST1.P [V20.S4], (R0)(R4); VST1.P [V21.S4], (R0)(R4); VST1.P [V22.S4], (R0)(R4); VST1.P [V23.S4], (R0)(R4)
	VST1.P [V24.S4], (R0)(R4); VST1.P [V25.S4], (R0)(R4); VST1.P [V26.S4], (R0)(R4); VST1.P [V27.S4], (R0)(R4)
	SUBS $1, R3; BNE t48loop

t48done:
	RET

// ---------------------------------------------------------------------------
// func packRows(dst, src *float32, ld, kc, np, w int)
//
// Copying pack of np full panels, walking src row by row so reads are
// sequential: dst[p*kc*w + q*w + l] = src[q*ld + p*w + l] for q < kc,
// p < np, l < w, with w one of 32, 16, 12 or 6 (w == 12, the neon
// kernel's, has its own loop; the others copy 4 floats at a time, then 2).
TEXT ·packRows(SB), NOSPLIT, $0-48
	MOVD dst+0(FP), R0; MOVD src+8(FP), R1; MOVD ld+16(FP), R2; MOVD kc+24(FP), R3
	MOVD np+32(FP), R4; MOVD w+40(FP), R5
	LSL  $2, R2       // ld in bytes
	LSL  $2, R5, R6   // w in bytes: the step in a panel
	MUL  R3, R6, R7   // kc·w·4: the step between panels
	CBZ R3, prdone; CBZ R4, prdone
	CMP $12, R5; BNE prany

pr12row:
	MOVD R1, R8 // source: row q
	MOVD R0, R9 // destination: row q of panel 0
	MOVD R4, R10

pr12panel:
	VLD1.P 48(R8), [V0.S4, V1.S4, V2.S4]
	VST1   [V0.S4, V1.S4, V2.S4], (R9)
	ADD    R7, R9
	SUBS $1, R10; BNE pr12panel
	ADD R2, R1; ADD $48, R0
	SUBS $1, R3; BNE pr12row
	RET

prany:
	LSR $2, R5, R11 // 4-float groups per panel row
	AND $2, R5, R12 // 2 floats left (w == 6)

pranyrow:
	MOVD R1, R8; MOVD R0, R9; MOVD R4, R10

pranypanel:
	MOVD R9, R14; MOVD R11, R13

prany4:
	VLD1.P 16(R8), [V0.S4]
	VST1.P [V0.S4], 16(R14)
	SUBS $1, R13; BNE prany4
	CBZ    R12, pranynext
	FMOVD.P 8(R8), F1
	FMOVD   F1, (R14)

pranynext:
	ADD  R7, R9
	SUBS $1, R10; BNE pranypanel
	ADD R2, R1; ADD R6, R0
	SUBS $1, R3; BNE pranyrow

prdone:
	RET
