// Package prior is the autoregressive prior of the RAVE paper's code
// (rave-spec §10.1, v1 prior/ and train_prior.py): a WaveNet-style model
// over the compact PCA latent (§8) that predicts, frame by frame, a
// categorical distribution over 32 quantised values of each latent
// dimension. It trains with cross-entropy and Adam (1e-4), samples new
// latent trajectories with cached, incremental inference, and
// entropy-codes latents with [github.com/ravestation/rave/core/arith].
//
// # Quantisation
//
// Each dimension is treated as standard normal and cut into Classes bins of
// equal probability: bin i covers [Φ⁻¹(i/Q), Φ⁻¹((i+1)/Q)) and is
// represented by its probability midpoint Φ⁻¹((i+½)/Q). This is the
// reference's QuantizedNormal: class = clamp(⌊Φ(z)·Q⌋, 0, Q−1). As in the
// reference, the network's input is the stacked one-hot encoding of the
// classes (k·Q channels), not the values.
//
// # Architecture
//
// Input (B, k·Classes, T) one-hot classes → 1×1 conv to Residual
// channels → Layers gated residual units → skip sum → LeakyReLU(0.2) → 1×1
// conv → LeakyReLU(0.2) → 1×1 conv to k·Classes logits. Unit i applies a
// causal conv of kernel Kernel and dilation 2^(i mod Cycle) to 2·Residual
// channels, gates them as σ(a)·tanh(b) (a the first half of the channels,
// as the reference's ResidualBlock splits them), and adds a 1×1 projection
// to the residual stream and another to the skip sum. With the defaults
// (kernel 3, 10 layers, cycle 4) the receptive field is 67 frames (≈ 2.9 s
// at the 23.4 Hz latent rate of 48 kHz v1 models). Logit channel d·Classes+q is
// the score of class q for dimension d; the output at frame t predicts
// frame t+1.
//
// Departures from the reference: all k dimensions of a frame are
// predicted independently given the past frames (no "diagonal shift"
// ordering of the dimensions within a frame), the post-net uses
// LeakyReLU(0.2), and the first frame of a clip is predicted from an
// empty (all-zero) input. At the reference size (Residual 512, Skip 256,
// k = 16) the model has 20.1 M parameters (80 MB of float32 weights, all
// read once per generated frame); the paper quotes ≈ 9 M.
//
// # Conventions
//
// Shapes are (B, C, T) row-major as in core. Quantised indices are int32
// in (k, T) row-major order for one clip. Programmer errors (wrong shapes)
// panic with a "prior: " prefix; files, corrupt streams and NaN losses
// return wrapped errors.
package prior
