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
