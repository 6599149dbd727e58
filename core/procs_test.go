package core_test

import (
	"runtime"

	"github.com/ravestation/rave/core/internal/sgemm"
)

// setProcs sets GOMAXPROCS and the sgemm thread count to n and returns the
// previous GOMAXPROCS.
func setProcs(n int) int {
	prev := runtime.GOMAXPROCS(n)
	sgemm.SetThreads(n)
	return prev
}
