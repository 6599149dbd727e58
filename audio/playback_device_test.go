//go:build cgo && linux

package audio

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// alsaRuntime reports whether alsa-lib's configuration is installed (the
// library itself is linked in, or this test would not run at all).
func alsaRuntime() bool {
	for _, p := range []string{"/usr/share/alsa/alsa.conf", "/usr/local/share/alsa/alsa.conf", "/etc/alsa/alsa.conf"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// TestPlaybackReachesDevice plays a sine through oto and ALSA into a file,
// with no sound hardware: alsa-lib reads $XDG_CONFIG_HOME/alsa/asoundrc,
// which here sends the default PCM to the "file" plugin (raw float32 LE
// frames, the format oto always hands ALSA) over the "null" device. The
// null device does not pace the writer, so the context stays suspended
// except while the player plays (OpenPlayer and Pause take care of it), and
// we compare the non-zero samples rather than trusting the file size.
func TestPlaybackReachesDevice(t *testing.T) {
	if !alsaRuntime() {
		t.Skip("alsa-lib configuration (alsa.conf) not installed")
	}
	if os.Getenv(noDeviceEnv) != "" {
		t.Skip("running as the no-device helper")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.raw")
	if err := os.MkdirAll(filepath.Join(dir, "alsa"), 0o755); err != nil {
		t.Fatal(err)
	}
	rc := "pcm.!default {\n  type file\n  slave.pcm \"null\"\n  file \"" + out + "\"\n  format \"raw\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "alsa", "asoundrc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_HOME", dir) // before the process's first ALSA call

	const rate, n = 44100, 22050
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	p, err := OpenPlayer(PlayerOptions{SampleRate: rate})
	if err != nil {
		t.Fatalf("OpenPlayer with the file-plugin asoundrc: %v", err)
	}
	defer p.Close()
	if err := p.Load(NewClip(x, rate), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Play(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Playing() {
		if time.Now().After(deadline) {
			t.Fatal("still playing 10 s after starting 0.5 s of audio")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the device loop write its last period
	p.Pause()
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The null device drains oto's mixer faster than the player refills it,
	// so silence is interleaved with the sine: compare the non-zero frames,
	// in order, with the sine (x[0] = sin 0 is its only zero sample).
	frames := len(raw) / 8
	var got []float32
	for f := range frames {
		l := math.Float32frombits(binary.LittleEndian.Uint32(raw[f*8:]))
		r := math.Float32frombits(binary.LittleEndian.Uint32(raw[f*8+4:]))
		if l != r {
			t.Fatalf("frame %d: left %v ≠ right %v", f, l, r)
		}
		if l != 0 {
			got = append(got, l)
		}
	}
	if len(got) != n-1 {
		t.Fatalf("%d non-zero frames reached the device, want %d", len(got), n-1)
	}
	for i, v := range got {
		if v != x[i+1] {
			t.Fatalf("non-zero frame %d = %v, want x[%d] = %v", i, v, i+1, x[i+1])
		}
	}
	t.Logf("%d frames written, %d of them the sine", frames, len(got))
}

const noDeviceEnv = "RAVE_TEST_NO_DEVICE"

// TestOpenPlayerNoDevice runs OpenPlayer in a child process whose ALSA
// configuration names a card that does not exist (only one device can be
// opened per process, and this process's belongs to the test above). The
// child must fail with ErrNoDevice, without writing to stderr. How long it
// took is logged, not asserted: OpenTimeout bounds a device that does not
// answer, and a machine's load must not fail the test.
func TestOpenPlayerNoDevice(t *testing.T) {
	if os.Getenv(noDeviceEnv) != "" {
		start := time.Now()
		p, err := OpenPlayer(PlayerOptions{OpenTimeout: 3 * time.Second})
		if err == nil {
			p.Close()
			t.Fatal("OpenPlayer succeeded with a configuration naming no card")
		}
		if !errors.Is(err, ErrNoDevice) {
			t.Fatalf("OpenPlayer error %v does not wrap ErrNoDevice", err)
		}
		took := time.Since(start)
		if _, err2 := OpenPlayer(PlayerOptions{}); !errors.Is(err2, ErrNoDevice) {
			t.Fatalf("second OpenPlayer: %v, want the remembered ErrNoDevice", err2)
		}
		os.Stdout.WriteString("NO-DEVICE-ERROR: " + err.Error() + " (after " + took.Round(time.Millisecond).String() + ")\n")
		return
	}
	if !alsaRuntime() {
		t.Skip("alsa-lib configuration (alsa.conf) not installed")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "alsa.conf")
	if err := os.WriteFile(conf, []byte("pcm.!default {\n  type hw\n  card 99\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenPlayerNoDevice$", "-test.v")
	cmd.Env = append(os.Environ(), noDeviceEnv+"=1", "ALSA_CONFIG_PATH="+conf, "XDG_CONFIG_HOME="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s\nstderr:\n%s", err, outb, stderr.String())
	}
	if !strings.Contains(string(outb), "NO-DEVICE-ERROR:") {
		t.Fatalf("child did not report the error:\n%s", outb)
	}
	if strings.Contains(stderr.String(), "ALSA lib") {
		t.Errorf("alsa-lib wrote to stderr despite quietALSA:\n%s", stderr.String())
	}
	for _, line := range strings.Split(string(outb), "\n") {
		if strings.HasPrefix(line, "NO-DEVICE-ERROR:") {
			t.Log(line)
		}
	}
}
