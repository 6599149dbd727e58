package tsexport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/interop/torchscript"
	"github.com/ravestation/rave/core/model"
)

// Options choose what an export holds.
type Options struct {
	// Kept is the number of PCA dimensions encode returns and decode
	// takes (1 … latent size; 0: all). decode fills the others with
	// torch.randn.
	Kept int
	// Streaming writes the cached-convolution version (see the package
	// documentation).
	Streaming bool
	// Name is the archive's folder (torch.jit.save uses the file name
	// without extension); WriteFile derives it from the path when empty,
	// Write uses "model".
	Name string
}

// MaxBatchSize is the max_batch_size buffer of an export (the
// reference's value).
const MaxBatchSize = 64

// Write writes m as a TorchScript archive to w.
func Write(w io.Writer, m *model.Model, o Options) error { return writeArchive(w, m, o, build) }

// writeArchive writes the archive of the module tree that build makes of
// m to w, named o.Name or "model".
func writeArchive[M any](w io.Writer, m M, o Options, build func(M, Options) (*module, error)) error {
	if o.Name == "" {
		o.Name = "model"
	}
	tree, err := build(m, o)
	if err != nil {
		return fmt.Errorf("tsexport: %w", err)
	}
	return writeTree(w, o.Name, tree)
}

// writeTree writes the archive of the module tree.
func writeTree(w io.Writer, name string, tree *module) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := torchscript.Write(bw, archive(name, tree)); err != nil {
		return fmt.Errorf("tsexport: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("tsexport: %w", err)
	}
	return nil
}

var notPlain = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// ArchiveName returns the folder name torch.jit.save would give the
// archive of a file at path: its base name without extension, with
// characters other than letters, digits, '_', '.' and '-' replaced by '_'.
func ArchiveName(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	base = notPlain.ReplaceAllString(base, "_")
	if base == "" || strings.Trim(base, ".") == "" {
		return "model"
	}
	return base
}

// WriteFile writes m as a TorchScript archive at path (a temporary file
// renamed into place, so a failure leaves any old file).
func WriteFile(path string, m *model.Model, o Options) error {
	return writeArchiveFile(path, m, o, build)
}

// writeArchiveFile is writeArchive at path (atomically), the archive
// named o.Name or ArchiveName(path).
func writeArchiveFile[M any](path string, m M, o Options, build func(M, Options) (*module, error)) error {
	if o.Name == "" {
		o.Name = ArchiveName(path)
	}
	tree, err := build(m, o)
	if err != nil {
		return fmt.Errorf("tsexport: %w", err)
	}
	return core.WriteFileAtomic(path, func(f *os.File) error { return writeTree(f, o.Name, tree) })
}

// exporter builds the module tree of one model.
type exporter struct {
	m      *model.Model
	cfg    model.Config
	kept   int
	stream bool
}

// checkStreaming refuses a model the streaming export cannot run: one
// whose strided convolutions are dilated (cached_conv's alignment is for
// dilation 1) or whose bands per latent frame are odd (the sign fix of
// the PQMF follows the parity of the bands' time index, which must not
// change from one buffer to the next).
func checkStreaming(c model.Config) error {
	l, err := model.LayersOf(c)
	if err != nil {
		return err
	}
	convs := append(append([]model.Conv{}, l.Encoder...), l.Loud)
	convs = append(convs, l.Noise...)
	for _, st := range l.Stages {
		convs = append(convs, st.Up)
	}
	for _, cv := range convs {
		if g := cv.Geometry(); g.Stride > 1 && g.Dilation > 1 {
			return fmt.Errorf("streaming: %s is strided and dilated", cv.Name())
		}
	}
	if (c.CompressionRatio()/c.DataSize)%2 != 0 {
		return fmt.Errorf("streaming: %d band samples per latent frame; the streaming export needs an even number", c.CompressionRatio()/c.DataSize)
	}
	return nil
}

// build returns the module tree of m's export.
func build(m *model.Model, o Options) (*module, error) {
	c := m.Config
	switch {
	case c.DataSize < 2:
		return nil, errors.New("a model without a PQMF (data_size 1) cannot be exported: the reference's TraceModel always has one")
	case c.CroppedLatentSize != 0 && c.CroppedLatentSize != c.LatentSize:
		return nil, fmt.Errorf("a model trained with cropped_latent_size %d cannot be exported", c.CroppedLatentSize)
	case o.Kept < 0 || o.Kept > c.LatentSize:
		return nil, fmt.Errorf("%d latent dimensions asked of a model of %d", o.Kept, c.LatentSize)
	}
	if o.Streaming {
		if err := checkStreaming(c); err != nil {
			return nil, err
		}
	}
	x := &exporter{m: m, cfg: c, kept: o.Kept, stream: o.Streaming}
	if x.kept == 0 {
		x.kept = c.LatentSize
	}
	return x.top(), nil
}

// lit writes a float as a TorchScript float literal, as torch prints
// them (17 significant digits, always with a point or an exponent).
func lit(f float64) string {
	s := strconv.FormatFloat(f, 'g', 17, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += "."
	}
	return s
}

// ints writes a tuple constant "(1,)" or "(2, 3)".
func ints(v ...int) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(x)
	}
	if len(v) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func f32(v []float32, shape ...int) *torchscript.Data {
	return torchscript.Float32Data(v, shape...)
}

func i64(v int) *torchscript.Data { return torchscript.Int64Data([]int64{int64(v)}) }

// shapeOf returns the shape of a model tensor.
func shapeOf(t *core.Tensor) []int { return append([]int(nil), t.Shape()...) }

// tensor returns a copy of a model tensor as float32 data.
func tensor(t *core.Tensor) *torchscript.Data {
	return f32(append([]float32(nil), t.Data()...), shapeOf(t)...)
}

// Latency returns the latency in samples of forward in m's streaming
// export (its forward_latency attribute), or 0 for a model that cannot
// stream.
func Latency(m *model.Model) int {
	tree, err := build(m, Options{Streaming: true})
	if err != nil {
		return 0
	}
	return latencyOf(tree)
}
