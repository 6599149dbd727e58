//go:build amd64 && !purego

package isa

import "testing"

func TestL2Bytes(t *testing.T) {
	if l2 := L2Bytes(); l2 < 256<<10 || l2 > 16<<20 || l2%1024 != 0 {
		t.Fatalf("L2Bytes() = %d, want a whole number of KiB in [256 KiB, 16 MiB]", l2)
	}
}
