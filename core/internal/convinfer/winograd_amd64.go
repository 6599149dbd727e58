//go:build amd64 && !purego

package convinfer

import "github.com/ravestation/rave/core/internal/isa"

// init sets the Winograd transforms of the isa path in use: AVX-512 or
// AVX2 assembly (the same instructions, so the same bits), Go elsewhere.
func init() {
	isa.Register(func(p isa.Path) {
		switch p {
		case isa.AVX512:
			asmIn, asmOut = winoIn16, winoOut16
		case isa.AVX2:
			asmIn, asmOut = winoIn16AVX2, winoOut16AVX2
		default:
			asmIn, asmOut = nil, nil
		}
	})
}

// winoIn16 computes the input transform of 16·chunks tiles of an
// undilated row with AVX-512 (winograd_amd64.s): v_k[q] for tile q's
// samples row[4q : 4q+6], reading row[0 : 64·chunks+17].
//
//go:noescape
func winoIn16(row, v0, v1, v2, v3, v4, v5 *float32, chunks int)

// winoOut16 computes the output transform of 16·chunks tiles with AVX-512
// (winograd_amd64.s): y[4q : 4q+4] (+= when acc != 0) from m_k[q], plus
// bias.
//
//go:noescape
func winoOut16(m0, m1, m2, m3, m4, m5, y *float32, bias float32, acc, chunks int)

// winoIn16AVX2 is winoIn16 with AVX2+FMA, 8 tiles per step, bit-identical
// (winograd_amd64.s); it reads row[0 : 64·chunks+4].
//
//go:noescape
func winoIn16AVX2(row, v0, v1, v2, v3, v4, v5 *float32, chunks int)

// winoOut16AVX2 is winoOut16 with AVX2+FMA, 8 tiles per step,
// bit-identical (winograd_amd64.s).
//
//go:noescape
func winoOut16AVX2(m0, m1, m2, m3, m4, m5, y *float32, bias float32, acc, chunks int)
