package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions/layout"
)

// AnalysisReport is the content of analysis.json: the latent analysis and
// the number of PCA dimensions each common fidelity needs.
type AnalysisReport struct {
	Step     int64            `json:"step"`
	Frames   int              `json:"frames"`
	Source   string           `json:"source"`
	Fidelity []float32        `json:"fidelity"`
	Variance []float64        `json:"variance"`
	Dims     []FidelityChoice `json:"dims"`
	Created  time.Time        `json:"created"`
}

// FidelityChoice is the number of PCA dimensions for a fidelity f: exact
// (the smallest k whose cumulative explained variance reaches f) and the
// reference's export rule (argmax(fidelity > f), rounded up to a power of
// two).
type FidelityChoice struct {
	F         float64 `json:"f"`
	Exact     int     `json:"exact"`
	Reference int     `json:"reference"`
}

// Analyze runs the latent analysis (rave-spec §8) of the session's trained
// model: it encodes the held-out chunks (the same split as training),
// fits the PCA of their posterior means, stores latent_pca, latent_mean and
// fidelity in the model file and writes analysis.json. When the held-out
// chunks have fewer latent frames than the model has dimensions, every
// chunk is used instead, and the report's Source says so; with too little
// audio in all, the error says how much more is needed.
func Analyze(sessionDir string, seed uint64, valFraction float64) (*AnalysisReport, error) {
	path := layout.Model(sessionDir)
	m, err := model.Load(path)
	if err != nil {
		return nil, fmt.Errorf("train: analyze: %w (train the session first)", err)
	}
	ds, err := audio.OpenDataset(sessionDir)
	if err != nil {
		return nil, fmt.Errorf("train: analyze: %w", err)
	}
	defer ds.Close()
	_, valIdx := Split(ds.Len(), valFraction, seed)
	source := "validation split"
	D := m.Config.EncoderLatent()
	framesPerChunk := ds.ChunkLen() / m.Config.CompressionRatio()
	if len(valIdx)*framesPerChunk < D {
		valIdx = make([]int, ds.Len())
		for i := range valIdx {
			valIdx[i] = i
		}
		source = "all chunks (the validation split is too small)"
	}
	frames, err := posteriorMeans(m, ds, valIdx)
	if err != nil {
		return nil, err
	}
	a, err := latent.Fit(frames)
	if errors.Is(err, latent.ErrTooFewFrames) {
		return nil, fmt.Errorf("train: analyze: %w", err)
	}
	if err != nil {
		return nil, err
	}
	if err := m.SetLatentAnalysis(a, m.Step, source); err != nil {
		return nil, err
	}
	if err := m.Save(path); err != nil {
		return nil, err
	}
	rep := &AnalysisReport{Step: m.Step, Frames: a.Frames, Source: source, Fidelity: a.Fidelity, Variance: a.Variance, Created: time.Now().UTC()}
	for _, f := range []float64{0.8, 0.9, 0.95, 0.99} {
		e, r := a.DimsForFidelity(f)
		rep.Dims = append(rep.Dims, FidelityChoice{F: f, Exact: e, Reference: r})
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	err = core.WriteFileAtomic(layout.Analysis(sessionDir), func(f *os.File) error {
		_, err := f.Write(append(b, '\n'))
		return err
	})
	return rep, err
}

// posteriorMeans encodes whole chunks with the encoder in eval mode and
// returns every latent frame's posterior mean.
func posteriorMeans(m *model.Model, ds *audio.Dataset, idx []int) ([][]float32, error) {
	m.Encoder.Training = false
	r := m.Config.CompressionRatio()
	n := ds.ChunkLen() / r * r
	if n == 0 {
		return nil, fmt.Errorf("train: analyze: chunks of %d samples are shorter than one latent frame (%d)", ds.ChunkLen(), r)
	}
	chunk := make([]float32, ds.ChunkLen())
	var frames [][]float32
	for _, i := range idx {
		ds.ChunkFloat(chunk, i)
		x := core.New(append([]float32(nil), chunk[:n]...), 1, 1, n)
		mean, _ := m.Encode(nil, x)
		D, F := mean.Dim(1), mean.Dim(2)
		md := mean.Data()
		for f := range F {
			fr := make([]float32, D)
			for c := range D {
				fr[c] = md[c*F+f]
			}
			frames = append(frames, fr)
		}
	}
	return frames, nil
}
