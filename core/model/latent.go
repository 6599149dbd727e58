package model

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// AnalyzeLatents runs the post-training latent analysis (rave-spec.md §8)
// on posterior means means (dims × frames, e.g. EncodeAudioWith with Raw
// set and Sample unset, several files concatenated along frames) and stores
// it in the latent_mean, latent_pca and fidelity buffers: latent_mean is
// the per-dimension mean, latent_pca's rows are the principal axes sorted
// by decreasing variance (each with its largest-magnitude entry positive),
// fidelity[i] the share of variance explained by the first i+1 axes. step
// and source describe the analysis in the saved metadata.
func (m *Model) AnalyzeLatents(means [][]float32, step int64, source string) error {
	D := m.Config.LatentSize
	if len(means) != D {
		return fmt.Errorf("model: latent analysis: %d dimensions, the model has %d", len(means), D)
	}
	n := len(means[0])
	for d, row := range means {
		if len(row) != n {
			return fmt.Errorf("model: latent analysis: dimension %d has %d frames, dimension 0 has %d", d, len(row), n)
		}
	}
	if n < 2 {
		return fmt.Errorf("model: latent analysis needs at least 2 frames, have %d", n)
	}
	mu := make([]float64, D)
	for d, row := range means {
		for _, v := range row {
			mu[d] += float64(v)
		}
		mu[d] /= float64(n)
	}
	cov := mat.NewSymDense(D, nil)
	for i := range D {
		for j := i; j < D; j++ {
			var s float64
			for f := range n {
				s += (float64(means[i][f]) - mu[i]) * (float64(means[j][f]) - mu[j])
			}
			cov.SetSym(i, j, s/float64(n-1))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return fmt.Errorf("model: latent analysis: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, D)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	var total float64
	for _, v := range vals {
		total += max(v, 0)
	}
	pca := m.byName[bufLatentPCA].Data()
	fid := m.byName[bufFidelity].Data()
	var cum float64
	for r, k := range order {
		big := 0
		for i := range D {
			if math.Abs(vecs.At(i, k)) > math.Abs(vecs.At(big, k)) {
				big = i
			}
		}
		sign := 1.0
		if vecs.At(big, k) < 0 {
			sign = -1
		}
		for i := range D {
			pca[r*D+i] = float32(sign * vecs.At(i, k))
		}
		cum += max(vals[k], 0)
		if total > 0 {
			fid[r] = float32(cum / total)
		}
	}
	put(m.byName[bufLatentMean].Data(), mu)
	m.LatentAnalysis = LatentAnalysis{Done: true, Frames: n, Step: step, Source: source}
	return nil
}

// FidelityDims returns the number of PCA dimensions needed to explain a
// share f of the latent variance: argmax(fidelity > f) + 1, as the
// reference's export chooses it before rounding up to a power of two
// (rave-spec.md §8). Without an analysis it returns latent_size.
func (m *Model) FidelityDims(f float64) int {
	fid := m.byName[bufFidelity].Data()
	if !m.LatentAnalysis.Done {
		return len(fid)
	}
	for i, v := range fid {
		if float64(v) > f {
			return i + 1
		}
	}
	return len(fid)
}
