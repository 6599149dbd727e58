package model

// Streaming layers: cached convolutions with the semantics of
// acids-ircam/cached_conv (rave-spec.md §9.1). Every buffer is allocated
// when the layer is built, sized for the largest chunk; running a chunk
// allocates nothing. The only parallelism is inside sgemm, whose worker
// goroutines are persistent, so the layers are allocation-free once warm.
//
// Delays are tracked as cached_conv does: cd is the cumulative delay of a
// stream with respect to the offline signal, in samples of that stream's
// rate (stream[n] = offline[n − cd] once warmed up).

import (
	"fmt"

	"github.com/ravestation/rave/core/internal/panel"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// panelMaxCols is the largest number of output columns per chunk for which
// a layer uses the weight-streaming kernels of core/internal/panel (weights
// packed once, read as one stream, optionally in half precision); wider
// chunks use sgemm's packed GEMM, which reuses the weights across columns
// better.
const panelMaxCols = 32

// sconv is a cached Conv1d (cached_conv CachedConv1d): a delay line of sd
// samples (stride alignment), then a cache of the last pl+pr inputs in
// front of the chunk, then a valid convolution. Its output is the causal
// ("all padding on the left") convolution of the delayed input, which is
// the offline output delayed by (pr + sd + cdIn)/stride frames:
//
//	out[m] = b + Σ_{c,j} w[o][c][j] · buf[c][stride·m + dil·j]
//
// where buf = [last hist samples of the stream | a(chunk)], hist = pl+pr+sd.
// The input activation a is applied as samples enter the cache, so the
// cache holds activated values, as in the reference where the activation
// is a separate module before the convolution.
type sconv struct {
	cin, cout, k, stride, dil, groups int
	hist                              int // cached input samples per channel
	w, bias                           []float32
	a                                 act
	ld                                int             // row stride of buf: hist + largest chunk
	buf                               []float32       // cin × ld
	col                               []float32       // (cin/groups·k) × largest output
	pm                                []*panel.Matrix // per group, with the small-N kernels
	colT                              []float32       // largest output × pm Stride
}

// alignStride returns cached_conv's stride-alignment delay and the
// outgoing cumulative delay of a convolution with right padding pr and
// stride s on a stream delayed by cd input samples:
// sd = (s − (pr + cd) mod s) mod s, cdOut = (pr + sd + cd)/s.
func alignStride(pr, s, cd int) (sd, cdOut int) {
	sd = (s - (pr+cd)%s) % s
	return sd, (pr + sd + cd) / s
}

// newSConv builds a cached convolution for chunks of at most maxIn input
// samples. w is (cout, cin/groups, k) and is used in place (the caller
// owns a private copy); hist is the number of cached input samples. With
// few output columns per chunk the layer runs on packed panels (in half
// precision if half is set).
func newSConv(w, bias []float32, g convGeom, hist int, a act, maxIn int, half bool) *sconv {
	if hist < (g.k-1)*g.dil {
		panic(fmt.Sprintf("model: stream conv: cache of %d samples for a kernel spanning %d", hist, (g.k-1)*g.dil+1))
	}
	if maxIn%g.stride != 0 {
		panic(fmt.Sprintf("model: stream conv: largest chunk %d is not a multiple of the stride %d", maxIn, g.stride))
	}
	s := &sconv{
		cin: g.cin, cout: g.cout, k: g.k, stride: g.stride, dil: g.dil, groups: g.groups,
		hist: hist, w: w, bias: bias, a: a, ld: hist + maxIn,
	}
	s.buf = make([]float32, s.cin*s.ld)
	maxOut := maxIn / g.stride
	KK, Og := g.cin/g.groups*g.k, g.cout/g.groups
	if maxOut <= panelMaxCols {
		for gi := range g.groups {
			s.pm = append(s.pm, panel.NewMatrix(w[gi*Og*KK:(gi+1)*Og*KK], Og, KK, KK, half))
		}
		s.colT = make([]float32, maxOut*s.pm[0].Stride)
		s.w = nil
	} else {
		s.col = make([]float32, KK*maxOut)
	}
	return s
}

// run convolves a chunk x (cin × n, rows n apart) into dst (cout × n/stride).
// With accumulate the result is added to dst.
func (s *sconv) run(dst, x []float32, n int, accumulate bool) {
	H, ld := s.hist, s.ld
	if n%s.stride != 0 || H+n > ld {
		panic(fmt.Sprintf("model: stream conv: chunk of %d samples (stride %d, room for %d)", n, s.stride, ld-H))
	}
	nOut := n / s.stride
	for c := range s.cin {
		s.a.apply(s.buf[c*ld+H:c*ld+H+n], x[c*n:(c+1)*n], c)
	}
	Cg, Og := s.cin/s.groups, s.cout/s.groups
	KK := Cg * s.k
	beta := float32(0)
	if accumulate {
		beta = 1
	}
	if s.pm != nil {
		st := s.pm[0].Stride
		colT := s.colT[:nOut*st]
		for g, pm := range s.pm {
			for m := range nOut {
				row := colT[m*st : m*st+KK]
				for c := range Cg {
					src := s.buf[(g*Cg+c)*ld+m*s.stride:]
					r := row[c*s.k : (c+1)*s.k]
					for j := range r {
						r[j] = src[j*s.dil]
					}
				}
			}
			pm.MulT(nOut, colT, beta, dst[g*Og*nOut:], nOut)
		}
	} else {
		col := s.col[:KK*nOut]
		for g := range s.groups {
			for c := range Cg {
				row := s.buf[(g*Cg+c)*ld : (g*Cg+c+1)*ld]
				for j := range s.k {
					d := col[(c*s.k+j)*nOut : (c*s.k+j+1)*nOut]
					off := j * s.dil
					if s.stride == 1 {
						copy(d, row[off:off+nOut])
						continue
					}
					for t := range d {
						d[t] = row[off+t*s.stride]
					}
				}
			}
			sgemm.Sgemm(false, false, Og, nOut, KK, 1, s.w[g*Og*KK:], KK, col, nOut, beta, dst[g*Og*nOut:], nOut)
		}
	}
	if s.bias != nil {
		addRowBias(dst[:s.cout*nOut], s.bias, nOut)
	}
	for c := range s.cin {
		row := s.buf[c*ld : c*ld+H+n]
		copy(row[:H], row[n:])
	}
}

func (s *sconv) reset() { clear(s.buf) }

// addRowBias adds bias[c] to row c of y (len(bias) rows of n).
func addRowBias(y, bias []float32, n int) {
	for c, v := range bias {
		row := y[c*n : (c+1)*n]
		for i := range row {
			row[i] += v
		}
	}
}

// sconvT is a cached ConvTranspose1d (cached_conv CachedConvTranspose1d)
// of kernel k and stride r: the full, uncropped transposed convolution of
// the chunk (length r·n + k − r) has the previous chunk's overlap (its last
// k − r samples) added to its start; the first r·n samples are the output
// and the last k − r are kept as the next overlap. The output is the
// offline output (padding p) delayed by p samples: cdOut = p + r·cdIn.
type sconvT struct {
	cin, cout, k, r int
	wt, bias        []float32     // wt (cout·k, cin): wt[(o·k+j)·cin + c] = w[c][o][j]
	pm              *panel.Matrix // wt packed, with few input columns per chunk
	a               act
	xa              []float32 // cin × largest chunk, activated input
	xaT             []float32 // its transpose, largest chunk × pm.Stride
	col             []float32 // (cout·k) × largest chunk
	full            []float32 // one output row, r·n + k − r
	ov              []float32 // cout × (k − r) overlap
}

// newSConvT builds a cached transposed convolution from w (cin, cout, k)
// for chunks of at most maxIn input samples (packed panels, in half
// precision if half is set, when maxIn is small).
func newSConvT(w, bias []float32, cin, cout, k, r int, a act, maxIn int, half bool) *sconvT {
	if k < r {
		panic(fmt.Sprintf("model: stream transposed conv: kernel %d shorter than stride %d", k, r))
	}
	s := &sconvT{cin: cin, cout: cout, k: k, r: r, bias: bias, a: a}
	s.wt = make([]float32, cout*k*cin)
	for c := range cin {
		for o := range cout {
			for j := range k {
				s.wt[(o*k+j)*cin+c] = w[(c*cout+o)*k+j]
			}
		}
	}
	s.xa = make([]float32, cin*maxIn)
	s.col = make([]float32, cout*k*maxIn)
	if maxIn <= panelMaxCols {
		s.pm = panel.NewMatrix(s.wt, cout*k, cin, cin, half)
		s.wt = nil
		s.xaT = make([]float32, maxIn*s.pm.Stride)
	}
	s.full = make([]float32, r*maxIn+k-r)
	s.ov = make([]float32, cout*(k-r))
	return s
}

// run up-samples a chunk x (cin × n) into dst (cout × r·n).
func (s *sconvT) run(dst, x []float32, n int) {
	if s.cin*n > len(s.xa) {
		panic(fmt.Sprintf("model: stream transposed conv: chunk of %d samples is too long", n))
	}
	xa := s.xa[:s.cin*n]
	for c := range s.cin {
		s.a.apply(xa[c*n:(c+1)*n], x[c*n:(c+1)*n], c)
	}
	K, r, ovl := s.k, s.r, s.k-s.r
	col := s.col[:s.cout*K*n]
	if s.pm != nil {
		st := s.pm.Stride
		for t := range n {
			row := s.xaT[t*st : t*st+s.cin]
			for c := range row {
				row[c] = xa[c*n+t]
			}
		}
		s.pm.MulT(n, s.xaT[:n*st], 0, col, n)
	} else {
		sgemm.Sgemm(false, false, s.cout*K, n, s.cin, 1, s.wt, s.cin, xa, n, 0, col, n)
	}
	full := s.full[:r*n+ovl]
	for o := range s.cout {
		ov := s.ov[o*ovl : (o+1)*ovl]
		copy(full, ov)
		clear(full[ovl:])
		for j := range K {
			for t, v := range col[(o*K+j)*n : (o*K+j+1)*n] {
				full[t*r+j] += v
			}
		}
		var b float32
		if s.bias != nil {
			b = s.bias[o]
		}
		out := dst[o*r*n : (o+1)*r*n]
		for i := range out {
			out[i] = full[i] + b
		}
		copy(ov, full[r*n:])
	}
}

func (s *sconvT) reset() { clear(s.ov) }

// sdelay delays c channels by d samples (cached_conv CachedPadding1d with
// crop, the delay AlignBranches inserts).
type sdelay struct {
	c, d, ld int
	buf      []float32 // c × (d + largest chunk)
}

func newSDelay(c, d, maxIn int) *sdelay {
	s := &sdelay{c: c, d: d, ld: d + maxIn}
	if d > 0 {
		s.buf = make([]float32, c*s.ld)
	}
	return s
}

// run delays x (c × n) in place.
func (s *sdelay) run(x []float32, n int) {
	if s.d == 0 {
		return
	}
	if s.d+n > s.ld {
		panic(fmt.Sprintf("model: stream delay: chunk of %d samples is too long", n))
	}
	for ch := range s.c {
		row := s.buf[ch*s.ld : ch*s.ld+s.d+n]
		xs := x[ch*n : (ch+1)*n]
		copy(row[s.d:], xs)
		copy(xs, row[:n])
		copy(row[:s.d], row[n:])
	}
}

func (s *sdelay) reset() { clear(s.buf) }

// sfifo is a first-in first-out queue of c channels that starts with pre
// zeros: it delays a stream produced in blocks that do not line up with
// the chunks that consume it.
type sfifo struct {
	c, pre, ld, n int
	buf           []float32 // c × ld
}

func newSFIFO(c, pre, capacity int) *sfifo {
	f := &sfifo{c: c, pre: pre, ld: capacity, n: pre}
	f.buf = make([]float32, c*capacity)
	return f
}

// push appends x (c × n).
func (f *sfifo) push(x []float32, n int) {
	if f.n+n > f.ld {
		panic(fmt.Sprintf("model: stream fifo: %d + %d samples exceed its capacity %d", f.n, n, f.ld))
	}
	for ch := range f.c {
		copy(f.buf[ch*f.ld+f.n:ch*f.ld+f.n+n], x[ch*n:(ch+1)*n])
	}
	f.n += n
}

// pop removes the oldest n samples into dst (c × n).
func (f *sfifo) pop(dst []float32, n int) {
	if n > f.n {
		panic(fmt.Sprintf("model: stream fifo: %d samples wanted, %d queued", n, f.n))
	}
	for ch := range f.c {
		row := f.buf[ch*f.ld : ch*f.ld+f.n]
		copy(dst[ch*n:(ch+1)*n], row[:n])
		copy(row, row[n:])
	}
	f.n -= n
}

func (f *sfifo) reset() {
	clear(f.buf)
	f.n = f.pre
}

// flipOddBands applies the PQMF sign fix (reverse_half) to a chunk x
// (bands × n) in place: odd bands are negated where the offline frame
// index, first + t, is even.
func flipOddBands(x []float32, bands, n int, first int64) {
	for k := 1; k < bands; k += 2 {
		row := x[k*n : (k+1)*n]
		t0 := int(first & 1) // first + t is even for t ≡ first (mod 2)
		for t := t0; t < n; t += 2 {
			row[t] = -row[t]
		}
	}
}
