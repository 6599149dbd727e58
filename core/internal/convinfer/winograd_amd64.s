//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 Winograd F(4,3) transforms of one undilated row, 16 tiles per
// step (winograd.go: WinoInRow, WinoOutRow).

// winoIdx<l>: dword j < 8 ← l + 4j (the l-th sample of tile j of two
// concatenated registers); the upper 8 are unused.
DATA winoIdx0<>+0(SB)/8, $0x0000000400000000
DATA winoIdx0<>+8(SB)/8, $0x0000000c00000008
DATA winoIdx0<>+16(SB)/8, $0x0000001400000010
DATA winoIdx0<>+24(SB)/8, $0x0000001c00000018
GLOBL winoIdx0<>(SB), RODATA|NOPTR, $32
DATA winoIdx1<>+0(SB)/8, $0x0000000500000001
DATA winoIdx1<>+8(SB)/8, $0x0000000d00000009
DATA winoIdx1<>+16(SB)/8, $0x0000001500000011
DATA winoIdx1<>+24(SB)/8, $0x0000001d00000019
GLOBL winoIdx1<>(SB), RODATA|NOPTR, $32
DATA winoIdx2<>+0(SB)/8, $0x0000000600000002
DATA winoIdx2<>+8(SB)/8, $0x0000000e0000000a
DATA winoIdx2<>+16(SB)/8, $0x0000001600000012
DATA winoIdx2<>+24(SB)/8, $0x0000001e0000001a
GLOBL winoIdx2<>(SB), RODATA|NOPTR, $32
DATA winoIdx3<>+0(SB)/8, $0x0000000700000003
DATA winoIdx3<>+8(SB)/8, $0x0000000f0000000b
DATA winoIdx3<>+16(SB)/8, $0x0000001700000013
DATA winoIdx3<>+24(SB)/8, $0x0000001f0000001b
GLOBL winoIdx3<>(SB), RODATA|NOPTR, $32

// GATHER(idx, dst): dst = samples l of the 16 tiles in Z0..Z3, where idx
// is the register holding winoIdx<l>. Uses Z12, Z13.
#define GATHER(idx, dst) \
	VMOVDQA32 idx, Z12; \
	VPERMI2PS Z1, Z0, Z12; \
	VMOVDQA32 idx, Z13; \
	VPERMI2PS Z3, Z2, Z13; \
	VSHUFF64X2 $0x44, Z13, Z12, dst

// func winoIn16(row, v0, v1, v2, v3, v4, v5 *float32, chunks int)
//
// For tiles q < 16·chunks with d_l = row[4q+l]:
//	v0 = 4d0 − 5d2 + d4, v1 = (d4 − 4d2) + (d3 − 4d1), v2 = (d4 − 4d2) − (d3 − 4d1),
//	v3 = (d4 − d2) + 2(d3 − d1), v4 = (d4 − d2) − 2(d3 − d1), v5 = 4d1 − 5d3 + d5.
// Reads row[0 : 64·chunks+17].
TEXT ·winoIn16(SB), NOSPLIT, $0-64
	MOVQ row+0(FP), SI; MOVQ v0+8(FP), R8; MOVQ v1+16(FP), R9; MOVQ v2+24(FP), R10
	MOVQ v3+32(FP), R11; MOVQ v4+40(FP), R12; MOVQ v5+48(FP), R13; MOVQ chunks+56(FP), CX
	XORQ DX, DX
	VMOVDQU32 winoIdx0<>(SB), Y16; VMOVDQU32 winoIdx1<>(SB), Y17; VMOVDQU32 winoIdx2<>(SB), Y18; VMOVDQU32 winoIdx3<>(SB), Y19
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z24
	MOVL $0x40a00000, AX // 5.0
	VPBROADCASTD AX, Z25
	TESTQ CX, CX; JZ in_done

in_loop:
	VMOVUPS (SI), Z0; VMOVUPS 64(SI), Z1; VMOVUPS 128(SI), Z2; VMOVUPS 192(SI), Z3
	GATHER(Z16, Z6)
	GATHER(Z17, Z7)
	GATHER(Z18, Z8)
	GATHER(Z19, Z9)
	VMOVUPS 256(SI), Z4; VMOVUPS 260(SI), Z5
	VALIGND $1, Z6, Z4, Z10 // d4[j] = d0[j+1], d4[15] = row[4q+64]
	VALIGND $1, Z7, Z5, Z11 // d5[j] = d1[j+1], d5[15] = row[4q+65]

	// v0 = d4 + 4d0 − 5d2
	VMOVAPS Z10, Z14
	VFMADD231PS Z24, Z6, Z14
	VFNMADD231PS Z25, Z8, Z14
	VMOVUPS Z14, (R8)(DX*4)
	// d24 = d4 − 4d2 (Z14), d13 = d3 − 4d1 (Z15)
	VMOVAPS Z10, Z14
	VFNMADD231PS Z24, Z8, Z14
	VMOVAPS Z9, Z15
	VFNMADD231PS Z24, Z7, Z15
	VADDPS Z15, Z14, Z20
	VSUBPS Z15, Z14, Z21
	VMOVUPS Z20, (R9)(DX*4); VMOVUPS Z21, (R10)(DX*4)
	// e = 2(d3 − d1) (Z14), f = d4 − d2 (Z15)
	VSUBPS Z7, Z9, Z14
	VADDPS Z14, Z14, Z14
	VSUBPS Z8, Z10, Z15
	VADDPS Z14, Z15, Z20
	VSUBPS Z14, Z15, Z21
	VMOVUPS Z20, (R11)(DX*4); VMOVUPS Z21, (R12)(DX*4)
	// v5 = d5 + 4d1 − 5d3
	VMOVAPS Z11, Z14
	VFMADD231PS Z24, Z7, Z14
	VFNMADD231PS Z25, Z9, Z14
	VMOVUPS Z14, (R13)(DX*4)

	ADDQ $256, SI; ADDQ $16, DX
	DECQ CX; JNZ in_loop

in_done:
	VZEROUPPER
	RET

// func winoOut16(m0, m1, m2, m3, m4, m5, y *float32, bias float32, acc, chunks int)
//
// For tiles q < 16·chunks, with s12 = m1+m2, d12 = m1−m2, s34 = m3+m4,
// d34 = m3−m4 (at q): y[4q..4q+3] (+)= m0+s12+s34+b, d12+2·d34+b,
// s12+4·s34+b, d12+8·d34+m5+b (added when acc != 0).
TEXT ·winoOut16(SB), NOSPLIT, $0-80
	MOVQ m0+0(FP), R8; MOVQ m1+8(FP), R9; MOVQ m2+16(FP), R10; MOVQ m3+24(FP), R11
	MOVQ m4+32(FP), R12; MOVQ m5+40(FP), R13; MOVQ y+48(FP), DI
	VBROADCASTSS bias+56(FP), Z31
	MOVQ acc+64(FP), R14; MOVQ chunks+72(FP), CX
	XORQ DX, DX
	MOVL $0x40000000, AX // 2.0
	VPBROADCASTD AX, Z26
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z24
	MOVL $0x41000000, AX // 8.0
	VPBROADCASTD AX, Z27
	TESTQ CX, CX; JZ out_done

out_loop:
	VMOVUPS (R8)(DX*4), Z0; VMOVUPS (R9)(DX*4), Z1; VMOVUPS (R10)(DX*4), Z2; VMOVUPS (R11)(DX*4), Z3
	VMOVUPS (R12)(DX*4), Z4; VMOVUPS (R13)(DX*4), Z5
	VADDPS Z2, Z1, Z6 // s12
	VSUBPS Z2, Z1, Z7 // d12
	VADDPS Z4, Z3, Z8 // s34
	VSUBPS Z4, Z3, Z9 // d34
	// r0 = m0 + s12 + s34 + b
	VADDPS Z6, Z0, Z10; VADDPS Z8, Z10, Z10; VADDPS Z31, Z10, Z10
	// r1 = d12 + b + 2·d34
	VADDPS Z31, Z7, Z11
	VFMADD231PS Z26, Z9, Z11
	// r2 = s12 + b + 4·s34
	VADDPS Z31, Z6, Z12
	VFMADD231PS Z24, Z8, Z12
	// r3 = d12 + m5 + b + 8·d34
	VADDPS Z5, Z7, Z13; VADDPS Z31, Z13, Z13
	VFMADD231PS Z27, Z9, Z13

	// Transpose so that tile q's four outputs are consecutive.
	VUNPCKLPS Z11, Z10, Z14 // r0[0] r1[0] r0[1] r1[1] per 128-bit lane
	VUNPCKHPS Z11, Z10, Z15
	VUNPCKLPS Z13, Z12, Z16
	VUNPCKHPS Z13, Z12, Z17
	VUNPCKLPD Z16, Z14, Z18 // u0: tile 4L per lane L
	VUNPCKHPD Z16, Z14, Z19 // u1
	VUNPCKLPD Z17, Z15, Z20 // u2
	VUNPCKHPD Z17, Z15, Z21 // u3
	VSHUFF32X4 $0x44, Z19, Z18, Z14; VSHUFF32X4 $0xEE, Z19, Z18, Z15; VSHUFF32X4 $0x44, Z21, Z20, Z16; VSHUFF32X4 $0xEE, Z21, Z20, Z17
	VSHUFF32X4 $0x88, Z16, Z14, Z0; VSHUFF32X4 $0xDD, Z16, Z14, Z1; VSHUFF32X4 $0x88, Z17, Z15, Z2; VSHUFF32X4 $0xDD, Z17, Z15, Z3
	TESTQ R14, R14; JZ out_store
	VADDPS (DI), Z0, Z0; VADDPS 64(DI), Z1, Z1; VADDPS 128(DI), Z2, Z2; VADDPS 192(DI), Z3, Z3

out_store:
	VMOVUPS Z0, (DI); VMOVUPS Z1, 64(DI); VMOVUPS Z2, 128(DI); VMOVUPS Z3, 192(DI)
	ADDQ $256, DI; ADDQ $16, DX
	DECQ CX; JNZ out_loop

out_done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2+FMA versions: the same arithmetic, instruction for instruction, on
// 8 tiles per ymm (two steps per 16-tile chunk), so they give the AVX-512
// transforms' bits.

// WIN_LOAD(off, y) loads the 4 samples of tile j and of tile j+4 of the
// step at SI into the low and high halves of y, tile j starting at byte
// off.
#define WIN_LOAD(off, y, x) \
	VMOVUPS     off(SI), x; \
	VINSERTF128 $1, off+64(SI), y, y

// func winoIn16AVX2(row, v0, v1, v2, v3, v4, v5 *float32, chunks int)
//
// winoIn16's contract with AVX2+FMA: the transforms of the tiles
// q < 16·chunks, d_l = row[4q+l], into v0..v5[q]. Reads row[0 : 64·chunks+4].
TEXT ·winoIn16AVX2(SB), NOSPLIT, $0-64
	MOVQ row+0(FP), SI; MOVQ v0+8(FP), R8; MOVQ v1+16(FP), R9; MOVQ v2+24(FP), R10
	MOVQ v3+32(FP), R11; MOVQ v4+40(FP), R12; MOVQ v5+48(FP), R13; MOVQ chunks+56(FP), CX
	SHLQ $1, CX // steps of 8 tiles
	XORQ DX, DX
	MOVL $0x40800000, AX // 4.0
	MOVQ AX, X14
	VBROADCASTSS X14, Y14
	MOVL $0x40a00000, AX // 5.0
	MOVQ AX, X15
	VBROADCASTSS X15, Y15
	TESTQ CX, CX; JZ in2_done

in2_loop:
	// Y0..Y4: tiles (j, j+4) for j = 0..4 (tile 8 is the next step's
	// first: its d0, d1 are this step's d4, d5 of tile 7).
	WIN_LOAD(0, Y0, X0)
	WIN_LOAD(16, Y1, X1)
	WIN_LOAD(32, Y2, X2)
	WIN_LOAD(48, Y3, X3)
	WIN_LOAD(64, Y4, X4)
	// Transpose: d_l holds sample l of tiles 0..7, in order.
	VUNPCKLPS Y1, Y0, Y5  // t0d0 t1d0 t0d1 t1d1 | t4, t5
	VUNPCKHPS Y1, Y0, Y6  // t0d2 t1d2 t0d3 t1d3 | t4, t5
	VUNPCKLPS Y3, Y2, Y7  // t2d0 t3d0 t2d1 t3d1 | t6, t7
	VUNPCKHPS Y3, Y2, Y8  // t2d2 t3d2 t2d3 t3d3 | t6, t7
	VUNPCKLPD Y7, Y5, Y9  // d0
	VUNPCKHPD Y7, Y5, Y5  // d1
	VUNPCKLPD Y8, Y6, Y7  // d2
	VUNPCKHPD Y8, Y6, Y6  // d3
	// d4, d5: samples 0, 1 of tiles 1..8.
	VUNPCKLPS Y2, Y1, Y0  // t1d0 t2d0 t1d1 t2d1 | t5, t6
	VUNPCKLPS Y4, Y3, Y1  // t3d0 t4d0 t3d1 t4d1 | t7, t8
	VUNPCKLPD Y1, Y0, Y10 // d4
	VUNPCKHPD Y1, Y0, Y11 // d5
	// Y9 d0, Y5 d1, Y7 d2, Y6 d3, Y10 d4, Y11 d5.

	// v0 = d4 + 4d0 − 5d2
	VMOVAPS Y10, Y0
	VFMADD231PS Y14, Y9, Y0
	VFNMADD231PS Y15, Y7, Y0
	VMOVUPS Y0, (R8)(DX*4)
	// d24 = d4 − 4d2 (Y0), d13 = d3 − 4d1 (Y1)
	VMOVAPS Y10, Y0
	VFNMADD231PS Y14, Y7, Y0
	VMOVAPS Y6, Y1
	VFNMADD231PS Y14, Y5, Y1
	VADDPS Y1, Y0, Y2
	VSUBPS Y1, Y0, Y3
	VMOVUPS Y2, (R9)(DX*4); VMOVUPS Y3, (R10)(DX*4)
	// e = 2(d3 − d1) (Y0), f = d4 − d2 (Y1)
	VSUBPS Y5, Y6, Y0
	VADDPS Y0, Y0, Y0
	VSUBPS Y7, Y10, Y1
	VADDPS Y0, Y1, Y2
	VSUBPS Y0, Y1, Y3
	VMOVUPS Y2, (R11)(DX*4); VMOVUPS Y3, (R12)(DX*4)
	// v5 = d5 + 4d1 − 5d3
	VMOVAPS Y11, Y0
	VFMADD231PS Y14, Y5, Y0
	VFNMADD231PS Y15, Y6, Y0
	VMOVUPS Y0, (R13)(DX*4)

	ADDQ $128, SI; ADDQ $8, DX
	DECQ CX; JNZ in2_loop

in2_done:
	VZEROUPPER
	RET

// func winoOut16AVX2(m0, m1, m2, m3, m4, m5, y *float32, bias float32, acc, chunks int)
//
// winoOut16's contract with AVX2+FMA: for tiles q < 16·chunks, with
// s12 = m1+m2, d12 = m1−m2, s34 = m3+m4, d34 = m3−m4 (at q):
// y[4q..4q+3] (+)= m0+s12+s34+b, d12+2·d34+b, s12+4·s34+b, d12+8·d34+m5+b
// (added when acc != 0), rounded as winoOut16 rounds them.
TEXT ·winoOut16AVX2(SB), NOSPLIT, $0-80
	MOVQ m0+0(FP), R8; MOVQ m1+8(FP), R9; MOVQ m2+16(FP), R10; MOVQ m3+24(FP), R11
	MOVQ m4+32(FP), R12; MOVQ m5+40(FP), R13; MOVQ y+48(FP), DI
	VBROADCASTSS bias+56(FP), Y15
	MOVQ acc+64(FP), R14; MOVQ chunks+72(FP), CX
	SHLQ $1, CX // steps of 8 tiles
	XORQ DX, DX
	MOVL $0x40000000, AX // 2.0
	MOVQ AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x40800000, AX // 4.0
	MOVQ AX, X13
	VBROADCASTSS X13, Y13
	MOVL $0x41000000, AX // 8.0
	MOVQ AX, X14
	VBROADCASTSS X14, Y14
	TESTQ CX, CX; JZ out2_done

out2_loop:
	VMOVUPS (R9)(DX*4), Y1; VMOVUPS (R10)(DX*4), Y2; VMOVUPS (R11)(DX*4), Y3; VMOVUPS (R12)(DX*4), Y4
	VADDPS Y2, Y1, Y6 // s12
	VSUBPS Y2, Y1, Y7 // d12
	VADDPS Y4, Y3, Y8 // s34
	VSUBPS Y4, Y3, Y9 // d34
	// r0 = m0 + s12 + s34 + b
	VMOVUPS (R8)(DX*4), Y0
	VADDPS Y6, Y0, Y10; VADDPS Y8, Y10, Y10; VADDPS Y15, Y10, Y10
	// r1 = d12 + b + 2·d34
	VADDPS Y15, Y7, Y11
	VFMADD231PS Y12, Y9, Y11
	// r2 = s12 + b + 4·s34
	VADDPS Y15, Y6, Y1
	VFMADD231PS Y13, Y8, Y1
	// r3 = d12 + m5 + b + 8·d34
	VMOVUPS (R13)(DX*4), Y5
	VADDPS Y5, Y7, Y2; VADDPS Y15, Y2, Y2
	VFMADD231PS Y14, Y9, Y2
	// Y10 r0, Y11 r1, Y1 r2, Y2 r3. Transpose so that tile q's four
	// outputs are consecutive.
	VUNPCKLPS Y11, Y10, Y3 // r0[0] r1[0] r0[1] r1[1] | tiles 4, 5
	VUNPCKHPS Y11, Y10, Y4 // tiles 2, 3 | 6, 7
	VUNPCKLPS Y2, Y1, Y5   // r2[0] r3[0] r2[1] r3[1] | tiles 4, 5
	VUNPCKHPS Y2, Y1, Y6
	VUNPCKLPD Y5, Y3, Y7   // tile 0 | tile 4
	VUNPCKHPD Y5, Y3, Y8   // tile 1 | tile 5
	VUNPCKLPD Y6, Y4, Y9   // tile 2 | tile 6
	VUNPCKHPD Y6, Y4, Y10  // tile 3 | tile 7
	VPERM2F128 $0x20, Y8, Y7, Y0  // tiles 0, 1
	VPERM2F128 $0x20, Y10, Y9, Y1 // tiles 2, 3
	VPERM2F128 $0x31, Y8, Y7, Y2  // tiles 4, 5
	VPERM2F128 $0x31, Y10, Y9, Y3 // tiles 6, 7
	TESTQ R14, R14; JZ out2_store
	VADDPS (DI), Y0, Y0; VADDPS 32(DI), Y1, Y1; VADDPS 64(DI), Y2, Y2; VADDPS 96(DI), Y3, Y3

out2_store:
	VMOVUPS Y0, (DI); VMOVUPS Y1, 32(DI); VMOVUPS Y2, 64(DI); VMOVUPS Y3, 96(DI)
	ADDQ $128, DI; ADDQ $8, DX
	DECQ CX; JNZ out2_loop

out2_done:
	VZEROUPPER
	RET
