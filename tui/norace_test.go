//go:build !race

package tui

// raceEnabled reports a -race build, whose instrumentation allocates on
// channel and timer operations.
const raceEnabled = false
