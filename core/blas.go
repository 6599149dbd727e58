package core

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"

	"github.com/ravestation/rave/core/internal/sgemm"
)

// BLAS is gonum's pure-Go BLAS with Sgemm replaced by the packed assembly
// kernels of core/internal/sgemm (15–20× faster on float32). Every other
// routine is gonum's. Importing core registers a BLAS with tensor.Use, so
// gorgonia's float32 MatMul, MatVecMul and friends run on it.
type BLAS struct {
	gonum.Implementation
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, with
// gonum's argument conventions (blas.Trans and blas.ConjTrans both
// transpose). Malformed arguments panic with "sgemm: ..." messages.
func (BLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm.Sgemm(transposed(tA), transposed(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// transposed reports whether t asks for op(X) = Xᵀ.
func transposed(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic("sgemm: illegal transpose value")
}

func init() { tensor.Use(BLAS{}) }
