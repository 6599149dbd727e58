package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// RunManifest is a run's record (runlog.Run) with the trainer's whole
// configuration.
type RunManifest struct {
	runlog.Run
	Config Config `json:"config"`
}

func binaryInfo() runlog.BinaryInfo {
	b := runlog.BinaryInfo{Go: runtime.Version(), Threads: runtime.GOMAXPROCS(0), Kernel: core.SgemmKernel()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.Module, b.Version = bi.Main.Path, bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	return b
}

func datasetIdentity(dir string) runlog.DatasetIdentity {
	info, err := audio.ReadDatasetInfo(dir)
	if err != nil {
		return runlog.DatasetIdentity{}
	}
	h := sha256.New()
	id := runlog.DatasetIdentity{Chunks: info.ChunkCount, Seconds: info.TotalSeconds, Rate: info.SampleRate}
	for _, f := range info.Files {
		h.Write([]byte(f.SHA256))
		id.Files = append(id.Files, f.Path)
	}
	id.Hash = hex.EncodeToString(h.Sum(nil))
	return id
}

// configDiff lists the fields of c that differ from the preset's defaults.
func configDiff(c Config) map[string]string {
	d, err := Defaults(c.Preset)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	cv, dv := reflect.ValueOf(c), reflect.ValueOf(d)
	for i := range cv.NumField() {
		name := cv.Type().Field(i).Name
		if name == "SessionDir" {
			continue
		}
		a, b := cv.Field(i).Interface(), dv.Field(i).Interface()
		if !reflect.DeepEqual(a, b) {
			out[name] = fmt.Sprint(a)
		}
	}
	return out
}

// newRunManifest starts the manifest of a run.
func newRunManifest(dir string, cfg Config, modelJSON string, step int64, resumed bool) *RunManifest {
	now := time.Now().UTC()
	return &RunManifest{Run: runlog.Run{
		ID: now.Format("20060102-150405"), State: "running", Started: now, StartStep: step, EndStep: step,
		Resumed: resumed, Seed: cfg.Seed, Preset: cfg.Preset, ConfigDiff: configDiff(cfg),
		ModelJSON: json.RawMessage(modelJSON), Dataset: datasetIdentity(dir), Binary: binaryInfo(),
	}, Config: cfg}
}

// save writes the manifest to runs/run-ID.json atomically.
func (r *RunManifest) save(sessionDir string) error {
	dir := layout.Runs(sessionDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return core.WriteJSONAtomic(layout.Run(sessionDir, r.ID), r)
}
