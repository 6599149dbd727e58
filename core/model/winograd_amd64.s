//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 Winograd F(4,3) transforms of one undilated row, 16 tiles per
// step (winograd.go: winoInRow, winoOutRow).

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
	MOVQ row+0(FP), SI
	MOVQ v0+8(FP), R8
	MOVQ v1+16(FP), R9
	MOVQ v2+24(FP), R10
	MOVQ v3+32(FP), R11
	MOVQ v4+40(FP), R12
	MOVQ v5+48(FP), R13
	MOVQ chunks+56(FP), CX
	XORQ DX, DX
	VMOVDQU32 winoIdx0<>(SB), Y16
	VMOVDQU32 winoIdx1<>(SB), Y17
	VMOVDQU32 winoIdx2<>(SB), Y18
	VMOVDQU32 winoIdx3<>(SB), Y19
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z24
	MOVL $0x40a00000, AX // 5.0
	VPBROADCASTD AX, Z25
	TESTQ CX, CX
	JZ   in_done

in_loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	GATHER(Z16, Z6)
	GATHER(Z17, Z7)
	GATHER(Z18, Z8)
	GATHER(Z19, Z9)
	VMOVUPS 256(SI), Z4
	VMOVUPS 260(SI), Z5
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
	VMOVUPS Z20, (R9)(DX*4)
	VMOVUPS Z21, (R10)(DX*4)
	// e = 2(d3 − d1) (Z14), f = d4 − d2 (Z15)
	VSUBPS Z7, Z9, Z14
	VADDPS Z14, Z14, Z14
	VSUBPS Z8, Z10, Z15
	VADDPS Z14, Z15, Z20
	VSUBPS Z14, Z15, Z21
	VMOVUPS Z20, (R11)(DX*4)
	VMOVUPS Z21, (R12)(DX*4)
	// v5 = d5 + 4d1 − 5d3
	VMOVAPS Z11, Z14
	VFMADD231PS Z24, Z7, Z14
	VFNMADD231PS Z25, Z9, Z14
	VMOVUPS Z14, (R13)(DX*4)

	ADDQ $256, SI
	ADDQ $16, DX
	DECQ CX
	JNZ  in_loop

in_done:
	VZEROUPPER
	RET

// func winoOut16(m0, m1, m2, m3, m4, m5, y *float32, bias float32, acc, chunks int)
//
// For tiles q < 16·chunks, with s12 = m1+m2, d12 = m1−m2, s34 = m3+m4,
// d34 = m3−m4 (at q): y[4q..4q+3] (+)= m0+s12+s34+b, d12+2·d34+b,
// s12+4·s34+b, d12+8·d34+m5+b (added when acc != 0).
TEXT ·winoOut16(SB), NOSPLIT, $0-80
	MOVQ m0+0(FP), R8
	MOVQ m1+8(FP), R9
	MOVQ m2+16(FP), R10
	MOVQ m3+24(FP), R11
	MOVQ m4+32(FP), R12
	MOVQ m5+40(FP), R13
	MOVQ y+48(FP), DI
	VBROADCASTSS bias+56(FP), Z31
	MOVQ acc+64(FP), R14
	MOVQ chunks+72(FP), CX
	XORQ DX, DX
	MOVL $0x40000000, AX // 2.0
	VPBROADCASTD AX, Z26
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z24
	MOVL $0x41000000, AX // 8.0
	VPBROADCASTD AX, Z27
	TESTQ CX, CX
	JZ   out_done

out_loop:
	VMOVUPS (R8)(DX*4), Z0
	VMOVUPS (R9)(DX*4), Z1
	VMOVUPS (R10)(DX*4), Z2
	VMOVUPS (R11)(DX*4), Z3
	VMOVUPS (R12)(DX*4), Z4
	VMOVUPS (R13)(DX*4), Z5
	VADDPS Z2, Z1, Z6 // s12
	VSUBPS Z2, Z1, Z7 // d12
	VADDPS Z4, Z3, Z8 // s34
	VSUBPS Z4, Z3, Z9 // d34
	// r0 = m0 + s12 + s34 + b
	VADDPS Z6, Z0, Z10
	VADDPS Z8, Z10, Z10
	VADDPS Z31, Z10, Z10
	// r1 = d12 + b + 2·d34
	VADDPS Z31, Z7, Z11
	VFMADD231PS Z26, Z9, Z11
	// r2 = s12 + b + 4·s34
	VADDPS Z31, Z6, Z12
	VFMADD231PS Z24, Z8, Z12
	// r3 = d12 + m5 + b + 8·d34
	VADDPS Z5, Z7, Z13
	VADDPS Z31, Z13, Z13
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
	VSHUFF32X4 $0x44, Z19, Z18, Z14
	VSHUFF32X4 $0xEE, Z19, Z18, Z15
	VSHUFF32X4 $0x44, Z21, Z20, Z16
	VSHUFF32X4 $0xEE, Z21, Z20, Z17
	VSHUFF32X4 $0x88, Z16, Z14, Z0
	VSHUFF32X4 $0xDD, Z16, Z14, Z1
	VSHUFF32X4 $0x88, Z17, Z15, Z2
	VSHUFF32X4 $0xDD, Z17, Z15, Z3
	TESTQ R14, R14
	JZ   out_store
	VADDPS (DI), Z0, Z0
	VADDPS 64(DI), Z1, Z1
	VADDPS 128(DI), Z2, Z2
	VADDPS 192(DI), Z3, Z3

out_store:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $16, DX
	DECQ CX
	JNZ  out_loop

out_done:
	VZEROUPPER
	RET
