"""Runs a RAVE Station TorchScript export under torch.jit.load.

Called by the Go tests of core/interop/tsexport (torch_test.go) as

    python3 run_export.py CONFIG.json

CONFIG names the export (ts), the input signal (input: raw little-endian
float32, (1, 1, T)), the output folder (out), the seed and the shapes of
the random draws: latent_size L, kept K, frames F, noise [Fn, bands,
target] (or null without a noise synthesiser) and, for a streaming
export, the buffer size.

It writes into out, as raw little-endian float32 files listed with their
shapes in out/manifest.json:
  * the outputs of encode, encode_amortized, decode (on encode's output)
    and forward, each called right after torch.manual_seed(seed);
  * the random draws of each call, replayed: torch.manual_seed(seed)
    again, then the same draws in the same order (encode: randn (1, L, F);
    decode: randn (1, L - K, F), then rand (1, Fn, bands, target));
  * what nn~ sees (nn.json): the methods it lists (those with a
    <name>_params attribute), their params read as nn~ reads them, and
    whether each method, fed as nn~ feeds it, returns as many samples as
    it was given.
A v2 export (CONFIG v2 true) has no encode_amortized. With CONFIG
replay (a list of calls: name, method, seed, input file and shape) it
only makes those calls, each right after torch.manual_seed(seed), and
saves their outputs.
With a streaming export (CONFIG buffer: the buffer size) it writes
instead, each from a freshly loaded module and buffer by buffer:
stream.forward (forward with deterministic set), stream.encode and its
replayed draws stream.encode.eps, stream.decode of the latents given
(CONFIG latents, raw float32 (1, K, frames)) and its replayed draws
stream.decode.pad and stream.decode.uniform (concatenated in time).
"""

import json
import os
import sys

import numpy as np
import torch


def save(out, manifest, name, t):
    t = t.detach().contiguous().to(torch.float32)
    t.numpy().astype("<f4").tofile(os.path.join(out, name + ".bin"))
    manifest[name] = list(t.shape)


def nn_tilde(m, n_vec):
    """Lists the methods and params as nn~'s Backend does, and runs each
    method on n_vec samples per channel as Backend::perform does."""
    methods, params, ok = [], {}, {}
    for name in m._c._method_names():
        if hasattr(m, name + "_params"):
            methods.append(name)
    for name in methods:
        p = getattr(m, name + "_params")
        params[name] = [int(p[i].item()) for i in range(4)]
        in_dim, in_ratio, out_dim, out_ratio = params[name]
        x = torch.randn(1, in_dim, n_vec)
        x = x.reshape(1, in_dim, -1, in_ratio).select(-1, -1)
        with torch.no_grad():
            y = getattr(m, name)(x)
        y = y.repeat_interleave(out_ratio).reshape(1, out_dim, -1)
        ok[name] = y.shape[-1] == n_vec
    return {"methods": methods, "params": params, "samples_ok": ok}


def stream(cfg, x, out, manifest):
    """Runs a streaming export buffer by buffer, each method on a freshly
    loaded module: forward with deterministic set; encode, then its draws
    replayed buffer by buffer; decode of the latents given (latents:
    (1, K, frames)), then its draws replayed buffer by buffer."""
    n, seed = cfg["buffer"], cfg["seed"]
    L, K, noise = cfg["latent_size"], cfg["kept"], cfg["noise"]

    m = torch.jit.load(cfg["ts"])
    m.deterministic = True
    parts = [m.forward(x[..., i : i + n]) for i in range(0, x.shape[-1], n)]
    save(out, manifest, "stream.forward", torch.cat(parts, -1))

    m = torch.jit.load(cfg["ts"])
    ratio = int(m.encode_params[3].item())
    torch.manual_seed(seed)
    parts = [m.encode(x[..., i : i + n]) for i in range(0, x.shape[-1], n)]
    save(out, manifest, "stream.encode", torch.cat(parts, -1))
    torch.manual_seed(seed)
    eps = [torch.randn(1, L, n // ratio) for _ in parts]
    save(out, manifest, "stream.encode.eps", torch.cat(eps, -1))

    m = torch.jit.load(cfg["ts"])
    z = torch.from_numpy(np.fromfile(cfg["latents"], dtype="<f4")).reshape(1, K, -1)
    f = n // ratio
    torch.manual_seed(seed)
    parts = [m.decode(z[..., i : i + f]) for i in range(0, z.shape[-1], f)]
    save(out, manifest, "stream.decode", torch.cat(parts, -1))
    torch.manual_seed(seed)
    pads, draws = [], []
    for _ in parts:
        if K < L:
            pads.append(torch.randn(1, L - K, f))
        if noise is not None:
            draws.append(torch.rand(1, noise[0] * f // z.shape[-1], noise[1], noise[2]))
    if pads:
        save(out, manifest, "stream.decode.pad", torch.cat(pads, -1))
    if draws:
        save(out, manifest, "stream.decode.uniform", torch.cat(draws, 1))


def replay(m, calls, out, manifest):
    """Makes each call {name, method, seed, input: raw float32 file, shape}
    right after torch.manual_seed(seed), as the reference fixtures were
    made, and saves its output under name."""
    for c in calls:
        x = torch.from_numpy(np.fromfile(c["input"], dtype="<f4")).reshape(c["shape"])
        torch.manual_seed(c["seed"])
        save(out, manifest, c["name"], getattr(m, c["method"])(x))


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    torch.set_num_threads(1)
    out = cfg["out"]
    m = torch.jit.load(cfg["ts"])
    m.eval()
    x = torch.from_numpy(np.fromfile(cfg["input"], dtype="<f4")).reshape(1, 1, -1)
    manifest = {}
    if cfg.get("replay"):
        with torch.no_grad():
            replay(m, cfg["replay"], out, manifest)
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        return
    seed = cfg["seed"]
    L, K, F = cfg["latent_size"], cfg["kept"], cfg["frames"]
    noise = cfg["noise"]

    def decode_draws(prefix):
        if K < L:
            save(out, manifest, prefix + ".pad", torch.randn(1, L - K, F))
        if noise is not None:
            save(out, manifest, prefix + ".uniform", torch.rand(1, *noise))

    with torch.no_grad():
        if cfg.get("buffer"):
            stream(cfg, x, out, manifest)
            with open(os.path.join(out, "manifest.json"), "w") as f:
                json.dump(manifest, f)
            return

        torch.manual_seed(seed)
        z = m.encode(x)
        save(out, manifest, "encode", z)
        torch.manual_seed(seed)
        save(out, manifest, "encode.eps", torch.randn(1, L, F))

        if not cfg.get("v2"):
            mean, std = m.encode_amortized(x)
            save(out, manifest, "encode_amortized.mean", mean)
            save(out, manifest, "encode_amortized.std", std)

        torch.manual_seed(seed)
        save(out, manifest, "decode", m.decode(z))
        torch.manual_seed(seed)
        decode_draws("decode")

        torch.manual_seed(seed)
        save(out, manifest, "forward", m.forward(x))
        torch.manual_seed(seed)
        save(out, manifest, "forward.eps", torch.randn(1, L, F))
        decode_draws("forward")

    info = nn_tilde(m, cfg["nn_buffer"])
    for name in ("latent_size", "sampling_rate", "max_batch_size", "cropped_latent_size", "full_latent_size", "sr"):
        v = getattr(m, name, None)
        if v is not None:
            info[name] = int(v.item()) if torch.is_tensor(v) else int(v)
    if cfg.get("v2"):
        info["get_methods"] = list(m.get_methods())
    with open(os.path.join(out, "nn.json"), "w") as f:
        json.dump(info, f)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


if __name__ == "__main__":
    main()
