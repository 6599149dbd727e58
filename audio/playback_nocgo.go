//go:build !cgo

package audio

import "fmt"

// openPlayer reports that this build has no audio output: oto needs cgo
// (and ALSA on Linux).
func openPlayer(PlayerOptions) (*Player, error) {
	return nil, fmt.Errorf("audio unavailable (built without cgo): %w", ErrNoDevice)
}
