package dsp

import "github.com/ravestation/rave/core/internal/par"

// split is the threshold of the package's parallel loops. bufs recycles
// the large float32 buffers of the spectral ops (spectra, padded signals,
// gradients), which would otherwise cost ~100 MB of fresh, zeroed memory
// per distance at the v1 training batch: it keeps at most 512 MiB, and no
// buffer under 1024 values.
var (
	split = par.Split{MinWork: 1 << 14}
	bufs  = par.Pool{MaxBytes: 512 << 20, MinCap: 1024}
)

// getZeroed returns a zero-filled slice of length n from bufs.
func getZeroed(n int) []float32 {
	b := bufs.GetSlice(n)
	clear(b)
	return b
}
