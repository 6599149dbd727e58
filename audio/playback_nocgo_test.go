//go:build !cgo && !windows && !(darwin && arm64)

package audio

import (
	"errors"
	"strings"
	"testing"
)

func TestOpenPlayerWithoutCgo(t *testing.T) {
	_, err := OpenPlayer(PlayerOptions{})
	if !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "audio unavailable (built without cgo)") {
		t.Fatalf("OpenPlayer = %v, want \"audio unavailable (built without cgo)\" wrapping ErrNoDevice", err)
	}
}
