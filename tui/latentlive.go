package tui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// The latent pane's streaming side: it builds a liveTrack for the clip's
// latents when the codec streams and a sound device is open, hands it to
// the playback bar as track B, passes every edit on to it and closes it
// when the latents change or the workstation quits.

// startLive builds a live track in a command when everything it needs is
// there; otherwise edits keep rendering offline.
func (p latentPane) startLive() (latentPane, tea.Cmd) {
	sc, ok := p.codec.(StreamingCodec)
	if !ok || !p.canStream || p.live != nil || p.building || p.liveErr != nil ||
		p.clip == nil || len(p.z) == 0 || p.clip.rate != p.deviceRate || p.clip.rate != p.info.SampleRate {
		return p, nil
	}
	p.building = true
	gen, z, n, rate, edit := p.liveGen, p.z, len(p.clip.samples), p.clip.rate, p.editFunc()
	return p, func() tea.Msg {
		t, err := newLiveTrack(sc, z, n, rate, edit)
		return liveReadyMsg{gen: gen, track: t, err: err}
	}
}

// liveReady installs a freshly built live track, or falls back to offline
// renders when it could not be built.
func (p latentPane) liveReady(msg liveReadyMsg) (latentPane, tea.Cmd) {
	if msg.gen != p.liveGen {
		if msg.track != nil {
			msg.track.Close() // built for latents that are gone
		}
		return p, nil
	}
	p.building = false
	p.closeRetired()
	if msg.err != nil {
		p.liveErr = msg.err
		note := statusCmd("streaming is off (" + msg.err.Error() + "): edits render offline")
		if p.editSeq > 0 && p.heard != p.editSeq && !p.busy {
			next, cmd := p.render(false)
			return next, tea.Batch(note, cmd)
		}
		return p, note
	}
	p.live = msg.track
	p.live.SetEdit(p.editFunc())
	p.live.start()
	p.heard = p.editSeq
	return p, p.liveCmd(false, false) // B changes; which track plays does not
}

// playLive makes the live track B, current, and with play playing.
func (p latentPane) playLive(play bool) tea.Cmd {
	return p.liveCmd(true, play)
}

// liveCmd asks the playback bar to play the live track as B.
func (p latentPane) liveCmd(selectB, play bool) tea.Cmd {
	msg := liveTrackMsg{track: p.live, seq: p.editSeq, label: "live " + p.renderLabel(), selectB: selectB, play: play}
	return func() tea.Msg { return msg }
}

// closeLive stops the live tracks (if any) and forgets them: the clip they
// play is going away. It does not wait for their goroutines.
func (p *latentPane) closeLive() {
	p.retireLive()
	p.closeRetired()
}

// retireLive forgets the live track, which the latents no longer match,
// but leaves it playing (as B) until a successor is installed or
// closeRetired is called, so that a model reloaded during training does
// not interrupt playback.
func (p *latentPane) retireLive() {
	if p.live != nil {
		p.closeRetired()
		p.retired, p.live = p.live, nil
	}
	p.liveGen++
	p.building, p.liveErr = false, nil
}

// closeRetired stops the retired live track, if any.
func (p *latentPane) closeRetired() {
	if p.retired != nil {
		p.retired.Close()
		p.retired = nil
	}
}
