package demo

import (
	"os"
	"testing"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
)

func TestInstall(t *testing.T) {
	t.Setenv(sessions.HomeEnv, t.TempDir())
	name, created, err := Install()
	if err != nil {
		t.Fatal(err)
	}
	if name != Name || !created {
		t.Fatalf("Install() = %q, %v; want %q, true", name, created, Name)
	}
	s, err := sessions.Open(Name)
	if err != nil {
		t.Fatal(err)
	}
	if !Is(s) {
		t.Errorf("Is(installed session) = false; sources %q", s.Manifest.Sources)
	}
	m, err := model.Load(s.Path(layout.ModelFile))
	if err != nil {
		t.Fatalf("the demo model does not load: %v", err)
	}
	b, err := audio.Decode(layout.DemoClip(s.Dir))
	if err != nil {
		t.Fatalf("the demo clip does not decode: %v", err)
	}
	if b.SampleRate != 48000 || len(b.Channels) != 1 || len(b.Mono()) < 48000 {
		t.Errorf("clip: %d Hz, %d channels, %d frames; want 48 kHz mono, at least 1 s", b.SampleRate, len(b.Channels), len(b.Mono()))
	}
	f, err := s.ReadFidelity()
	if err != nil {
		t.Fatal(err)
	}
	if f.Dims < 1 || f.Dims > m.Config.LatentSize {
		t.Errorf("fidelity choice %+v: dims outside 1..%d", f, m.Config.LatentSize)
	}
	if _, err := os.Stat(s.Path(layout.CreditsFile)); err != nil {
		t.Error(err)
	}

	// A second Install leaves the session alone.
	mod := s.Manifest.Updated
	name, created, err = Install()
	if err != nil || name != Name || created {
		t.Fatalf("second Install() = %q, %v, %v; want %q, false, nil", name, created, err, Name)
	}
	again, err := sessions.Open(Name)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Manifest.Updated.Equal(mod) {
		t.Errorf("second Install rewrote the manifest")
	}
}

func TestInstallKeepsUserSession(t *testing.T) {
	t.Setenv(sessions.HomeEnv, t.TempDir())
	if _, err := sessions.Create(Name); err != nil {
		t.Fatal(err)
	}
	_, created, err := Install()
	if err != nil || created {
		t.Fatalf("Install() over a user's %q session: created %v, err %v", Name, created, err)
	}
	s, err := sessions.Open(Name)
	if err != nil {
		t.Fatal(err)
	}
	if Is(s) {
		t.Error("a user's session was marked as the demo")
	}
	if _, err := os.Stat(s.Path(layout.ModelFile)); err == nil {
		t.Error("Install wrote a model into a user's session")
	}
}
