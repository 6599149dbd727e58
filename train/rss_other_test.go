//go:build !unix

package train

// rusageMaxRSS returns 0: there is no getrusage here, and the benchmarks'
// peakRSS_GiB metric reads 0.
func rusageMaxRSS() uint64 { return 0 }
