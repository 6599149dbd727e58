package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// WriteCard writes a Markdown model card for the session: the model and
// its training runs (from the run manifests), the dataset and its sources,
// the fidelity table of the latent analysis, the last metrics, and the given
// plot images (paths; linked relative to the card). It returns the card's
// path.
func (s *Session) WriteCard(plots []string) (string, error) {
	var b bytes.Buffer
	name := s.Manifest.Name
	fmt.Fprintf(&b, "# Model card: %s\n\n", name)
	fmt.Fprintf(&b, "RAVE model trained with RAVE Station (%s). Generated %s.\n\n", s.Manifest.Preset, time.Now().UTC().Format(time.RFC3339))

	if m, _, err := OpenModel(layout.Model(s.Dir)); err == nil {
		enc, dec, disc := m.ParamCounts()
		c := m.Config
		fmt.Fprintf(&b, "## Model\n\n| | |\n|---|---|\n")
		fmt.Fprintf(&b, "| preset | %s |\n| sample rate | %d Hz |\n| PQMF bands | %d |\n| capacity | %d |\n| latent dims | %d |\n", c.Preset, c.SR, c.DataSize, c.Capacity, c.LatentSize)
		fmt.Fprintf(&b, "| ratios | %v (%d samples per latent frame, %.2f frames/s) |\n", c.Ratios, c.CompressionRatio(), float64(c.SR)/float64(c.CompressionRatio()))
		fmt.Fprintf(&b, "| parameters | encoder %d, decoder %d, discriminator %d |\n", enc, dec, disc)
		fmt.Fprintf(&b, "| trained steps | %d (stage %d) |\n\n", m.Step, m.Stage)
		if m.LatentAnalysis.Done {
			a := m.LatentPCA()
			fmt.Fprintf(&b, "## Latent fidelity\n\nPCA of %d posterior means (%s, step %d).\n\n", m.LatentAnalysis.Frames, m.LatentAnalysis.Source, m.LatentAnalysis.Step)
			fmt.Fprintf(&b, "| fidelity | dims (exact) | dims (reference rule) | latent bitrate at 8 bits |\n|---|---|---|---|\n")
			rate := float64(c.SR) / float64(c.CompressionRatio())
			for _, f := range []float64{0.8, 0.9, 0.95, 0.99} {
				e, r := a.DimsForFidelity(f)
				fmt.Fprintf(&b, "| %.2f | %d | %d | %.2f kbit/s |\n", f, e, r, float64(r)*rate*8/1000)
			}
			b.WriteString("\n")
		}
	} else {
		fmt.Fprintf(&b, "## Model\n\nNo trained model yet (%v).\n\n", err)
	}

	if info, err := audio.ReadDatasetInfo(s.Dir); err == nil {
		fmt.Fprintf(&b, "## Dataset\n\n%d files, %.1f minutes at %d Hz in %d chunks of %d samples.\n\n", len(info.Files), info.SourceSeconds/60, info.SampleRate, info.ChunkCount, info.ChunkLen)
		if len(info.Rejected) > 0 {
			fmt.Fprintf(&b, "%d input(s) were rejected:\n\n", len(info.Rejected))
			for _, r := range info.Rejected {
				fmt.Fprintf(&b, "- `%s`: %s\n", filepath.Base(r.Path), r.Reason)
			}
			b.WriteString("\n")
		}
		if len(s.Manifest.Sources) > 0 {
			fmt.Fprintf(&b, "Sources: %s\n\n", strings.Join(s.Manifest.Sources, ", "))
		}
	}

	runs, _ := runlog.ReadRuns(s.Dir)
	if len(runs) > 0 {
		b.WriteString("## Training runs\n\n| run | state | steps | seed | settings changed from the preset | dataset hash | binary |\n|---|---|---|---|---|---|---|\n")
		for _, r := range runs {
			var diff []string
			for k, v := range r.ConfigDiff {
				diff = append(diff, k+"="+v)
			}
			sort.Strings(diff)
			rev := r.Binary.Version
			if r.Binary.Revision != "" {
				rev += " " + r.Binary.Revision[:min(12, len(r.Binary.Revision))]
			}
			fmt.Fprintf(&b, "| %s | %s | %d → %d | %d | %s | %.12s | %s |\n", r.ID, r.State, r.StartStep, r.EndStep, r.Seed, strings.Join(diff, ", "), r.Dataset.Hash, rev)
		}
		last := runs[len(runs)-1]
		if len(last.Losses) > 0 {
			js, _ := json.Marshal(last.Losses)
			fmt.Fprintf(&b, "\nFinal losses of the last run: `%s`.\n", js)
		}
		b.WriteString("\n")
	}
	if len(plots) > 0 {
		b.WriteString("## Plots\n\n")
		for _, p := range plots {
			rel, err := filepath.Rel(s.Dir, p)
			if err != nil {
				rel = p
			}
			fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), filepath.ToSlash(rel))
		}
	}
	b.WriteString("## Intended use and limits\n\nA RAVE v1 model for reconstruction, timbre transfer and latent exploration of audio like its dataset. It reproduces the timbre of its training data only; audio far from it is rendered in that timbre. Check the licence of the training audio before sharing outputs.\n")
	path := layout.Card(s.Dir)
	err := core.WriteFileAtomic(path, func(f *os.File) error {
		_, err := f.Write(b.Bytes())
		return err
	})
	return path, err
}
