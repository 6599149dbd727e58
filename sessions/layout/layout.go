// Package layout names the files and folders of a session folder, and
// builds their paths. It is the one place that knows them: the packages
// that write a session's files (audio's preprocessing, train, sessions, the
// workstation) and those that read them import it rather than spelling the
// names, and a test here fails if a name appears as a literal anywhere
// else.
//
// A session folder ($RAVE_HOME/sessions/NAME, see SessionsDir) holds:
//
//	session.json          the manifest (ManifestFile)
//	lock                  the advisory lock of the job using it (LockFile)
//	dataset.bin           the preprocessed audio chunks (DatasetBinFile)
//	dataset.json          their index and sources (DatasetJSONFile)
//	train.log             a detached trainer's output (TrainLogFile)
//	control.json          requests to the running trainer (ControlFile)
//	status.json           the heartbeat of the running job (StatusFile)
//	metrics.jsonl         one line per logged step (MetricsFile)
//	model.safetensors     the newest inference model (ModelFile)
//	best.safetensors      the model of the best validation (BestModelFile)
//	checkpoints/          step-NNNNNNNNNNNN/ folders (CheckpointDir)
//	runs/                 run-ID.json manifests of training runs (RunsDir)
//	analysis.json         the latent fidelity report (AnalysisFile)
//	fidelity.json         the fidelity chosen for export (FidelityFile)
//	MODEL_CARD.md         the model card (CardFile)
//	prior/                the latent prior (PriorDir): prior.safetensors,
//	                      latents.bin, and its own status.json,
//	                      metrics.jsonl and checkpoints/
//	exports/              audio, plots and models exported (ExportsDir)
//
// The path helpers take the session folder (or, where said, the folder of
// one training job: the session folder or its prior folder, which the
// prior trainer fills the same way) and join the names to it.
package layout

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// SessionsDir is the folder of every session inside the data folder
// ($RAVE_HOME): a session named NAME is SessionsDir/NAME.
const SessionsDir = "sessions"

// Files and folders at the top of a session folder.
const (
	// ManifestFile is the session's versioned manifest.
	ManifestFile = "session.json"
	// LockFile is the advisory lock held by the job using the session;
	// it holds the holder's pid and purpose.
	LockFile = "lock"
	// DatasetBinFile holds the preprocessed audio chunks (audio's
	// dataset format).
	DatasetBinFile = "dataset.bin"
	// DatasetJSONFile is the dataset's index: sources, chunks, rejects.
	DatasetJSONFile = "dataset.json"
	// TrainLogFile receives a detached trainer's stdout and stderr.
	TrainLogFile = "train.log"
	// ControlFile holds requests to the running trainer, which polls it
	// and deletes it once acted upon: {"force_stage2": true} starts the
	// adversarial stage at the next step.
	ControlFile = "control.json"
	// ModelFile is the inference model (a core/model file), refreshed at
	// every checkpoint as a hard link to the newest checkpoint's model.
	ModelFile = "model.safetensors"
	// BestModelFile is the model of the lowest validation distance so
	// far, rewritten atomically whenever a validation improves on it (the
	// reference's best.ckpt).
	BestModelFile = "best.safetensors"
	// AnalysisFile is the fidelity report of the latent analysis.
	AnalysisFile = "analysis.json"
	// FidelityFile records the fidelity chosen for export.
	FidelityFile = "fidelity.json"
	// CardFile is the Markdown model card.
	CardFile = "MODEL_CARD.md"
	// CreditsFile is the credits of the audio of the installed demo
	// session.
	CreditsFile = "CREDITS.md"
)

// Files and folders of a training job's folder: the session folder for the
// model's trainer, PriorDir inside it for the prior's.
const (
	// StatusFile is the heartbeat of the running job.
	StatusFile = "status.json"
	// MetricsFile is the metrics log, one JSON line per logged step.
	MetricsFile = "metrics.jsonl"
	// CheckpointDir holds one folder per checkpoint, named by
	// CheckpointName.
	CheckpointDir = "checkpoints"
)

// Files inside a checkpoint folder.
const (
	// CheckpointModelFile is the model of a model checkpoint (encoder,
	// decoder, discriminator and buffers) in the format core/model reads.
	CheckpointModelFile = "model.safetensors"
	// CheckpointStateFile is the trainer state of a checkpoint, the
	// model's or the prior's: optimiser moments and counters.
	CheckpointStateFile = "trainer.safetensors"
)

// Files and folders of the latent prior.
const (
	// PriorDir holds everything the prior trainer writes.
	PriorDir = "prior"
	// PriorFile is the newest prior inside PriorDir (a hard link to the
	// newest checkpoint's weights), and the weights inside a prior
	// checkpoint folder.
	PriorFile = "prior.safetensors"
	// PriorLatentsFile caches the encoded dataset inside PriorDir, so a
	// resumed prior run need not encode it again.
	PriorLatentsFile = "latents.bin"
)

// Folders of a session's training runs and exports.
const (
	// RunsDir holds one manifest per training run, named by RunFile.
	RunsDir = "runs"
	// ExportsDir holds audio, plots and models exported from the session.
	ExportsDir = "exports"
	// PlotsDir is the folder of the session's plots inside ExportsDir.
	PlotsDir = "plots"
	// DemoClipFile is the installed demo session's clip inside ExportsDir.
	DemoClipFile = "demo-clip.wav"
)

// checkpointPrefix starts the name of every checkpoint folder.
const checkpointPrefix = "step-"

// runPrefix and runSuffix surround the id in a run manifest's name.
const (
	runPrefix = "run-"
	runSuffix = ".json"
)

// Manifest returns the path of the session's manifest.
func Manifest(dir string) string { return filepath.Join(dir, ManifestFile) }

// Lock returns the path of the session's lock file.
func Lock(dir string) string { return filepath.Join(dir, LockFile) }

// DatasetBin returns the path of the session's dataset chunks.
func DatasetBin(dir string) string { return filepath.Join(dir, DatasetBinFile) }

// DatasetJSON returns the path of the session's dataset index.
func DatasetJSON(dir string) string { return filepath.Join(dir, DatasetJSONFile) }

// TrainLog returns the path of the session's training log.
func TrainLog(dir string) string { return filepath.Join(dir, TrainLogFile) }

// Control returns the path of the session's requests to its trainer.
func Control(dir string) string { return filepath.Join(dir, ControlFile) }

// Model returns the path of the session's newest inference model.
func Model(dir string) string { return filepath.Join(dir, ModelFile) }

// BestModel returns the path of the session's best model.
func BestModel(dir string) string { return filepath.Join(dir, BestModelFile) }

// Analysis returns the path of the session's latent fidelity report.
func Analysis(dir string) string { return filepath.Join(dir, AnalysisFile) }

// Fidelity returns the path of the session's chosen export fidelity.
func Fidelity(dir string) string { return filepath.Join(dir, FidelityFile) }

// Card returns the path of the session's model card.
func Card(dir string) string { return filepath.Join(dir, CardFile) }

// Credits returns the path of the demo session's credits.
func Credits(dir string) string { return filepath.Join(dir, CreditsFile) }

// Status returns the path of the heartbeat of the job whose folder is dir
// (a session folder, or its Prior folder).
func Status(dir string) string { return filepath.Join(dir, StatusFile) }

// Metrics returns the path of the metrics log of the job whose folder is
// dir (a session folder, or its Prior folder).
func Metrics(dir string) string { return filepath.Join(dir, MetricsFile) }

// Checkpoints returns the checkpoint folder of the job whose folder is dir
// (a session folder, or its Prior folder).
func Checkpoints(dir string) string { return filepath.Join(dir, CheckpointDir) }

// CheckpointName returns the name of the checkpoint folder of a step; the
// names sort in step order.
func CheckpointName(step int64) string { return fmt.Sprintf("%s%012d", checkpointPrefix, step) }

// IsCheckpointName reports whether name is that of a checkpoint folder.
func IsCheckpointName(name string) bool { return strings.HasPrefix(name, checkpointPrefix) }

// CheckpointStep returns the step a checkpoint folder's name carries, and
// false when name is not a checkpoint folder's.
func CheckpointStep(name string) (int64, bool) {
	if !IsCheckpointName(name) {
		return 0, false
	}
	step, err := strconv.ParseInt(strings.TrimPrefix(name, checkpointPrefix), 10, 64)
	return step, err == nil && step >= 0
}

// Prior returns the session's prior folder.
func Prior(dir string) string { return filepath.Join(dir, PriorDir) }

// PriorModel returns the path of the session's newest trained prior.
func PriorModel(dir string) string { return filepath.Join(dir, PriorDir, PriorFile) }

// PriorLatents returns the path of the session's cache of encoded
// latents for the prior.
func PriorLatents(dir string) string { return filepath.Join(dir, PriorDir, PriorLatentsFile) }

// RunFile returns the name of the manifest of the training run id.
func RunFile(id string) string { return runPrefix + id + runSuffix }

// Runs returns the session's folder of run manifests.
func Runs(dir string) string { return filepath.Join(dir, RunsDir) }

// Run returns the path of the manifest of the session's training run id.
func Run(dir, id string) string { return filepath.Join(dir, RunsDir, RunFile(id)) }

// RunGlob returns a filepath.Glob pattern matching every run manifest of
// the session.
func RunGlob(dir string) string { return filepath.Join(dir, RunsDir, RunFile("*")) }

// Exports returns the session's exports folder, or a path inside it.
func Exports(dir string, elem ...string) string {
	return filepath.Join(append([]string{dir, ExportsDir}, elem...)...)
}

// Plots returns the folder of the session's plots.
func Plots(dir string) string { return filepath.Join(dir, ExportsDir, PlotsDir) }

// DemoClip returns the path of the demo session's clip.
func DemoClip(dir string) string { return filepath.Join(dir, ExportsDir, DemoClipFile) }
