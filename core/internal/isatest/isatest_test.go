package isatest

import (
	"strings"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
)

// TestUntested checks that a CPU with the avx512 path but without the
// extension gets a reason naming it, and any other CPU none.
func TestUntested(t *testing.T) {
	all := []isa.Path{isa.Generic, isa.AVX2, isa.AVX512}
	for _, c := range []struct {
		supported []isa.Path
		has       bool
		skip      bool
	}{
		{all, false, true}, {all, true, false}, {all[:2], false, false}, {[]isa.Path{isa.Generic, isa.NEON}, false, false},
	} {
		if why := Untested(c.supported, c.has, "the AVX512-VNNI int8 kernels", "the avx2 int8 kernels"); (why != "") != c.skip || c.skip && !strings.Contains(why, "AVX512-VNNI") {
			t.Errorf("Untested(%v, %v) = %q, want a reason: %v", c.supported, c.has, why, c.skip)
		}
	}
}
