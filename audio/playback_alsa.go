//go:build cgo && linux

package audio

/*
#cgo pkg-config: alsa
#include <alsa/asoundlib.h>
#include <stdarg.h>
#include <stdio.h>

// alsa-lib reports configuration problems ("cannot find card '0'") by
// printing to stderr, which would scribble over a full-screen terminal UI.
// This handler keeps the last message for error reports instead.
static char rave_alsa_last[512];

static void rave_alsa_handler(const char *file, int line, const char *function, int err, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rave_alsa_last, sizeof rave_alsa_last, fmt, ap);
	va_end(ap);
}

static void rave_alsa_quiet(void) { snd_lib_error_set_handler(rave_alsa_handler); }

static void rave_alsa_last_copy(char *dst, int n) {
	snprintf(dst, n, "%s", rave_alsa_last);
}
*/
import "C"

import (
	"sync"
	"unsafe"
)

var quietOnce sync.Once

// quietALSA routes alsa-lib's diagnostics away from stderr for the rest of
// the process (see alsaDetail).
func quietALSA() {
	quietOnce.Do(func() { C.rave_alsa_quiet() })
}

// alsaDetail returns "; ALSA: <last diagnostic>" or "".
func alsaDetail() string {
	var buf [512]C.char
	C.rave_alsa_last_copy(&buf[0], C.int(len(buf)))
	msg := C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
	if msg == "" {
		return ""
	}
	return "; ALSA: " + msg
}
