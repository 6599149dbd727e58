package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

func TestSummaryStates(t *testing.T) {
	s := newSession(t, "states")
	touch := func(elem ...string) {
		t.Helper()
		p := s.Path(elem...)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	status := func(state string, stage runlog.Stage) {
		t.Helper()
		if err := runlog.WriteStatus(s.Path(layout.StatusFile), runlog.Status{State: state, Stage: stage, Step: 5}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		do   func()
		want State
	}{
		{func() {}, StateEmpty},
		{func() { touch(layout.DatasetBinFile) }, StatePreprocessed},
		// No trainer holds the lock in any of these: none says "training".
		{func() { touch(layout.CheckpointDir, "step-000000000100", layout.CheckpointModelFile) }, StateStopped},
		{func() { status("running", runlog.StageVAE) }, StateStopped}, // killed: the heartbeat is stale
		{func() { status("stopped", runlog.StageAdversarial) }, StateStopped},
		{func() { status("failed", runlog.StageVAE) }, StateFailed},
		{func() { touch(layout.ModelFile); status("done", runlog.StageAdversarial) }, StateTrained},
	}
	for i, st := range steps {
		st.do()
		if got := s.Summary(); got.State != st.want {
			t.Errorf("step %d: State = %q, want %q (%+v)", i, got.State, st.want, got)
		}
	}
	if sum := s.Summary(); sum.Checkpoints != 1 || !sum.HasModel || !sum.HasDataset || sum.Status == nil || sum.Running {
		t.Errorf("Summary = %+v", sum)
	}
}

func TestTrainingState(t *testing.T) {
	heartbeat := func(state string, stage runlog.Stage) *runlog.Status {
		return &runlog.Status{State: state, Stage: stage}
	}
	tests := []struct {
		name    string
		running bool
		st      *runlog.Status
		started bool
		want    State
	}{
		{"never started", false, nil, false, ""},
		{"checkpoints only", false, nil, true, StateStopped},
		{"running stage 1", true, heartbeat("running", runlog.StageVAE), true, StateTraining},
		{"running stage 2", true, heartbeat("running", runlog.StageAdversarial), true, StateStage2},
		{"running, no heartbeat yet", true, nil, false, StateTraining},
		{"stopped", false, heartbeat("stopped", runlog.StageVAE), true, StateStopped},
		{"stopped in stage 2", false, heartbeat("stopped", runlog.StageAdversarial), true, StateStopped},
		{"killed", false, heartbeat("running", runlog.StageAdversarial), true, StateStopped},
		{"failed", false, heartbeat("failed", runlog.StageVAE), true, StateFailed},
		{"done", false, heartbeat("done", runlog.StageAdversarial), true, StateTrained},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TrainingState(tt.running, tt.st, tt.started); got != tt.want {
				t.Errorf("TrainingState(%v, %+v, %v) = %q, want %q", tt.running, tt.st, tt.started, got, tt.want)
			}
		})
	}
}

func TestListRenameDelete(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	if names, err := List(); err != nil || len(names) != 0 {
		t.Fatalf("List of a fresh home = %v, %v", names, err)
	}
	for _, n := range []string{"violin", "cello"} {
		if _, err := Create(n); err != nil {
			t.Fatal(err)
		}
	}
	root, _ := Root()
	os.MkdirAll(filepath.Join(root, "not-a-session"), 0o755)
	if names, _ := List(); !slices.Equal(names, []string{"cello", "violin"}) {
		t.Fatalf("List = %v, want [cello violin]", names)
	}
	if err := Rename("cello", "viola"); err != nil {
		t.Fatal(err)
	}
	s, err := Open("viola")
	if err != nil || s.Manifest.Name != "viola" {
		t.Fatalf("Open after rename = %+v, %v", s, err)
	}
	if err := Rename("viola", "violin"); !errors.Is(err, ErrExists) {
		t.Errorf("Rename onto an existing session = %v, want ErrExists", err)
	}
	if err := Rename("viola", "../escape"); err == nil {
		t.Error("Rename to ../escape: no error")
	}
	if err := Delete("viola"); err != nil {
		t.Fatal(err)
	}
	if names, _ := List(); !slices.Equal(names, []string{"violin"}) {
		t.Errorf("List after delete = %v", names)
	}
	if err := Delete("viola"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete of a deleted session = %v, want ErrNotFound", err)
	}
}

func TestFidelityFile(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	s, _ := Create("fid")
	if _, err := s.ReadFidelity(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFidelity before any = %v, want ErrNotExist", err)
	}
	want := Fidelity{Fidelity: 0.95, Dims: 7, Rule: "exact", Bits: 8, KbitPerSec: 1.3}
	if err := s.SaveFidelity(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadFidelity()
	if err != nil || got.Dims != 7 || got.Rule != "exact" || got.Chosen.IsZero() {
		t.Errorf("ReadFidelity = %+v, %v", got, err)
	}
}
