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
	"github.com/ravestation/rave/core/internal/convinfer"
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
// GEMMs over Cin are too thin to gain on the direct GEMM over 3·Cin. With
// the direct path's im2col (measured on v1's last residual stack, 64
// channels, AVX2 path, one thread) the transforms win there too: 5.4 ms
// against 9.1 ms per undilated layer, 7.7 against 9.0 dilated.
const winoMinChannels = 64

// conv3Winograd computes out (Cout, T) (+)= conv(a(x)) for one batch element
// x (Cin, T), kernel 3, dilation dil, left padding padL (total padding
// 2·dil), from U = winoWeights(w). bias may be nil. bu, when not nil,
// holds the six U_k in bfloat16 and is used instead of u.
//
// A dilated convolution is dil undilated ones on the phases x̃[n·dil + ρ]
// of the padded input, so the transforms run on one phase at a time
// (convinfer.WinoInRow, WinoOutRow: AVX-512 or AVX2 assembly, 16 tiles at a time,
// on those paths)
// and the tiles of V and M are ordered by phase, then by block.
func conv3Winograd(out, x, u, bias []float32, cin, cout, T, dil, padL int, a act, accumulate bool, bu *[6]*sgemm.BF16Matrix) {
	nb := (T + 4*dil - 1) / (4 * dil) // tiles per phase
	tiles := nb * dil
	n := 4*nb + 2            // samples of a phase the tiles read
	span := nb*4*dil + 2*dil // padded input length covering every tile
	v := bufs.Get(6 * cin * tiles)
	m := bufs.Get(6 * cout * tiles)
	defer bufs.Put(v)
	defer bufs.Put(m)

	split.For(cin, cin*T*8, func(lo, hi int) {
		row := bufs.Get(span + convinfer.WinoSlack)
		defer bufs.Put(row)
		pr := row
		if dil > 1 {
			pr = bufs.Get(n + convinfer.WinoSlack)
			defer bufs.Put(pr)
		}
		clear(pr[n:])
		for c := lo; c < hi; c++ {
			clear(row[:padL])
			a.apply(row[padL:padL+T], x[c*T:(c+1)*T], c)
			clear(row[padL+T:])
			for rho := range dil {
				if dil > 1 {
					for i := range n {
						pr[i] = row[i*dil+rho]
					}
				}
				var vk [6][]float32
				for k := range vk {
					o := (k*cin+c)*tiles + rho*nb
					vk[k] = v[o : o+nb]
				}
				convinfer.WinoInRow(pr, &vk, nb)
			}
		}
	})
	for k := range 6 {
		if bu != nil {
			bu[k].Mul(tiles, v[k*cin*tiles:], tiles, false, m[k*cout*tiles:], tiles)
			continue
		}
		sgemm.Sgemm(false, false, cout, tiles, cin, 1, u[k*cout*cin:], cin, v[k*cin*tiles:], tiles, 0, m[k*cout*tiles:], tiles)
	}
	split.For(cout, cout*T*8, func(lo, hi int) {
		var tmp []float32
		if dil > 1 {
			tmp = bufs.Get(4 * nb)
			defer bufs.Put(tmp)
		}
		for o := lo; o < hi; o++ {
			y := out[o*T : (o+1)*T]
			b := convinfer.BiasAt(bias, o)
			for rho := range dil {
				var mk [6][]float32
				for k := range mk {
					off := (k*cout+o)*tiles + rho*nb
					mk[k] = m[off : off+nb]
				}
				if dil == 1 {
					convinfer.WinoOutRow(&mk, nb, y, T, b, accumulate)
					continue
				}
				convinfer.WinoOutRow(&mk, nb, tmp, 4*nb, b, false)
				for i, val := range tmp {
					t := i*dil + rho
					if t >= T {
						break
					}
					if accumulate {
						y[t] += val
					} else {
						y[t] = val
					}
				}
			}
		}
	})
}
