//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 BF16 assembly for BF16Matrix (bf16.go): the 12×32 micro-kernel
// and the packing of B. The Go assembler does not know AVX512_BF16, so
// VDPBF16PS is spelled out as bytes: DP_a_b_c is
// "VDPBF16PS Zc, Zb, Za" (Za += Σ over each lane's pair of bf16 products
// Zb·Zc), with accumulators Z0..Z23 (row i in Z(2i), Z(2i+1)), the B pair
// row in Z24/Z25 and broadcasts of A pairs in Z26..Z31.

#define DP_0_24_26 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc2
#define DP_0_24_27 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc3
#define DP_0_24_28 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc4
#define DP_0_24_29 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc5
#define DP_0_24_30 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc6
#define DP_0_24_31 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc7
#define DP_0_25_26 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc2
#define DP_0_25_27 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc3
#define DP_0_25_28 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc4
#define DP_0_25_29 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc5
#define DP_0_25_30 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc6
#define DP_0_25_31 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc7
#define DP_1_24_26 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xca
#define DP_1_24_27 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcb
#define DP_1_24_28 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcc
#define DP_1_24_29 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcd
#define DP_1_24_30 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xce
#define DP_1_24_31 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcf
#define DP_1_25_26 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xca
#define DP_1_25_27 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcb
#define DP_1_25_28 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcc
#define DP_1_25_29 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcd
#define DP_1_25_30 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xce
#define DP_1_25_31 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcf
#define DP_2_24_26 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd2
#define DP_2_24_27 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd3
#define DP_2_24_28 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd4
#define DP_2_24_29 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd5
#define DP_2_24_30 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd6
#define DP_2_24_31 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd7
#define DP_2_25_26 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd2
#define DP_2_25_27 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd3
#define DP_2_25_28 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd4
#define DP_2_25_29 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd5
#define DP_2_25_30 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd6
#define DP_2_25_31 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd7
#define DP_3_24_26 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xda
#define DP_3_24_27 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdb
#define DP_3_24_28 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdc
#define DP_3_24_29 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdd
#define DP_3_24_30 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xde
#define DP_3_24_31 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdf
#define DP_3_25_26 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xda
#define DP_3_25_27 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdb
#define DP_3_25_28 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdc
#define DP_3_25_29 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdd
#define DP_3_25_30 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xde
#define DP_3_25_31 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdf
#define DP_4_24_26 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe2
#define DP_4_24_27 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe3
#define DP_4_24_28 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe4
#define DP_4_24_29 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe5
#define DP_4_24_30 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe6
#define DP_4_24_31 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe7
#define DP_4_25_26 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe2
#define DP_4_25_27 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe3
#define DP_4_25_28 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe4
#define DP_4_25_29 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe5
#define DP_4_25_30 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe6
#define DP_4_25_31 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe7
#define DP_5_24_26 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xea
#define DP_5_24_27 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xeb
#define DP_5_24_28 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xec
#define DP_5_24_29 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xed
#define DP_5_24_30 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xee
#define DP_5_24_31 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xef
#define DP_5_25_26 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xea
#define DP_5_25_27 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xeb
#define DP_5_25_28 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xec
#define DP_5_25_29 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xed
#define DP_5_25_30 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xee
#define DP_5_25_31 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xef
#define DP_6_24_26 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf2
#define DP_6_24_27 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf3
#define DP_6_24_28 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf4
#define DP_6_24_29 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf5
#define DP_6_24_30 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf6
#define DP_6_24_31 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf7
#define DP_6_25_26 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf2
#define DP_6_25_27 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf3
#define DP_6_25_28 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf4
#define DP_6_25_29 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf5
#define DP_6_25_30 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf6
#define DP_6_25_31 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf7
#define DP_7_24_26 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfa
#define DP_7_24_27 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfb
#define DP_7_24_28 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfc
#define DP_7_24_29 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfd
#define DP_7_24_30 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfe
#define DP_7_24_31 BYTE $0x62; BYTE $0x92; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xff
#define DP_7_25_26 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfa
#define DP_7_25_27 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfb
#define DP_7_25_28 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfc
#define DP_7_25_29 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfd
#define DP_7_25_30 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfe
#define DP_7_25_31 BYTE $0x62; BYTE $0x92; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xff
#define DP_8_24_26 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc2
#define DP_8_24_27 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc3
#define DP_8_24_28 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc4
#define DP_8_24_29 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc5
#define DP_8_24_30 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc6
#define DP_8_24_31 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc7
#define DP_8_25_26 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc2
#define DP_8_25_27 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc3
#define DP_8_25_28 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc4
#define DP_8_25_29 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc5
#define DP_8_25_30 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc6
#define DP_8_25_31 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc7
#define DP_9_24_26 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xca
#define DP_9_24_27 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcb
#define DP_9_24_28 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcc
#define DP_9_24_29 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcd
#define DP_9_24_30 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xce
#define DP_9_24_31 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcf
#define DP_9_25_26 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xca
#define DP_9_25_27 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcb
#define DP_9_25_28 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcc
#define DP_9_25_29 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcd
#define DP_9_25_30 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xce
#define DP_9_25_31 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcf
#define DP_10_24_26 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd2
#define DP_10_24_27 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd3
#define DP_10_24_28 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd4
#define DP_10_24_29 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd5
#define DP_10_24_30 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd6
#define DP_10_24_31 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd7
#define DP_10_25_26 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd2
#define DP_10_25_27 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd3
#define DP_10_25_28 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd4
#define DP_10_25_29 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd5
#define DP_10_25_30 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd6
#define DP_10_25_31 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd7
#define DP_11_24_26 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xda
#define DP_11_24_27 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdb
#define DP_11_24_28 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdc
#define DP_11_24_29 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdd
#define DP_11_24_30 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xde
#define DP_11_24_31 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdf
#define DP_11_25_26 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xda
#define DP_11_25_27 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdb
#define DP_11_25_28 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdc
#define DP_11_25_29 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdd
#define DP_11_25_30 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xde
#define DP_11_25_31 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdf
#define DP_12_24_26 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe2
#define DP_12_24_27 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe3
#define DP_12_24_28 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe4
#define DP_12_24_29 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe5
#define DP_12_24_30 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe6
#define DP_12_24_31 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe7
#define DP_12_25_26 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe2
#define DP_12_25_27 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe3
#define DP_12_25_28 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe4
#define DP_12_25_29 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe5
#define DP_12_25_30 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe6
#define DP_12_25_31 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe7
#define DP_13_24_26 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xea
#define DP_13_24_27 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xeb
#define DP_13_24_28 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xec
#define DP_13_24_29 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xed
#define DP_13_24_30 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xee
#define DP_13_24_31 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xef
#define DP_13_25_26 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xea
#define DP_13_25_27 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xeb
#define DP_13_25_28 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xec
#define DP_13_25_29 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xed
#define DP_13_25_30 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xee
#define DP_13_25_31 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xef
#define DP_14_24_26 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf2
#define DP_14_24_27 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf3
#define DP_14_24_28 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf4
#define DP_14_24_29 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf5
#define DP_14_24_30 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf6
#define DP_14_24_31 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf7
#define DP_14_25_26 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf2
#define DP_14_25_27 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf3
#define DP_14_25_28 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf4
#define DP_14_25_29 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf5
#define DP_14_25_30 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf6
#define DP_14_25_31 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf7
#define DP_15_24_26 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfa
#define DP_15_24_27 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfb
#define DP_15_24_28 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfc
#define DP_15_24_29 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfd
#define DP_15_24_30 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfe
#define DP_15_24_31 BYTE $0x62; BYTE $0x12; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xff
#define DP_15_25_26 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfa
#define DP_15_25_27 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfb
#define DP_15_25_28 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfc
#define DP_15_25_29 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfd
#define DP_15_25_30 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfe
#define DP_15_25_31 BYTE $0x62; BYTE $0x12; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xff
#define DP_16_24_26 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc2
#define DP_16_24_27 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc3
#define DP_16_24_28 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc4
#define DP_16_24_29 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc5
#define DP_16_24_30 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc6
#define DP_16_24_31 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xc7
#define DP_16_25_26 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc2
#define DP_16_25_27 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc3
#define DP_16_25_28 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc4
#define DP_16_25_29 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc5
#define DP_16_25_30 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc6
#define DP_16_25_31 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xc7
#define DP_17_24_26 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xca
#define DP_17_24_27 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcb
#define DP_17_24_28 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcc
#define DP_17_24_29 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcd
#define DP_17_24_30 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xce
#define DP_17_24_31 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xcf
#define DP_17_25_26 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xca
#define DP_17_25_27 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcb
#define DP_17_25_28 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcc
#define DP_17_25_29 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcd
#define DP_17_25_30 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xce
#define DP_17_25_31 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xcf
#define DP_18_24_26 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd2
#define DP_18_24_27 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd3
#define DP_18_24_28 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd4
#define DP_18_24_29 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd5
#define DP_18_24_30 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd6
#define DP_18_24_31 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xd7
#define DP_18_25_26 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd2
#define DP_18_25_27 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd3
#define DP_18_25_28 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd4
#define DP_18_25_29 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd5
#define DP_18_25_30 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd6
#define DP_18_25_31 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xd7
#define DP_19_24_26 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xda
#define DP_19_24_27 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdb
#define DP_19_24_28 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdc
#define DP_19_24_29 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdd
#define DP_19_24_30 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xde
#define DP_19_24_31 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xdf
#define DP_19_25_26 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xda
#define DP_19_25_27 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdb
#define DP_19_25_28 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdc
#define DP_19_25_29 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdd
#define DP_19_25_30 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xde
#define DP_19_25_31 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xdf
#define DP_20_24_26 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe2
#define DP_20_24_27 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe3
#define DP_20_24_28 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe4
#define DP_20_24_29 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe5
#define DP_20_24_30 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe6
#define DP_20_24_31 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe7
#define DP_20_25_26 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe2
#define DP_20_25_27 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe3
#define DP_20_25_28 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe4
#define DP_20_25_29 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe5
#define DP_20_25_30 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe6
#define DP_20_25_31 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xe7
#define DP_21_24_26 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xea
#define DP_21_24_27 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xeb
#define DP_21_24_28 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xec
#define DP_21_24_29 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xed
#define DP_21_24_30 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xee
#define DP_21_24_31 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xef
#define DP_21_25_26 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xea
#define DP_21_25_27 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xeb
#define DP_21_25_28 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xec
#define DP_21_25_29 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xed
#define DP_21_25_30 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xee
#define DP_21_25_31 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xef
#define DP_22_24_26 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf2
#define DP_22_24_27 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf3
#define DP_22_24_28 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf4
#define DP_22_24_29 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf5
#define DP_22_24_30 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf6
#define DP_22_24_31 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xf7
#define DP_22_25_26 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf2
#define DP_22_25_27 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf3
#define DP_22_25_28 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf4
#define DP_22_25_29 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf5
#define DP_22_25_30 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf6
#define DP_22_25_31 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf7
#define DP_23_24_26 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfa
#define DP_23_24_27 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfb
#define DP_23_24_28 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfc
#define DP_23_24_29 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfd
#define DP_23_24_30 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xfe
#define DP_23_24_31 BYTE $0x62; BYTE $0x82; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xff
#define DP_23_25_26 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfa
#define DP_23_25_27 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfb
#define DP_23_25_28 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfc
#define DP_23_25_29 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfd
#define DP_23_25_30 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xfe
#define DP_23_25_31 BYTE $0x62; BYTE $0x82; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xff

#define BSTEP(ao, bo) \
	VMOVUPS bo(BX), Z24; VMOVUPS bo+64(BX), Z25; \
	VPBROADCASTD ao+0(AX), Z26; \
	DP_0_24_26; DP_1_25_26; \
	VPBROADCASTD ao+4(AX), Z27; \
	DP_2_24_27; DP_3_25_27; \
	VPBROADCASTD ao+8(AX), Z28; \
	DP_4_24_28; DP_5_25_28; \
	VPBROADCASTD ao+12(AX), Z29; \
	DP_6_24_29; DP_7_25_29; \
	VPBROADCASTD ao+16(AX), Z30; \
	DP_8_24_30; DP_9_25_30; \
	VPBROADCASTD ao+20(AX), Z31; \
	DP_10_24_31; DP_11_25_31; \
	VPBROADCASTD ao+24(AX), Z26; \
	DP_12_24_26; DP_13_25_26; \
	VPBROADCASTD ao+28(AX), Z27; \
	DP_14_24_27; DP_15_25_27; \
	VPBROADCASTD ao+32(AX), Z28; \
	DP_16_24_28; DP_17_25_28; \
	VPBROADCASTD ao+36(AX), Z29; \
	DP_18_24_29; DP_19_25_29; \
	VPBROADCASTD ao+40(AX), Z30; \
	DP_20_24_30; DP_21_25_30; \
	VPBROADCASTD ao+44(AX), Z31; \
	DP_22_24_31; DP_23_25_31

// func bdot12x32(kp int, a, b *uint32, c *float32, ldc int, acc int)
//
// C[i][j] (+)= Σ_p Σ_{h<2} A[i][2p+h]·B[2p+h][j] for i < 12, j < 32 from
// kp ≥ 1 pairs: a holds 12 pairs per p, b 32 pairs per p. The sum is added
// to C when acc != 0, stored otherwise.
TEXT ·bdot12x32(SB), NOSPLIT, $0-48
	MOVQ kp+0(FP), CX; MOVQ a+8(FP), AX; MOVQ b+16(FP), BX; MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ acc+40(FP), R9
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4; VPXORD Z5, Z5, Z5; VPXORD Z6, Z6, Z6; VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8; VPXORD Z9, Z9, Z9; VPXORD Z10, Z10, Z10; VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12; VPXORD Z13, Z13, Z13; VPXORD Z14, Z14, Z14; VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16; VPXORD Z17, Z17, Z17; VPXORD Z18, Z18, Z18; VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20; VPXORD Z21, Z21, Z21; VPXORD Z22, Z22, Z22; VPXORD Z23, Z23, Z23
	MOVQ CX, DX
	SHRQ $1, DX; JZ bdot_tail

bdot_loop2:
	PREFETCHT0 512(BX)
	BSTEP(0, 0)
	PREFETCHT0 576(BX)
	BSTEP(48, 128)
	ADDQ $96, AX; ADDQ $256, BX
	DECQ DX; JNZ bdot_loop2

bdot_tail:
	ANDQ $1, CX
	JZ   bdot_store
	BSTEP(0, 0)

bdot_store:
	TESTQ R9, R9; JZ bdot_set
	VADDPS (DI), Z0, Z0; VADDPS 64(DI), Z1, Z1
	VMOVUPS Z0, (DI); VMOVUPS Z1, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z2, Z2; VADDPS 64(DI), Z3, Z3
	VMOVUPS Z2, (DI); VMOVUPS Z3, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z4, Z4; VADDPS 64(DI), Z5, Z5
	VMOVUPS Z4, (DI); VMOVUPS Z5, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z6, Z6; VADDPS 64(DI), Z7, Z7
	VMOVUPS Z6, (DI); VMOVUPS Z7, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z8, Z8; VADDPS 64(DI), Z9, Z9
	VMOVUPS Z8, (DI); VMOVUPS Z9, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z10, Z10; VADDPS 64(DI), Z11, Z11
	VMOVUPS Z10, (DI); VMOVUPS Z11, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z12, Z12; VADDPS 64(DI), Z13, Z13
	VMOVUPS Z12, (DI); VMOVUPS Z13, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z14, Z14; VADDPS 64(DI), Z15, Z15
	VMOVUPS Z14, (DI); VMOVUPS Z15, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z16, Z16; VADDPS 64(DI), Z17, Z17
	VMOVUPS Z16, (DI); VMOVUPS Z17, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z18, Z18; VADDPS 64(DI), Z19, Z19
	VMOVUPS Z18, (DI); VMOVUPS Z19, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z20, Z20; VADDPS 64(DI), Z21, Z21
	VMOVUPS Z20, (DI); VMOVUPS Z21, 64(DI)
	ADDQ R8, DI
	VADDPS (DI), Z22, Z22; VADDPS 64(DI), Z23, Z23
	VMOVUPS Z22, (DI); VMOVUPS Z23, 64(DI)
	VZEROUPPER
	RET

bdot_set:
	VMOVUPS Z0, (DI); VMOVUPS Z1, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z2, (DI); VMOVUPS Z3, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z4, (DI); VMOVUPS Z5, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z6, (DI); VMOVUPS Z7, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z8, (DI); VMOVUPS Z9, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z10, (DI); VMOVUPS Z11, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z12, (DI); VMOVUPS Z13, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z14, (DI); VMOVUPS Z15, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z16, (DI); VMOVUPS Z17, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z18, (DI); VMOVUPS Z19, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z20, (DI); VMOVUPS Z21, 64(DI)
	ADDQ R8, DI
	VMOVUPS Z22, (DI); VMOVUPS Z23, 64(DI)
	VZEROUPPER
	RET

// Packing interleaves two rows of B converted by VCVTNE2PS2BF16 (round
// to nearest even; denormal inputs count as zero): CVT2_a_b_c is
// "VCVTNE2PS2BF16 Zc, Zb, Za" (Za's low 16 words from Zc, high from Zb),
// and VPERMW with bfInterleave then pairs word j with word 16+j.
#define CVT2_4_2_0 BYTE $0x62; BYTE $0xf2; BYTE $0x6f; BYTE $0x48; BYTE $0x72; BYTE $0xe0
#define CVT2_5_3_1 BYTE $0x62; BYTE $0xf2; BYTE $0x67; BYTE $0x48; BYTE $0x72; BYTE $0xe9
#define CVT2_4_6_0 BYTE $0x62; BYTE $0xf2; BYTE $0x4f; BYTE $0x48; BYTE $0x72; BYTE $0xe0
#define CVT2_5_6_1 BYTE $0x62; BYTE $0xf2; BYTE $0x4f; BYTE $0x48; BYTE $0x72; BYTE $0xe9

// bfInterleave: word 2j ← j, word 2j+1 ← 16+j.
DATA bfInterleave<>+0(SB)/8, $0x0011000100100000
DATA bfInterleave<>+8(SB)/8, $0x0013000300120002
DATA bfInterleave<>+16(SB)/8, $0x0015000500140004
DATA bfInterleave<>+24(SB)/8, $0x0017000700160006
DATA bfInterleave<>+32(SB)/8, $0x0019000900180008
DATA bfInterleave<>+40(SB)/8, $0x001b000b001a000a
DATA bfInterleave<>+48(SB)/8, $0x001d000d001c000c
DATA bfInterleave<>+56(SB)/8, $0x001f000f001e000e
GLOBL bfInterleave<>(SB), RODATA|NOPTR, $64

// func packBF16(dst *uint32, base *float32, offs *int, kp, odd int)
//
// For p < kp and 32 columns j: dst[32p+j] = bf16(r0[j]) | bf16(r1[j])<<16
// where r0 and r1 start at base + offs[2p] and base + offs[2p+1] (floats);
// when odd != 0 the last pair has no second row (its high half is zero).
TEXT ·packBF16(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI; MOVQ base+8(FP), SI; MOVQ offs+16(FP), BX; MOVQ kp+24(FP), CX
	MOVQ odd+32(FP), R9
	VMOVDQU64 bfInterleave<>(SB), Z7
	VPXORD Z6, Z6, Z6
	TESTQ R9, R9; JZ pack_loop
	DECQ CX; JZ pack_last

pack_loop:
	MOVQ (BX), AX; MOVQ 8(BX), DX
	VMOVUPS (SI)(AX*4), Z0; VMOVUPS 64(SI)(AX*4), Z1; VMOVUPS (SI)(DX*4), Z2; VMOVUPS 64(SI)(DX*4), Z3
	CVT2_4_2_0
	CVT2_5_3_1
	VPERMW Z4, Z7, Z4; VPERMW Z5, Z7, Z5
	VMOVDQU32 Z4, (DI); VMOVDQU32 Z5, 64(DI)
	ADDQ $16, BX; ADDQ $128, DI
	DECQ CX; JNZ pack_loop
	TESTQ R9, R9; JZ pack_done

pack_last:
	MOVQ (BX), AX
	VMOVUPS (SI)(AX*4), Z0; VMOVUPS 64(SI)(AX*4), Z1
	CVT2_4_6_0
	CVT2_5_6_1
	VPERMW Z4, Z7, Z4; VPERMW Z5, Z7, Z5
	VMOVDQU32 Z4, (DI); VMOVDQU32 Z5, 64(DI)

pack_done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2+FMA kernels for BF16Matrix on CPUs without AVX512_BF16. A bfloat16
// is the upper half of a float32, so each dword pair of the packed
// operands widens to two float32: the odd element (high half) by masking
// the low 16 bits off, the even one by shifting left 16. The product of
// two bfloat16 (8 significant bits each) is exact in float32, so
// VFMADD231PS of the odd elements, then of the even ones, rounds exactly
// as VDPBF16PS does (odd product, then even product, added to the float32
// sum), for normal numbers: unlike VDPBF16PS these kernels do not flush
// denormal inputs or results to zero.

// BROW runs one element of a pair of row r of A (the widened float at
// ao(R12)) over 16 columns of the widened B element (Y12, Y13) into acc0,
// acc1. Uses Y14.
#define BROW(ao, acc0, acc1) \
	VBROADCASTSS ao(R12), Y14; \
	VFMADD231PS Y12, Y14, acc0; VFMADD231PS Y13, Y14, acc1

// BHALF computes the 6×16 block of C at R14 (rows R8 bytes apart) from
// the widened A at R12 (rows 4 bytes apart, 96 bytes per pair: odd
// elements, then even ones 48 bytes on) and the B pairs at R13 (128 bytes
// per pair), over CX pairs: each pair adds its odd products to the
// accumulators (Y0..Y11, row r in Y(2r), Y(2r+1)), then its even ones.
// R9 != 0 adds to C. Y15 holds 0xFFFF0000 in every dword. Uses DX.
#define BHALF(loop, set, next) \
	VXORPS Y0, Y0, Y0; VXORPS Y1, Y1, Y1; VXORPS Y2, Y2, Y2; VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; VXORPS Y5, Y5, Y5; VXORPS Y6, Y6, Y6; VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; VXORPS Y9, Y9, Y9; VXORPS Y10, Y10, Y10; VXORPS Y11, Y11, Y11; \
	MOVQ   CX, DX; \
loop: \
	VPAND (R13), Y15, Y12; VPAND 32(R13), Y15, Y13; \
	BROW(0, Y0, Y1); \
	BROW(4, Y2, Y3); \
	BROW(8, Y4, Y5); \
	BROW(12, Y6, Y7); \
	BROW(16, Y8, Y9); \
	BROW(20, Y10, Y11); \
	VMOVDQU (R13), Y12; VMOVDQU 32(R13), Y13; \
	VPSLLD $16, Y12, Y12; VPSLLD $16, Y13, Y13; \
	BROW(48, Y0, Y1); \
	BROW(52, Y2, Y3); \
	BROW(56, Y4, Y5); \
	BROW(60, Y6, Y7); \
	BROW(64, Y8, Y9); \
	BROW(68, Y10, Y11); \
	ADDQ $96, R12; ADDQ $128, R13; \
	DECQ DX; JNZ loop; \
	TESTQ R9, R9; JZ set; \
	BADD(Y0, Y1); \
	BADD(Y2, Y3); \
	BADD(Y4, Y5); \
	BADD(Y6, Y7); \
	BADD(Y8, Y9); \
	BADD(Y10, Y11); \
	JMP next; \
set: \
	BSET(Y0, Y1); \
	BSET(Y2, Y3); \
	BSET(Y4, Y5); \
	BSET(Y6, Y7); \
	BSET(Y8, Y9); \
	BSET(Y10, Y11); \
next:

// BADD adds a row of the block to C at R14 and moves R14 to the next row;
// BSET stores it.
#define BADD(acc0, acc1) \
	VADDPS (R14), acc0, acc0; VADDPS 32(R14), acc1, acc1; \
	VMOVUPS acc0, (R14); VMOVUPS acc1, 32(R14); \
	ADDQ    R8, R14

#define BSET(acc0, acc1) \
	VMOVUPS acc0, (R14); VMOVUPS acc1, 32(R14); \
	ADDQ    R8, R14

// BHALFAT runs BHALF on rows 6·half… and columns 16·col… (widened A at
// R11, B at BX, C at DI).
#define BHALFAT(half, col, loop, set, next) \
	LEAQ half*24(R11), R12; LEAQ col*64(BX), R13; \
	MOVQ  R8, R14; \
	IMULQ $(half*6), R14; \
	LEAQ  col*64(DI)(R14*1), R14; \
	BHALF(loop, set, next)

// func bdot12x32AVX2(kp int, a, b *uint32, c *float32, ldc int, acc int)
//
// bdot12x32's contract with AVX2+FMA, for 1 ≤ kp ≤ bfAVX2Pairs (256, see
// bf16_amd64.go: the frame is 256 pairs of 96 bytes):
// C[i][j] (+)= Σ_p Σ_{h<2} A[i][2p+h]·B[2p+h][j] for i < 12, j < 32 (a:
// 12 pairs per p, b: 32 per p), each pair adding its odd product, then
// its even one, to the float32 sum. A is first widened into the frame
// (per pair: 12 odd floats, then 12 even ones), then the 12×32 tile is
// computed as four 6×16 blocks (twelve ymm accumulators each).
TEXT ·bdot12x32AVX2(SB), $24576-48
	MOVQ kp+0(FP), CX; MOVQ a+8(FP), AX; MOVQ b+16(FP), BX; MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ acc+40(FP), R9
	MOVL $0xFFFF0000, DX
	MOVQ DX, X15
	VPBROADCASTD X15, Y15
	MOVQ SP, R11; MOVQ SP, R12; MOVQ CX, DX

bwiden:
	VMOVDQU (AX), Y0; VMOVDQU 32(AX), X1
	VPAND Y15, Y0, Y2; VPAND X15, X1, X3
	VPSLLD $16, Y0, Y0; VPSLLD $16, X1, X1
	VMOVUPS Y2, (R12); VMOVUPS X3, 32(R12); VMOVUPS Y0, 48(R12); VMOVUPS X1, 80(R12)
	ADDQ $48, AX; ADDQ $96, R12
	DECQ DX; JNZ bwiden

	BHALFAT(0, 0, bl00, bs00, bn00); BHALFAT(0, 1, bl01, bs01, bn01)
	BHALFAT(1, 0, bl10, bs10, bn10); BHALFAT(1, 1, bl11, bs11, bn11)
	VZEROUPPER
	RET

// BFROUND rounds the 8 float32 in y to bfloat16 as ToBF16 does, leaving
// the result in the upper 16 bits of each dword of y (low bits garbage):
// y + 0x7FFF + (bit 16 of y), or, for a NaN, y | 0x00400000 (quiet).
// Y12 = 1 per dword, Y13 = 0x7FFF, Y14 = 0x00400000; uses t, u.
#define BFROUND(y, t, u) \
	VPSRLD    $16, y, t; \
	VPAND     Y12, t, t; \
	VPADDD Y13, t, t; VPADDD y, t, t; \
	VCMPPS    $3, y, y, u; \
	VPOR      Y14, y, y; \
	VBLENDVPS u, y, t, y

// BFPACK8 packs 8 columns at byte offset off of the rows at SI+AX*4 (low
// halves) and SI+DX*4 (high halves) into off(DI); BFPACK8LAST packs the
// first row alone (high halves zero). Y15 = 0xFFFF0000 per dword.
#define BFPACK8(off) \
	VMOVDQU off(SI)(AX*4), Y0; VMOVDQU off(SI)(DX*4), Y1; \
	BFROUND(Y0, Y2, Y3); \
	BFROUND(Y1, Y4, Y5); \
	VPSRLD  $16, Y0, Y0; \
	VPAND   Y15, Y1, Y1; \
	VPOR    Y1, Y0, Y0; \
	VMOVDQU Y0, off(DI)

#define BFPACK8LAST(off) \
	VMOVDQU off(SI)(AX*4), Y0; \
	BFROUND(Y0, Y2, Y3); \
	VPSRLD  $16, Y0, Y0; \
	VMOVDQU Y0, off(DI)

// bfConst: the dword constants of packBF16AVX2 (1, 0x7FFF, the quiet-NaN
// bit 0x00400000, and the mask of a bfloat16 in a float32 0xFFFF0000).
DATA bfConst<>+0(SB)/4, $1
DATA bfConst<>+4(SB)/4, $0x7FFF
DATA bfConst<>+8(SB)/4, $0x00400000
DATA bfConst<>+12(SB)/4, $0xFFFF0000
GLOBL bfConst<>(SB), RODATA|NOPTR, $16

// func packBF16AVX2(dst *uint32, base *float32, offs *int, kp, odd int)
//
// packBF16's contract with AVX2, rounding as ToBF16 (denormals kept): for
// p < kp and 32 columns j, dst[32p+j] = bf16(r0[j]) | bf16(r1[j])<<16
// where r0 and r1 start at base + offs[2p] and base + offs[2p+1] (floats);
// when odd != 0 the last pair has no second row (its high half is zero).
TEXT ·packBF16AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI; MOVQ base+8(FP), SI; MOVQ offs+16(FP), BX; MOVQ kp+24(FP), CX
	MOVQ odd+32(FP), R9
	VPBROADCASTD bfConst<>+0(SB), Y12; VPBROADCASTD bfConst<>+4(SB), Y13; VPBROADCASTD bfConst<>+8(SB), Y14; VPBROADCASTD bfConst<>+12(SB), Y15
	TESTQ R9, R9; JZ pack2_loop
	DECQ CX; JZ pack2_last

pack2_loop:
	MOVQ (BX), AX; MOVQ 8(BX), DX
	BFPACK8(0)
	BFPACK8(32)
	BFPACK8(64)
	BFPACK8(96)
	ADDQ $16, BX; ADDQ $128, DI
	DECQ CX; JNZ pack2_loop
	TESTQ R9, R9; JZ pack2_done

pack2_last:
	MOVQ (BX), AX
	BFPACK8LAST(0)
	BFPACK8LAST(32)
	BFPACK8LAST(64)
	BFPACK8LAST(96)

pack2_done:
	VZEROUPPER
	RET
