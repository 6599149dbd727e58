package core

import "github.com/ravestation/rave/core/internal/sgemm"

// Winograd minimal filtering F(4, 3) for the kernel-3, stride-1, "same"
// length convolutions that make up RAVE's residual stacks (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016). Four outputs
// of a 3-tap correlation y_i = Σ_j g_j·d_{i+j} (i < 4) are
//
//	y = Aᵀ·[(G·g) ⊙ (Bᵀ·d)]
//
// from a tile d of 6 inputs: 6 products instead of 12. Over channels the
// products become 6 GEMMs M_k (Cout × tiles) = U_k (Cout × Cin) · V_k
// (Cin × tiles), with U_k = (G·w)_k and V_k = (Bᵀ·d)_k: half the
// multiply-adds of the im2col GEMM over 3·Cin. With dilation δ the kernel
// is the same correlation on each of the δ interleaved sub-sequences, so a
// tile is 4 outputs δ apart.
//
// The backward pass is the adjoint of the same factorisation: with
// dM = A·dy per tile (6 values from 4 output gradients), the input
// gradient is dd = B·(Uᵀ dM) (6 GEMMs U_kᵀ·dM_k, then B per tile, tiles
// overlapping by two samples added in a fixed order) and the weight
// gradient is dw = Gᵀ·Σ_tiles dM ⊙ V (6 GEMMs dM_k·V_kᵀ). All three passes
// do half the multiply-adds of the im2col GEMMs. Interpolation points are
// 0, ±1, ±2 and ∞, the usual choice for F(4, 3) in float32.

// winoMinChannels is the least number of input and output channels for
// which the transforms pay off: below it the GEMMs over Cin are too thin to
// gain on the direct GEMM over 3·Cin.
var winoMinChannels = 128

// winoUsable reports whether Conv1d with these parameters runs through
// Winograd: kernel 3, stride 1, one group, zero padding keeping the length.
func winoUsable(p ConvParams, cin, cout, k, T int) bool {
	return k == 3 && p.Stride == 1 && p.Groups == 1 && p.PadMode == PadZero &&
		p.PadLeft+p.PadRight == 2*p.Dilation && T >= 4 &&
		cin >= winoMinChannels && cout >= winoMinChannels
}

// winoFilter sets u0…u5 = G·(g0, g1, g2) with G (6×3) for the points 0,
// ±1, ±2, ∞:
//
//	G = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
func winoFilter(g0, g1, g2 float32) (u0, u1, u2, u3, u4, u5 float32) {
	const sixth, twelfth, quarter = 1.0 / 6, 1.0 / 12, 1.0 / 4
	s := g0 + g2
	t := g0*(quarter*sixth) + g2*sixth
	return g0 * quarter, -(s + g1) * sixth, (g1 - s) * sixth, t + g1*twelfth, t - g1*twelfth, g2
}

// winoWeights fills u (6, Cout, Cin) with G·w[o][c] for a weight w
// (Cout, Cin, 3): the forward transform.
func winoWeights(u, w []float32, cout, cin int) {
	split.For(cout, 6*cout*cin, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			wr := w[o*cin*3:][:cin*3]
			u0, u1, u2 := u[(0*cout+o)*cin:][:cin], u[(1*cout+o)*cin:][:cin], u[(2*cout+o)*cin:][:cin]
			u3, u4, u5 := u[(3*cout+o)*cin:][:cin], u[(4*cout+o)*cin:][:cin], u[(5*cout+o)*cin:][:cin]
			for c := range u0 {
				g := wr[3*c:][:3]
				u0[c], u1[c], u2[c], u3[c], u4[c], u5[c] = winoFilter(g[0], g[1], g[2])
			}
		}
	})
}

// winoChunkBudget bounds the transformed input and output blocks (values)
// of one chunk of batch elements.
var winoChunkBudget = 1 << 20

// winoPlan is the tiling of one convolution: per batch element, nblk blocks
// of 4·dil outputs, each holding dil tiles; batch elements are processed in
// groups (chunks) of about winoChunkBudget transformed values.
type winoPlan struct {
	B, T, dil, padL int
	nblk, per, span int
	groups, maxNB   int
}

func newWinoPlan(B, cin, cout, T, dil, padL int) winoPlan {
	blk := 4 * dil
	nblk := (T + blk - 1) / blk
	per := nblk * dil
	chunkB := max(1, min(B, winoChunkBudget/(6*max(cin, cout)*per)))
	groups := (B + chunkB - 1) / chunkB
	return winoPlan{B: B, T: T, dil: dil, padL: padL, nblk: nblk, per: per, span: nblk*blk + 2*dil,
		groups: groups, maxNB: (B + groups - 1) / groups}
}

// chunk returns the batch elements [b0, b0+nb) of group gi.
func (p winoPlan) chunk(gi int) (b0, nb int) {
	b0 = p.B * gi / p.groups
	return b0, p.B*(gi+1)/p.groups - b0
}

// winoConv computes out (B, Cout, T) = (or += if accumulate) the kernel-3
// correlation, dilation dil, of in (B, Cin, T) zero-padded by padL on the
// left and 2·dil − padL on the right, with u = G·w as made by winoWeights
// (6, Cout, Cin), the input read through act. bias (Cout) may be nil.
// Every output goes through the same arithmetic whatever the number of
// threads.
func winoConv(out, in, u, bias []float32, B, cin, cout, T, dil, padL int, accumulate bool, act inputAct) {
	pl := newWinoPlan(B, cin, cout, T, dil, padL)
	v := scratch.Get(6 * cin * pl.maxNB * pl.per)
	m := scratch.Get(6 * cout * pl.maxNB * pl.per)
	for gi := range pl.groups {
		b0, nb := pl.chunk(gi)
		nt := nb * pl.per
		V, M := (*v)[:6*cin*nt], (*m)[:6*cout*nt]
		winoInput(V, in, b0, nb, cin, T, dil, padL, pl.nblk, pl.span, act)
		for k := range 6 {
			sgemm.Sgemm(false, false, cout, nt, cin, 1, u[k*cout*cin:], cin, V[k*cin*nt:], nt, 0, M[k*cout*nt:], nt)
		}
		winoOutput(out, M, bias, b0, nb, cout, T, dil, pl.nblk, accumulate)
	}
	scratch.Put(v)
	scratch.Put(m)
}

// winoBackward adds the gradients of the convolution out = winoConv(x, u)
// (u = G·w) for the output gradient gy (B, Cout, T) into gx (B, Cin, T) and
// gw (Cout, Cin, 3); either may be nil. With an input activation act the
// convolution's input is act(x): the tiles for gw are made from act(x), and
// the gradient with respect to act(x) goes through act's derivative into gx
// as each row of it is complete.
//
// When freshX is set, gx holds garbage and is overwritten instead.
func winoBackward(gx, gw, x, u, gy []float32, B, cin, cout, T, dil, padL int, freshX bool, act inputAct) {
	pl := newWinoPlan(B, cin, cout, T, dil, padL)
	v := scratch.Get(6 * cin * pl.maxNB * pl.per)
	m := scratch.Get(6 * cout * pl.maxNB * pl.per)
	var pk *[]float32
	if gw != nil {
		pk = scratch.Get(6 * cout * cin)
	}
	for gi := range pl.groups {
		b0, nb := pl.chunk(gi)
		nt := nb * pl.per
		V, dM := (*v)[:6*cin*nt], (*m)[:6*cout*nt]
		winoGradTiles(dM, gy, b0, nb, cout, T, dil, pl.nblk)
		if gx != nil {
			for k := range 6 {
				sgemm.Sgemm(true, false, cin, nt, cout, 1, u[k*cout*cin:], cin, dM[k*cout*nt:], nt, 0, V[k*cin*nt:], nt)
			}
			winoInputAdjoint(gx, V, x, b0, nb, cin, T, dil, padL, pl.nblk, pl.span, freshX, act)
		}
		if gw != nil {
			winoInput(V, x, b0, nb, cin, T, dil, padL, pl.nblk, pl.span, act)
			beta := float32(1)
			if gi == 0 {
				beta = 0
			}
			for k := range 6 {
				sgemm.Sgemm(false, true, cout, cin, nt, 1, dM[k*cout*nt:], nt, V[k*cin*nt:], nt, beta, (*pk)[k*cout*cin:], cin)
			}
		}
	}
	if gw != nil {
		winoFilterAdjoint(gw, *pk, cout, cin)
		scratch.Put(pk)
	}
	scratch.Put(v)
	scratch.Put(m)
}

// winoFilterAdjoint adds Gᵀ·P[:, o, c] into gw[o][c][:] for P (6, Cout, Cin).
func winoFilterAdjoint(gw, P []float32, cout, cin int) {
	const sixth, twelfth, quarter = 1.0 / 6, 1.0 / 12, 1.0 / 4
	n := cout * cin
	split.For(cout, 6*n, func(lo, hi int) {
		for i := lo * cin; i < hi*cin; i++ {
			p0, p1, p2, p3, p4, p5 := P[i], P[n+i], P[2*n+i], P[3*n+i], P[4*n+i], P[5*n+i]
			s12, d12 := p1+p2, p1-p2
			s34, d34 := p3+p4, p3-p4
			g := gw[3*i:][:3]
			g[0] += p0*quarter - s12*sixth + s34*(quarter*sixth)
			g[1] += d12*(-sixth) + d34*twelfth
			g[2] += -s12*sixth + s34*sixth + p5
		}
	})
}

// winoGradTiles fills dM (6, Cout, nb·per) with A·dy for every tile of
// batch elements [b0, b0+nb) of gy (B, Cout, T), outputs past T counting as
// zero: the adjoint of winoOutput.
func winoGradTiles(dM, gy []float32, b0, nb, cout, T, dil, nblk int) {
	per := nblk * dil
	nt := nb * per
	blk := 4 * dil
	full := T / blk
	split.For(nb*cout, nb*cout*T*4, func(lo, hi int) {
		tmpp := scratch.Get(blk)
		tmp := *tmpp
		for r := lo; r < hi; r++ {
			bi, o := r/cout, r%cout
			y := gy[((b0+bi)*cout+o)*T:][:T]
			off := o*nt + bi*per
			m0 := dM[0*cout*nt+off:][:per]
			m1 := dM[1*cout*nt+off:][:per]
			m2 := dM[2*cout*nt+off:][:per]
			m3 := dM[3*cout*nt+off:][:per]
			m4 := dM[4*cout*nt+off:][:per]
			m5 := dM[5*cout*nt+off:][:per]
			q0 := 0
			if dil == 1 {
				for q := 0; q < full; q++ {
					src := y[4*q:][:4]
					d0, d1, d2, d3 := src[0], src[1], src[2], src[3]
					s02, s13 := d0+d2, d1+d3
					t02, t13 := d0+4*d2, 2*d1+8*d3
					m0[q] = d0
					m1[q] = s02 + s13
					m2[q] = s02 - s13
					m3[q] = t02 + t13
					m4[q] = t02 - t13
					m5[q] = d3
				}
				q0 = full
			}
			for q := q0; q < nblk; q++ {
				src := tmp
				if q < full {
					src = y[q*blk : q*blk+blk]
				} else {
					clear(tmp)
					copy(tmp, y[q*blk:])
				}
				i := q * dil
				a0, a1, a2 := m0[i:i+dil], m1[i:i+dil], m2[i:i+dil]
				a3, a4, a5 := m3[i:i+dil], m4[i:i+dil], m5[i:i+dil]
				y0, y1, y2, y3 := src[0:dil], src[dil:2*dil], src[2*dil:3*dil], src[3*dil:4*dil]
				for rho := range a0 {
					d0, d1, d2, d3 := y0[rho], y1[rho], y2[rho], y3[rho]
					s02, s13 := d0+d2, d1+d3
					t02, t13 := d0+4*d2, 2*d1+8*d3
					a0[rho] = d0
					a1[rho] = s02 + s13
					a2[rho] = s02 - s13
					a3[rho] = t02 + t13
					a4[rho] = t02 - t13
					a5[rho] = d3
				}
			}
		}
		scratch.Put(tmpp)
	})
}

// winoInputAdjoint applies B to dV (6, Cin, nb·per) tile by tile and adds
// the results into the input positions the tiles were read from: the
// adjoint of winoInput. Each row is assembled in a padded buffer (tiles in
// order, overlaps included) and then added (or assigned) into gx
// (B, Cin, T), through the derivative of the input activation act at x
// when act is on.
func winoInputAdjoint(gx, dV, x []float32, b0, nb, cin, T, dil, padL, nblk, span int, assign bool, act inputAct) {
	per := nblk * dil
	nt := nb * per
	split.For(nb*cin, nb*cin*T*6, func(lo, hi int) {
		rowp := scratch.Get(span)
		row := *rowp
		for r := lo; r < hi; r++ {
			bi, c := r/cin, r%cin
			clear(row)
			off := c*nt + bi*per
			v0 := dV[0*cin*nt+off:][:per]
			v1 := dV[1*cin*nt+off:][:per]
			v2 := dV[2*cin*nt+off:][:per]
			v3 := dV[3*cin*nt+off:][:per]
			v4 := dV[4*cin*nt+off:][:per]
			v5 := dV[5*cin*nt+off:][:per]
			if dil == 1 {
				for q := range v0 {
					s := row[4*q:][:6]
					e0, e1, e2, e3, e4, e5 := v0[q], v1[q], v2[q], v3[q], v4[q], v5[q]
					s[0] += 4 * e0
					s[1] += 4*(e2-e1) + 2*(e4-e3) + 4*e5
					s[2] += -5*e0 - 4*(e1+e2) - (e3 + e4)
					s[3] += (e1 - e2) + 2*(e3-e4) - 5*e5
					s[4] += e0 + e1 + e2 + e3 + e4
					s[5] += e5
				}
			}
			for q := range nblk {
				if dil == 1 {
					break
				}
				s := row[q*4*dil:][:6*dil]
				s0, s1, s2 := s[0:dil], s[dil:2*dil], s[2*dil:3*dil]
				s3, s4, s5 := s[3*dil:4*dil], s[4*dil:5*dil], s[5*dil:6*dil]
				i := q * dil
				w0, w1, w2 := v0[i:i+dil], v1[i:i+dil], v2[i:i+dil]
				w3, w4, w5 := v3[i:i+dil], v4[i:i+dil], v5[i:i+dil]
				for rho := range w0 {
					e0, e1, e2, e3, e4, e5 := w0[rho], w1[rho], w2[rho], w3[rho], w4[rho], w5[rho]
					s0[rho] += 4 * e0
					s1[rho] += 4*(e2-e1) + 2*(e4-e3) + 4*e5
					s2[rho] += -5*e0 - 4*(e1+e2) - (e3 + e4)
					s3[rho] += (e1 - e2) + 2*(e3-e4) - 5*e5
					s4[rho] += e0 + e1 + e2 + e3 + e4
					s5[rho] += e5
				}
			}
			dst, src := gx[((b0+bi)*cin+c)*T:][:T], row[padL:padL+T]
			switch {
			case act.on:
				sgemm.LeakyReLUGrad(dst, src, x[((b0+bi)*cin+c)*T:][:T], act.slope, !assign)
			case assign:
				copy(dst, src)
			default:
				addTo(dst, src)
			}
		}
		scratch.Put(rowp)
	})
}

// winoInput fills V (6, Cin, nb·per) with Bᵀ·d for every tile of batch
// elements [b0, b0+nb): V_k[c][bi·per + q·δ + ρ] = Σ_l Bᵀ[k][l]·x̃[4δq + ρ + lδ]
// with x̃ the zero-padded row of act(x).
func winoInput(V, in []float32, b0, nb, cin, T, dil, padL, nblk, span int, act inputAct) {
	per := nblk * dil
	nt := nb * per
	split.For(nb*cin, nb*cin*T*6, func(lo, hi int) {
		rowp := scratch.Get(span)
		row := *rowp
		for r := lo; r < hi; r++ {
			bi, c := r/cin, r%cin
			clear(row[:padL])
			act.load(row[padL:padL+T], in[((b0+bi)*cin+c)*T:][:T])
			clear(row[padL+T:])
			off := c*nt + bi*per
			v0 := V[0*cin*nt+off:][:per]
			v1 := V[1*cin*nt+off:][:per]
			v2 := V[2*cin*nt+off:][:per]
			v3 := V[3*cin*nt+off:][:per]
			v4 := V[4*cin*nt+off:][:per]
			v5 := V[5*cin*nt+off:][:per]
			if dil == 1 {
				for q := range v0 {
					s := row[4*q:][:6]
					d0, d1, d2, d3, d4, d5 := s[0], s[1], s[2], s[3], s[4], s[5]
					a, b := d4-4*d2, d3-4*d1
					e, f := 2*(d3-d1), d4-d2
					v0[q] = 4*d0 - 5*d2 + d4
					v1[q] = a + b
					v2[q] = a - b
					v3[q] = f + e
					v4[q] = f - e
					v5[q] = 4*d1 - 5*d3 + d5
				}
				continue
			}
			for q := range nblk {
				s := row[q*4*dil:][:6*dil]
				s0, s1, s2 := s[0:dil], s[dil:2*dil], s[2*dil:3*dil]
				s3, s4, s5 := s[3*dil:4*dil], s[4*dil:5*dil], s[5*dil:6*dil]
				i := q * dil
				w0, w1, w2 := v0[i:i+dil], v1[i:i+dil], v2[i:i+dil]
				w3, w4, w5 := v3[i:i+dil], v4[i:i+dil], v5[i:i+dil]
				for rho := range w0 {
					d0, d1, d2, d3, d4, d5 := s0[rho], s1[rho], s2[rho], s3[rho], s4[rho], s5[rho]
					a, b := d4-4*d2, d3-4*d1
					e, f := 2*(d3-d1), d4-d2
					w0[rho] = 4*d0 - 5*d2 + d4
					w1[rho] = a + b
					w2[rho] = a - b
					w3[rho] = f + e
					w4[rho] = f - e
					w5[rho] = 4*d1 - 5*d3 + d5
				}
			}
		}
		scratch.Put(rowp)
	})
}

// winoOutput applies Aᵀ to M (6, Cout, nb·per) and writes (or adds) the
// outputs of batch elements [b0, b0+nb) into out (B, Cout, T), adding bias.
// A block of 4δ outputs past the end of a row goes through a small buffer.
func winoOutput(out, M, bias []float32, b0, nb, cout, T, dil, nblk int, accumulate bool) {
	per := nblk * dil
	nt := nb * per
	blk := 4 * dil
	full := T / blk // blocks entirely inside a row
	split.For(nb*cout, nb*cout*T*4, func(lo, hi int) {
		tmpp := scratch.Get(blk)
		tmp := *tmpp
		for r := lo; r < hi; r++ {
			bi, o := r/cout, r%cout
			y := out[((b0+bi)*cout+o)*T:][:T]
			var bv float32
			if bias != nil {
				bv = bias[o]
			}
			off := o*nt + bi*per
			m0 := M[0*cout*nt+off:][:per]
			m1 := M[1*cout*nt+off:][:per]
			m2 := M[2*cout*nt+off:][:per]
			m3 := M[3*cout*nt+off:][:per]
			m4 := M[4*cout*nt+off:][:per]
			m5 := M[5*cout*nt+off:][:per]
			q0 := 0
			if dil == 1 {
				// One tile per block: no inner loop.
				for q := 0; q < full; q++ {
					s12, d12 := m1[q]+m2[q], m1[q]-m2[q]
					s34, d34 := m3[q]+m4[q], m3[q]-m4[q]
					dst := y[4*q:][:4]
					if accumulate {
						dst[0] += m0[q] + s12 + s34 + bv
						dst[1] += d12 + 2*d34 + bv
						dst[2] += s12 + 4*s34 + bv
						dst[3] += d12 + 8*d34 + m5[q] + bv
					} else {
						dst[0] = m0[q] + s12 + s34 + bv
						dst[1] = d12 + 2*d34 + bv
						dst[2] = s12 + 4*s34 + bv
						dst[3] = d12 + 8*d34 + m5[q] + bv
					}
				}
				q0 = full
			}
			for q := q0; q < nblk; q++ {
				i := q * dil
				a0, a1, a2 := m0[i:i+dil], m1[i:i+dil], m2[i:i+dil]
				a3, a4, a5 := m3[i:i+dil], m4[i:i+dil], m5[i:i+dil]
				dst := tmp
				if q < full {
					dst = y[q*blk : q*blk+blk]
				}
				y0, y1, y2, y3 := dst[0:dil], dst[dil:2*dil], dst[2*dil:3*dil], dst[3*dil:4*dil]
				if accumulate && q < full {
					for rho := range a0 {
						s12, d12 := a1[rho]+a2[rho], a1[rho]-a2[rho]
						s34, d34 := a3[rho]+a4[rho], a3[rho]-a4[rho]
						y0[rho] += a0[rho] + s12 + s34 + bv
						y1[rho] += d12 + 2*d34 + bv
						y2[rho] += s12 + 4*s34 + bv
						y3[rho] += d12 + 8*d34 + a5[rho] + bv
					}
					continue
				}
				for rho := range a0 {
					s12, d12 := a1[rho]+a2[rho], a1[rho]-a2[rho]
					s34, d34 := a3[rho]+a4[rho], a3[rho]-a4[rho]
					y0[rho] = a0[rho] + s12 + s34 + bv
					y1[rho] = d12 + 2*d34 + bv
					y2[rho] = s12 + 4*s34 + bv
					y3[rho] = d12 + 8*d34 + a5[rho] + bv
				}
				if q >= full {
					rest := y[q*blk:]
					if accumulate {
						addTo(rest, tmp[:len(rest)])
					} else {
						copy(rest, tmp)
					}
				}
			}
		}
		scratch.Put(tmpp)
	})
}
