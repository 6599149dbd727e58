package stream

// Streaming layers: cached convolutions with the semantics of
// acids-ircam/cached_conv (rave-spec.md §9.1). Every buffer is allocated
// when the layer is built, sized for the largest chunk; running a chunk
// allocates nothing. Each layer splits its own work (activation, column
// preparation, product, overlap-add) into a fixed number of parts run on
// the streaming pool (par.go), and calls the kernels' single-
// threaded entry points (panel's PrepareT and MulTRows, sgemm's
// SgemmSerial and BF16Matrix.MulRowsPart): one set of persistent workers
// serves every layer, and the result does not depend on the thread count.
//
// Delays are tracked as cached_conv does: cd is the cumulative delay of a
// stream with respect to the offline signal, in samples of that stream's
// rate (stream[n] = offline[n − cd] once warmed up).

import (
	"fmt"

	"github.com/ravestation/rave/core/internal/panel"
	"github.com/ravestation/rave/core/internal/sgemm"
	"github.com/ravestation/rave/core/model"
)

// panelMaxCols is the largest number of output columns per chunk for which
// a layer uses the weight-streaming kernels of core/internal/panel (weights
// packed once, read as one stream, optionally in half precision or int8);
// wider chunks use sgemm's packed GEMM, which reuses the weights across
// columns better. With int8 weights the wider stride-1 layers run as
// bfloat16 products (sgemm.BF16Matrix, VDPBF16PS: twice float32's
// multiply-adds per instruction) that read their rows straight from the
// cache by offsets, where the hardware has them (usePanels); half-precision
// weights keep them float32, which is what keeps WeightsHalf's output
// within ~75 dB of float32's (bfloat16 there gives ~55 dB on the demo
// model for 0.5 ms less per 2048-sample v1 buffer).
//
// A panel's Bᵀ operand (the im2col matrix, transposed) is formed from a
// time-major copy of the layer's input, bufT, whose rows are the channels
// at one time: with the weights' columns ordered (tap, channel), a column
// is k runs of channels, copied (or, for int8, rounded to codes) whole.
const panelMaxCols = 32

// usePanels reports whether a layer with up to cols output columns per
// chunk, its weights in precision prec, runs on panels: with at most
// panelMaxCols columns, and with Int8 weights whatever the width on paths
// without hardware bfloat16 products (sgemm.BF16Supported false: AVX2
// emulates VDPBF16PS with as many FMAs as float32, while the panels'
// integer kernels do twice float32's multiply-adds per instruction: on
// Zen 5 with RAVE_KERNELS=avx2, 128→128-channel k3 layers of 64 columns
// take ~40 µs on one core against ~67 µs in emulated bfloat16). The
// choice is made when the Streamer is built, on the kernel path then in
// use; the wide layers' weights are then int8 rather than bfloat16 (the
// demo model's output ~43 dB from float32's instead of ~47 dB).
func usePanels(cols int, prec panel.Precision) bool {
	return cols <= panelMaxCols || (prec == panel.Int8 && !sgemm.BF16Supported())
}

// act is the element-wise map a layer applies to its input.
type act = model.Activation

// convGeom is a Conv1d's geometry.
type convGeom struct {
	cin, cout, k, stride, dil, groups, padL, padR int
}

// geomOf returns the geometry of the model's layer c.
func geomOf(c model.Conv) convGeom {
	g := c.Geometry()
	return convGeom{cin: g.Cin, cout: g.Cout, k: g.K, stride: g.Stride, dil: g.Dilation, groups: g.Groups, padL: g.PadLeft, padR: g.PadRight}
}

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
//
// A chunk runs in steps on the streaming pool (par.go): the
// activation (with the im2col matrix for float32 products), the packed
// columns (panels), then the product by ranges of rows or columns with the
// bias; the split is fixed, so the result does not depend on the number of
// threads.
type sconv struct {
	cin, cout, k, stride, dil, groups int
	hist                              int // cached input samples per channel
	w, bias                           []float32
	a                                 act
	ld                                int             // row stride of buf: hist + largest chunk
	buf                               []float32       // without pm, cin × ld: the cache, then the chunk (the next chunk's cache is the tail)
	col                               []float32       // (cin/groups·k) × largest output
	pm                                []*panel.Matrix // per group, with the small-N kernels, columns ordered (tap, channel)
	bufT                              []float32       // with pm, ld × cin: buf's content, time-major (rows of the columns of Bᵀ)
	colT                              []float32       // largest output × pm Stride
	runs                              [][]int         // Int8 pm, per group: the offsets in bufT of a column's k runs of channels (PrepareRuns)
	bf                                *sgemm.BF16Matrix
	off                               []int // bf's row offsets into buf: c·ld + j·dil

	// the chunk being run, in three steps (parSteps): the activation
	// into buf (with the im2col matrix for float32 GEMMs; for panels into
	// bufT, by ranges of samples: whole rows of it, where parts over
	// channels would share its cache lines), for panels the gathering and
	// preparation of the columns of Bᵀ, then the product with the bias.
	// For panels with one part of each of the first two steps, the first
	// does both (one hand-over fewer); for panels whose Bᵀ outweighs the
	// weights (splitColumns), the product's parts take ranges of columns
	// and gather and prepare them, so that each part's columns stay in
	// its core's cache
	dst, x    []float32
	n, nOut   int
	prev      int // samples of the previous chunk (its tail is the cache)
	beta      float32
	actParts  int  // of the activation
	colsParts int  // of the columns
	colsInAct bool // panels: the activation's one part also does the columns
	split     bool // panels: the product's parts, over columns, do their columns
	parts     int  // of the product
	colParts  int  // of the product's parts, over columns (the rest over rows)
}

// parMinWork is the least number of values an elementwise step handles
// before it is split over the pool (smaller steps run on the caller).
const parMinWork = 8192

// parMinMadds is the least number of multiply-adds of a product split over
// the pool.
const parMinMadds = 1 << 16

// parRows is the number of parts of a product split by rows.
const parRows = 8

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
// few output columns per chunk (or Int8 weights on a path without
// hardware bfloat16: usePanels) the layer runs on packed panels, its
// weights stored in precision prec; with more, Int8 runs ungrouped
// stride-1 layers as bfloat16 products read straight from the cache (no
// im2col), the others as float32 GEMMs.
func newSConv(w, bias []float32, g convGeom, hist int, a act, maxIn int, prec panel.Precision) *sconv {
	if hist < (g.k-1)*g.dil {
		panic(fmt.Sprintf("stream: conv: cache of %d samples for a kernel spanning %d", hist, (g.k-1)*g.dil+1))
	}
	if maxIn%g.stride != 0 {
		panic(fmt.Sprintf("stream: conv: largest chunk %d is not a multiple of the stride %d", maxIn, g.stride))
	}
	s := &sconv{
		cin: g.cin, cout: g.cout, k: g.k, stride: g.stride, dil: g.dil, groups: g.groups,
		hist: hist, w: w, bias: bias, a: a, ld: hist + maxIn,
	}
	maxOut := maxIn / g.stride
	panels := usePanels(maxOut, prec)
	if !panels {
		s.buf = make([]float32, s.cin*s.ld)
	}
	KK, Og := g.cin/g.groups*g.k, g.cout/g.groups
	switch {
	case panels:
		// The panels' columns are ordered (tap, channel), so that a
		// column of Bᵀ is k runs of Cg consecutive values of bufT.
		Cg := g.cin / g.groups
		wr := make([]float32, Og*KK)
		for gi := range g.groups {
			wg := w[gi*Og*KK : (gi+1)*Og*KK]
			for o := range Og {
				for c := range Cg {
					for j := range g.k {
						wr[o*KK+j*Cg+c] = wg[o*KK+c*g.k+j]
					}
				}
			}
			pm := panel.NewMatrix(wr, Og, KK, KK, prec)
			pm.Reserve(maxOut)
			s.pm = append(s.pm, pm)
		}
		s.colT = make([]float32, g.groups*maxOut*s.pm[0].Stride)
		s.bufT = make([]float32, s.ld*s.cin)
		s.w = nil
		if prec == panel.Int8 && Cg%16 == 0 {
			// the codes straight from bufT (PrepareRuns)
			for gi := range g.groups {
				offs := make([]int, g.k)
				for j := range offs {
					offs[j] = j*g.dil*g.cin + gi*Cg
				}
				s.runs = append(s.runs, offs)
			}
		}
	case prec == panel.Int8 && g.stride == 1 && g.groups == 1:
		s.bf = sgemm.NewBF16Matrix(false, g.cout, KK, w, KK)
		s.off = make([]int, KK)
		for c := range g.cin {
			for j := range g.k {
				s.off[c*g.k+j] = c*s.ld + j*g.dil
			}
		}
		s.w = nil
		reserveParScratch(true, 0)
	default:
		s.col = make([]float32, KK*maxOut)
	}
	return s
}

// run convolves a chunk x (cin × n, rows n apart) into dst (cout × n/stride).
// With accumulate the result is added to dst.
func (s *sconv) run(dst, x []float32, n int, accumulate bool) {
	H, ld := s.hist, s.ld
	if n%s.stride != 0 || H+n > ld {
		panic(fmt.Sprintf("stream: conv: chunk of %d samples (stride %d, room for %d)", n, s.stride, ld-H))
	}
	nOut := n / s.stride
	s.dst, s.x, s.n, s.nOut = dst, x, n, nOut
	s.beta = 0
	if accumulate {
		s.beta = 1
	}
	KK := s.cin / s.groups * s.k
	prep := s.cin * n
	if s.col != nil {
		prep += KK * nOut
	}
	Og := s.cout / s.groups
	madds := s.cout * KK * nOut
	s.colParts = 1
	rowParts := partsFor(madds, parMinMadds, parRows)
	s.actParts = partsFor(prep, parMinWork, min(s.cin, 8))
	s.colsParts, s.colsInAct, s.split = 0, false, false
	switch {
	case s.pm != nil:
		// the cache of bufT: the last H samples of the previous chunk
		if p := s.prev; p > 0 {
			copy(s.bufT[:H*s.cin], s.bufT[p*s.cin:(p+H)*s.cin])
		}
		s.actParts = partsFor(prep, parMinWork, min(n/actAlign, 8))
		if rowParts > 1 && nOut >= 8 && splitColumns(s.pm[0], nOut) {
			// each part gathers, prepares and multiplies its own
			// columns, by every row
			s.split = true
			s.colParts, rowParts = min(nOut/4, parRows), 1
			break
		}
		s.colsParts = partsFor(s.groups*nOut*KK, parMinWork, min(nOut, 8))
		if s.actParts == 1 && s.colsParts == 1 {
			s.colsParts, s.colsInAct = 0, true
		}
	case nOut >= 64 && rowParts > 1:
		// wide products: split the columns (32 each), each part packing
		// only its own, and the rows when there are few columns and
		// enough rows
		s.colParts = min(nOut/32, parRows)
		rowParts = max(1, min(parRows/s.colParts, Og/48))
	}
	s.parts = s.groups * s.colParts * rowParts
	if s.split {
		s.parts = s.colParts
	}
	parSteps(s, [parMaxSteps]int{s.actParts, s.colsParts, s.parts})
	s.prev = n
	s.dst, s.x = nil, nil
}

// splitColumns reports whether a product by the panel pm of n columns
// splits better by columns than by rows: when its Bᵀ operand (n rows of
// pm.Stride float32, or as many bytes of int8 codes) outweighs its
// weights, which every part by columns reads whole.
func splitColumns(pm *panel.Matrix, n int) bool {
	return pm.Bytes() < 4*n*pm.Stride
}

// partsFor returns how many parts a step of work units is split into:
// 1 below least, else most.
func partsFor(work, least, most int) int {
	if work < least {
		return 1
	}
	return max(most, 1)
}

// actAlign is the alignment, in samples, of the parts of a panel layer's
// activation (Transpose's blocks).
const actAlign = 8

// actRows applies a to rows, time-major rows of cin channels: what
// a.apply computes for each channel's samples, element by element.
func actRows(a act, rows []float32, cin int) {
	switch {
	case a.Scale != nil:
		sc, sh := a.Scale[:cin], a.Shift[:cin]
		for r := 0; r+cin <= len(rows); r += cin {
			row := rows[r : r+cin]
			if a.Leaky {
				for c, v := range row {
					v = v*sc[c] + sh[c]
					row[c] = max(v, v*model.LeakySlope) // as Activation.Apply
				}
				continue
			}
			for c, v := range row {
				row[c] = v*sc[c] + sh[c]
			}
		}
	case a.Leaky:
		sgemm.LeakyReLU(rows, rows, model.LeakySlope)
	}
}

// part runs part i of the chunk's steps (parTask): the activation, the
// columns, the product.
func (s *sconv) part(i, w int) {
	switch {
	case i < s.actParts:
		s.actPart(i)
		if s.colsInAct {
			s.cols(0, s.nOut)
		}
	case i < s.actParts+s.colsParts:
		m0, m1 := parRange(i-s.actParts, s.colsParts, s.nOut, 1)
		s.cols(m0, m1)
	default:
		s.mulPart(i-s.actParts-s.colsParts, w)
	}
}

// actPart activates channels of part i into the cache (for panels, into
// buf for the transposition) and, for float32 GEMMs, forms their rows of
// the im2col matrix.
func (s *sconv) actPart(i int) {
	H, ld, n, nOut := s.hist, s.ld, s.n, s.nOut
	if s.bufT != nil {
		// panels read the time-major bufT (which keeps the cache): the
		// samples of part i transposed into it, then activated
		cin := s.cin
		t0, t1 := parRange(i, s.actParts, n, actAlign)
		rows := s.bufT[(H+t0)*cin : (H+t1)*cin]
		panel.Transpose(rows, cin, s.x[t0:], n, cin, t1-t0)
		actRows(s.a, rows, cin)
		return
	}
	c0, c1 := parRange(i, s.actParts, s.cin, 1)
	for c := c0; c < c1; c++ {
		if p := s.prev; p > 0 {
			// the cache: the last H samples of the previous chunk's
			// buffer
			row := s.buf[c*ld : c*ld+H+p]
			copy(row[:H], row[p:])
		}
		s.a.Apply(s.buf[c*ld+H:c*ld+H+n], s.x[c*n:(c+1)*n], c)
	}
	if s.col == nil {
		return
	}
	Cg := s.cin / s.groups
	KK := Cg * s.k
	for c := c0; c < c1; c++ {
		g, cg := c/Cg, c%Cg
		col := s.col[g*KK*nOut:]
		row := s.buf[c*ld : (c+1)*ld]
		for j := range s.k {
			d, src := col[(cg*s.k+j)*nOut:(cg*s.k+j+1)*nOut], row[j*s.dil:]
			if s.stride == 1 {
				copy(d, src)
			} else {
				for t := range d {
					d[t] = src[t*s.stride]
				}
			}
		}
	}
}

// cols gathers columns m0 … m1−1 into the panels' Bᵀ operand and
// prepares them (Int8: rounds them to codes, straight from bufT when the
// runs are whole chunks of 16). Column m of group g is, for
// each tap j, the Cg channels of the group at time m·stride + j·dil: one
// run of bufT.
func (s *sconv) cols(m0, m1 int) {
	nOut, cin := s.nOut, s.cin
	Cg := cin / s.groups
	for g, pm := range s.pm {
		if s.runs != nil {
			pm.PrepareRuns(m0, m1, nOut, s.bufT, s.stride*cin, s.runs[g], Cg)
			continue
		}
		st := pm.Stride
		colT := s.colT[g*nOut*st : (g+1)*nOut*st]
		for m := m0; m < m1; m++ {
			row := colT[m*st : m*st+s.k*Cg]
			for j := range s.k {
				src := (m*s.stride+j*s.dil)*cin + g*Cg
				copy(row[j*Cg:(j+1)*Cg], s.bufT[src:src+Cg])
			}
		}
		pm.PrepareT(m0, m1, nOut, colT)
	}
}

// mulPart runs part i of the product: group, then columns, then rows
// (split: a range of columns of every group, gathered and prepared here).
func (s *sconv) mulPart(i, w int) {
	if s.split {
		nOut, Og := s.nOut, s.cout/s.groups
		j0, j1 := parRange(i, s.colParts, nOut, 4)
		s.cols(j0, j1)
		for g, pm := range s.pm {
			st := pm.Stride
			pm.MulTPart(0, Og, j0, j1, nOut, s.colT[g*nOut*st:(g+1)*nOut*st], s.beta, s.dst[g*Og*nOut:], nOut)
		}
		s.addBias(0, s.cout, j0, j1)
		return
	}
	nOut := s.nOut
	Cg, Og := s.cin/s.groups, s.cout/s.groups
	KK := Cg * s.k
	per := s.parts / s.groups
	g, i := i/per, i%per
	rowParts := per / s.colParts
	ci, ri := i/rowParts, i%rowParts
	dst := s.dst[g*Og*nOut:]
	switch {
	case s.pm != nil:
		pm := s.pm[g]
		st := pm.Stride
		colT := s.colT[g*nOut*st : (g+1)*nOut*st]
		i0, i1 := parRange(ri, rowParts, Og, 4)
		pm.MulTRows(i0, i1, nOut, colT, s.beta, dst, nOut)
		s.addBias(g*Og+i0, g*Og+i1, 0, nOut)
	case s.bf != nil:
		j0, j1 := parRange(ci, s.colParts, nOut, 32)
		i0, i1 := parRange(ri, rowParts, Og, sgemm.BF16RowTile)
		s.bf.MulRowsPart(i0, i1, j0, j1, nOut, s.buf, s.off, s.beta != 0, dst, nOut, parScratch(w).bf)
		s.addBias(i0, i1, j0, j1)
	default:
		j0, j1 := parRange(ci, s.colParts, nOut, 32)
		i0, i1 := parRange(ri, rowParts, Og, 12)
		if i0 == i1 || j0 == j1 {
			return
		}
		col := s.col[g*KK*nOut:]
		sgemm.SgemmSerial(false, false, i1-i0, j1-j0, KK, 1, s.w[(g*Og+i0)*KK:], KK, col[j0:], nOut, s.beta, dst[i0*nOut+j0:], nOut)
		s.addBias(g*Og+i0, g*Og+i1, j0, j1)
	}
}

// addBias adds the bias to rows i0 … i1−1, columns j0 … j1−1 of dst.
func (s *sconv) addBias(i0, i1, j0, j1 int) {
	if s.bias == nil {
		return
	}
	for o := i0; o < i1; o++ {
		v := s.bias[o]
		row := s.dst[o*s.nOut+j0 : o*s.nOut+j1]
		for t := range row {
			row[t] += v
		}
	}
}

func (s *sconv) reset() {
	clear(s.buf)
	clear(s.bufT)
	s.prev = 0
}

// setHistory sets the cached input samples of channel c (hist of them,
// activated, oldest first), as at the start of a stream: call it after
// reset.
func (s *sconv) setHistory(c int, v []float32) {
	if s.bufT != nil {
		for t, x := range v[:s.hist] {
			s.bufT[t*s.cin+c] = x
		}
		return
	}
	copy(s.buf[c*s.ld:c*s.ld+s.hist], v)
}

// weightBytes returns the size of the weights the layer reads per chunk.
func (s *sconv) weightBytes() int {
	n := 4 * (len(s.w) + len(s.bias))
	for _, pm := range s.pm {
		n += pm.Bytes()
	}
	if s.bf != nil {
		n += 2 * s.bf.M * s.bf.K
	}
	return n
}

// sconvT is a cached ConvTranspose1d (cached_conv CachedConvTranspose1d)
// of kernel k and stride r: the full, uncropped transposed convolution of
// the chunk (length r·n + k − r) has the previous chunk's overlap (its last
// k − r samples) added to its start; the first r·n samples are the output
// and the last k − r are kept as the next overlap. The output is the
// offline output (padding p) delayed by p samples: cdOut = p + r·cdIn.
type sconvT struct {
	cin, cout, k, r int
	wt, bias        []float32         // wt (cout·k, cin): wt[(o·k+j)·cin + c] = w[c][o][j]
	pm              *panel.Matrix     // wt packed, with few input columns per chunk
	bf              *sgemm.BF16Matrix // wt in bfloat16, for Int8 with more
	off             []int             // bf's row offsets into xa: c·n
	a               act
	xa              []float32 // cin × largest chunk, activated input
	xaT             []float32 // its transpose, largest chunk × pm.Stride
	col             []float32 // (cout·k) × largest chunk
	ov              []float32 // cout × (k − r) overlap

	// the chunk being run, in four steps (parSteps): the activation, for
	// panels the transposition and preparation of the input, the
	// product, the overlap-add with the bias (for panels whose Bᵀ
	// outweighs the weights, the product's parts take ranges of columns
	// and transpose and prepare them: three steps)
	dst, x    []float32
	n         int
	actParts  int
	colsParts int
	split     bool // panels: the product's parts, over columns, do their columns
	parts     int
	colParts  int // of the product's parts, over columns (the rest over rows)
	addParts  int
}

// newSConvT builds a cached transposed convolution from w (cin, cout, k)
// for chunks of at most maxIn input samples (packed panels, the weights
// stored in precision prec, when maxIn is small or usePanels otherwise
// says so; bfloat16 when prec is Int8 and maxIn is not small).
func newSConvT(w, bias []float32, cin, cout, k, r int, a act, maxIn int, prec panel.Precision) *sconvT {
	if k < r {
		panic(fmt.Sprintf("stream: transposed conv: kernel %d shorter than stride %d", k, r))
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
	switch {
	case usePanels(maxIn, prec):
		s.pm = panel.NewMatrix(s.wt, cout*k, cin, cin, prec)
		s.pm.Reserve(maxIn)
		s.wt = nil
		s.xaT = make([]float32, maxIn*s.pm.Stride)
	case prec == panel.Int8:
		s.bf = sgemm.NewBF16Matrix(false, cout*k, cin, s.wt, cin)
		s.off = make([]int, cin)
		s.wt = nil
		reserveParScratch(true, 0)
	}
	reserveParScratch(false, r*maxIn+k-r)
	s.ov = make([]float32, cout*(k-r))
	return s
}

// run up-samples a chunk x (cin × n) into dst (cout × r·n).
func (s *sconvT) run(dst, x []float32, n int) {
	if s.cin*n > len(s.xa) {
		panic(fmt.Sprintf("stream: transposed conv: chunk of %d samples is too long", n))
	}
	s.dst, s.x, s.n = dst, x, n
	if s.bf != nil {
		for c := range s.off {
			s.off[c] = c * n
		}
	}
	s.actParts = partsFor(s.cin*n, parMinWork, min(s.cin, 8))
	s.colsParts, s.split = 0, false
	s.colParts = 1
	rowParts := partsFor(s.cout*s.k*s.cin*n, parMinMadds, parRows)
	switch {
	case s.pm != nil && rowParts > 1 && n >= 8 && splitColumns(s.pm, n):
		// each part transposes, prepares and multiplies its own columns
		s.split = true
		s.colParts, rowParts = min(n/4, parRows), 1
	case s.pm != nil:
		s.colsParts = partsFor(s.cin*n, parMinWork, min(n/actAlign, 8))
	case n >= 64 && rowParts > 1:
		s.colParts = min(n/32, parRows)
		rowParts = max(1, min(parRows/s.colParts, s.cout*s.k/48))
	}
	s.parts = s.colParts * rowParts
	s.addParts = partsFor(s.cout*s.k*n, parMinWork, min(s.cout, 8))
	parSteps(s, [parMaxSteps]int{s.actParts, s.colsParts, s.parts, s.addParts})
	s.dst, s.x = nil, nil
}

// part runs part i of the chunk's steps (parTask): the activation, the
// columns, the product, the overlap-add.
func (s *sconvT) part(i, w int) {
	n := s.n
	switch {
	case i < s.actParts:
		c0, c1 := parRange(i, s.actParts, s.cin, 1)
		for c := c0; c < c1; c++ {
			s.a.Apply(s.xa[c*n:(c+1)*n], s.x[c*n:(c+1)*n], c)
		}
	case i < s.actParts+s.colsParts:
		t0, t1 := parRange(i-s.actParts, s.colsParts, n, actAlign)
		s.cols(t0, t1)
	case i < s.actParts+s.colsParts+s.parts:
		i -= s.actParts + s.colsParts
		M := s.cout * s.k
		rowParts := s.parts / s.colParts
		ci, ri := i/rowParts, i%rowParts
		col := s.col[:M*n]
		switch {
		case s.split:
			j0, j1 := parRange(ci, s.colParts, n, 4)
			s.cols(j0, j1)
			s.pm.MulTPart(0, M, j0, j1, n, s.xaT[:n*s.pm.Stride], 0, col, n)
		case s.pm != nil:
			i0, i1 := parRange(ri, rowParts, M, 4)
			s.pm.MulTRows(i0, i1, n, s.xaT[:n*s.pm.Stride], 0, col, n)
		case s.bf != nil:
			j0, j1 := parRange(ci, s.colParts, n, 32)
			i0, i1 := parRange(ri, rowParts, M, sgemm.BF16RowTile)
			s.bf.MulRowsPart(i0, i1, j0, j1, n, s.xa[:s.cin*n], s.off, false, col, n, parScratch(w).bf)
		default:
			j0, j1 := parRange(ci, s.colParts, n, 32)
			i0, i1 := parRange(ri, rowParts, M, 12)
			if i0 < i1 && j0 < j1 {
				sgemm.SgemmSerial(false, false, i1-i0, j1-j0, s.cin, 1, s.wt[i0*s.cin:], s.cin, s.xa[j0:s.cin*n], n, 0, col[i0*n+j0:], n)
			}
		}
	default:
		i -= s.actParts + s.colsParts + s.parts
		o0, o1 := parRange(i, s.addParts, s.cout, 1)
		s.overlapAdd(o0, o1, parScratch(w).full)
	}
}

// cols transposes columns t0 … t1−1 of the activated input into the
// panel's Bᵀ operand and prepares them.
func (s *sconvT) cols(t0, t1 int) {
	st := s.pm.Stride
	panel.Transpose(s.xaT[t0*st:], st, s.xa[t0:], s.n, s.cin, t1-t0)
	s.pm.PrepareT(t0, t1, s.n, s.xaT[:s.n*st])
}

// overlapAdd forms output channels o0 … o1−1 from the product (col) and
// the overlap, using full as scratch.
func (s *sconvT) overlapAdd(o0, o1 int, full []float32) {
	n, K, r, ovl := s.n, s.k, s.r, s.k-s.r
	col := s.col[:s.cout*K*n]
	full = full[:r*n+ovl]
	for o := o0; o < o1; o++ {
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
		out := s.dst[o*r*n : (o+1)*r*n]
		for i := range out {
			out[i] = full[i] + b
		}
		copy(ov, full[r*n:])
	}
}

func (s *sconvT) reset() { clear(s.ov) }

// weightBytes returns the size of the weights the layer reads per chunk.
func (s *sconvT) weightBytes() int {
	n := 4 * (len(s.wt) + len(s.bias))
	if s.pm != nil {
		n += s.pm.Bytes()
	}
	if s.bf != nil {
		n += 2 * s.bf.M * s.bf.K
	}
	return n
}

// sdelay delays c channels by d samples (cached_conv CachedPadding1d with
// crop, the delay AlignBranches inserts).
type sdelay struct {
	c, d, ld int
	fill     []float32 // per channel, what the line holds after a reset (nil: zeros)
	buf      []float32 // c × (d + largest chunk)
	x        []float32 // the chunk being delayed
	n, parts int
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
		panic(fmt.Sprintf("stream: delay: chunk of %d samples is too long", n))
	}
	s.x, s.n = x, n
	s.parts = partsFor(s.c*n, parMinWork, min(s.c, 8))
	parRun(s.parts, s)
	s.x = nil
}

// part delays the channels of part i (parTask).
func (s *sdelay) part(i, _ int) {
	n := s.n
	c0, c1 := parRange(i, s.parts, s.c, 1)
	for ch := c0; ch < c1; ch++ {
		row := s.buf[ch*s.ld : ch*s.ld+s.d+n]
		xs := s.x[ch*n : (ch+1)*n]
		copy(row[s.d:], xs)
		copy(xs, row[:n])
		copy(row[:s.d], row[n:])
	}
}

func (s *sdelay) reset() {
	clear(s.buf)
	for ch, v := range s.fill {
		row := s.buf[ch*s.ld : ch*s.ld+s.d]
		for i := range row {
			row[i] = v
		}
	}
}

// setFill makes the line hold v[ch] on channel ch after a reset (the
// output of a branch whose input, not output, is delayed, on the zeros
// before the stream: AlignBranches pads the branch's input) and resets
// it.
func (s *sdelay) setFill(v []float32) {
	if s.d > 0 {
		s.fill = v
	}
	s.reset()
}

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
		panic(fmt.Sprintf("stream: fifo: %d + %d samples exceed its capacity %d", f.n, n, f.ld))
	}
	for ch := range f.c {
		copy(f.buf[ch*f.ld+f.n:ch*f.ld+f.n+n], x[ch*n:(ch+1)*n])
	}
	f.n += n
}

// pop removes the oldest n samples into dst (c × n).
func (f *sfifo) pop(dst []float32, n int) {
	if n > f.n {
		panic(fmt.Sprintf("stream: fifo: %d samples wanted, %d queued", n, f.n))
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
