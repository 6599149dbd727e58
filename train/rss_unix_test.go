//go:build unix

package train

import (
	"runtime"
	"syscall"
)

// rusageMaxRSS returns the process's peak resident set size from
// getrusage (kilobytes on Linux and the BSDs, bytes on macOS).
func rusageMaxRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return uint64(ru.Maxrss)
	}
	return uint64(ru.Maxrss) * 1024
}
