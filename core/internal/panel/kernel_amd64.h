// Macros shared by the AVX-512 (kernel_amd64.s) and AVX2
// (kernel_avx2_amd64.s) kernels, whose functions have the same arguments
// and the same skeletons.

// ARGS4x4 loads the arguments of a 4×4 product (k, a, b0…b3, out): k in
// CX, the packed group a in R8, the columns in R12, R13, SI and DI, out in
// BX. ARGS4x1 loads those of a 4×1 product (k, a, b0, out).
#define ARGS4x4 \
	MOVQ k+0(FP), CX; MOVQ a+8(FP), R8; MOVQ b0+16(FP), R12; MOVQ b1+24(FP), R13; \
	MOVQ b2+32(FP), SI; MOVQ b3+40(FP), DI; MOVQ out+48(FP), BX
#define ARGS4x1 MOVQ k+0(FP), CX; MOVQ a+8(FP), R8; MOVQ b0+16(FP), R12; MOVQ out+24(FP), BX

// HMAXD sets AX to the largest of the 8 int32 lanes of Y0 (absBits; x
// scratch).
#define HMAXD(x) \
	VEXTRACTI128 $1, Y0, x; VPMAXSD x, X0, X0; \
	VPSHUFD $0x4e, X0, x; VPMAXSD x, X0, X0; \
	VPSHUFD $0xb1, X0, x; VPMAXSD x, X0, X0; \
	VMOVD X0, AX

// QUANT16 is the body of quant16 (n, x, inv, q): inv broadcast into vinv,
// then STEP quantises 16 values of x (SI) into the 64 bytes at q (DI).
#define QUANT16(vinv, STEP) \
	MOVQ n+0(FP), CX; MOVQ x+8(FP), SI; \
	VBROADCASTSS inv+16(FP), vinv; \
	MOVQ q+24(FP), DI; \
	SHRQ $4, CX; JZ qdone; \
qloop: \
	STEP; \
	ADDQ $64, SI; ADDQ $64, DI; \
	DECQ CX; JNZ qloop; \
qdone: \
	VZEROUPPER; \
	RET
