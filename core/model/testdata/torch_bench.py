#!/usr/bin/python3
"""PyTorch timing baseline for RAVE v1 (Caillon & Esling 2021), random weights.

What it measures
    RAVE v1 at full size (capacity 64, latent 128, ratios 4,4,4,2, 16-band
    PQMF, 48 kHz, noise synthesiser, loudness and waveform heads), built here
    from ../shared/reference/rave-spec.md (§0.1 padding, §2 PQMF, §3.1 encoder,
    §3.3 posterior, §4.1 generator, §4.2 noise synthesiser, §6.1 losses) with
    random weights, in PyTorch on the CPU:

    * always: encode + decode of 10 s of 48 kHz audio at batch 1, in eval mode
      under torch.no_grad(), as `rave bench --preset v1 --no-stream` does it:
      encode = PQMF analysis + encoder + std = softplus(scale) + 1e-4, decode =
      generator on the posterior mean without the noise head + PQMF synthesis.
      Best of --runs runs after --warmup runs (encode and decode are those of
      the best run). decode_with_noise_ms times the decode with the noise
      synthesiser on (what an exported model does by default).
    * --step: one v1 stage-1 training step, batch 8 x 65 536 samples: PQMF
      analysis -> encoder (BatchNorm in training mode) -> reparameterise ->
      generator (no noise: stage 1) -> multiscale spectral distance (§6.1) on
      the 16 bands and on the PQMF-resynthesised full band + loudness distance
      + 0.1 KL -> backward -> Adam (lr 1e-4, betas 0.5, 0.9) on encoder and
      decoder. Best of --step-runs after one warm-up step, with the peak RSS
      of the step phase.
    * --sgemm: float32 torch.mm of two 1024 x 1024 matrices, in GFLOP/s.

    It prints one JSON object on stdout (torch version, threads, BLAS
    configuration, OPENBLAS_CORETYPE, CPU model from /proc/cpuinfo, parameter
    counts, times in ms) and a one-line summary on stderr.

It is a timing baseline only: the weights are random (PyTorch's default
initialisation, seed --seed), nothing is downloaded, and no reference RAVE
package is used; the modules are written here from the specification. The
PQMF filters are designed here as §2.2-2.3 describe (Kaiser prototype,
Nelder-Mead on the cutoff, cosine modulation); the loudness A-weighting uses
librosa >= 0.9's constants, as the fixture and core/model/tables.go do. The
module and tensor names are the reference's state-dict names (rave-spec.md
§12.1), so the architecture can be checked two ways:

    * parameter counts: encoder and decoder (weight-norm gains weight_g
      included, as `rave bench` counts them) must equal what
      `rave bench --preset v1` prints: encoder 4,836,416, decoder 12,779,442
      (core/model/doc.go; rave-spec.md §10's 12,777,441 excludes the gains and
      assumes biases on the up-samplers and residual convolutions, which the
      tag-v1 state dict does not have). The JSON says params_match_go.
    * --check-fixture [DIR]: builds the reduced-size model of the parity
      fixture ../shared/fixtures/rave-v1-small (capacity 8, latent 16,
      produced with the reference code), loads its encoder and decoder
      weights, and compares this script's PQMF filters, A-weighting, forward
      tensors, losses and loss gradients with the reference's values.

How to run (from the repository root; Debian's PyTorch 1.13 is installed for
/usr/bin/python3):

    /usr/bin/python3 core/model/testdata/torch_bench.py             # encode+decode 10 s
    /usr/bin/python3 core/model/testdata/torch_bench.py --step      # + stage-1 step
    /usr/bin/python3 core/model/testdata/torch_bench.py --sgemm     # + 1024^3 sgemm
    /usr/bin/python3 core/model/testdata/torch_bench.py --check-fixture --no-infer
    options: --threads N (default 2), --runs R, --warmup W, --seconds S,
             --step-runs R, --keep-wn, --native-pad, --no-infer, --seed S

Compare with, in the same sitting:

    go build -o rave . && ./rave bench --preset v1 --seconds 10 --no-stream --precision f32

Conventions that matter for the timing (all recorded in the JSON):
    * threads: torch.set_num_threads(N) (OpenMP: oneDNN convolutions and ATen)
      and openblas_set_num_threads(N) (OpenBLAS has its own thread pool, which
      torch.set_num_threads does not set in this build).
    * padding: like cached_conv's Conv1d in non-streaming mode, every Conv1d
      zero-pads explicitly (F.pad) and then runs a valid convolution
      (rave-spec §0.1). --native-pad passes symmetric paddings to conv1d
      instead (no copy).
    * weight norm: folded into plain weights for inference (as the reference's
      export does before scripting; `rave bench` likewise caches the effective
      weights), kept as forward hooks with --keep-wn; the training step always
      recomputes it.
    * OPENBLAS_CORETYPE is read from the environment (it selects OpenBLAS's
      kernels; Haswell = AVX2) and reported with openblas_get_config().

Measure on an idle machine. With other processes on the same cores, PyTorch's
OpenMP threads (default wait policy: spin) lose far more than single-threaded
or Go code does: on a 2-core VM at load 9-14, 2 threads took 1.9-4.7 s for
the 10 s encode+decode against 0.86 s with --threads 1 and 0.63 s with
OMP_WAIT_POLICY=PASSIVE (recorded under "env" when set). The JSON records the
load average before and after the run, and every run's total (total_ms_all).
"""

import argparse
import ctypes
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Parameter counts of `rave bench --preset v1` (core/model/doc.go), weight-norm
# gains included.
GO_V1_ENCODER_PARAMS = 4_836_416
GO_V1_DECODER_PARAMS = 12_779_442

# Full-size v1 hyper-parameters (train_rave.py defaults, rave-spec.md §3.1).
V1 = dict(data_size=16, capacity=64, latent_size=128, ratios=[4, 4, 4, 2], bias=True,
          loud_stride=1, use_noise=True, noise_ratios=[4, 4, 4], noise_bands=5, sr=48000,
          pqmf_attenuation=100.0)

NATIVE_PAD = False  # set by --native-pad


# ---------------------------------------------------------------------------
# Padding (rave-spec §0.1) and layers
# ---------------------------------------------------------------------------

def get_padding(k, dilation=1):
    """Centred "same" padding (left, right) of cached_conv's get_padding."""
    if k == 1:
        return (0, 0)
    p = (k - 1) * dilation + 1
    return ((p - 1) // 2, p // 2)


class Conv1d(nn.Conv1d):
    """Conv1d as cached_conv runs it in non-streaming mode: explicit zero
    padding (left, right), then a valid convolution."""

    def __init__(self, cin, cout, k, stride=1, dilation=1, groups=1, bias=True, pad=(0, 0)):
        super().__init__(cin, cout, k, stride=stride, dilation=dilation, groups=groups,
                         bias=bias, padding=0)
        self._pad = tuple(pad)

    def forward(self, x):
        if NATIVE_PAD and self._pad[0] == self._pad[1]:
            return F.conv1d(x, self.weight, self.bias, self.stride, self._pad[0],
                            self.dilation, self.groups)
        if self._pad != (0, 0):
            x = F.pad(x, self._pad)
        return F.conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def wn(module):
    """Classic weight normalisation (weight_g, weight_v; norm over all dims but 0)."""
    return nn.utils.weight_norm(module)


class Branches(nn.Module):
    """Parallel branches on one input (cached_conv AlignBranches, non-streaming)."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return [b(x) for b in self.branches]


class Residual(nn.Module):
    """out = x + module(x); the module sits at aligned.branches.0."""

    def __init__(self, module):
        super().__init__()
        self.aligned = Branches(module, nn.Identity())

    def forward(self, x):
        y, r = self.aligned(x)
        return y + r


def mod_sigmoid(x):
    return 2 * torch.sigmoid(x) ** 2.3 + 1e-7


# ---------------------------------------------------------------------------
# PQMF (rave-spec §2)
# ---------------------------------------------------------------------------

def kaiser_lowpass(wc, atten):
    """Windowed-sinc low-pass at cutoff wc (rad/sample), Kaiser order and beta
    from the attenuation, no gain rescaling (§2.2 steps 1-2)."""
    delta = wc / math.pi
    n = math.ceil((atten - 7.95) / (2.285 * math.pi * delta) + 1)
    n = 2 * (n // 2) + 1
    if atten > 50:
        beta = 0.1102 * (atten - 8.7)
    elif atten > 21:
        beta = 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    else:
        beta = 0.0
    alpha = (n - 1) / 2
    t = np.arange(n) - alpha
    win = np.i0(beta * np.sqrt(np.clip(1 - (t / alpha) ** 2, 0, None))) / np.i0(beta)
    return delta * np.sinc(delta * t) * win


def prototype_loss(wc, m, atten):
    """Lin & Vaidyanathan objective (§2.2 step 3)."""
    h = kaiser_lowpass(wc, atten)
    g = np.convolve(h, h[::-1])
    c = len(h) - 1
    return np.max(np.abs(g[c + 2 * m::2 * m]))


def nelder_mead_1d(f, x0, xtol=1e-4, ftol=1e-4, maxiter=200, maxfun=200):
    """Nelder-Mead with SciPy fmin's defaults, for one variable (§2.2 step 4)."""
    rho, chi, psi, sigma = 1.0, 2.0, 0.5, 0.5
    sim = [x0, x0 * 1.05 if x0 != 0 else 0.00025]
    fsim = [f(sim[0]), f(sim[1])]
    ncalls = 2
    order = sorted(range(2), key=lambda i: fsim[i])
    sim, fsim = [sim[i] for i in order], [fsim[i] for i in order]
    it = 1
    while ncalls < maxfun and it < maxiter:
        if abs(sim[1] - sim[0]) <= xtol and abs(fsim[0] - fsim[1]) <= ftol:
            break
        xbar = sim[0]
        xr = (1 + rho) * xbar - rho * sim[-1]
        fxr = f(xr)
        ncalls += 1
        shrink = False
        if fxr < fsim[0]:
            xe = (1 + rho * chi) * xbar - rho * chi * sim[-1]
            fxe = f(xe)
            ncalls += 1
            if fxe < fxr:
                sim[-1], fsim[-1] = xe, fxe
            else:
                sim[-1], fsim[-1] = xr, fxr
        elif fxr < fsim[-2]:
            sim[-1], fsim[-1] = xr, fxr
        else:
            if fxr < fsim[-1]:
                xc = (1 + psi * rho) * xbar - psi * rho * sim[-1]
                fxc = f(xc)
                ncalls += 1
                if fxc <= fxr:
                    sim[-1], fsim[-1] = xc, fxc
                else:
                    shrink = True
            else:
                xcc = (1 - psi) * xbar + psi * sim[-1]
                fxcc = f(xcc)
                ncalls += 1
                if fxcc < fsim[-1]:
                    sim[-1], fsim[-1] = xcc, fxcc
                else:
                    shrink = True
            if shrink:
                sim[1] = sim[0] + sigma * (sim[1] - sim[0])
                fsim[1] = f(sim[1])
                ncalls += 1
        order = sorted(range(2), key=lambda i: fsim[i])
        sim, fsim = [sim[i] for i in order], [fsim[i] for i in order]
        it += 1
    return sim[0]


def pqmf_bank(m, atten):
    """Prototype (§2.2) and cosine-modulated bank centre-padded to a power of
    two (§2.3): returns h (N,) and hk (M, L) in float64."""
    wc = nelder_mead_1d(lambda w: prototype_loss(w, m, atten), 1.0 / m)
    h = kaiser_lowpass(wc, atten)
    n = len(h)
    t = np.arange(n) - (n - 1) / 2
    k = np.arange(m)[:, None]
    hk = 2 * h[None, :] * np.cos((2 * k + 1) * np.pi / (2 * m) * t[None, :]
                                 + (-1.0) ** k * np.pi / 4)
    L = 1 << math.ceil(math.log2(n))
    left = (L - n) // 2
    hk = np.pad(hk, ((0, 0), (left, L - n - left)))
    return h, hk


class FixedConv(nn.Module):
    """Holds a fixed (buffer) convolution kernel at `.weight`."""

    def __init__(self, w):
        super().__init__()
        self.register_buffer("weight", w)


class PQMF(nn.Module):
    """16-band PQMF analysis and synthesis as single convolutions (CachedPQMF, §2.4-2.5)."""

    def __init__(self, m=16, atten=100.0):
        super().__init__()
        self.m = m
        h, hk = pqmf_bank(m, atten)
        L = hk.shape[1]
        self.L = L
        fwd = np.concatenate([hk, np.zeros((m, 1))], 1)[:, None, :]          # (M, 1, L+1)
        rev = hk[:, ::-1].reshape(m, L // m, m)                               # [c, t, p] = H_c[L-1-(M t+p)]
        inv = np.transpose(rev, (2, 0, 1))                                    # [p, c, t]
        inv = np.concatenate([inv, np.zeros((m, m, 1))], 2)                   # (M, M, L/M+1)
        self.forward_conv = FixedConv(torch.tensor(fwd, dtype=torch.float32))
        self.inverse_conv = FixedConv(torch.tensor(np.ascontiguousarray(inv), dtype=torch.float32))
        self.h, self.hk = h, hk
        self.fwd_pad = get_padding(L + 1)        # (256, 256)
        self.inv_pad = get_padding(L // m + 1)   # (16, 16)
        self._masks = {}

    def _sign(self, t, like):
        # reverse_half: odd bands, even frames -> -1
        key = (t, like.dtype)
        if key not in self._masks:
            s = torch.ones(self.m, t, dtype=like.dtype)
            s[1::2, ::2] = -1
            self._masks[key] = s
        return self._masks[key]

    def _conv(self, x, w, stride, pad):
        if NATIVE_PAD and pad[0] == pad[1]:
            return F.conv1d(x, w, None, stride, pad[0])
        return F.conv1d(F.pad(x, pad), w, None, stride)

    def forward(self, x):  # (B, 1, T) -> (B, M, T/M)
        u = self._conv(x, self.forward_conv.weight, self.m, self.fwd_pad)
        return u * self._sign(u.shape[-1], u)

    def inverse(self, u):  # (B, M, T/M) -> (B, 1, T)
        u = u * self._sign(u.shape[-1], u)
        y = self._conv(u, self.inverse_conv.weight, 1, self.inv_pad) * self.m
        y = y.flip(1)
        b, m, t = y.shape
        return y.permute(0, 2, 1).reshape(b, 1, t * m)


# ---------------------------------------------------------------------------
# Encoder (§3.1), posterior (§3.3)
# ---------------------------------------------------------------------------

class Encoder(nn.Module):
    def __init__(self, data_size, capacity, latent_size, ratios, bias):
        super().__init__()
        net = [Conv1d(data_size, capacity, 7, bias=bias, pad=get_padding(7))]
        for i, r in enumerate(ratios):
            cin, cout = capacity * 2 ** i, capacity * 2 ** (i + 1)
            net += [nn.BatchNorm1d(cin), nn.LeakyReLU(0.2),
                    Conv1d(cin, cout, 2 * r + 1, stride=r, bias=bias, pad=get_padding(2 * r + 1))]
        net += [nn.LeakyReLU(0.2),
                Conv1d(cout, 2 * latent_size, 5, groups=2, bias=bias, pad=get_padding(5))]
        self.net = nn.Sequential(*net)
        self.latent = latent_size

    def forward(self, x):
        z = self.net(x)
        return z[:, :self.latent], z[:, self.latent:]


def posterior_std(scale):
    return F.softplus(scale) + 1e-4


def kl_code(mean, std):
    var = std * std
    return (mean * mean + var - torch.log(var) - 1).sum(1).mean()


# ---------------------------------------------------------------------------
# Generator (§4.1) and noise synthesiser (§4.2)
# ---------------------------------------------------------------------------

class UpsampleLayer(nn.Module):
    def __init__(self, cin, cout, r):
        super().__init__()
        if r > 1:
            up = wn(nn.ConvTranspose1d(cin, cout, 2 * r, stride=r, padding=r // 2, bias=False))
        else:
            up = wn(Conv1d(cin, cout, 3, bias=False, pad=get_padding(3)))
        self.net = nn.Sequential(nn.LeakyReLU(0.2), up)

    def forward(self, x):
        return self.net(x)


class ResidualStack(nn.Module):
    """Three residual blocks, dilations 1, 3, 9 (tag v1), no biases."""

    def __init__(self, dim):
        super().__init__()
        blocks = []
        for i in range(3):
            d = 3 ** i
            blocks.append(Residual(nn.Sequential(
                nn.LeakyReLU(0.2),
                wn(Conv1d(dim, dim, 3, dilation=d, bias=False, pad=get_padding(3, d))),
                nn.LeakyReLU(0.2),
                wn(Conv1d(dim, dim, 3, bias=False, pad=get_padding(3))),
            )))
        self.net = nn.Sequential(*blocks)

    def forward(self, x):
        return self.net(x)


def amp_to_impulse_response(amp, target_size):
    """Zero-phase real spectrum (…, bins) -> centred, Hann-windowed IR of
    target_size samples with its negative-time half wrapped to the end."""
    ir = torch.fft.irfft(torch.complex(amp, torch.zeros_like(amp)))
    n = ir.shape[-1]
    ir = torch.roll(ir, n // 2, -1)
    ir = ir * torch.hann_window(n, dtype=ir.dtype)
    ir = F.pad(ir, (0, int(target_size) - n))
    return torch.roll(ir, -(n // 2), -1)


def fft_convolve(signal, kernel):
    """Linear convolution of equal-length blocks, first len(signal) samples."""
    n = signal.shape[-1]
    s = torch.fft.rfft(F.pad(signal, (0, n)))
    k = torch.fft.rfft(F.pad(kernel, (0, n)))
    return torch.fft.irfft(s * k)[..., :n]


class NoiseGenerator(nn.Module):
    def __init__(self, in_size, data_size, ratios, noise_bands):
        super().__init__()
        net = []
        for i, r in enumerate(ratios):
            out = data_size * noise_bands if i == len(ratios) - 1 else in_size
            net.append(Conv1d(in_size, out, 3, stride=r, pad=get_padding(3)))
            if i != len(ratios) - 1:
                net.append(nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*net)
        self.data_size = data_size
        self.register_buffer("target_size", torch.tensor(int(np.prod(ratios)), dtype=torch.long))

    def amplitudes(self, h):
        return mod_sigmoid(self.net(h) - 5)

    def forward(self, h):
        a = self.amplitudes(h)                                        # (B, 16*5, F)
        b, _, f = a.shape
        a = a.permute(0, 2, 1).reshape(b, f, self.data_size, -1)      # (B, F, 16, 5)
        ts = int(self.target_size)
        ir = amp_to_impulse_response(a, ts)                          # (B, F, 16, 64)
        noise = torch.rand(b, f, self.data_size, ts, dtype=h.dtype) * 2 - 1
        noise = fft_convolve(noise, ir)
        return noise.permute(0, 2, 1, 3).reshape(b, self.data_size, f * ts)


class Generator(nn.Module):
    def __init__(self, latent_size, capacity, data_size, ratios, loud_stride, use_noise,
                 noise_ratios, noise_bands, bias):
        super().__init__()
        n = len(ratios)
        net = [wn(Conv1d(latent_size, capacity * 2 ** n, 7, bias=bias, pad=get_padding(7)))]
        for i, r in enumerate(ratios):
            cin, cout = capacity * 2 ** (n - i), capacity * 2 ** (n - i - 1)
            net += [UpsampleLayer(cin, cout, r), ResidualStack(cout)]
        self.net = nn.Sequential(*net)
        heads = [wn(Conv1d(cout, data_size, 7, bias=bias, pad=get_padding(7))),
                 wn(Conv1d(cout, 1, 2 * loud_stride + 1, stride=loud_stride, bias=bias,
                           pad=get_padding(2 * loud_stride + 1)))]
        if use_noise:
            heads.append(NoiseGenerator(cout, data_size, noise_ratios, noise_bands))
        self.synth = Branches(*heads)
        self.loud_stride = loud_stride
        self.use_noise = use_noise

    def heads(self, h, add_noise):
        wave = self.synth.branches[0](h)
        loud = self.synth.branches[1](h)
        if self.loud_stride > 1:
            loud = loud.repeat_interleave(self.loud_stride, -1)
        y = torch.tanh(wave) * mod_sigmoid(loud)
        if add_noise and self.use_noise:
            y = y + self.synth.branches[2](h)
        return y

    def forward(self, z, add_noise=False):
        return self.heads(self.net(z), add_noise)


# ---------------------------------------------------------------------------
# Losses (§6.1)
# ---------------------------------------------------------------------------

class SpectralDistance(nn.Module):
    """v1 multiscale spectral distance: normalised STFT magnitudes, scales
    2048…128, hop n/4, periodic Hann (built in float32), centre (reflect)."""

    def __init__(self, scales=(2048, 1024, 512, 256, 128)):
        super().__init__()
        self.scales = scales
        for n in scales:
            self.register_buffer(f"win{n}", torch.hann_window(n, dtype=torch.float32))

    def stft(self, x, n):
        w = getattr(self, f"win{n}").to(x.dtype)
        s = torch.stft(x, n, hop_length=n // 4, win_length=n, window=w, center=True,
                       pad_mode="reflect", normalized=True, onesided=True, return_complex=True)
        return s.abs()

    def forward(self, x, y, per_scale=False):
        x = x.reshape(-1, x.shape[-1])
        y = y.reshape(-1, y.shape[-1])
        total, terms = 0, []
        for n in self.scales:
            sx, sy = self.stft(x, n), self.stft(y, n)
            lin = torch.linalg.norm(sx - sy) / torch.linalg.norm(sx)
            log = (torch.log(sx + 1e-7) - torch.log(sy + 1e-7)).abs().mean()
            total = total + lin + log
            terms.append((lin, log))
        return (total, terms) if per_scale else total


def a_weighting_db(sr, n_fft=2048):
    """A-weighting in dB, floor -80 dB, (bins, 1), at linspace(0, sr/2) + 1e-7.
    Constants of librosa >= 0.9, as the reference fixture's buffer and the Go
    code (core/model/tables.go) have them; librosa 0.8's rounded ones (12200,
    20.6, 107.7, 737.9; rave-spec §6.1) differ by at most 0.0065 dB."""
    f = np.linspace(0, sr / 2, n_fft // 2 + 1) + 1e-7
    c = np.array([12194.217, 20.598997, 107.65265, 737.86223]) ** 2.0
    f2 = f * f
    w = 2.0 + 20.0 * (np.log10(c[0]) + 4 * np.log10(f) - np.log10(f2 + c[0])
                      - np.log10(f2 + c[1]) - 0.5 * np.log10(f2 + c[2])
                      - 0.5 * np.log10(f2 + c[3]))
    return np.maximum(-80.0, w)[:, None]


class Loudness(nn.Module):
    """mean over frequency of log|STFT_2048| + A-weighting (hop 512, centre)."""

    def __init__(self, sr, n_fft=2048):
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("a_weight", torch.tensor(a_weighting_db(sr, n_fft), dtype=torch.float32))
        self.register_buffer("window", torch.hann_window(n_fft, dtype=torch.float32))

    def forward(self, x):  # (B, 1, T) -> (B, 1, frames)
        b, c, t = x.shape
        s = torch.stft(x.reshape(-1, t), self.n_fft, hop_length=self.n_fft // 4,
                       win_length=self.n_fft, window=self.window.to(x.dtype), center=True,
                       pad_mode="reflect", normalized=False, onesided=True,
                       return_complex=True).abs()
        s = torch.log(s + 1e-7) + self.a_weight.to(x.dtype)
        return s.mean(-2).reshape(b, c, -1)


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------

class RAVEv1(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.pqmf = PQMF(cfg["data_size"], cfg["pqmf_attenuation"])
        self.encoder = Encoder(cfg["data_size"], cfg["capacity"], cfg["latent_size"],
                               cfg["ratios"], cfg["bias"])
        self.decoder = Generator(cfg["latent_size"], cfg["capacity"], cfg["data_size"],
                                 cfg["ratios"], cfg["loud_stride"], cfg["use_noise"],
                                 cfg["noise_ratios"], cfg["noise_bands"], cfg["bias"])
        self.distance = SpectralDistance()
        self.loudness = Loudness(cfg["sr"])

    def encode(self, x):
        mean, scale = self.encoder(self.pqmf(x))
        return mean, posterior_std(scale)

    def decode(self, z, add_noise=False):
        return self.pqmf.inverse(self.decoder(z, add_noise))

    def stage1_loss(self, x, beta=0.1, sample=True):
        """v1 stage-1 generator loss (rave-spec §6.1, §6.6)."""
        x_mb = self.pqmf(x)
        mean, scale = self.encoder(x_mb)
        std = posterior_std(scale)
        kl = kl_code(mean, std)
        z = mean + std * torch.randn_like(mean) if sample else mean
        y_mb = self.decoder(z, add_noise=False)
        mss_mb = self.distance(x_mb, y_mb)
        x_fb, y_fb = self.pqmf.inverse(x_mb), self.pqmf.inverse(y_mb)
        mss_fb = self.distance(x_fb, y_fb)
        loud = (self.loudness(x_fb) - self.loudness(y_fb)).pow(2).mean()
        loss = mss_mb + mss_fb + loud + beta * kl
        return loss, dict(mss_mb=mss_mb, mss_fb=mss_fb, loud=loud, kl=kl)


def count(module, gains=True):
    return sum(p.numel() for name, p in module.named_parameters()
               if gains or not name.endswith("weight_g"))


def fold_weight_norm(module):
    for m in module.modules():
        if hasattr(m, "weight_g"):
            nn.utils.remove_weight_norm(m)


# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------

def openblas():
    """The loaded OpenBLAS (torch's BLAS in this build), if any: (lib, path)."""
    torch.mm(torch.ones(4, 4), torch.ones(4, 4))  # make sure BLAS is loaded
    seen = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if p.startswith("/") and ("blas" in p.lower()) and p not in seen:
                    seen.append(p)
    except OSError:
        pass
    seen.sort(key=lambda p: "libopenblas" not in p)
    for p in seen:
        try:
            lib = ctypes.CDLL(p)
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib, p, seen
        except (OSError, AttributeError):
            continue
    return None, None, seen


def cpu_info():
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k == "model name" and model is None:
                    model = v.strip()
                elif k == "flags" and not flags:
                    flags = set(v.split())
    except OSError:
        pass
    wanted = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16"]
    return dict(cpu_model=model or platform.processor(), logical_cpus=os.cpu_count(),
                cpu_flags=[w for w in wanted if w in flags])


def debian_packages():
    """Versions of the Debian packages behind torch and its BLAS, if dpkg is there."""
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Package}=${Version}\n", "python3-torch",
                            "libopenblas0-pthread"], capture_output=True, text=True, timeout=10)
        return [l for l in r.stdout.splitlines() if l.strip()] or None
    except (OSError, subprocess.SubprocessError):
        return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except OSError:
        return None


def torch_cpu_capability():
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage" in line:
            return line.split(":", 1)[1].strip()
    return None


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ms(t):
    return round(t * 1000, 2)


# ---------------------------------------------------------------------------
# Benchmarks
# ---------------------------------------------------------------------------

def bench_infer(args, out):
    torch.manual_seed(args.seed)
    model = RAVEv1(V1)
    out["encoder_params"] = count(model.encoder)
    out["decoder_params"] = count(model.decoder)
    out["encoder_params_without_wn_gains"] = count(model.encoder, gains=False)
    out["decoder_params_without_wn_gains"] = count(model.decoder, gains=False)
    out["params_match_go"] = (out["encoder_params"] == GO_V1_ENCODER_PARAMS
                              and out["decoder_params"] == GO_V1_DECODER_PARAMS)
    print(f"parameters: encoder {out['encoder_params']}, decoder {out['decoder_params']} "
          f"(weight-norm gains included, as `rave bench` counts them; "
          f"Go v1: {GO_V1_ENCODER_PARAMS}, {GO_V1_DECODER_PARAMS}: "
          f"{'match' if out['params_match_go'] else 'MISMATCH'})", file=sys.stderr)
    model.eval()
    if not args.keep_wn:
        fold_weight_norm(model)
    r = 2048
    n = int(args.seconds * V1["sr"])
    n = (n + r - 1) // r * r
    g = torch.Generator().manual_seed(args.seed + 1)
    x = 0.3 * torch.randn(1, 1, n, generator=g)
    out["samples"] = n
    out["latent_frames"] = n // r

    def run(noise=False):
        t0 = time.perf_counter()
        mean, std = model.encode(x)
        t1 = time.perf_counter()
        y = model.decode(mean, add_noise=noise)
        t2 = time.perf_counter()
        assert y.shape == x.shape, (y.shape, x.shape)
        return t1 - t0, t2 - t1

    with torch.no_grad():
        for _ in range(args.warmup):
            run()
        res = [run() for _ in range(args.runs)]
        best = min(res, key=lambda ed: ed[0] + ed[1])
        noisy = [run(noise=True)[1] for _ in range(args.runs)]
    out["encode_ms"], out["decode_ms"] = ms(best[0]), ms(best[1])
    out["total_ms"] = ms(best[0] + best[1])
    out["total_ms_median"] = ms(statistics.median(e + d for e, d in res))
    out["total_ms_all"] = [ms(e + d) for e, d in res]
    out["real_time_factor"] = round(n / V1["sr"] / (best[0] + best[1]), 2)
    out["decode_with_noise_ms"] = ms(min(noisy))
    out["runs"] = args.runs


def bench_step(args, out):
    torch.manual_seed(args.seed)
    model = RAVEv1(V1)
    model.train()
    params = list(model.encoder.parameters()) + list(model.decoder.parameters())
    opt = torch.optim.Adam(params, lr=1e-4, betas=(0.5, 0.9))
    B, T = 8, 65536
    g = torch.Generator().manual_seed(args.seed + 2)
    x = 0.3 * torch.randn(B, 1, T, generator=g)
    reset_ok = reset_peak_rss()

    def step():
        t0 = time.perf_counter()
        opt.zero_grad()
        loss, terms = model.stage1_loss(x, beta=0.1, sample=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - t0, loss.item(), {k: v.item() for k, v in terms.items()}

    step()  # warm-up
    res = [step() for _ in range(args.step_runs)]
    best = min(r[0] for r in res)
    out["step"] = dict(
        batch=B, n_signal=T, best_ms=ms(best), median_ms=ms(statistics.median(r[0] for r in res)),
        all_ms=[ms(r[0]) for r in res], runs=args.step_runs,
        peak_rss_mib=round(peak_rss_mib(), 1),
        peak_rss_scope="step phase only" if reset_ok else "whole process",
        losses_last={k: round(v, 4) for k, v in res[-1][2].items()},
        loss_last=round(res[-1][1], 4),
        loss=("mss_mb + mss_fb + loud + 0.1 kl (rave-spec 6.1, 6.6), z sampled, no noise, "
              "BatchNorm in training mode, Adam lr 1e-4 betas (0.5, 0.9), weight norm recomputed"),
    )


def bench_sgemm(args, out):
    n = args.sgemm_size
    g = torch.Generator().manual_seed(args.seed + 3)
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    c = torch.empty(n, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    reps = max(1, int(2e10 // (2 * n ** 3)))  # ~0.1-0.2 s per timed batch
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        times.append((time.perf_counter() - t0) / reps)
    flop = 2 * n ** 3
    out["sgemm"] = dict(m=n, n=n, k=n, best_gflops=round(flop / min(times) / 1e9, 1),
                        median_gflops=round(flop / statistics.median(times) / 1e9, 1),
                        calls_per_batch=reps, batches=len(times))


# ---------------------------------------------------------------------------
# Fixture check (reduced-size reference model, ../shared/fixtures/rave-v1-small)
# ---------------------------------------------------------------------------

def check_fixture(path):
    """Compares this script's model (float64) with the reference's float64
    outputs, twice: with the PQMF filters designed here, and with the
    fixture's stored filters (which isolates everything else: it should then
    agree to rounding). Returns the relative errors max|ours - ref| / max|ref|
    and an overall pass."""
    own = _check_fixture(path, fixture_pqmf=False, tol=1e-4, grad_tol=1e-2)
    ref = _check_fixture(path, fixture_pqmf=True, tol=1e-9, grad_tol=1e-9)
    return dict(path=os.path.abspath(path), passed=own["passed"] and ref["passed"],
                with_own_pqmf=own, with_fixture_pqmf=ref)


def _check_fixture(path, fixture_pqmf, tol, grad_tol):
    sd = dict(np.load(os.path.join(path, "v1_small_state_dict.npz")))
    ref = dict(np.load(os.path.join(path, "v1_small_reference_f64.npz")))
    with open(os.path.join(path, "v1_small_hparams.json")) as f:
        hp = json.load(f)["hparams"]
    cfg = dict(V1)
    for k in ("data_size", "capacity", "latent_size", "ratios", "bias", "loud_stride",
              "use_noise", "noise_ratios", "noise_bands", "sr"):
        cfg[k] = hp[k]
    torch.manual_seed(0)
    model = RAVEv1(cfg).double()
    mine = model.state_dict()
    want = {k for k in sd if k.startswith(("encoder.", "decoder."))}
    have = {k for k in mine if k.startswith(("encoder.", "decoder."))}
    errs, notes = {}, []
    if want != have:
        notes.append(f"state-dict keys differ: missing {sorted(want - have)}, extra {sorted(have - want)}")
    for k in sorted(want & have):
        if tuple(mine[k].shape) != tuple(sd[k].shape):
            notes.append(f"{k}: shape {tuple(mine[k].shape)} vs reference {tuple(sd[k].shape)}")
    model.load_state_dict({k: torch.tensor(sd[k]) for k in want & have}, strict=False)
    model.eval()
    if fixture_pqmf:
        with torch.no_grad():
            for k in ("forward_conv", "inverse_conv"):
                getattr(model.pqmf, k).weight.copy_(torch.tensor(sd[f"pqmf.{k}.weight"]))

    def rel(name, ours, theirs):
        ours = ours.detach().double().numpy() if torch.is_tensor(ours) else np.asarray(ours, float)
        theirs = np.asarray(theirs, float)
        if ours.shape != theirs.shape:
            notes.append(f"{name}: shape {ours.shape} vs reference {theirs.shape}")
            errs[name] = float("inf")
            return
        d = np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-30)
        errs[name] = float(f"{d:.3g}")

    # Fixed buffers computed here vs the reference's.
    rel("pqmf.hk", model.pqmf.hk, sd["pqmf.hk"])
    rel("pqmf.forward_conv.weight", model.pqmf.forward_conv.weight, sd["pqmf.forward_conv.weight"])
    rel("pqmf.inverse_conv.weight", model.pqmf.inverse_conv.weight, sd["pqmf.inverse_conv.weight"])
    rel("loudness.a_weight", model.loudness.a_weight, sd["loudness.a_weight"])
    rel("loudness.window", model.loudness.window, sd["loudness.window"])

    x = torch.tensor(ref["input"]).double()
    with torch.no_grad():
        x_mb = model.pqmf(x)
        rel("pqmf_analysis", x_mb, ref["pqmf_analysis"])
        rel("pqmf_reconstruction", model.pqmf.inverse(x_mb), ref["pqmf_reconstruction"])
        mean, scale = model.encoder(x_mb)
        std = posterior_std(scale)
        rel("enc_mean", mean, ref["enc_mean"])
        rel("enc_scale", scale, ref["enc_scale"])
        rel("enc_std", std, ref["enc_std"])
        rel("kl", kl_code(mean, std), ref["kl"])
        h = model.decoder.net(mean)
        rel("dec_hidden", h, ref["dec_hidden"])
        rel("dec_wave_raw", model.decoder.synth.branches[0](h), ref["dec_wave_raw"])
        rel("dec_loud_raw", model.decoder.synth.branches[1](h), ref["dec_loud_raw"])
        rel("dec_noise_amp", model.decoder.synth.branches[2].amplitudes(h), ref["dec_noise_amp"])
        y_mb = model.decoder(mean, add_noise=False)
        rel("dec_out_mb_nonoise", y_mb, ref["dec_out_mb_nonoise"])
        y_fb = model.pqmf.inverse(y_mb)
        rel("dec_out_fb_nonoise", y_fb, ref["dec_out_fb_nonoise"])
        x_fb = model.pqmf.inverse(x_mb)
        mss_mb, t_mb = model.distance(x_mb, y_mb, per_scale=True)
        mss_fb, t_fb = model.distance(x_fb, y_fb, per_scale=True)
        rel("mss_mb", mss_mb, ref["mss_mb"])
        rel("mss_fb", mss_fb, ref["mss_fb"])
        rel("mss_fb_vs_input", model.distance(x, y_fb), ref["mss_fb_vs_input"])
        rel("mss_mb_lin_per_scale", [a for a, _ in t_mb], ref["mss_mb_lin_per_scale"])
        rel("mss_mb_log_per_scale", [b for _, b in t_mb], ref["mss_mb_log_per_scale"])
        rel("mss_fb_lin_per_scale", [a for a, _ in t_fb], ref["mss_fb_lin_per_scale"])
        rel("mss_fb_log_per_scale", [b for _, b in t_fb], ref["mss_fb_log_per_scale"])
        lx, ly = model.loudness(x_fb), model.loudness(y_fb)
        rel("loudness_x", lx, ref["loudness_x"])
        rel("loudness_y", ly, ref["loudness_y"])
        rel("loud_dist", (lx - ly).pow(2).mean(), ref["loud_dist"])
        # Noise synthesiser: shape of its output (its excitation is random).
        n = model.decoder.synth.branches[2](h)
        if tuple(n.shape) != tuple(y_mb.shape):
            notes.append(f"noise output shape {tuple(n.shape)} vs {tuple(y_mb.shape)}")

    loss, _ = model.stage1_loss(x, beta=0.1, sample=False)
    rel("stage1_det_loss", loss, ref["stage1_det_loss"])
    loss.backward()
    params = dict(model.named_parameters())
    for k in ref:
        if k.startswith("grad."):
            rel(k, params[k[5:]].grad, ref[k])
    # The filters designed here differ from the reference's by ~2.5e-6
    # relative (the reference rounds the modulation's phase in float32); the
    # gradients of the log-magnitude terms amplify that (the fixture notes
    # f32 vs f64 differences up to 3e-3), hence the looser bound with our
    # own filters. With the fixture's filters everything agrees to rounding.
    if fixture_pqmf:
        for k in [k for k in errs if k.startswith("pqmf.")]:
            del errs[k]
    ok = not notes and all(v <= (grad_tol if k.startswith("grad.") else tol) for k, v in errs.items())
    return dict(passed=ok, pqmf="fixture's buffers" if fixture_pqmf else "designed here (§2.2-2.3)",
                tolerance=f"{tol:g} relative (buffers, forward, losses), {grad_tol:g} (gradients)",
                relative_errors=errs, notes=notes)


# ---------------------------------------------------------------------------

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_fixture = os.path.normpath(os.path.join(here, "..", "..", "..", "..", "shared",
                                                    "fixtures", "rave-v1-small"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5, help="timed encode+decode runs (best is kept)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--step", action="store_true", help="also time a v1 stage-1 training step")
    ap.add_argument("--step-runs", type=int, default=3)
    ap.add_argument("--sgemm", action="store_true", help="also time a 1024^3 float32 torch.mm")
    ap.add_argument("--sgemm-size", type=int, default=1024)
    ap.add_argument("--keep-wn", action="store_true",
                    help="inference with weight-norm hooks (default: folded, as exported)")
    ap.add_argument("--native-pad", action="store_true",
                    help="symmetric paddings inside conv1d instead of explicit F.pad")
    ap.add_argument("--no-infer", action="store_true", help="skip the encode+decode timing")
    ap.add_argument("--check-fixture", nargs="?", const=default_fixture, default=None,
                    metavar="DIR", help=f"check against the reference fixture (default {default_fixture})")
    args = ap.parse_args()

    global NATIVE_PAD
    NATIVE_PAD = args.native_pad

    torch.set_num_threads(args.threads)
    lib, blas_path, blas_libs = openblas()
    if lib is not None:
        lib.openblas_set_num_threads(args.threads)

    out = dict(
        what="RAVE v1 full size, random weights, PyTorch CPU timing baseline",
        torch=torch.__version__, numpy=np.__version__, python=platform.python_version(),
        threads=torch.get_num_threads(), interop_threads=torch.get_num_interop_threads(),
        torch_cpu_capability=torch_cpu_capability(),
        mkldnn=bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        blas=dict(libraries=blas_libs, openblas=blas_path,
                  config=lib.openblas_get_config().decode() if lib is not None else None,
                  corename=None, threads=None, parallel=None),
        OPENBLAS_CORETYPE=os.environ.get("OPENBLAS_CORETYPE"),
        env={k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                         "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "MKL_NUM_THREADS",
                                         "GOMAXPROCS") if k in os.environ},
        debian_packages=debian_packages(),
        **cpu_info(),
        loadavg_start=loadavg(),
        padding="native (conv1d padding=)" if args.native_pad else "explicit F.pad + valid conv (cached_conv)",
        weight_norm="hooks (recomputed every call)" if args.keep_wn else "folded (as exported)",
        seconds=args.seconds, sample_rate=V1["sr"], batch=1,
    )
    if lib is not None:
        lib.openblas_get_corename.restype = ctypes.c_char_p
        out["blas"]["corename"] = lib.openblas_get_corename().decode()
        out["blas"]["threads"] = lib.openblas_get_num_threads()
        out["blas"]["parallel"] = {0: "sequential", 1: "pthreads", 2: "openmp"}.get(
            lib.openblas_get_parallel(), lib.openblas_get_parallel())

    if args.check_fixture:
        out["fixture_check"] = check_fixture(args.check_fixture)
    if not args.no_infer:
        bench_infer(args, out)
    if args.sgemm:
        bench_sgemm(args, out)
    if args.step:
        bench_step(args, out)
    out["loadavg_end"] = loadavg()

    print(json.dumps(out, indent=1))
    parts = []
    if "total_ms" in out:
        parts.append(f"encode+decode {args.seconds:g} s: {out['total_ms']} ms "
                     f"(encode {out['encode_ms']}, decode {out['decode_ms']}; "
                     f"with noise head {out['decode_with_noise_ms']})")
    if "step" in out:
        parts.append(f"stage-1 step: {out['step']['best_ms']} ms, peak RSS {out['step']['peak_rss_mib']} MiB")
    if "sgemm" in out:
        parts.append(f"sgemm {args.sgemm_size}^3: {out['sgemm']['best_gflops']} GFLOP/s")
    if "fixture_check" in out:
        parts.append("fixture check " + ("passed" if out["fixture_check"]["passed"] else "FAILED"))
    print(f"torch {torch.__version__}, {out['threads']} threads, {out['cpu_model']}: "
          + "; ".join(parts), file=sys.stderr)
    if "fixture_check" in out and not out["fixture_check"]["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
