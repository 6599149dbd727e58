package compare

import (
	"errors"
	"math"
	"testing"
)

// TestComparerMatchesCompare feeds a tone and a detuned, quieter copy in
// pieces of awkward sizes and compares the report with Compare's.
func TestComparerMatchesCompare(t *testing.T) {
	in := tone(1.3, 220, 0.5, 4)
	out := tone(1.3, 224, 0.2, 2)
	for i := range len(in) / 3 {
		in[i] *= 0.01 // a quiet start: frames below the floor
	}
	want, err := Compare(in, out, sr)
	if err != nil {
		t.Fatal(err)
	}
	for _, piece := range []int{1, 479, 4800, len(in)} {
		c, err := NewComparer(sr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Report(); !errors.Is(err, ErrTooShort) {
			t.Errorf("Report of nothing = %v, want ErrTooShort", err)
		}
		for at := 0; at < len(in); at += piece {
			end := min(at+piece, len(in))
			c.Add(in[at:end], out[at:end])
		}
		got, err := c.Report()
		if err != nil {
			t.Fatal(err)
		}
		if got.Frames != want.Frames || got.PitchedFrames != want.PitchedFrames ||
			!near(got.LevelErrorDB, want.LevelErrorDB) || !near(got.LevelBiasDB, want.LevelBiasDB) ||
			!near(got.PitchAgreement, want.PitchAgreement) || !near(got.InputHz, want.InputHz) || !near(got.OutputHz, want.OutputHz) {
			t.Errorf("pieces of %d: Report() = %+v, want %+v", piece, got, want)
		}
	}
}

// near compares within float32 rounding (the Comparer stores float32).
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-5*max(1, math.Abs(b)) }

// TestComparerBreak measures two excerpts with a gap: the report is that of
// the two excerpts' frames, none spanning the gap.
func TestComparerBreak(t *testing.T) {
	in := tone(1.0, 220, 0.5, 4)
	out := tone(1.0, 330, 0.5, 4)
	a, b := in[:20000], in[30000:]
	c, err := NewComparer(sr)
	if err != nil {
		t.Fatal(err)
	}
	c.Add(a, out[:20000])
	c.Break()
	c.Add(b, out[30000:])
	got, err := c.Report()
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := Compare(a, out[:20000], sr)
	rb, _ := Compare(b, out[30000:], sr)
	if got.Frames != ra.Frames+rb.Frames || got.PitchAgreement != 0 {
		t.Errorf("Report() = %+v, want %d + %d frames, no agreement", got, ra.Frames, rb.Frames)
	}
}
