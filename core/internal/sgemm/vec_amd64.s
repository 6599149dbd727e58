//go:build amd64 && !purego

#include "textflag.h"

// func addToAVX(d, s *float32, n int)
// d[i] += s[i] for 0 ≤ i < n, eight lanes at a time (AVX). Each element is
// one single-precision addition d[i] + s[i], as the scalar loop does.
TEXT ·addToAVX(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI; MOVQ s+8(FP), SI; MOVQ n+16(FP), CX

loop32:
	CMPQ CX, $32; JLT loop8
	VMOVUPS (DI), Y0; VMOVUPS 32(DI), Y1; VMOVUPS 64(DI), Y2; VMOVUPS 96(DI), Y3
	VADDPS (SI), Y0, Y0; VADDPS 32(SI), Y1, Y1; VADDPS 64(SI), Y2, Y2; VADDPS 96(SI), Y3, Y3
	VMOVUPS Y0, (DI); VMOVUPS Y1, 32(DI); VMOVUPS Y2, 64(DI); VMOVUPS Y3, 96(DI)
	ADDQ $128, SI; ADDQ $128, DI
	SUBQ $32, CX; JMP loop32

loop8:
	CMPQ CX, $8; JLT loop1
	VMOVUPS (DI), Y0; VADDPS (SI), Y0, Y0; VMOVUPS Y0, (DI)
	ADDQ $32, SI; ADDQ $32, DI
	SUBQ $8, CX; JMP loop8

loop1:
	CMPQ CX, $0; JLE done
	VMOVSS (DI), X0; VADDSS (SI), X0, X0; VMOVSS X0, (DI)
	ADDQ $4, SI; ADDQ $4, DI
	DECQ CX; JMP loop1

done:
	VZEROUPPER
	RET

// func leakyAVX(y, x *float32, n int, p float32)
// y[i] = x[i]·p if x[i] < 0, else x[i], for i < n&^7.
TEXT ·leakyAVX(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI; MOVQ x+8(FP), SI; MOVQ n+16(FP), CX
	VBROADCASTSS p+24(FP), Y7
	VXORPS       Y6, Y6, Y6

leaky8:
	CMPQ CX, $8; JLT leakydone
	VMOVUPS   (SI), Y0
	VMULPS    Y7, Y0, Y1
	VCMPPS    $1, Y6, Y0, Y2 // x < 0
	VBLENDVPS Y2, Y1, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ $32, SI; ADDQ $32, DI
	SUBQ $8, CX; JMP leaky8

leakydone:
	VZEROUPPER
	RET

// func leakyGradAVX(gx, gy, x *float32, n int, p float32, acc bool)
// gx[i] = g or gx[i] += g (acc), g = gy[i]·p if x[i] < 0, else gy[i], for
// i < n&^7.
TEXT ·leakyGradAVX(SB), NOSPLIT, $0-37
	MOVQ gx+0(FP), DI; MOVQ gy+8(FP), SI; MOVQ x+16(FP), DX; MOVQ n+24(FP), CX
	VBROADCASTSS p+32(FP), Y7
	MOVBLZX      acc+36(FP), AX
	VXORPS       Y6, Y6, Y6

lgrad8:
	CMPQ CX, $8; JLT lgraddone
	VMOVUPS (SI), Y0; VMOVUPS (DX), Y3
	VMULPS    Y7, Y0, Y1
	VCMPPS    $1, Y6, Y3, Y2 // x < 0
	VBLENDVPS Y2, Y1, Y0, Y0
	TESTQ AX, AX; JZ lgradstore
	VMOVUPS   (DI), Y4
	VADDPS    Y0, Y4, Y0

lgradstore:
	VMOVUPS Y0, (DI)
	ADDQ $32, SI; ADDQ $32, DX; ADDQ $32, DI
	SUBQ $8, CX; JMP lgrad8

lgraddone:
	VZEROUPPER
	RET
