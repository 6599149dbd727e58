//go:build arm64 && !purego

#include "textflag.h"

// Advanced SIMD (NEON) kernels for arm64: the 4×4 and 4×1 dot products of
// a packed group of 4 rows (float32, half, int8) with columns of Bᵀ, and
// the column rounding of Int8 products (absBits, quant16).
//
// A packed group holds, for each 16 columns, the 16 values of row 0, of
// row 1, of row 2 and of row 3 (64 values: 256 bytes of float32, 128 of
// halves, 64 of int8). The float kernels keep 16 accumulators of 4 lanes
// and sum them, at the end, in a fixed order; the int8 ones sum exactly in
// int32 lanes.
//
// The Go assembler lacks some Advanced SIMD instructions; the macros
// below encode them with WORD. Register operands are numbers (n for Vn).

// FADD4: FADD Vd.4S, Vn.4S, Vm.4S.
#define FADD4(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))

// FADDP4: FADDP Vd.4S, Vn.4S, Vm.4S — Vd = {n0+n1, n2+n3, m0+m1, m2+m3}.
#define FADDP4(d, n, m) WORD $(0x6E20D400 | ((m)<<16) | ((n)<<5) | (d))

// FMULE: FMUL Vd.4S, Vn.4S, Vm.S[i] — Vd = Vn·Vm[i].
#define FMULE(d, n, m, i) WORD $(0x4F809000 | (((i)&1)<<21) | ((m)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))

// FCVTL: FCVTL Vd.4S, Vn.4H — the low 4 halves of Vn to float32 (exact).
#define FCVTL(d, n) WORD $(0x0E217800 | ((n)<<5) | (d))

// FCVTL2: FCVTL2 Vd.4S, Vn.8H — the high 4 halves of Vn to float32.
#define FCVTL2(d, n) WORD $(0x4E217800 | ((n)<<5) | (d))

// FCVTNS4: FCVTNS Vd.4S, Vn.4S — to int32, rounding to nearest, ties to
// even (saturating; NaN gives 0).
#define FCVTNS4(d, n) WORD $(0x4E21A800 | ((n)<<5) | (d))

// SQXTN: SQXTN Vd.4H, Vn.4S — int32 to int16, saturating, into the low
// half of Vd (the high half cleared).
#define SQXTN(d, n) WORD $(0x0E614800 | ((n)<<5) | (d))

// SQXTN2: SQXTN2 Vd.8H, Vn.4S — the same into the high half of Vd.
#define SQXTN2(d, n) WORD $(0x4E614800 | ((n)<<5) | (d))

// SXTL: SXTL Vd.8H, Vn.8B (SSHLL #0) — the low 8 int8 of Vn to int16.
#define SXTL(d, n) WORD $(0x0F08A400 | ((n)<<5) | (d))

// SXTL2: SXTL2 Vd.8H, Vn.16B (SSHLL2 #0) — the high 8 int8 of Vn to int16.
#define SXTL2(d, n) WORD $(0x4F08A400 | ((n)<<5) | (d))

// SMLAL: SMLAL Vd.4S, Vn.4H, Vm.4H — Vd += the products of the low 4
// int16 lanes, in int32.
#define SMLAL(d, n, m) WORD $(0x0E608000 | ((m)<<16) | ((n)<<5) | (d))

// SMLAL2: SMLAL2 Vd.4S, Vn.8H, Vm.8H — the same with the high 4 lanes.
#define SMLAL2(d, n, m) WORD $(0x4E608000 | ((m)<<16) | ((n)<<5) | (d))

// SCVTF4: SCVTF Vd.4S, Vn.4S — int32 to float32, rounding to nearest even.
#define SCVTF4(d, n) WORD $(0x4E21D800 | ((n)<<5) | (d))

// UMAXV: UMAXV Sd, Vn.4S — the largest unsigned lane of Vn.
#define UMAXV(d, n) WORD $(0x6EB0A800 | ((n)<<5) | (d))

// ZERO16 clears the accumulators V0..V15.
#define ZERO16 \
	VEOR V0.B16, V0.B16, V0.B16; VEOR V1.B16, V1.B16, V1.B16; VEOR V2.B16, V2.B16, V2.B16; VEOR V3.B16, V3.B16, V3.B16; \
	VEOR V4.B16, V4.B16, V4.B16; VEOR V5.B16, V5.B16, V5.B16; VEOR V6.B16, V6.B16, V6.B16; VEOR V7.B16, V7.B16, V7.B16; \
	VEOR V8.B16, V8.B16, V8.B16; VEOR V9.B16, V9.B16, V9.B16; VEOR V10.B16, V10.B16, V10.B16; VEOR V11.B16, V11.B16, V11.B16; \
	VEOR V12.B16, V12.B16, V12.B16; VEOR V13.B16, V13.B16, V13.B16; VEOR V14.B16, V14.B16, V14.B16; VEOR V15.B16, V15.B16, V15.B16

// ARGS4x4 loads the arguments of a 4×4 product (k, a, b0…b3, out): k in
// R0, the packed group a in R1, the columns in R5..R8, out in R9. ARGS4x1
// loads those of a 4×1 product (k, a, b0, out). The int8 kernels' IARGS
// also set R10 to the 64-byte step of an int16 column.
#define ARGS4x4 \
	MOVD k+0(FP), R0; MOVD a+8(FP), R1; MOVD b0+16(FP), R5; MOVD b1+24(FP), R6; \
	MOVD b2+32(FP), R7; MOVD b3+40(FP), R8; MOVD out+48(FP), R9
#define ARGS4x1 MOVD k+0(FP), R0; MOVD a+8(FP), R1; MOVD b0+16(FP), R5; MOVD out+24(FP), R9
#define IARGS4x4 ARGS4x4; MOVD $64, R10
#define IARGS4x1 ARGS4x1; MOVD $64, R10

// DOTFN is every dot-product kernel of this file: its arguments loaded
// (ARGS), the accumulators V0..V15 cleared, STEP for every chunk of 16
// columns, then SUM stores the results at out.
#define DOTFN(name, frame, ARGS, STEP, SUM, loop, sum) \
TEXT name(SB), NOSPLIT, $0-frame; \
	ARGS; \
	ZERO16; \
	LSR  $4, R0; \
	CBZ  R0, sum; \
loop: \
	STEP; \
	SUBS $1, R0; BNE loop; \
sum: \
	SUM; \
	RET

// DOT4x4 adds the products of 4 values of rows a0..a3 with the same 4
// values of columns b0..b3 to V0..V15 (V(4r+c) for row r, column c).
#define DOT4x4(a0, a1, a2, a3, b0, b1, b2, b3) \
	VFMLA b0.S4, a0.S4, V0.S4; VFMLA b1.S4, a0.S4, V1.S4; VFMLA b2.S4, a0.S4, V2.S4; VFMLA b3.S4, a0.S4, V3.S4; \
	VFMLA b0.S4, a1.S4, V4.S4; VFMLA b1.S4, a1.S4, V5.S4; VFMLA b2.S4, a1.S4, V6.S4; VFMLA b3.S4, a1.S4, V7.S4; \
	VFMLA b0.S4, a2.S4, V8.S4; VFMLA b1.S4, a2.S4, V9.S4; VFMLA b2.S4, a2.S4, V10.S4; VFMLA b3.S4, a2.S4, V11.S4; \
	VFMLA b0.S4, a3.S4, V12.S4; VFMLA b1.S4, a3.S4, V13.S4; VFMLA b2.S4, a3.S4, V14.S4; VFMLA b3.S4, a3.S4, V15.S4

// BDOT4x4 loads the next 4 values of each column (R5..R8) into b0..b3 and
// adds their products with rows a0..a3 (DOT4x4).
#define BDOT4x4(a0, a1, a2, a3, b0, b1, b2, b3) \
	VLD1.P 16(R5), [b0.S4]; VLD1.P 16(R6), [b1.S4]; VLD1.P 16(R7), [b2.S4]; VLD1.P 16(R8), [b3.S4]; \
	DOT4x4(a0, a1, a2, a3, b0, b1, b2, b3)

// SUM4x4 stores out[4r+c] = the sum of the lanes of V(4r+c), as
// (l0+l1)+(l2+l3), at (R9) (V16..V20 scratch).
#define SUM4x4 \
	FADDP4(16, 0, 1); FADDP4(17, 2, 3); FADDP4(16, 16, 17); \
	FADDP4(17, 4, 5); FADDP4(18, 6, 7); FADDP4(17, 17, 18); \
	FADDP4(18, 8, 9); FADDP4(19, 10, 11); FADDP4(18, 18, 19); \
	FADDP4(19, 12, 13); FADDP4(20, 14, 15); FADDP4(19, 19, 20); \
	VST1 [V16.S4, V17.S4, V18.S4, V19.S4], (R9)

// SUM4x1 stores out[r] = the sum of the lanes of V(4r)..V(4r+3), as
// ((s0+s1)+(s2+s3)) lane by lane, then (l0+l1)+(l2+l3), at (R9).
#define SUM4x1 \
	FADD4(0, 0, 1); FADD4(2, 2, 3); FADD4(0, 0, 2); \
	FADD4(4, 4, 5); FADD4(6, 6, 7); FADD4(4, 4, 6); \
	FADD4(8, 8, 9); FADD4(10, 10, 11); FADD4(8, 8, 10); \
	FADD4(12, 12, 13); FADD4(14, 14, 15); FADD4(12, 12, 14); \
	FADDP4(16, 0, 4); FADDP4(17, 8, 12); FADDP4(16, 16, 17); \
	VST1 [V16.S4], (R9)

// SSTEP2 is half of a chunk of sdot4x4: columns off/4 … off/4+3 of the
// 4 rows into V16..V19 and off/4+4 … off/4+7 into V24..V27, each step of
// 4 columns times the next 4 values of every column.
#define SSTEP2(off) \
	FMOVQ off(R1), F16; FMOVQ off+64(R1), F17; FMOVQ off+128(R1), F18; FMOVQ off+192(R1), F19; \
	BDOT4x4(V16, V17, V18, V19, V20, V21, V22, V23); \
	FMOVQ off+16(R1), F24; FMOVQ off+80(R1), F25; FMOVQ off+144(R1), F26; FMOVQ off+208(R1), F27; \
	BDOT4x4(V24, V25, V26, V27, V28, V29, V30, V31)

// SSTEP is a chunk of 16 columns of sdot4x4 (256 bytes of a).
#define SSTEP SSTEP2(0); SSTEP2(32); ADD $256, R1

// func sdot4x4(k int, a *float32, b0, b1, b2, b3 *float32, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q] for r, c < 4, k a multiple of 16, a a
// packed group of float32. Lane l of V(4r+c) sums the q ≡ l (mod 4).
// R1 walks a (256 bytes per 16 columns), R5..R8 the columns; V16..V23
// and V24..V31 hold alternate steps of 4 columns.
DOTFN(·sdot4x4, 56, ARGS4x4, SSTEP, SUM4x4, s44loop, s44sum)

// HSTEP2 is half of a chunk of hdot4x4: each row's 8 halves at off
// (rows 32 bytes apart), widened to float32 by FCVTL (the first 4, into
// V16..V19) and FCVTL2 (the next 4, V24..V27), times two steps of 4
// values of every column.
#define HSTEP2(off) \
	FMOVQ off(R1), F16; FMOVQ off+32(R1), F17; FMOVQ off+64(R1), F18; FMOVQ off+96(R1), F19; \
	FCVTL2(24, 16); FCVTL2(25, 17); FCVTL2(26, 18); FCVTL2(27, 19); \
	FCVTL(16, 16); FCVTL(17, 17); FCVTL(18, 18); FCVTL(19, 19); \
	BDOT4x4(V16, V17, V18, V19, V20, V21, V22, V23); \
	BDOT4x4(V24, V25, V26, V27, V28, V29, V30, V31)

// HSTEP is a chunk of 16 columns of hdot4x4: columns 0–7, then 8–15.
#define HSTEP HSTEP2(0); HSTEP2(16); ADD $128, R1

// func hdot4x4(k int, a *uint16, b0, b1, b2, b3 *float32, out *float32)
//
// sdot4x4 for a packed group of halves (128 bytes per 16 columns): each
// row's 8 halves are loaded at once and widened to float32 (exactly) by
// FCVTL and FCVTL2.
DOTFN(·hdot4x4, 56, ARGS4x4, HSTEP, SUM4x4, h44loop, h44sum)

// ROW4x1 adds the 16 products of one row (a0..a3, 4 columns each) with
// the column (V16..V19) to the accumulators acc0..acc3 (one per 4
// columns).
#define ROW4x1(a0, a1, a2, a3, acc0, acc1, acc2, acc3) \
	VFMLA V16.S4, a0.S4, acc0.S4; VFMLA V17.S4, a1.S4, acc1.S4; VFMLA V18.S4, a2.S4, acc2.S4; VFMLA V19.S4, a3.S4, acc3.S4

// S1STEP is a chunk of sdot4x1: the column's 16 values, then two rows at
// a time.
#define S1STEP \
	VLD1.P 64(R5), [V16.S4, V17.S4, V18.S4, V19.S4]; VLD1.P 64(R1), [V20.S4, V21.S4, V22.S4, V23.S4]; VLD1.P 64(R1), [V24.S4, V25.S4, V26.S4, V27.S4]; \
	ROW4x1(V20, V21, V22, V23, V0, V1, V2, V3); \
	ROW4x1(V24, V25, V26, V27, V4, V5, V6, V7); \
	VLD1.P 64(R1), [V20.S4, V21.S4, V22.S4, V23.S4]; VLD1.P 64(R1), [V24.S4, V25.S4, V26.S4, V27.S4]; \
	ROW4x1(V20, V21, V22, V23, V8, V9, V10, V11); \
	ROW4x1(V24, V25, V26, V27, V12, V13, V14, V15)

// func sdot4x1(k int, a *float32, b0 *float32, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q] for r < 4, k a multiple of 16, a a packed
// group of float32. Row r has 4 accumulators V(4r)..V(4r+3), for the
// columns q ≡ 0–3, 4–7, 8–11, 12–15 (mod 16): 16 independent sums.
DOTFN(·sdot4x1, 32, ARGS4x1, S1STEP, SUM4x1, s41loop, s41sum)

// HROW widens the 16 halves of a row in V(h), V(h+1) to float32 in
// V(f)..V(f+3).
#define HROW(h, f) \
	FCVTL(f, h); \
	FCVTL2((f)+1, h); \
	FCVTL((f)+2, (h)+1); \
	FCVTL2((f)+3, (h)+1)

// H1STEP is a chunk of hdot4x1: two rows at a time, widened by HROW.
#define H1STEP \
	VLD1.P 64(R5), [V16.S4, V17.S4, V18.S4, V19.S4]; VLD1.P 32(R1), [V20.H8, V21.H8]; VLD1.P 32(R1), [V26.H8, V27.H8]; \
	HROW(20, 22); HROW(26, 28); \
	ROW4x1(V22, V23, V24, V25, V0, V1, V2, V3); \
	ROW4x1(V28, V29, V30, V31, V4, V5, V6, V7); \
	VLD1.P 32(R1), [V20.H8, V21.H8]; VLD1.P 32(R1), [V26.H8, V27.H8]; \
	HROW(20, 22); HROW(26, 28); \
	ROW4x1(V22, V23, V24, V25, V8, V9, V10, V11); \
	ROW4x1(V28, V29, V30, V31, V12, V13, V14, V15)

// func hdot4x1(k int, a *uint16, b0 *float32, out *float32)
//
// sdot4x1 for a packed group of halves (128 bytes per 16 columns), each
// row widened by FCVTL/FCVTL2.
DOTFN(·hdot4x1, 32, ARGS4x1, H1STEP, SUM4x1, h41loop, h41sum)

// IMAC adds the 16 products of a row's int16 codes (lo: columns 0–7, hi:
// 8–15) with a column's (blo, bhi) to the int32 lanes of acc.
#define IMAC(acc, lo, hi, blo, bhi) \
	SMLAL(acc, lo, blo); \
	SMLAL2(acc, lo, blo); \
	SMLAL(acc, hi, bhi); \
	SMLAL2(acc, hi, bhi)

// IROW4 is IMAC for one row (lo, hi) and the four columns (V24..V31),
// into acc..acc+3.
#define IROW4(acc, lo, hi) \
	IMAC(acc, lo, hi, 24, 25); IMAC((acc)+1, lo, hi, 26, 27); IMAC((acc)+2, lo, hi, 28, 29); IMAC((acc)+3, lo, hi, 30, 31)

// LOADI loads the 16 int8 codes of each row of a chunk (R1) and widens
// them to int16: row r's first 8 in V(16+r), its last 8 in V(20+r).
#define LOADI \
	VLD1.P 64(R1), [V16.B16, V17.B16, V18.B16, V19.B16]; \
	SXTL2(20, 16); SXTL2(21, 17); SXTL2(22, 18); SXTL2(23, 19); \
	SXTL(16, 16); SXTL(17, 17); SXTL(18, 18); SXTL(19, 19)

// ISTEP is a chunk of idot4x4: the rows widened, the 4 columns' 16
// codes, then row by row.
#define ISTEP \
	LOADI; \
	VLD1.P (R5)(R10), [V24.H8, V25.H8]; VLD1.P (R6)(R10), [V26.H8, V27.H8]; VLD1.P (R7)(R10), [V28.H8, V29.H8]; VLD1.P (R8)(R10), [V30.H8, V31.H8]; \
	IROW4(0, 16, 20); IROW4(4, 17, 21); IROW4(8, 18, 22); IROW4(12, 19, 23)

// ISUM4x4 stores out[4r+c] = the sum of the int32 lanes of V(4r+c) as
// float32, at (R9).
#define ISUM4x4 \
	VADDP V1.S4, V0.S4, V16.S4; VADDP V3.S4, V2.S4, V17.S4; VADDP V17.S4, V16.S4, V16.S4; VADDP V5.S4, V4.S4, V17.S4; \
	VADDP V7.S4, V6.S4, V18.S4; VADDP V18.S4, V17.S4, V17.S4; VADDP V9.S4, V8.S4, V18.S4; VADDP V11.S4, V10.S4, V19.S4; \
	VADDP V19.S4, V18.S4, V18.S4; VADDP V13.S4, V12.S4, V19.S4; VADDP V15.S4, V14.S4, V20.S4; VADDP V20.S4, V19.S4, V19.S4; \
	SCVTF4(16, 16); SCVTF4(17, 17); SCVTF4(18, 18); SCVTF4(19, 19); \
	VST1 [V16.S4, V17.S4, V18.S4, V19.S4], (R9)

// func idot4x4(k int, a *int8, b0, b1, b2, b3 *int16, out *float32)
//
// out[4r+c] = float32(Σ_q a_r[q]·b_c[q]) in exact int32 arithmetic (the
// caller bounds the sums), for int8 codes a (a packed group, 64 bytes per
// 16 columns) and int16 columns b (each 16 codes stored twice: 64 bytes
// per 16 columns, of which the first 32 are read), k a multiple of 16.
// The codes of A are widened to int16 (SXTL) and multiplied into int32
// lanes by SMLAL/SMLAL2: V(4r+c) for row r, column c.
DOTFN(·idot4x4, 56, IARGS4x4, ISTEP, ISUM4x4, i44loop, i44sum)

// IROW1 adds the products of row r's codes (lo: columns 0–7, hi: 8–15)
// with the column's (V24, V25) to its 4 accumulators acc..acc+3, one per
// SMLAL/SMLAL2.
#define IROW1(acc, lo, hi) \
	SMLAL(acc, lo, 24); SMLAL2((acc)+1, lo, 24); SMLAL((acc)+2, hi, 25); SMLAL2((acc)+3, hi, 25)

// I1STEP is a chunk of idot4x1.
#define I1STEP \
	LOADI; \
	VLD1.P (R5)(R10), [V24.H8, V25.H8]; \
	IROW1(0, 16, 20); IROW1(4, 17, 21); IROW1(8, 18, 22); IROW1(12, 19, 23)

// I1SUM stores out[r] = the sum of the int32 lanes of V(4r)..V(4r+3) as
// float32, at (R9).
#define I1SUM \
	VADD V1.S4, V0.S4, V0.S4; VADD V3.S4, V2.S4, V2.S4; VADD V2.S4, V0.S4, V0.S4; VADD V5.S4, V4.S4, V4.S4; \
	VADD V7.S4, V6.S4, V6.S4; VADD V6.S4, V4.S4, V4.S4; VADD V9.S4, V8.S4, V8.S4; VADD V11.S4, V10.S4, V10.S4; \
	VADD V10.S4, V8.S4, V8.S4; VADD V13.S4, V12.S4, V12.S4; VADD V15.S4, V14.S4, V14.S4; VADD V14.S4, V12.S4, V12.S4; \
	VADDP V4.S4, V0.S4, V16.S4; VADDP V12.S4, V8.S4, V17.S4; VADDP V17.S4, V16.S4, V16.S4; \
	SCVTF4(16, 16); \
	VST1  [V16.S4], (R9)

// func idot4x1(k int, a *int8, b0 *int16, out *float32)
//
// out[r] = float32(Σ_q a_r[q]·b0[q]) as idot4x4, with 4 accumulators per
// row (V(4r)..V(4r+3), one per SMLAL/SMLAL2 of the row) so that the
// multiply-adds are independent.
DOTFN(·idot4x1, 32, IARGS4x1, I1STEP, I1SUM, i41loop, i41sum)

// func absBits(n int, x *float32) uint32
//
// Returns max_i (bits(x[i]) & 0x7fffffff) for n a multiple of 16 (0 for
// n == 0): the bits of the largest magnitude, ≥ 0x7f800000 when a value
// is ±Inf or NaN. Four running maxima (V0..V3), then UMAXV.
TEXT ·absBits(SB), NOSPLIT, $0-20
	MOVD n+0(FP), R0; MOVD x+8(FP), R1
	VEOR V0.B16, V0.B16, V0.B16; VEOR V1.B16, V1.B16, V1.B16; VEOR V2.B16, V2.B16, V2.B16; VEOR V3.B16, V3.B16, V3.B16
	MOVW  $0x7fffffff, R2
	VDUP  R2, V4.S4
	LSR   $4, R0
	CBZ   R0, abdone

abloop:
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VAND V4.B16, V16.B16, V16.B16; VAND V4.B16, V17.B16, V17.B16; VAND V4.B16, V18.B16, V18.B16; VAND V4.B16, V19.B16, V19.B16
	VUMAX V16.S4, V0.S4, V0.S4; VUMAX V17.S4, V1.S4, V1.S4; VUMAX V18.S4, V2.S4, V2.S4; VUMAX V19.S4, V3.S4, V3.S4
	SUBS $1, R0; BNE abloop

abdone:
	VUMAX V1.S4, V0.S4, V0.S4; VUMAX V3.S4, V2.S4, V2.S4; VUMAX V2.S4, V0.S4, V0.S4
	UMAXV(0, 0)
	FMOVS F0, R0
	MOVW  R0, ret+16(FP)
	RET

// func quant16(n int, x *float32, inv float32, q *int16)
//
// q[2i − i mod 16] = q[2i − i mod 16 + 16] = int16(round(x[i]·inv)) for
// n a multiple of 16: the product rounded to float32 (FMUL), then to the
// nearest integer, ties to even (FCVTNS); the caller keeps |x[i]·inv| ≤
// 32767 (a non-finite product saturates: ±Inf to ±32767, NaN to 0). Each
// 16 codes are stored twice, 64 bytes.
TEXT ·quant16(SB), NOSPLIT, $0-32
	MOVD n+0(FP), R0; MOVD x+8(FP), R1
	FMOVS inv+16(FP), F4
	MOVD  q+24(FP), R3
	LSR   $4, R0
	CBZ   R0, qdone

qloop:
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	FMULE(16, 16, 4, 0); FMULE(17, 17, 4, 0); FMULE(18, 18, 4, 0); FMULE(19, 19, 4, 0)
	FCVTNS4(16, 16); FCVTNS4(17, 17); FCVTNS4(18, 18); FCVTNS4(19, 19)
	SQXTN(20, 16); SQXTN2(20, 17); SQXTN(21, 18); SQXTN2(21, 19)
	VST1.P [V20.H8, V21.H8], 32(R3); VST1.P [V20.H8, V21.H8], 32(R3)
	SUBS $1, R0; BNE qloop

qdone:
	RET
