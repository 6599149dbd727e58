package audio

import (
	"errors"
	"io"
	"slices"
	"testing"
)

func ramp(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i)
	}
	return x
}

func TestSliceStream(t *testing.T) {
	s := NewSliceStream(ramp(10), 16000)
	if s.SampleRate() != 16000 {
		t.Errorf("SampleRate() = %d, want 16000", s.SampleRate())
	}
	steps := []struct {
		len   int
		n     int
		err   error
		first float32
	}{
		{4, 4, nil, 0},
		{0, 0, nil, 0},
		{4, 4, nil, 4},
		{4, 2, io.EOF, 8},
		{4, 0, io.EOF, 0},
	}
	for i, st := range steps {
		dst := make([]float32, st.len)
		n, err := s.Read(dst)
		if n != st.n || err != st.err || n > 0 && dst[0] != st.first {
			t.Errorf("step %d: Read(%d) = %d, %v (first %v); want %d, %v (first %v)", i, st.len, n, err, dst, st.n, st.err, st.first)
		}
	}
}

// failing yields n samples and then fails.
type failing struct {
	Stream
	err error
}

func (f *failing) Read(dst []float32) (int, error) {
	n, err := f.Stream.Read(dst)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

func TestReadAll(t *testing.T) {
	for _, n := range []int{0, 1, 16383, 16384, 16385, 50000} {
		got, err := ReadAll(NewSliceStream(ramp(n), 8000))
		if err != nil || !slices.Equal(got, ramp(n)) {
			t.Errorf("ReadAll(%d samples) = %d samples, %v", n, len(got), err)
		}
	}
	boom := errors.New("boom")
	got, err := ReadAll(&failing{NewSliceStream(ramp(20000), 8000), boom})
	if !errors.Is(err, boom) || len(got) != 20000 {
		t.Errorf("ReadAll(failing) = %d samples, %v; want 20000, boom", len(got), err)
	}
}

func TestBlocks(t *testing.T) {
	tests := []struct {
		n, size int
		want    []int // block lengths
	}{
		{10, 4, []int{4, 4, 2}},
		{8, 4, []int{4, 4}},
		{0, 4, nil},
		{3, 1, []int{1, 1, 1}},
	}
	for _, tt := range tests {
		var lens []int
		var all []float32
		for blk, err := range Blocks(NewSliceStream(ramp(tt.n), 8000), tt.size) {
			if err != nil {
				t.Fatal(err)
			}
			lens = append(lens, len(blk))
			all = append(all, blk...)
		}
		if !slices.Equal(lens, tt.want) || !slices.Equal(all, ramp(tt.n)) {
			t.Errorf("Blocks(%d samples, %d) lengths = %v, want %v", tt.n, tt.size, lens, tt.want)
		}
	}
	// Breaking early stops reading.
	count := 0
	for range Blocks(NewSliceStream(ramp(100), 8000), 10) {
		count++
		if count == 3 {
			break
		}
	}
	if count != 3 {
		t.Errorf("early break ran %d iterations, want 3", count)
	}
	// An error is yielded once, with the partial block.
	boom := errors.New("boom")
	var errs []error
	var lens []int
	for blk, err := range Blocks(&failing{NewSliceStream(ramp(7), 8000), boom}, 4) {
		lens = append(lens, len(blk))
		errs = append(errs, err)
	}
	if !slices.Equal(lens, []int{4, 3}) || errs[0] != nil || !errors.Is(errs[1], boom) {
		t.Errorf("Blocks(failing) = %v, %v; want [4 3], [nil boom]", lens, errs)
	}
	defer func() {
		if recover() == nil {
			t.Error("Blocks(size 0) did not panic")
		}
	}()
	Blocks(NewSliceStream(nil, 8000), 0)
}

// recorder records the sizes its Read is called with.
type recorder struct {
	Stream
	sizes []int
}

func (r *recorder) Read(dst []float32) (int, error) {
	r.sizes = append(r.sizes, len(dst))
	return r.Stream.Read(dst)
}

func TestReblock(t *testing.T) {
	src := &recorder{Stream: NewSliceStream(ramp(25), 8000)}
	s := Reblock(src, 8)
	var got []float32
	for _, size := range []int{3, 10, 1, 20, 5} {
		dst := make([]float32, size)
		n, err := s.Read(dst)
		got = append(got, dst[:n]...)
		if err != nil {
			if !errors.Is(err, io.EOF) || len(got) != 25 {
				t.Fatalf("Read(%d) = %d, %v after %d samples", size, n, err, len(got))
			}
			break
		}
		if n != size {
			t.Fatalf("Read(%d) = %d without an error", size, n)
		}
	}
	if !slices.Equal(got, ramp(25)) {
		t.Errorf("Reblock yielded %v", got)
	}
	for _, size := range src.sizes {
		if size != 8 {
			t.Errorf("source read with %d samples, want always 8 (%v)", size, src.sizes)
			break
		}
	}
	if s.SampleRate() != 8000 {
		t.Errorf("SampleRate() = %d, want 8000", s.SampleRate())
	}
	if n, err := s.Read(make([]float32, 4)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("Read after the end = %d, %v; want 0, EOF", n, err)
	}
}
