// Package bench times the model's inference for `rave bench`: offline
// encode and decode of a whole signal (Run, with float32 or bfloat16
// arithmetic) and streaming, buffer by buffer, through core/stream
// (Stream, StreamWith, StreamModel: median and largest time per buffer,
// real-time factor, latency, and the SNR of reduced-precision weights
// against float32 ones). RunV2, StreamV2 and StreamModelV2 do the same for
// RAVE v2 (core/modelv2, core/stream's V2; float32 offline). Models are
// randomly initialised from fixed seeds unless one is given; the input is
// Gaussian noise.
//
// The go test benchmarks of the hot paths stay beside their code
// (core/model's BenchmarkEncodeDecode, core/stream's BenchmarkStream).
package bench
