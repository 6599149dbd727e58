package convinfer

// Winograd F(4,3) transforms of whole undilated rows: the AVX-512 or AVX2
// assembly of the isa path in use (winograd_amd64.s), 16 tiles at a time,
// and WinoIn and WinoOut for the rest and on other paths.

// WinoSlack is the zeroed tail a phase row needs beyond its samples for
// winoIn16's full-width loads.
const WinoSlack = 16

// asmIn and asmOut are the assembly transforms of the isa path in use
// (winoIn16 and winoOut16's contracts: 16 tiles per chunk), nil where the
// Go loops run; see the isa hook in winograd_amd64.go.
var (
	asmIn  func(row, v0, v1, v2, v3, v4, v5 *float32, chunks int)
	asmOut func(m0, m1, m2, m3, m4, m5, y *float32, bias float32, acc, chunks int)
)

// WinoInRow computes the input transform of nb tiles of one undilated
// row (tile q reads pr[4q : 4q+6]; pr has WinoSlack more values) into
// v[k][q].
func WinoInRow(pr []float32, v *[6][]float32, nb int) {
	q0 := 0
	if in := asmIn; in != nil && nb >= 16 {
		chunks := nb / 16
		_ = pr[64*chunks+17-1]
		in(&pr[0], &v[0][0], &v[1][0], &v[2][0], &v[3][0], &v[4][0], &v[5][0], chunks)
		q0 = 16 * chunks
	}
	WinoIn(pr[4*q0:], v[0][q0:nb], v[1][q0:nb], v[2][q0:nb], v[3][q0:nb], v[4][q0:nb], v[5][q0:nb])
}

// WinoOutRow computes the output transform of nb tiles into y[4q+i] for
// 4q+i < limit (tile q's outputs are y[4q : 4q+4]), adding to y when
// accumulate is set; b is added to every output.
func WinoOutRow(mk *[6][]float32, nb int, y []float32, limit int, b float32, accumulate bool) {
	q0 := 0
	if out := asmOut; out != nil {
		if chunks := min(nb/16, limit/64); chunks > 0 {
			acc := 0
			if accumulate {
				acc = 1
			}
			_ = y[64*chunks-1]
			out(&mk[0][0], &mk[1][0], &mk[2][0], &mk[3][0], &mk[4][0], &mk[5][0], &y[0], b, acc, chunks)
			q0 = 16 * chunks
		}
	}
	m0, m1, m2, m3, m4, m5 := mk[0][:nb], mk[1][:nb], mk[2][:nb], mk[3][:nb], mk[4][:nb], mk[5][:nb]
	for q := q0; q < nb; q++ {
		res := WinoOut(m0[q], m1[q], m2[q], m3[q], m4[q], m5[q], b)
		for i, val := range res {
			t := 4*q + i
			if t >= limit {
				return
			}
			if accumulate {
				y[t] += val
			} else {
				y[t] = val
			}
		}
	}
}
