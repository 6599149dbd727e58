//go:build (cgo || windows || (darwin && arm64)) && !linux

package audio

// quietALSA does nothing: only Linux uses ALSA.
func quietALSA() {}

// alsaDetail returns "": only Linux uses ALSA.
func alsaDetail() string { return "" }
