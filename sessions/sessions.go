// Package sessions manages session folders: one folder per model being
// built, holding its manifest (session.json), dataset, checkpoints, metrics
// and exports. It creates, lists, renames, copies and deletes them, locks
// them for the job using them, says where each stands, writes model cards,
// and resolves a session name or file to its model or prior (OpenModel,
// OpenPrior). Starting and stopping training jobs is sessions/trainjob's,
// telling what a weights file holds core/modelfile's, and rendering with
// a model core/render's.
//
// Layout (DESIGN.md "Files"): $RAVE_HOME/sessions/NAME/ (RAVE_HOME defaults
// to ~/.local/share/rave); sessions/layout names every file and folder in
// it. Every file is written atomically (temporary file, fsync, rename).
package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions/layout"
)

// HomeEnv names the variable that overrides the data folder.
const HomeEnv = "RAVE_HOME"

// FormatName and FormatVersion identify session.json files we write.
const (
	FormatName    = "rave-station-session"
	FormatVersion = 1
)

// ErrNotFound is returned when a session does not exist.
var ErrNotFound = errors.New("session not found")

// ErrExists is returned when creating a session whose folder exists.
var ErrExists = errors.New("session already exists")

// Home returns the data folder: $RAVE_HOME, else ~/.local/share/rave.
func Home() (string, error) {
	if h := os.Getenv(HomeEnv); h != "" {
		return h, nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "rave"), nil
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("sessions: no home folder (set %s): %w", HomeEnv, err)
	}
	return filepath.Join(u, ".local", "share", "rave"), nil
}

// Root returns the folder holding every session.
func Root() (string, error) {
	h, err := Home()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, layout.SessionsDir), nil
}

// ValidateName accepts 1–64 characters of letters, digits, '-', '_' and
// '.', not starting with '.', so a name can never leave the sessions folder
// or hide control characters.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("sessions: empty session name")
	}
	if len(name) > 64 {
		return fmt.Errorf("sessions: name %.20q… is longer than 64 characters", name)
	}
	if name[0] == '.' {
		return fmt.Errorf("sessions: name %q must not start with '.'", name)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("sessions: name %q has the character %q; use letters, digits, '-', '_' or '.'", name, r)
		}
	}
	return nil
}

// Manifest is the versioned content of session.json.
type Manifest struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	Name       string    `json:"name"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	Sources    []string  `json:"sources,omitempty"`
	SampleRate int       `json:"sample_rate,omitempty"`
	Preset     string    `json:"preset,omitempty"`
	Seed       uint64    `json:"seed,omitempty"`
}

// Session is an opened session folder.
type Session struct {
	// Dir is the session folder.
	Dir string
	// Manifest is the parsed session.json.
	Manifest Manifest
}

// Path returns the path of a file inside the session folder.
func (s *Session) Path(elem ...string) string {
	return filepath.Join(append([]string{s.Dir}, elem...)...)
}

// Save writes session.json atomically, updating its time stamp.
func (s *Session) Save() error {
	s.Manifest.Updated = time.Now().UTC()
	if err := core.WriteJSONAtomic(layout.Manifest(s.Dir), s.Manifest); err != nil {
		return fmt.Errorf("sessions: %s: %w", s.Manifest.Name, err)
	}
	return nil
}

// Dir returns the folder of the named session after validating the name.
func Dir(name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, name), nil
}

// Create makes a new empty session.
func Create(name string) (*Session, error) {
	dir, err := Dir(name)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("sessions: %q: %w", name, ErrExists)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sessions: create %q: %w", name, err)
	}
	now := time.Now().UTC()
	s := &Session{Dir: dir, Manifest: Manifest{Format: FormatName, Version: FormatVersion, Name: name, Created: now}}
	if err := s.Save(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Open reads an existing session. A manifest of another format or a newer
// version is refused with a message naming what was found.
func Open(name string) (*Session, error) {
	dir, err := Dir(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(layout.Manifest(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sessions: %q: %w (create it with `rave preprocess --session %s DIR`)", name, ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("sessions: open %q: %w", name, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("sessions: %q: session.json is not valid JSON: %w", name, err)
	}
	if m.Format != FormatName {
		return nil, fmt.Errorf("sessions: %q: session.json has format %q, want %q (not a RAVE Station session)", name, m.Format, FormatName)
	}
	if m.Version < 1 || m.Version > FormatVersion {
		return nil, fmt.Errorf("sessions: %q: session.json is format version %d; this rave reads up to version %d (upgrade rave)", name, m.Version, FormatVersion)
	}
	return &Session{Dir: dir, Manifest: m}, nil
}

// OpenOrCreate opens the named session, creating it if it does not exist.
func OpenOrCreate(name string) (*Session, error) {
	s, err := Open(name)
	if errors.Is(err, ErrNotFound) {
		return Create(name)
	}
	return s, err
}
