package arith

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// randomTable returns a cumulative table for n symbols with random
// frequencies in [1, maxFreq] (and some zeros when zeros is set).
func randomTable(rng *rand.Rand, n int, maxFreq uint32, zeros bool) []uint32 {
	cum := make([]uint32, n+1)
	for i := range n {
		f := 1 + uint32(rng.IntN(int(maxFreq)))
		if zeros && i > 0 && rng.IntN(4) == 0 {
			f = 0
		}
		cum[i+1] = cum[i] + f
	}
	return cum
}

// sampleSymbol draws a symbol with the table's own distribution.
func sampleSymbol(rng *rand.Rand, cum []uint32) int {
	r := uint32(rng.IntN(int(cum[len(cum)-1])))
	for s := range len(cum) - 1 {
		if r < cum[s+1] {
			return s
		}
	}
	return len(cum) - 2
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		symbols int
		alpha   int
		maxFreq uint32
		zeros   bool
	}{
		{"empty", 0, 4, 10, false},
		{"one symbol alphabet", 50, 1, 10, false},
		{"binary", 1000, 2, 100, false},
		{"32 classes", 2000, 32, 1 << 11, false},
		{"with zero frequencies", 2000, 32, 1000, true},
		{"skewed large total", 3000, 8, 1 << 26, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			tables := make([][]uint32, tt.symbols)
			syms := make([]int, tt.symbols)
			var ideal float64
			enc := NewEncoder()
			for j := range syms {
				tables[j] = randomTable(rng, tt.alpha, tt.maxFreq, tt.zeros)
				syms[j] = sampleSymbol(rng, tables[j])
				c := tables[j]
				ideal -= math.Log2(float64(c[syms[j]+1]-c[syms[j]]) / float64(c[len(c)-1]))
				enc.Encode(tables[j], syms[j])
			}
			data := enc.Finish()
			if got := float64(len(data) * 8); got > ideal+16 {
				t.Errorf("stream has %v bits, ideal %.1f", got, ideal)
			}
			dec := NewDecoder(data)
			for j, want := range syms {
				got, err := dec.Decode(tables[j])
				if err != nil || got != want {
					t.Fatalf("symbol %d: got %d (%v), want %d", j, got, err, want)
				}
			}
		})
	}
}

func TestFrequencies(t *testing.T) {
	tests := []struct {
		name  string
		p     []float64
		total uint32
	}{
		{"uniform", []float64{1, 1, 1, 1}, 1 << 16},
		{"peaked", []float64{1e-12, 1 - 2e-12, 1e-12}, 1 << 16},
		{"unnormalised", []float64{3, 5, 0, 2}, 100},
		{"all zero", []float64{0, 0, 0}, 9},
		{"nan and negative", []float64{math.NaN(), -1, 0.5, math.Inf(1)}, 1 << 10},
		{"tight total", []float64{0.9, 0.1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cum := Frequencies(tt.p, tt.total)
			if len(cum) != len(tt.p)+1 || cum[0] != 0 || cum[len(tt.p)] != tt.total {
				t.Fatalf("table %v: want %d entries from 0 to %d", cum, len(tt.p)+1, tt.total)
			}
			for i := range tt.p {
				if cum[i+1] <= cum[i] {
					t.Fatalf("symbol %d has frequency 0 in %v", i, cum)
				}
			}
		})
	}
}

func TestDecodeCorrupt(t *testing.T) {
	cum := []uint32{0, 1, 1 << 20}
	// A stream of all ones sits above the range after the first symbol
	// choices and must be reported, not looped on.
	dec := NewDecoder([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	var err error
	for range 100 {
		if _, err = dec.Decode(cum); err != nil {
			break
		}
	}
	if err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt or valid symbols", err)
	}
}

// FuzzDecoder checks that decoding arbitrary bytes never panics or hangs.
func FuzzDecoder(f *testing.F) {
	enc := NewEncoder()
	tab := Frequencies([]float64{0.5, 0.25, 0.125, 0.125}, 1<<16)
	for _, s := range []int{0, 1, 2, 3, 0, 0} {
		enc.Encode(tab, s)
	}
	f.Add(enc.Finish(), uint8(4))
	f.Add([]byte{}, uint8(1))
	f.Add([]byte{0xff, 0x00, 0x7f}, uint8(32))
	f.Fuzz(func(t *testing.T, data []byte, alpha uint8) {
		n := int(alpha%40) + 1
		rng := rand.New(rand.NewPCG(uint64(len(data)), uint64(n)))
		dec := NewDecoder(data)
		for range 200 {
			cum := randomTable(rng, n, 1<<12, true)
			s, err := dec.Decode(cum)
			if err != nil {
				return
			}
			if s < 0 || s >= n || cum[s+1] == cum[s] {
				t.Fatalf("decoded symbol %d of zero frequency or out of range", s)
			}
		}
	})
}
