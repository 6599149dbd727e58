package render

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// Progress reports how far a long render has come. On a terminal it draws
// a one-line bar (redrawn at most ten times a second, from the first
// second on, so short renders draw nothing); elsewhere (a log, a pipe) it
// writes nothing while the render runs and one line at the end for
// signals of a minute or more. Give one to Options.Progress (a nil
// *Progress reports nothing). A Progress serves one render at a time.
type Progress struct {
	w     io.Writer
	tty   bool
	label string
	rate  int   // samples per second of the signal counted
	total int64 // samples to do
	done  int64
	start time.Time
	last  time.Time
	drawn bool
}

// NewProgress returns a Progress writing to w (usually os.Stderr); it
// draws a bar only if w is a terminal.
func NewProgress(w io.Writer) *Progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			tty = fi.Mode()&os.ModeCharDevice != 0
		}
	}
	return &Progress{w: w, tty: tty}
}

// Progress timing.
const (
	progressDelay  = time.Second            // no bar for renders quicker than this
	progressRedraw = 100 * time.Millisecond // between redraws
	progressLine   = 60                     // seconds of signal from which a log gets a final line
)

// begin starts reporting a render of total samples at rate Hz.
func (p *Progress) begin(label string, total int64, rate int) {
	if p == nil {
		return
	}
	p.label, p.total, p.rate, p.done = label, total, rate, 0
	p.start, p.last, p.drawn = time.Now(), time.Time{}, false
}

// update records that done samples are finished.
func (p *Progress) update(done int64) {
	if p == nil {
		return
	}
	p.done = done
	if !p.tty {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < progressDelay || now.Sub(p.last) < progressRedraw {
		return
	}
	p.last = now
	p.draw(now)
}

// finish ends the report: the bar at 100 % and a new line on a terminal,
// the summary line elsewhere.
func (p *Progress) finish() {
	if p == nil {
		return
	}
	p.done = p.total
	now := time.Now()
	switch {
	case p.drawn:
		p.draw(now)
		fmt.Fprintln(p.w)
	case !p.tty && p.total >= int64(progressLine*p.rate):
		el := now.Sub(p.start)
		fmt.Fprintf(p.w, "%s: %s of audio in %s (%.1f× real time)\n", p.label, clock(p.seconds(p.total)), el.Round(time.Second), p.seconds(p.total)/el.Seconds())
	}
}

// abandon ends a failed render's bar with a new line.
func (p *Progress) abandon() {
	if p != nil && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *Progress) seconds(n int64) float64 { return float64(n) / float64(max(p.rate, 1)) }

// draw writes the bar: label, bar, percentage, position in the signal,
// speed and the time left.
func (p *Progress) draw(now time.Time) {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	el := now.Sub(p.start).Seconds()
	speed := p.seconds(p.done) / max(el, 1e-9)
	eta := "—"
	if speed > 0 {
		eta = clock(p.seconds(p.total-p.done) / speed)
	}
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%%  %s of %s  %.1f× real time  %s left ",
		p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), int(frac*100),
		clock(p.seconds(p.done)), clock(p.seconds(p.total)), speed, eta)
	p.drawn = true
}

// clock formats seconds as h:mm:ss or m:ss.
func clock(s float64) string {
	t := int(math.Round(s))
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}
