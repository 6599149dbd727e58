package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// KeyMap is the workstation's one set of key bindings. Every key the TUI
// reacts to is declared here; components test keys only with key.Matches.
//
// Global and playback keys work in every pane (unless a text prompt is
// open); the other groups work in their pane only, so they may reuse keys
// across panes but never a global one.
type KeyMap struct {
	// Global.
	NextPane, PrevPane                key.Binding
	Pane1, Pane2, Pane3, Pane4, Pane5 key.Binding
	Help, Quit, Back                  key.Binding
	// Panes is Pane1–Pane5 as one line of help.
	Panes                            key.Binding
	PlayPause, SwitchAB, Loop        key.Binding
	VolumeUp, VolumeDown             key.Binding
	SeekBack, SeekForward, ExportWAV key.Binding

	// Lists (sessions, latent dimensions).
	Up, Down, Enter key.Binding

	// Dialogs and prompts.
	Yes, No, Complete, Submit key.Binding

	// Sessions pane.
	NewSession, Rename, Delete, AddAudio key.Binding

	// Training pane.
	StartTrain, StopTrain, ForceStage2, Preset key.Binding
	PrevTerm, NextTerm                         key.Binding

	// Fidelity pane.
	FidelityDown, FidelityUp          key.Binding
	FidelityFineDown, FidelityFineUp  key.Binding
	PlayAtK, SaveFidelity, Rule, Bits key.Binding
	OpenClip                          key.Binding

	// Latent pane.
	BiasDown, BiasUp, ScaleDown, ScaleUp  key.Binding
	Freeze, Randomize, ResetDim, ResetAll key.Binding
	Render                                key.Binding

	// Generate pane.
	TempDown, TempUp, LengthDown, LengthUp key.Binding
	NewSeed, SeedDown, SeedUp              key.Binding
	Generate, PlayGenerated, ExportGen     key.Binding
}

// DefaultKeyMap returns the standard bindings (shown by `?`).
func DefaultKeyMap() *KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return &KeyMap{
		NextPane:    b([]string{"tab"}, "tab", "next pane"),
		PrevPane:    b([]string{"shift+tab"}, "shift+tab", "previous pane"),
		Pane1:       b([]string{"1"}, "1", "sessions"),
		Pane2:       b([]string{"2"}, "2", "training"),
		Pane3:       b([]string{"3"}, "3", "fidelity"),
		Pane4:       b([]string{"4"}, "4", "latent"),
		Pane5:       b([]string{"5"}, "5", "generate"),
		Panes:       b([]string{"1", "2", "3", "4", "5"}, "1–5", "go to pane"),
		Help:        b([]string{"?"}, "?", "help"),
		Quit:        b([]string{"q", "ctrl+c"}, "q", "quit (training goes on)"),
		Back:        b([]string{"esc"}, "esc", "cancel / close"),
		PlayPause:   b([]string{" "}, "space", "play / pause"),
		SwitchAB:    b([]string{"a"}, "a", "A/B: original ↔ render"),
		Loop:        b([]string{"L"}, "L", "loop on/off"),
		VolumeUp:    b([]string{"+", "="}, "+", "volume up"),
		VolumeDown:  b([]string{"-"}, "-", "volume down"),
		SeekBack:    b([]string{"<", ","}, "<", "back 2 s"),
		SeekForward: b([]string{">", "."}, ">", "forward 2 s"),
		ExportWAV:   b([]string{"w"}, "w", "export WAV"),

		Up:    b([]string{"up", "k"}, "↑/k", "up"),
		Down:  b([]string{"down", "j"}, "↓/j", "down"),
		Enter: b([]string{"enter"}, "enter", "open"),

		Yes:      b([]string{"y"}, "y", "yes"),
		No:       b([]string{"n", "esc"}, "n", "no"),
		Complete: b([]string{"tab"}, "tab", "complete path"),
		Submit:   b([]string{"enter"}, "enter", "confirm"),

		NewSession: b([]string{"n"}, "n", "new session"),
		Rename:     b([]string{"r"}, "r", "rename"),
		Delete:     b([]string{"d"}, "d", "delete"),
		AddAudio:   b([]string{"p"}, "p", "add audio (preprocess)"),

		StartTrain:  b([]string{"s"}, "s", "start / resume"),
		StopTrain:   b([]string{"x"}, "x", "stop (checkpoint)"),
		ForceStage2: b([]string{"F"}, "F", "force stage 2"),
		Preset:      b([]string{"p"}, "p", "preset (new run)"),
		PrevTerm:    b([]string{"left", "h"}, "←/h", "previous loss"),
		NextTerm:    b([]string{"right", "l"}, "→/l", "next loss"),

		FidelityDown:     b([]string{"left", "h"}, "←/h", "fidelity −0.01"),
		FidelityUp:       b([]string{"right", "l"}, "→/l", "fidelity +0.01"),
		FidelityFineDown: b([]string{"shift+left", "{"}, "{", "fidelity −0.001"),
		FidelityFineUp:   b([]string{"shift+right", "}"}, "}", "fidelity +0.001"),
		PlayAtK:          b([]string{"enter"}, "enter", "play clip at k"),
		SaveFidelity:     b([]string{"s"}, "s", "apply (save k)"),
		Rule:             b([]string{"t"}, "t", "exact / power of two"),
		Bits:             b([]string{"b"}, "b", "bits per value"),
		OpenClip:         b([]string{"o"}, "o", "open clip file"),

		BiasDown:  b([]string{"left", "h"}, "←/h", "bias −0.25σ"),
		BiasUp:    b([]string{"right", "l"}, "→/l", "bias +0.25σ"),
		ScaleDown: b([]string{"["}, "[", "scale ÷1.25"),
		ScaleUp:   b([]string{"]"}, "]", "scale ×1.25"),
		Freeze:    b([]string{"f"}, "f", "freeze at playhead"),
		Randomize: b([]string{"z"}, "z", "randomise"),
		ResetDim:  b([]string{"c"}, "c", "clear dim edits"),
		ResetAll:  b([]string{"C"}, "C", "clear all edits"),
		Render:    b([]string{"enter"}, "enter", "play the edited clip (B)"),

		TempDown:      b([]string{"left", "h"}, "←/h", "temperature −0.1"),
		TempUp:        b([]string{"right", "l"}, "→/l", "temperature +0.1"),
		LengthDown:    b([]string{"down", "j"}, "↓/j", "length −1 s"),
		LengthUp:      b([]string{"up", "k"}, "↑/k", "length +1 s"),
		NewSeed:       b([]string{"r"}, "r", "new random seed"),
		SeedDown:      b([]string{"{"}, "{", "seed −1"),
		SeedUp:        b([]string{"}"}, "}", "seed +1"),
		Generate:      b([]string{"enter"}, "enter", "generate"),
		PlayGenerated: b([]string{"p"}, "p", "play the result"),
		ExportGen:     b([]string{"e"}, "e", "export the result as WAV"),
	}
}

// helpSection is a titled group of bindings for the help overlay.
type helpSection struct {
	Title    string
	Bindings []key.Binding
}

// globalSections are the bindings that work everywhere.
func (k *KeyMap) globalSections() []helpSection {
	return []helpSection{
		{"Global", []key.Binding{k.NextPane, k.PrevPane, k.Panes, k.Help, k.Back, k.Quit}},
		{"Playback", []key.Binding{k.PlayPause, k.SwitchAB, k.Loop, k.VolumeUp, k.VolumeDown, k.SeekBack, k.SeekForward, k.ExportWAV}},
	}
}

// footerKeys are the global keys the footer always shows, with short
// descriptions (the help page gives the long ones).
func (k *KeyMap) footerKeys() []key.Binding {
	quit := key.NewBinding(key.WithKeys(k.Quit.Keys()...), key.WithHelp(k.Quit.Help().Key, "quit"))
	return []key.Binding{k.Help, quit}
}

// ShortHelp implements help.KeyMap with the keys shown in the footer.
func (k *KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Help, k.NextPane, k.PlayPause, k.SwitchAB, k.Quit}
}

// FullHelp implements help.KeyMap: the global sections.
func (k *KeyMap) FullHelp() [][]key.Binding {
	var out [][]key.Binding
	for _, s := range k.globalSections() {
		out = append(out, s.Bindings)
	}
	return out
}

// pane returns the pane that msg selects (Pane1–Pane5, in tab order), or
// −1 when it is none of those keys.
func (k KeyMap) pane(msg tea.KeyMsg) int {
	for i, b := range [paneCount]key.Binding{k.Pane1, k.Pane2, k.Pane3, k.Pane4, k.Pane5} {
		if key.Matches(msg, b) {
			return i
		}
	}
	return -1
}
