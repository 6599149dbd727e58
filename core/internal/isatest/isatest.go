// Package isatest runs tests and benchmarks once per instruction-set path
// (core/internal/isa), for the packages that keep a kernel per path.
package isatest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
)

// ForEachPath runs f as a subtest named after each instruction-set path
// (isa.Known), with isa.Use(p) in effect and the previous path restored
// afterwards. A path this CPU or build lacks is skipped by name.
func ForEachPath(t *testing.T, f func(t *testing.T, p isa.Path)) { each(t, f) }

// ForEachPathB is ForEachPath for benchmarks.
func ForEachPathB(b *testing.B, f func(b *testing.B, p isa.Path)) { each(b, f) }

// each is ForEachPath for a *testing.T or *testing.B.
func each[T interface {
	testing.TB
	Run(name string, f func(T)) bool
}](t T, f func(T, isa.Path)) {
	for _, p := range isa.Known {
		t.Run(string(p), func(t T) {
			if !isa.Has(p) {
				t.Skipf("path %s: not supported by this CPU (%s) or build", p, isa.CPU())
			}
			restore, err := isa.Use(p)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t, p)
		})
	}
}

// Untested says why the kernels of an avx512 extension, what, did not run
// on a CPU with the supported paths and, or not (has), that extension:
// "" when they did, or when the avx512 path is missing altogether (its
// subtest says so); otherwise that the avx512 subtest ran fallback.
func Untested(supported []isa.Path, has bool, what, fallback string) string {
	if has || !slices.Contains(supported, isa.AVX512) {
		return ""
	}
	return fmt.Sprintf("%s: not supported by this CPU (%s); the avx512 subtest ran %s", what, isa.CPU(), fallback)
}

// SkipUntested reports why (from Untested), when not "", as a skipped
// subtest of t named name, so that kernels a path stood in for do not
// pass untested.
func SkipUntested(t *testing.T, name, why string) {
	if why != "" {
		t.Run(name, func(t *testing.T) { t.Skip(why) })
	}
}
