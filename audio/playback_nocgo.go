//go:build !cgo && !windows && !(darwin && arm64)

package audio

import "fmt"

// openPlayer reports that this build has no audio output: on Linux and
// the BSDs oto reaches ALSA through cgo. Windows and Apple-silicon macOS
// need no cgo (playback_oto.go builds there); on Intel macOS, oto's
// cgo-free path (purego's fakecgo) does not compile with this Go, so
// playback there needs cgo, which a native build has by default.
func openPlayer(PlayerOptions) (*Player, error) {
	return nil, fmt.Errorf("audio unavailable (built without cgo): %w", ErrNoDevice)
}
