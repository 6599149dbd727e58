package model

// Winograd minimal filtering F(4, 3) (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", CVPR 2016, §4) for the inference path of
// the kernel-3, stride-1 convolutions of the decoder's residual stacks,
// which hold two thirds of the model's arithmetic. Four outputs of a
// kernel-3 correlation y_i = Σ_j g_j·d_{i+j} need 6 products instead of 12:
//
//	y = Aᵀ[(G·g) ⊙ (Bᵀ·d)]
//
// With channels, the elementwise products become 6 GEMMs
// M_k (Cout × tiles) = U_k (Cout × Cin) · V_k (Cin × tiles), U_k = (G·w)_k
// and V_k = (Bᵀ·d)_k, i.e. half the multiply-adds of the direct GEMM over
// Cin·3. A dilated kernel (dilation δ) is the same correlation on each of
// the δ interleaved sub-sequences, so a tile is 4 outputs δ apart.

import (
	"github.com/ravestation/rave/core/internal/sgemm"
)

// winoBT is Bᵀ (6×6), winoG is G (6×3), winoAT is Aᵀ (4×6) for the
// interpolation points 0, ±1, ±2, ∞.
var (
	winoBT = [6][6]float32{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoG = [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	winoAT = [4][6]float32{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// winoWeights returns U (6, Cout, Cin) = G·w for a (Cout, Cin, 3) weight.
func winoWeights(w []float32, cout, cin int) []float32 {
	u := make([]float32, 6*cout*cin)
	for o := range cout {
		for c := range cin {
			g := w[(o*cin+c)*3:]
			for k := range 6 {
				v := winoG[k][0]*float64(g[0]) + winoG[k][1]*float64(g[1]) + winoG[k][2]*float64(g[2])
				u[(k*cout+o)*cin+c] = float32(v)
			}
		}
	}
	return u
}

// winoUsable reports whether the layer can run through conv3Winograd:
// kernel 3, stride 1, one group, output length equal to the input's.
func winoUsable(g convGeom) bool {
	return g.k == 3 && g.stride == 1 && g.groups == 1 && g.padL+g.padR == 2*g.dil && g.cin >= winoMinChannels
}

// winoMinChannels is the narrowest layer worth the transforms: below it the
// GEMMs over Cin are too thin to gain on the direct im2col GEMM over 3·Cin
// (measured on the v1 residual stacks: a tie at 64 channels, 25–45 %
// faster from 128 up).
const winoMinChannels = 128

// conv3Winograd computes out (Cout, T) (+)= conv(a(x)) for one batch element
// x (Cin, T), kernel 3, dilation dil, left padding padL (total padding
// 2·dil), from U = winoWeights(w). bias may be nil.
func conv3Winograd(out, x, u, bias []float32, cin, cout, T, dil, padL int, a act, accumulate bool) {
	blk := 4 * dil // outputs per block: δ tiles of 4
	nb := (T + blk - 1) / blk
	tiles := nb * dil
	span := nb*blk + 2*dil // padded input length covering every tile
	v := getBuf(6 * cin * tiles)
	m := getBuf(6 * cout * tiles)
	defer putBuf(v)
	defer putBuf(m)

	// Input transform V_k[c][q·δ + ρ] = Σ_l Bᵀ[k][l]·x̃[4δq + ρ + lδ].
	parallel(cin, cin*T*8, func(lo, hi int) {
		row := getBuf(span)
		defer putBuf(row)
		for c := lo; c < hi; c++ {
			clear(row[:padL])
			a.apply(row[padL:padL+T], x[c*T:(c+1)*T], c)
			clear(row[padL+T:])
			v0 := v[(0*cin+c)*tiles : (0*cin+c+1)*tiles]
			v1 := v[(1*cin+c)*tiles : (1*cin+c+1)*tiles]
			v2 := v[(2*cin+c)*tiles : (2*cin+c+1)*tiles]
			v3 := v[(3*cin+c)*tiles : (3*cin+c+1)*tiles]
			v4 := v[(4*cin+c)*tiles : (4*cin+c+1)*tiles]
			v5 := v[(5*cin+c)*tiles : (5*cin+c+1)*tiles]
			if dil == 1 {
				for q := range nb {
					src := row[4*q : 4*q+6]
					d0, d1, d2, d3, d4, d5 := src[0], src[1], src[2], src[3], src[4], src[5]
					d24 := d4 - 4*d2
					d13 := d3 - 4*d1
					v0[q] = 4*d0 - 5*d2 + d4
					v1[q] = d24 + d13
					v2[q] = d24 - d13
					e := 2 * (d3 - d1)
					f := d4 - d2
					v3[q] = f + e
					v4[q] = f - e
					v5[q] = 4*d1 - 5*d3 + d5
				}
				continue
			}
			for q := range nb {
				src := row[q*blk : q*blk+6*dil]
				i0 := q * dil
				w0, w1, w2 := v0[i0:i0+dil], v1[i0:i0+dil], v2[i0:i0+dil]
				w3, w4, w5 := v3[i0:i0+dil], v4[i0:i0+dil], v5[i0:i0+dil]
				s0, s1, s2 := src[0:dil], src[dil:2*dil], src[2*dil:3*dil]
				s3, s4, s5 := src[3*dil:4*dil], src[4*dil:5*dil], src[5*dil:6*dil]
				for r := range w0 {
					d0, d1, d2, d3, d4, d5 := s0[r], s1[r], s2[r], s3[r], s4[r], s5[r]
					d24 := d4 - 4*d2
					d13 := d3 - 4*d1
					w0[r] = 4*d0 - 5*d2 + d4
					w1[r] = d24 + d13
					w2[r] = d24 - d13
					e := 2 * (d3 - d1)
					f := d4 - d2
					w3[r] = f + e
					w4[r] = f - e
					w5[r] = 4*d1 - 5*d3 + d5
				}
			}
		}
	})
	for k := range 6 {
		sgemm.Sgemm(false, false, cout, tiles, cin, 1, u[k*cout*cin:], cin, v[k*cin*tiles:], tiles, 0, m[k*cout*tiles:], tiles)
	}
	// Output transform y[4δq + ρ + iδ] = Σ_k Aᵀ[i][k]·M_k[q·δ + ρ].
	parallel(cout, cout*T*8, func(lo, hi int) {
		tmp := getBuf(blk)
		defer putBuf(tmp)
		for o := lo; o < hi; o++ {
			y := out[o*T : (o+1)*T]
			var b float32
			if bias != nil {
				b = bias[o]
			}
			m0 := m[(0*cout+o)*tiles : (0*cout+o+1)*tiles]
			m1 := m[(1*cout+o)*tiles : (1*cout+o+1)*tiles]
			m2 := m[(2*cout+o)*tiles : (2*cout+o+1)*tiles]
			m3 := m[(3*cout+o)*tiles : (3*cout+o+1)*tiles]
			m4 := m[(4*cout+o)*tiles : (4*cout+o+1)*tiles]
			m5 := m[(5*cout+o)*tiles : (5*cout+o+1)*tiles]
			if dil == 1 {
				nf := nb
				if nb*4 > T {
					nf = nb - 1 // the last block is partial
				}
				for q := range nf {
					s12, d12 := m1[q]+m2[q], m1[q]-m2[q]
					s34, d34 := m3[q]+m4[q], m3[q]-m4[q]
					r0 := m0[q] + s12 + s34 + b
					r1 := d12 + 2*d34 + b
					r2 := s12 + 4*s34 + b
					r3 := d12 + 8*d34 + m5[q] + b
					dst := y[4*q : 4*q+4]
					if accumulate {
						dst[0] += r0
						dst[1] += r1
						dst[2] += r2
						dst[3] += r3
					} else {
						dst[0], dst[1], dst[2], dst[3] = r0, r1, r2, r3
					}
				}
				for q := nf; q < nb; q++ {
					s12, d12 := m1[q]+m2[q], m1[q]-m2[q]
					s34, d34 := m3[q]+m4[q], m3[q]-m4[q]
					res := [4]float32{m0[q] + s12 + s34 + b, d12 + 2*d34 + b, s12 + 4*s34 + b, d12 + 8*d34 + m5[q] + b}
					for j, val := range res {
						if t := 4*q + j; t < T {
							if accumulate {
								y[t] += val
							} else {
								y[t] = val
							}
						}
					}
				}
				continue
			}
			for q := range nb {
				i0 := q * dil
				a0, a1, a2 := m0[i0:i0+dil], m1[i0:i0+dil], m2[i0:i0+dil]
				a3, a4, a5 := m3[i0:i0+dil], m4[i0:i0+dil], m5[i0:i0+dil]
				dst := tmp[:blk]
				full := q*blk+blk <= T
				if full {
					dst = y[q*blk : q*blk+blk]
				}
				y0, y1, y2, y3 := dst[0:dil], dst[dil:2*dil], dst[2*dil:3*dil], dst[3*dil:4*dil]
				if accumulate && full {
					for r := range a0 {
						s12, d12 := a1[r]+a2[r], a1[r]-a2[r]
						s34, d34 := a3[r]+a4[r], a3[r]-a4[r]
						y0[r] += a0[r] + s12 + s34 + b
						y1[r] += d12 + 2*d34 + b
						y2[r] += s12 + 4*s34 + b
						y3[r] += d12 + 8*d34 + a5[r] + b
					}
					continue
				}
				for r := range a0 {
					s12, d12 := a1[r]+a2[r], a1[r]-a2[r]
					s34, d34 := a3[r]+a4[r], a3[r]-a4[r]
					y0[r] = a0[r] + s12 + s34 + b
					y1[r] = d12 + 2*d34 + b
					y2[r] = s12 + 4*s34 + b
					y3[r] = d12 + 8*d34 + a5[r] + b
				}
				if !full {
					rest := y[q*blk:]
					for t := range rest {
						if accumulate {
							rest[t] += tmp[t]
						} else {
							rest[t] = tmp[t]
						}
					}
				}
			}
		}
	})
}
