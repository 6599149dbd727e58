package sessions

import (
	"errors"
	"github.com/ravestation/rave/sessions/layout"
	"os"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"piano", true}, {"my-session_2.v1", true}, {"Ünïcode", true},
		{"", false}, {"../etc", false}, {"a/b", false}, {".hidden", false},
		{"tab\there", false}, {"bell\a", false}, {strings.Repeat("x", 65), false}, {"sp ace", false},
	} {
		if err := ValidateName(c.name); (err == nil) != c.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestCreateOpen(t *testing.T) {
	s := newSession(t, "piano")
	s.Manifest.Preset = "small"
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create("piano"); !errors.Is(err, ErrExists) {
		t.Errorf("second Create = %v, want ErrExists", err)
	}
	got, err := Open("piano")
	if err != nil {
		t.Fatal(err)
	}
	if got.Manifest.Preset != "small" || got.Manifest.Version != FormatVersion {
		t.Errorf("reopened manifest %+v", got.Manifest)
	}
	if _, err := Open("absent"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(absent) = %v, want ErrNotFound", err)
	}
}

func TestOpenRefusesForeignAndNewerFormats(t *testing.T) {
	s := newSession(t, "x")
	for _, c := range []struct{ body, want string }{
		{`{"format":"rave-station-session","version":99,"name":"x"}`, "version 99"},
		{`{"format":"something-else","version":1}`, `format "something-else"`},
		{`not json`, "not valid JSON"},
	} {
		os.WriteFile(s.Path(layout.ManifestFile), []byte(c.body), 0o644)
		if _, err := Open("x"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open with %s = %v, want an error mentioning %q", c.body, err, c.want)
		}
	}
}

func TestDuplicate(t *testing.T) {
	s := newSession(t, "orig")
	os.WriteFile(s.Path("metrics.jsonl"), []byte("{}\n"), 0o644)
	if err := Duplicate("orig", "copy"); err != nil {
		t.Fatal(err)
	}
	c, err := Open("copy")
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Name != "copy" {
		t.Errorf("copy manifest name %q", c.Manifest.Name)
	}
	if b, _ := os.ReadFile(c.Path("metrics.jsonl")); string(b) != "{}\n" {
		t.Errorf("copied metrics %q", b)
	}
	if err := Duplicate("orig", "copy"); !errors.Is(err, ErrExists) {
		t.Errorf("second duplicate = %v, want ErrExists", err)
	}
	if size, _ := DiskUsage(c.Dir); size == 0 {
		t.Error("DiskUsage of the copy is 0")
	}
}
