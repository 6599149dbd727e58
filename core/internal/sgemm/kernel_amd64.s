//go:build amd64 && !purego

#include "textflag.h"

// Assembly for Sgemm: the GEMM micro-kernels (AVX-512 12×32, AVX2 6×16),
// the AVX-512 dot-product kernels for small n, packing helpers and CPUID.
//
// The GEMM micro-kernels compute a tile of C from a packed A micro-panel (for every k, MR consecutive values of column k of op(A)) and a
// packed B micro-panel (for every k, NR consecutive values of row k of op(B)):
//
//	acc[i][j] = Σ_k a[k*MR+i] · b[k*NR+j]     (one FMA per k, in k order)
//	C[i][j]   = alpha·acc[i][j]                 if beta == +0 (C is not read)
//	C[i][j]   = fma(beta, C[i][j], alpha·acc)   otherwise
//
// Every element goes through the same instruction sequence whatever its
// position in the tile, so edge tiles round exactly like interior ones.
// The Go side passes beta == +0 (never -0) to ask for the store-only path.

// ---------------------------------------------------------------------------
// AVX-512: MR=12, NR=32. Accumulators Z0..Z23 (row i in Z(2i), Z(2i+1)),
// B row in Z24/Z25, broadcasts of A in Z26..Z31.

#define B512(bo) \
	VMOVUPS bo(BX), Z24; VMOVUPS bo+64(BX), Z25

#define ROW512(ao, za, z0, z1) \
	VBROADCASTSS ao(AX), za; \
	VFMADD231PS Z24, za, z0; VFMADD231PS Z25, za, z1

// ROWS512A, ROWS512B and ROWS512C are rows 0–3, 4–7 and 8–11 of a step;
// STEP512xN(bo, ao) is one k step of rows 0…N−1.
#define ROWS512A(ao) ROW512(ao, Z26, Z0, Z1); ROW512(ao+4, Z27, Z2, Z3); ROW512(ao+8, Z28, Z4, Z5); ROW512(ao+12, Z29, Z6, Z7)
#define ROWS512B(ao) ROW512(ao+16, Z30, Z8, Z9); ROW512(ao+20, Z31, Z10, Z11); ROW512(ao+24, Z26, Z12, Z13); ROW512(ao+28, Z27, Z14, Z15)
#define ROWS512C(ao) ROW512(ao+32, Z28, Z16, Z17); ROW512(ao+36, Z29, Z18, Z19); ROW512(ao+40, Z30, Z20, Z21); ROW512(ao+44, Z31, Z22, Z23)
#define STEP512x4(bo, ao) B512(bo); ROWS512A(ao)
#define STEP512x8(bo, ao) B512(bo); ROWS512A(ao); ROWS512B(ao)
#define STEP512x12(bo, ao) B512(bo); ROWS512A(ao); ROWS512B(ao); ROWS512C(ao)

// Prefetch distance of the fused kernel's source rows, log2, and the
// instruction used.
#define PFROWS 4
#define PFSRC PREFETCHT1

// Prefetch distance into the packed B micro-panel, in bytes.
#define PFB512 1024

// Row update: beta != 0 path and beta == 0 path. DX points at the C row,
// SI is ldc in bytes, K1/K2 mask the valid columns.
#define UPD512(z0, z1) \
	VMULPS Z24, z0, z0; VMULPS Z24, z1, z1; \
	VMOVUPS.Z (DX), K1, Z26; VMOVUPS.Z 64(DX), K2, Z27; \
	VFMADD231PS Z25, Z26, z0; VFMADD231PS Z25, Z27, z1; \
	VMOVUPS z0, K1, (DX); VMOVUPS z1, K2, 64(DX); \
	ADDQ         SI, DX

#define SET512(z0, z1) \
	VMULPS Z24, z0, z0; VMULPS Z24, z1, z1; \
	VMOVUPS z0, K1, (DX); VMOVUPS z1, K2, 64(DX); \
	ADDQ    SI, DX

// Fused packing step: load row q of a B micro-panel from the source (columns
// past nr masked to zero), store it to the packed panel at R12, then the same
// FMAs as STEP512x12.
#define FSTEP512(src0, src1, dofs, ao) \
	VMOVUPS.Z src0, K1, Z24; VMOVUPS.Z src1, K2, Z25; \
	VMOVUPS Z24, dofs(R12); VMOVUPS Z25, dofs+64(R12); \
	ROWS512A(ao); ROWS512B(ao); ROWS512C(ao)

// LOOP512 runs the k loop of a tile of the rows STEP computes (loop and
// tail are its labels): R10 steps of 4 (prefetching B), then CX single
// steps, then the store.
#define LOOP512(STEP, loop, tail, tailloop) \
	TESTQ R10, R10; JZ tail; \
loop: \
	PREFETCHT0 PFB512(BX); PREFETCHT0 PFB512+64(BX); \
	STEP(0, 0); \
	PREFETCHT0 PFB512+128(BX); PREFETCHT0 PFB512+192(BX); \
	STEP(128, 48); \
	PREFETCHT0 PFB512+256(BX); PREFETCHT0 PFB512+320(BX); \
	STEP(256, 96); \
	PREFETCHT0 PFB512+384(BX); PREFETCHT0 PFB512+448(BX); \
	STEP(384, 144); \
	ADDQ $192, AX; ADDQ $512, BX; \
	DECQ R10; JNZ loop; \
tail: \
	TESTQ CX, CX; JZ store512; \
tailloop: \
	STEP(0, 0); \
	ADDQ $48, AX; ADDQ $128, BX; \
	DECQ CX; JNZ tailloop; \
	JMP  store512

// ZERO512x4 clears the accumulators of rows 0–3; ZERO512x8 and
// ZERO512x12 those of rows 0–7 and 0–11.
#define ZERO512x4 VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3; VPXORD Z4, Z4, Z4; VPXORD Z5, Z5, Z5; VPXORD Z6, Z6, Z6; VPXORD Z7, Z7, Z7
#define ZERO512x8 ZERO512x4; VPXORD Z8, Z8, Z8; VPXORD Z9, Z9, Z9; VPXORD Z10, Z10, Z10; VPXORD Z11, Z11, Z11; VPXORD Z12, Z12, Z12; VPXORD Z13, Z13, Z13; VPXORD Z14, Z14, Z14; VPXORD Z15, Z15, Z15
#define ZERO512x12 ZERO512x8; VPXORD Z16, Z16, Z16; VPXORD Z17, Z17, Z17; VPXORD Z18, Z18, Z18; VPXORD Z19, Z19, Z19; VPXORD Z20, Z20, Z20; VPXORD Z21, Z21, Z21; VPXORD Z22, Z22, Z22; VPXORD Z23, Z23, Z23

// STORE512(U) writes the DI rows of the tile with U (UPD512 or SET512).
#define ROWOUT(U, z0, z1, n) U(z0, z1); CMPQ DI, $n; JEQ done512
#define STORE512(U) \
	ROWOUT(U, Z0, Z1, 1); ROWOUT(U, Z2, Z3, 2); ROWOUT(U, Z4, Z5, 3); ROWOUT(U, Z6, Z7, 4); \
	ROWOUT(U, Z8, Z9, 5); ROWOUT(U, Z10, Z11, 6); ROWOUT(U, Z12, Z13, 7); ROWOUT(U, Z14, Z15, 8); \
	ROWOUT(U, Z16, Z17, 9); ROWOUT(U, Z18, Z19, 10); ROWOUT(U, Z20, Z21, 11); U(Z22, Z23)

// FLOOP is the k loop of a fused kernel: R10 steps of 4 source rows,
// PF prefetching rows ahead, FSTEP(src0, src1, dofs, ao) doing one row
// (hb: the offset of its second half; sb, sa: the packed B and A bytes
// per row), then CX single rows; it falls through to store.
#define FLOOP(PF, FSTEP, hb, sb, sa, loop, tail, tailloop, store) \
loop: \
	PF; \
	FSTEP((BX), hb(BX), 0, 0); \
	FSTEP((BX)(R8*1), hb(BX)(R8*1), sb, sa); \
	FSTEP((BX)(R8*2), hb(BX)(R8*2), 2*sb, 2*sa); \
	FSTEP((BX)(R9*1), hb(BX)(R9*1), 3*sb, 3*sa); \
	LEAQ (BX)(R8*4), BX; \
	ADDQ $(4*sa), AX; ADDQ $(4*sb), R12; \
	DECQ R10; JNZ loop; \
tail: \
	TESTQ CX, CX; JZ store; \
tailloop: \
	FSTEP((BX), hb(BX), 0, 0); \
	ADDQ R8, BX; ADDQ $sa, AX; ADDQ $sb, R12; \
	DECQ CX; JNZ tailloop

// PF512 prefetches the source rows 2^PFROWS rows ahead (R11 bytes), into
// L2 only: rows ldb apart share L1 sets.
#define PF512 \
	LEAQ (BX)(R11*1), R13; \
	PFSRC (R13); PFSRC 64(R13); PFSRC (R13)(R8*1); PFSRC 64(R13)(R8*1); \
	PFSRC (R13)(R8*2); PFSRC 64(R13)(R8*2); PFSRC (R13)(R9*1); PFSRC 64(R13)(R9*1)

// func kernAVX512(mr, nr, k int, a, b *float32, ldb int, bdst, c *float32, ldc int, alpha, beta float32)
//
// With bdst == nil, b is a packed micro-panel (ldb unused). Otherwise b is
// the top-left of the B micro-panel in the source matrix (rows ldb floats
// apart); the kernel packs it into bdst (zero-padded to 32 columns) while
// computing all 12 rows, with exactly the same arithmetic.
TEXT ·kernAVX512(SB), NOSPLIT, $0-80
	MOVQ a+24(FP), AX; MOVQ b+32(FP), BX; MOVQ k+16(FP), CX; MOVQ mr+0(FP), DI
	MOVQ CX, R10
	SHRQ $2, R10         // R10 = k/4
	ANDQ $3, CX          // CX = k%4
	// Prefetch the C tile (up to 12 rows of 128 bytes) so the update at the
	// end does not wait for memory.
	MOVQ c+56(FP), DX; MOVQ ldc+64(FP), SI
	SHLQ $2, SI
	MOVQ DI, R11
cprefetch:
	PREFETCHT0 (DX); PREFETCHT0 64(DX)
	ADDQ SI, DX
	DECQ R11; JNZ cprefetch
	MOVQ bdst+48(FP), R12
	TESTQ R12, R12; JNZ fused
	CMPQ DI, $8; JHI rows12
	CMPQ DI, $4; JHI rows8

	// rows 1..4
	ZERO512x4
	LOOP512(STEP512x4, loop4, tail4, tail4loop)

rows8:
	ZERO512x8
	LOOP512(STEP512x8, loop8, tail8, tail8loop)

rows12:
	ZERO512x12
	LOOP512(STEP512x12, loop12, tail12, tail12loop)

fused:
	MOVQ CX, R13                 // k%4 (CX is the shift count below)
	MOVQ nr+8(FP), CX; MOVQ $1, R11
	SHLQ CX, R11
	DECQ R11
	KMOVW R11, K1
	SHRQ  $16, R11
	KMOVW R11, K2
	MOVQ R13, CX; MOVQ ldb+40(FP), R8
	SHLQ $2, R8                  // ldb in bytes
	LEAQ (R8)(R8*2), R9          // 3·ldb
	MOVQ R8, R11
	SHLQ $PFROWS, R11            // prefetch distance: 2^PFROWS source rows
	ZERO512x12
	TESTQ R10, R10; JZ ftail

	FLOOP(PF512, FSTEP512, 64, 128, 48, floop, ftail, ftailloop, store512)

store512:
	MOVQ c+56(FP), DX; MOVQ ldc+64(FP), SI
	SHLQ $2, SI
	MOVQ nr+8(FP), CX; MOVQ $1, R11
	SHLQ CX, R11
	DECQ R11             // low nr bits set (nr <= 32)
	KMOVW R11, K1
	SHRQ  $16, R11
	KMOVW R11, K2
	VBROADCASTSS alpha+72(FP), Z24; VBROADCASTSS beta+76(FP), Z25
	MOVL  beta+76(FP), R11
	TESTL R11, R11; JZ set512

	STORE512(UPD512)
	JMP  done512

set512:
	STORE512(SET512)

done512:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2+FMA: MR=6, NR=16, full tiles only (the Go wrapper routes edge tiles
// through a scratch tile). Accumulators Y0..Y11 (row i in Y(2i), Y(2i+1)),
// B row in Y12/Y13, broadcasts of A in Y14/Y15.

#define ROW256(ao, ya, y0, y1) \
	VBROADCASTSS ao(AX), ya; \
	VFMADD231PS Y12, ya, y0; VFMADD231PS Y13, ya, y1

#define STEP256(bo, ao) \
	VMOVUPS bo(BX), Y12; VMOVUPS bo+32(BX), Y13; \
	ROW256(ao, Y14, Y0, Y1); \
	ROW256(ao+4, Y15, Y2, Y3); \
	ROW256(ao+8, Y14, Y4, Y5); \
	ROW256(ao+12, Y15, Y6, Y7); \
	ROW256(ao+16, Y14, Y8, Y9); \
	ROW256(ao+20, Y15, Y10, Y11)

#define PFB256 512

#define UPD256(y0, y1) \
	VMULPS Y12, y0, y0; VMULPS Y12, y1, y1; \
	VMOVUPS (DX), Y14; VMOVUPS 32(DX), Y15; \
	VFMADD231PS Y13, Y14, y0; VFMADD231PS Y13, Y15, y1; \
	VMOVUPS y0, (DX); VMOVUPS y1, 32(DX); \
	ADDQ        SI, DX

#define SET256(y0, y1) \
	VMULPS Y12, y0, y0; VMULPS Y12, y1, y1; \
	VMOVUPS y0, (DX); VMOVUPS y1, 32(DX); \
	ADDQ    SI, DX

// PFC256 prefetches the 6×16 C tile at DX (rows SI bytes apart; a row
// may straddle two lines) so that the update at the end does not wait for
// memory. Clobbers DX.
#define PFC256 \
	PREFETCHT0 (DX); PREFETCHT0 63(DX); \
	ADDQ SI, DX; \
	PREFETCHT0 (DX); PREFETCHT0 63(DX); \
	ADDQ SI, DX; \
	PREFETCHT0 (DX); PREFETCHT0 63(DX); \
	ADDQ SI, DX; \
	PREFETCHT0 (DX); PREFETCHT0 63(DX); \
	ADDQ SI, DX; \
	PREFETCHT0 (DX); PREFETCHT0 63(DX); \
	ADDQ SI, DX; \
	PREFETCHT0 (DX); PREFETCHT0 63(DX)

// ZERO256 clears the twelve accumulators Y0..Y11.
#define ZERO256 \
	VXORPS Y0, Y0, Y0; VXORPS Y1, Y1, Y1; VXORPS Y2, Y2, Y2; VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; VXORPS Y5, Y5, Y5; VXORPS Y6, Y6, Y6; VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; VXORPS Y9, Y9, Y9; VXORPS Y10, Y10, Y10; VXORPS Y11, Y11, Y11

// STORE256 writes the tile to C at DX (rows SI bytes apart): the beta
// update, or (beta == +0, its bits in R11 zero) the store-only path.
#define STORE256(set) \
	TESTL R11, R11; JZ set; \
	UPD256(Y0, Y1); \
	UPD256(Y2, Y3); \
	UPD256(Y4, Y5); \
	UPD256(Y6, Y7); \
	UPD256(Y8, Y9); \
	UPD256(Y10, Y11); \
	VZEROUPPER; \
	RET; \
set: \
	SET256(Y0, Y1); \
	SET256(Y2, Y3); \
	SET256(Y4, Y5); \
	SET256(Y6, Y7); \
	SET256(Y8, Y9); \
	SET256(Y10, Y11); \
	VZEROUPPER; \
	RET

// func kernAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·kernAVX2(SB), NOSPLIT, $0-48
	MOVQ a+8(FP), AX; MOVQ b+16(FP), BX; MOVQ k+0(FP), CX; MOVQ CX, R10
	SHRQ $2, R10
	ANDQ $3, CX
	MOVQ c+24(FP), DX; MOVQ ldc+32(FP), SI
	SHLQ $2, SI
	PFC256
	ZERO256
	TESTQ R10, R10; JZ tail256

loop256:
	PREFETCHT0 PFB256(BX)
	STEP256(0, 0)
	PREFETCHT0 PFB256+64(BX)
	STEP256(64, 24)
	PREFETCHT0 PFB256+128(BX)
	STEP256(128, 48)
	PREFETCHT0 PFB256+192(BX)
	STEP256(192, 72)
	ADDQ $96, AX; ADDQ $256, BX
	DECQ R10; JNZ loop256

tail256:
	TESTQ CX, CX; JZ store256

tail256loop:
	STEP256(0, 0)
	ADDQ $24, AX; ADDQ $64, BX
	DECQ CX; JNZ tail256loop

store256:
	MOVQ c+24(FP), DX
	VBROADCASTSS alpha+40(FP), Y12; VBROADCASTSS beta+44(FP), Y13
	MOVL beta+44(FP), R11
	STORE256(set256)


// FSTEP256 is STEP256 reading row q of the B micro-panel from the source
// (src0, src1: its two halves) and storing it to the packed panel at
// dofs(R12) on the way.
#define FSTEP256(src0, src1, dofs, ao) \
	VMOVUPS src0, Y12; VMOVUPS src1, Y13; VMOVUPS Y12, dofs(R12); VMOVUPS Y13, dofs+32(R12); \
	ROW256(ao, Y14, Y0, Y1); \
	ROW256(ao+4, Y15, Y2, Y3); \
	ROW256(ao+8, Y14, Y4, Y5); \
	ROW256(ao+12, Y15, Y6, Y7); \
	ROW256(ao+16, Y14, Y8, Y9); \
	ROW256(ao+20, Y15, Y10, Y11)

// PF256 is PF512 for 16-column rows (distance in R13, DX clobbered).
#define PF256 \
	LEAQ (BX)(R13*1), DX; \
	PFSRC (DX); PFSRC 63(DX); PFSRC (DX)(R8*1); PFSRC 63(DX)(R8*1); \
	PFSRC (DX)(R8*2); PFSRC 63(DX)(R8*2); PFSRC (DX)(R9*1); PFSRC 63(DX)(R9*1)

// func kernAVX2F(k int, a, b *float32, ldb int, bdst, c *float32, ldc int, alpha, beta float32)
//
// kernAVX2 with the packing of B fused in: b is the top-left of a full
// 16-column B micro-panel in the source matrix (rows ldb floats apart),
// which the kernel copies to bdst (16 floats per row) while computing the
// 6×16 tile, with exactly kernAVX2's arithmetic.
TEXT ·kernAVX2F(SB), NOSPLIT, $0-64
	MOVQ a+8(FP), AX; MOVQ b+16(FP), BX; MOVQ ldb+24(FP), R8
	SHLQ $2, R8                  // ldb in bytes
	LEAQ (R8)(R8*2), R9          // 3·ldb
	MOVQ R8, R13
	SHLQ $PFROWS, R13            // prefetch distance: 2^PFROWS source rows
	MOVQ bdst+32(FP), R12; MOVQ k+0(FP), CX; MOVQ CX, R10
	SHRQ $2, R10
	ANDQ $3, CX
	MOVQ c+40(FP), DX; MOVQ ldc+48(FP), SI
	SHLQ $2, SI
	PFC256
	ZERO256
	TESTQ R10, R10; JZ ftail256

	FLOOP(PF256, FSTEP256, 32, 64, 24, floop256, ftail256, ftail256loop, fstore256)

fstore256:
	MOVQ c+40(FP), DX
	VBROADCASTSS alpha+56(FP), Y12; VBROADCASTSS beta+60(FP), Y13
	MOVL beta+60(FP), R11
	STORE256(fset256)

// ---------------------------------------------------------------------------
// func packT4x8(dst, src *float32, ld, kc, w int)
//
// Transposing pack of 4 lanes: for q < kc (a multiple of 8) and l < 4,
// dst[q*w+l] = src[l*ld+q]. Each 4×8 block is transposed in registers
// (unpack + shuffle) and written as eight 4-float groups w floats apart.
// Needs AVX only.
TEXT ·packT4x8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI; MOVQ src+8(FP), SI; MOVQ ld+16(FP), R8
	SHLQ $2, R8              // ld in bytes
	MOVQ kc+24(FP), CX
	SHRQ $3, CX              // blocks of 8
	JZ   packdone
	MOVQ w+32(FP), R9
	SHLQ $2, R9              // w in bytes
	LEAQ (R9)(R9*2), R10     // 3w
	LEAQ (SI)(R8*2), R11     // row 2
	MOVQ R9, R12
	SHLQ $2, R12             // 4w: offset of the high half

packloop:
	VMOVUPS (SI), Y0             // row 0, q..q+7
	VMOVUPS (SI)(R8*1), Y1       // row 1
	VMOVUPS (R11), Y2            // row 2
	VMOVUPS (R11)(R8*1), Y3      // row 3
	VUNPCKLPS Y1, Y0, Y4         // r0_0 r1_0 r0_1 r1_1 | q+4, q+5
	VUNPCKHPS Y1, Y0, Y5         // r0_2 r1_2 r0_3 r1_3 | q+6, q+7
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKHPS Y3, Y2, Y7
	VSHUFPS $0x44, Y6, Y4, Y0    // column q   | q+4
	VSHUFPS $0xEE, Y6, Y4, Y1    // column q+1 | q+5
	VSHUFPS $0x44, Y7, Y5, Y2    // column q+2 | q+6
	VSHUFPS $0xEE, Y7, Y5, Y3    // column q+3 | q+7
	LEAQ (DI)(R12*1), DX         // group q+4
	VMOVUPS X0, (DI); VMOVUPS X1, (DI)(R9*1); VMOVUPS X2, (DI)(R9*2); VMOVUPS X3, (DI)(R10*1)
	VEXTRACTF128 $1, Y0, (DX); VEXTRACTF128 $1, Y1, (DX)(R9*1); VEXTRACTF128 $1, Y2, (DX)(R9*2); VEXTRACTF128 $1, Y3, (DX)(R10*1)
	ADDQ $32, SI; ADDQ $32, R11
	LEAQ (DI)(R12*2), DI         // 8 groups on
	DECQ CX; JNZ packloop
	VZEROUPPER

packdone:
	RET

// ---------------------------------------------------------------------------
// func packRows(dst, src *float32, ld, kc, np, w int)
//
// Copying pack of np full panels, walking src row by row so reads are
// sequential: dst[p*kc*w + q*w + l] = src[q*ld + p*w + l] for q < kc,
// p < np, l < w, with w one of 32, 16, 12 or 6. Needs AVX.
TEXT ·packRows(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI; MOVQ src+8(FP), SI; MOVQ ld+16(FP), R8
	SHLQ $2, R8                // ld in bytes
	MOVQ kc+24(FP), CX; MOVQ np+32(FP), R12; MOVQ w+40(FP), R9
	SHLQ $2, R9                // w in bytes
	MOVQ R9, R13
	IMULQ CX, R13              // panel size kc*w in bytes
	TESTQ CX, CX; JZ rowsdone
	TESTQ R12, R12; JZ rowsdone

rowsq:
	MOVQ SI, R10               // source row
	MOVQ DI, R11               // row q of panel 0
	MOVQ R12, DX               // panels left
	CMPQ R9, $128; JEQ rows32
	CMPQ R9, $64; JEQ rows16
	CMPQ R9, $48; JEQ rows12

rows6:
	VMOVUPS (R10), X0
	MOVQ    16(R10), AX
	VMOVUPS X0, (R11)
	MOVQ    AX, 16(R11)
	ADDQ R9, R10; ADDQ R13, R11
	DECQ DX; JNZ rows6
	JMP     rowsnext

rows12:
	VMOVUPS (R10), Y0; VMOVUPS 32(R10), X1; VMOVUPS Y0, (R11); VMOVUPS X1, 32(R11)
	ADDQ R9, R10; ADDQ R13, R11
	DECQ DX; JNZ rows12
	JMP     rowsnext

rows16:
	VMOVUPS (R10), Y0; VMOVUPS 32(R10), Y1; VMOVUPS Y0, (R11); VMOVUPS Y1, 32(R11)
	ADDQ R9, R10; ADDQ R13, R11
	DECQ DX; JNZ rows16
	JMP     rowsnext

rows32:
	VMOVUPS (R10), Y0; VMOVUPS 32(R10), Y1; VMOVUPS 64(R10), Y2; VMOVUPS 96(R10), Y3
	VMOVUPS Y0, (R11); VMOVUPS Y1, 32(R11); VMOVUPS Y2, 64(R11); VMOVUPS Y3, 96(R11)
	ADDQ R9, R10; ADDQ R13, R11
	DECQ DX; JNZ rows32

rowsnext:
	ADDQ R8, SI; ADDQ R9, DI
	DECQ CX; JNZ rowsq
	VZEROUPPER

rowsdone:
	RET

// ---------------------------------------------------------------------------
// Dot-product kernels for small n (AVX-512). Rows of A and of Bᵀ are read in
// place, 16 values of k per zmm; lane l accumulates the products with
// q ≡ l (mod 16), in q order, and the 16 lanes are then summed in a fixed
// tree. The k%16 tail uses zero-masked loads.

// HSUM16 sums the 16 lanes of z (whose low halves are y) into out+off(BX).
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
	VFMADD231PS Z16, za, acc0; VFMADD231PS Z17, za, acc1; VFMADD231PS Z18, za, acc2; VFMADD231PS Z19, za, acc3

// func dot4x4AVX512(k int, a0, a1, a2, a3, b0, b1, b2, b3, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q] for r, c < 4.
TEXT ·dot4x4AVX512(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX; MOVQ a0+8(FP), R8; MOVQ a1+16(FP), R9; MOVQ a2+24(FP), R10
	MOVQ a3+32(FP), R11; MOVQ b0+40(FP), R12; MOVQ b1+48(FP), R13; MOVQ b2+56(FP), SI
	MOVQ b3+64(FP), DI; MOVQ out+72(FP), BX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4; VPXORD Z5, Z5, Z5; VPXORD Z6, Z6, Z6; VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8; VPXORD Z9, Z9, Z9; VPXORD Z10, Z10, Z10; VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12; VPXORD Z13, Z13, Z13; VPXORD Z14, Z14, Z14; VPXORD Z15, Z15, Z15
	MOVQ CX, DX
	SHRQ $4, DX; JZ dot44tail

dot44loop:
	VMOVUPS (R12)(AX*1), Z16; VMOVUPS (R13)(AX*1), Z17; VMOVUPS (SI)(AX*1), Z18; VMOVUPS (DI)(AX*1), Z19
	VMOVUPS (R8)(AX*1), Z20; VMOVUPS (R9)(AX*1), Z21; VMOVUPS (R10)(AX*1), Z22; VMOVUPS (R11)(AX*1), Z23
	DOTROW4(Z20, Z0, Z1, Z2, Z3)
	DOTROW4(Z21, Z4, Z5, Z6, Z7)
	DOTROW4(Z22, Z8, Z9, Z10, Z11)
	DOTROW4(Z23, Z12, Z13, Z14, Z15)
	ADDQ $64, AX
	DECQ DX; JNZ dot44loop

dot44tail:
	ANDQ $15, CX
	JZ   dot44sum
	MOVQ $1, DX
	SHLQ CX, DX
	DECQ DX
	KMOVW DX, K1
	VMOVUPS.Z (R12)(AX*1), K1, Z16; VMOVUPS.Z (R13)(AX*1), K1, Z17; VMOVUPS.Z (SI)(AX*1), K1, Z18; VMOVUPS.Z (DI)(AX*1), K1, Z19
	VMOVUPS.Z (R8)(AX*1), K1, Z20; VMOVUPS.Z (R9)(AX*1), K1, Z21; VMOVUPS.Z (R10)(AX*1), K1, Z22; VMOVUPS.Z (R11)(AX*1), K1, Z23
	DOTROW4(Z20, Z0, Z1, Z2, Z3)
	DOTROW4(Z21, Z4, Z5, Z6, Z7)
	DOTROW4(Z22, Z8, Z9, Z10, Z11)
	DOTROW4(Z23, Z12, Z13, Z14, Z15)

dot44sum:
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

// func dot4x1AVX512(k int, a0, a1, a2, a3, b0, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q] for r < 4, with the same lane order as
// dot4x4AVX512.
TEXT ·dot4x1AVX512(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX; MOVQ a0+8(FP), R8; MOVQ a1+16(FP), R9; MOVQ a2+24(FP), R10
	MOVQ a3+32(FP), R11; MOVQ b0+40(FP), R12; MOVQ out+48(FP), BX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3
	MOVQ CX, DX
	SHRQ $4, DX; JZ dot41tail

dot41loop:
	VMOVUPS (R12)(AX*1), Z16
	VFMADD231PS (R8)(AX*1), Z16, Z0; VFMADD231PS (R9)(AX*1), Z16, Z1; VFMADD231PS (R10)(AX*1), Z16, Z2; VFMADD231PS (R11)(AX*1), Z16, Z3
	ADDQ $64, AX
	DECQ DX; JNZ dot41loop

dot41tail:
	ANDQ $15, CX
	JZ   dot41sum
	MOVQ $1, DX
	SHLQ CX, DX
	DECQ DX
	KMOVW DX, K1
	VMOVUPS.Z (R12)(AX*1), K1, Z16; VMOVUPS.Z (R8)(AX*1), K1, Z20; VMOVUPS.Z (R9)(AX*1), K1, Z21; VMOVUPS.Z (R10)(AX*1), K1, Z22
	VMOVUPS.Z (R11)(AX*1), K1, Z23
	VFMADD231PS Z16, Z20, Z0; VFMADD231PS Z16, Z21, Z1; VFMADD231PS Z16, Z22, Z2; VFMADD231PS Z16, Z23, Z3

dot41sum:
	HSUM16(Z0, Y0, 0)
	HSUM16(Z1, Y1, 4)
	HSUM16(Z2, Y2, 8)
	HSUM16(Z3, Y3, 12)
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// Dot-product kernels for small n (AVX2+FMA). Rows of A and of Bᵀ are read
// in place, 8 values of k per ymm; lane l accumulates the products with
// q ≡ l (mod 8), in q order, and the 8 lanes are then summed in a fixed
// tree (HSUM8). The k%8 tail is read with VMASKMOVPS, whose masked-off
// lanes read as zero and never fault. With 16 ymm registers there is room
// for 8 accumulators, so dot4x4AVX2 computes rows 0–1 and then rows 2–3
// (reading B twice, from L1); every element's arithmetic is the same as
// in dot4x1AVX2.

// dotTailMask: eight all-ones dwords then eight zero dwords; the 8 dwords
// at byte offset 4·(8−r) enable the first r lanes.
DATA dotTailMask<>+0(SB)/8, $0xffffffffffffffff
DATA dotTailMask<>+8(SB)/8, $0xffffffffffffffff
DATA dotTailMask<>+16(SB)/8, $0xffffffffffffffff
DATA dotTailMask<>+24(SB)/8, $0xffffffffffffffff
DATA dotTailMask<>+32(SB)/8, $0
DATA dotTailMask<>+40(SB)/8, $0
DATA dotTailMask<>+48(SB)/8, $0
DATA dotTailMask<>+56(SB)/8, $0
GLOBL dotTailMask<>(SB), RODATA|NOPTR, $64

// HSUM8 sums the 8 lanes of y (whose low half is x) into off(BX), using
// X14 and X15.
#define HSUM8(y, x, off) \
	VEXTRACTF128 $1, y, X14; \
	VADDPS       X14, x, X14; \
	VMOVHLPS     X14, X14, X15; \
	VADDPS       X15, X14, X14; \
	VMOVSHDUP    X14, X15; \
	VADDSS       X15, X14, X14; \
	VMOVSS       X14, off(BX)

// DOTLOAD4B loads 8 values of k of the four B rows into Y8..Y11, at byte
// offset AX.
#define DOTLOAD4B \
	VMOVUPS (R12)(AX*1), Y8; VMOVUPS (R13)(AX*1), Y9; VMOVUPS (SI)(AX*1), Y10; VMOVUPS (DI)(AX*1), Y11

// DOTROW4Y multiplies the A row in ya by the four B rows in Y8..Y11 into
// acc0..acc3.
#define DOTROW4Y(ya, acc0, acc1, acc2, acc3) \
	VFMADD231PS Y8, ya, acc0; VFMADD231PS Y9, ya, acc1; VFMADD231PS Y10, ya, acc2; VFMADD231PS Y11, ya, acc3

// DOT2x4 computes rows ra0, ra1 against the four B rows into off(BX)
// (8 floats, row-major); loop, tail and sum name its labels. CX = k,
// Y13 = tail mask.
#define DOT2x4(ra0, ra1, off, loop, tail, sum) \
	VXORPS Y0, Y0, Y0; VXORPS Y1, Y1, Y1; VXORPS Y2, Y2, Y2; VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; VXORPS Y5, Y5, Y5; VXORPS Y6, Y6, Y6; VXORPS Y7, Y7, Y7; \
	XORQ AX, AX; \
	MOVQ CX, DX; \
	SHRQ $3, DX; JZ tail; \
loop: \
	DOTLOAD4B; \
	VMOVUPS (ra0)(AX*1), Y12; \
	DOTROW4Y(Y12, Y0, Y1, Y2, Y3); \
	VMOVUPS (ra1)(AX*1), Y12; \
	DOTROW4Y(Y12, Y4, Y5, Y6, Y7); \
	ADDQ $32, AX; \
	DECQ DX; JNZ loop; \
tail: \
	TESTQ $7, CX; JZ sum; \
	VMASKMOVPS (R12)(AX*1), Y13, Y8; VMASKMOVPS (R13)(AX*1), Y13, Y9; VMASKMOVPS (SI)(AX*1), Y13, Y10; VMASKMOVPS (DI)(AX*1), Y13, Y11; \
	VMASKMOVPS (ra0)(AX*1), Y13, Y12; \
	DOTROW4Y(Y12, Y0, Y1, Y2, Y3); \
	VMASKMOVPS (ra1)(AX*1), Y13, Y12; \
	DOTROW4Y(Y12, Y4, Y5, Y6, Y7); \
sum: \
	HSUM8(Y0, X0, off); \
	HSUM8(Y1, X1, off+4); \
	HSUM8(Y2, X2, off+8); \
	HSUM8(Y3, X3, off+12); \
	HSUM8(Y4, X4, off+16); \
	HSUM8(Y5, X5, off+20); \
	HSUM8(Y6, X6, off+24); \
	HSUM8(Y7, X7, off+28)

// DOTMASK loads the tail mask for k = CX into Y13 (clobbers DX, R14).
#define DOTMASK \
	MOVQ CX, DX; \
	ANDQ $7, DX; \
	NEGQ DX; \
	LEAQ dotTailMask<>+32(SB), R14; \
	VMOVUPS (R14)(DX*4), Y13

// func dot4x4AVX2(k int, a0, a1, a2, a3, b0, b1, b2, b3, out *float32)
//
// out[4r+c] = Σ_q a_r[q]·b_c[q] for r, c < 4 and q < k (k ≥ 0), summed as
// described above.
TEXT ·dot4x4AVX2(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX; MOVQ a0+8(FP), R8; MOVQ a1+16(FP), R9; MOVQ a2+24(FP), R10
	MOVQ a3+32(FP), R11; MOVQ b0+40(FP), R12; MOVQ b1+48(FP), R13; MOVQ b2+56(FP), SI
	MOVQ b3+64(FP), DI; MOVQ out+72(FP), BX
	DOTMASK
	DOT2x4(R8, R9, 0, d44loop01, d44tail01, d44sum01)
	DOT2x4(R10, R11, 32, d44loop23, d44tail23, d44sum23)
	VZEROUPPER
	RET

// func dot4x1AVX2(k int, a0, a1, a2, a3, b0, out *float32)
//
// out[r] = Σ_q a_r[q]·b0[q] for r < 4, rounding exactly like dot4x4AVX2.
TEXT ·dot4x1AVX2(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX; MOVQ a0+8(FP), R8; MOVQ a1+16(FP), R9; MOVQ a2+24(FP), R10
	MOVQ a3+32(FP), R11; MOVQ b0+40(FP), R12; MOVQ out+48(FP), BX
	DOTMASK
	XORQ AX, AX
	VXORPS Y0, Y0, Y0; VXORPS Y1, Y1, Y1; VXORPS Y2, Y2, Y2; VXORPS Y3, Y3, Y3
	MOVQ CX, DX
	SHRQ $3, DX; JZ d41tail

d41loop:
	VMOVUPS (R12)(AX*1), Y8
	VFMADD231PS (R8)(AX*1), Y8, Y0; VFMADD231PS (R9)(AX*1), Y8, Y1; VFMADD231PS (R10)(AX*1), Y8, Y2; VFMADD231PS (R11)(AX*1), Y8, Y3
	ADDQ $32, AX
	DECQ DX; JNZ d41loop

d41tail:
	TESTQ $7, CX; JZ d41sum
	VMASKMOVPS (R12)(AX*1), Y13, Y8; VMASKMOVPS (R8)(AX*1), Y13, Y4; VMASKMOVPS (R9)(AX*1), Y13, Y5; VMASKMOVPS (R10)(AX*1), Y13, Y6
	VMASKMOVPS (R11)(AX*1), Y13, Y7
	VFMADD231PS Y8, Y4, Y0; VFMADD231PS Y8, Y5, Y1; VFMADD231PS Y8, Y6, Y2; VFMADD231PS Y8, Y7, Y3

d41sum:
	HSUM8(Y0, X0, 0)
	HSUM8(Y1, X1, 4)
	HSUM8(Y2, X2, 8)
	HSUM8(Y3, X3, 12)
	VZEROUPPER
	RET
