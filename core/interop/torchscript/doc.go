// Package torchscript reads the archives that torch.jit.save writes
// (TorchScript exports, .ts): the module tree with its attributes,
// parameters and buffers, and the class declarations of the compiled code.
// It does not run the code.
//
// # Archive layout
//
// A TorchScript archive is a zip whose entries all live under one folder
// (torch names it after the file):
//
//	<name>/version          serialisation format version (text, "3", "4", …)
//	<name>/data.pkl         pickle (protocol 2) of the module tree
//	<name>/data/<key>       raw tensor storages, little-endian
//	<name>/constants.pkl    tensor constants of the code
//	<name>/code/__torch__/… compiled code, one .py file per module path
//	<name>/byteorder        "little" or "big" (recent torch only)
//
// In data.pkl every module is an object of class __torch__.<qualified
// name> (mangled variants insert ___torch_mangle_N before the class name)
// rebuilt from a dict of its attributes: submodules, tensors, ints, floats,
// bools, strings, None, lists and tuples. A tensor is
// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …) and a
// storage the persistent id ('storage', torch.<Type>Storage, key, device,
// numel) whose bytes are data/<key>. Typed containers are wrapped in
// torch.jit._pickle.restore_type_tag or build_intlist (and siblings).
//
// Which attributes are parameters and which buffers, and the constants of
// a class (stride, dilation, kernel_size of a convolution, the slope of a
// LeakyReLU), are not in data.pkl but in the class declarations of the
// code: __parameters__, __buffers__ and "name : Final[T] = value" lines.
// Read parses those declarations (Class) and nothing else of the code.
//
// # Robustness
//
// Read is meant for untrusted files: every length in the zip and the
// pickle is checked against the data before anything is allocated (the
// pickle is scanned opcode by opcode before gopickle unpickles it), tensor
// views must lie inside their storages, modules must form a tree, and
// nesting is bounded. A malformed archive gives an error, never a panic
// or a hang (FuzzTorchScript). Errors are prefixed "torchscript: ".
package torchscript
