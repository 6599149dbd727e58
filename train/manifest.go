package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions/layout"
)

// RunManifest records what a training run was: enough to reproduce it and
// to tell runs apart (seed, preset and the settings that differ from it,
// dataset identity, binary, time span, final losses).
type RunManifest struct {
	ID         string             `json:"id"`
	State      string             `json:"state"` // running, done, stopped, failed
	Started    time.Time          `json:"started"`
	Ended      time.Time          `json:"ended,omitzero"`
	StartStep  int64              `json:"start_step"`
	EndStep    int64              `json:"end_step"`
	Resumed    bool               `json:"resumed"`
	Seed       uint64             `json:"seed"`
	Preset     string             `json:"preset"`
	ConfigDiff map[string]string  `json:"config_diff"` // setting → value, where it differs from the preset's default
	Config     Config             `json:"config"`
	ModelJSON  json.RawMessage    `json:"model_config"`
	Dataset    DatasetIdentity    `json:"dataset"`
	Binary     BinaryInfo         `json:"binary"`
	Losses     map[string]float64 `json:"final_losses,omitempty"`
	Validation float64            `json:"final_validation,omitempty"`
	Error      string             `json:"error,omitempty"`
}

// DatasetIdentity names the data a run saw.
type DatasetIdentity struct {
	// Hash is the SHA-256 of the kept files' SHA-256 digests in chunk order.
	Hash    string   `json:"hash"`
	Files   []string `json:"files"`
	Chunks  int      `json:"chunks"`
	Seconds float64  `json:"seconds"`
	Rate    int      `json:"sample_rate"`
}

// BinaryInfo describes the program that trained.
type BinaryInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Revision string `json:"vcs_revision,omitempty"`
	Modified bool   `json:"vcs_modified,omitempty"`
	Go       string `json:"go"`
	Threads  int    `json:"threads"`
	Kernel   string `json:"sgemm_kernel"`
}

func binaryInfo() BinaryInfo {
	b := BinaryInfo{Go: runtime.Version(), Threads: runtime.GOMAXPROCS(0), Kernel: core.SgemmKernel()}
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

func datasetIdentity(dir string) DatasetIdentity {
	info, err := audio.ReadDatasetInfo(dir)
	if err != nil {
		return DatasetIdentity{}
	}
	h := sha256.New()
	id := DatasetIdentity{Chunks: info.ChunkCount, Seconds: info.TotalSeconds, Rate: info.SampleRate}
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
	return &RunManifest{
		ID: now.Format("20060102-150405"), State: "running", Started: now, StartStep: step, EndStep: step,
		Resumed: resumed, Seed: cfg.Seed, Preset: cfg.Preset, ConfigDiff: configDiff(cfg), Config: cfg,
		ModelJSON: json.RawMessage(modelJSON), Dataset: datasetIdentity(dir), Binary: binaryInfo(),
	}
}

// save writes the manifest to runs/run-ID.json atomically.
func (r *RunManifest) save(sessionDir string) error {
	dir := layout.Runs(sessionDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return core.WriteFileAtomic(layout.Run(sessionDir, r.ID), func(f *os.File) error {
		_, err := f.Write(append(b, '\n'))
		return err
	})
}

// ReadRuns returns the session's run manifests, oldest first.
func ReadRuns(sessionDir string) ([]RunManifest, error) {
	matches, err := filepath.Glob(layout.RunGlob(sessionDir))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	var runs []RunManifest
	for _, p := range matches {
		b, err := os.ReadFile(p)
		if err != nil {
			return runs, fmt.Errorf("train: %w", err)
		}
		var r RunManifest
		if err := json.Unmarshal(b, &r); err != nil {
			return runs, fmt.Errorf("train: run manifest %s: %w", filepath.Base(p), err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}
