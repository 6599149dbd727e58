package model

// Winograd minimal filtering F(2, 2) for the inference path of the
// up-samplers (ConvTranspose1d with kernel 2·stride). With K = 2s, output
// u = t·s + p − pad (phase p = (u + pad) mod s) is fed by two input frames:
//
//	y[u] = A_p·x[t] + B_p·x[t−1],  A_p = W[:, :, p]ᵀ, B_p = W[:, :, p+s]ᵀ,
//
// so each phase is a two-tap correlation z_p[t] = B_p·d[t] + A_p·d[t+1] over
// d[i] = x[i−1]. Two of its outputs need three products instead of four
// (Lavin & Gray, CVPR 2016, with the points 0, 1, ∞):
//
//	m1 = B_p·(d0 − d1),  m2 = (A_p + B_p)·d1,  m3 = A_p·(d2 − d1),
//	z0 = m1 + m2,        z1 = m2 + m3.
//
// The input transform does not depend on the phase, so the s phases stack
// into three GEMMs M_k (s·Cout × tiles) = U_k (s·Cout × Cin)·V_k (Cin ×
// tiles): three quarters of the multiply-adds of the direct GEMM over Cout·K.

import (
	"github.com/ravestation/rave/core/internal/convinfer"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// upWinoUsable reports whether a ConvTranspose1d of kernel k and stride s
// runs through convTransposeWinograd.
func upWinoUsable(k, s int) bool { return useWinograd && s > 1 && k == 2*s }

// upWinoWeights returns U (3, s·Cout, Cin) for a (Cin, Cout, 2s) weight:
// row p·Cout + o of U_0 is B_p, of U_1 A_p + B_p, of U_2 A_p.
func upWinoWeights(w []float32, cin, cout, s int) []float32 {
	k := 2 * s
	rows := s * cout
	u := make([]float32, 3*rows*cin)
	for c := range cin {
		for o := range cout {
			g := w[(c*cout+o)*k:]
			for p := range s {
				a, b := g[p], g[p+s]
				r := p*cout + o
				u[(0*rows+r)*cin+c] = b
				u[(1*rows+r)*cin+c] = a + b
				u[(2*rows+r)*cin+c] = a
			}
		}
	}
	return u
}

// convTransposeWinograd computes out (Cout, Tout) = conv_transpose(a(x)) +
// bias for one batch element x (Cin, T), kernel 2s, stride s, padding pad,
// from U = upWinoWeights(w). bias may be nil.
func convTransposeWinograd(out, x, u, bias []float32, cin, cout, T, s, pad int, a act) {
	Tout := (T+1)*s - 2*pad
	nq := (T + 2) / 2 // tiles of two phase outputs: t = 0 … T
	rows := s * cout
	v := bufs.Get(3 * cin * nq)
	m := bufs.Get(3 * rows * nq)
	defer bufs.Put(v)
	defer bufs.Put(m)
	split.For(cin, cin*T*4, func(lo, hi int) {
		d := bufs.Get(2*nq + 1) // d[i] = a(x)[i−1], zero outside
		defer bufs.Put(d)
		for c := lo; c < hi; c++ {
			d[0] = 0
			a.apply(d[1:T+1], x[c*T:(c+1)*T], c)
			clear(d[T+1:])
			v0 := v[(0*cin+c)*nq : (0*cin+c+1)*nq]
			v1 := v[(1*cin+c)*nq : (1*cin+c+1)*nq]
			v2 := v[(2*cin+c)*nq : (2*cin+c+1)*nq]
			for q := range v0 {
				d0, d1, d2 := d[2*q], d[2*q+1], d[2*q+2]
				v0[q] = d0 - d1
				v1[q] = d1
				v2[q] = d2 - d1
			}
		}
	})
	for k := range 3 {
		sgemm.Sgemm(false, false, rows, nq, cin, 1, u[k*rows*cin:], cin, v[k*cin*nq:], nq, 0, m[k*rows*nq:], nq)
	}
	split.For(cout, cout*Tout*2, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			y := out[o*Tout : (o+1)*Tout]
			b := convinfer.BiasAt(bias, o)
			for p := range s {
				r := p*cout + o
				m0 := m[(0*rows+r)*nq : (0*rows+r+1)*nq]
				m1 := m[(1*rows+r)*nq : (1*rows+r+1)*nq]
				m2 := m[(2*rows+r)*nq : (2*rows+r+1)*nq]
				// z_p[t] lands on y[t·s + p − pad].
				for q := range m0 {
					z0 := m0[q] + m1[q]
					z1 := m1[q] + m2[q]
					if u := 2*q*s + p - pad; u >= 0 && u < Tout {
						y[u] = z0 + b
					}
					if u := (2*q+1)*s + p - pad; u >= 0 && u < Tout {
						y[u] = z1 + b
					}
				}
			}
		}
	})
}
