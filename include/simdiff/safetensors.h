// The safetensors file format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON header {"name": {"dtype": "F32", "shape": [...],
// "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "value"}}, then the raw
// little-endian tensor data, offsets relative to its start. Files written here are readable by
// Python's `safetensors` package and the other way round.
//
// Writing is all or nothing: the bytes go to a temporary file in the same directory, which is
// flushed to disk and then renamed over `path`; on any error the temporary file is removed and
// `path` is untouched.
//
// Reading validates everything before returning: a file shorter than its header says (truncated),
// a header that is not JSON or not the format's object (corrupt header), an unknown dtype, a
// shape whose size disagrees with the offsets, offsets past the end of the data, overlapping
// tensors or holes in the data section. Each failure throws std::invalid_argument (std::
// runtime_error for I/O errors) naming the file, the tensor where there is one, and what was
// expected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace simdiff {

/// One tensor: its dtype name as safetensors spells it ("F32", "F64", "F16", "BF16", "I64",
/// "I32", "I16", "I8", "U8", "BOOL", ...), its shape and its raw little-endian bytes.
struct SafetensorsTensor {
  std::string dtype;
  std::vector<std::size_t> shape;
  std::vector<std::uint8_t> bytes;

  /// A float32 tensor from host floats.
  static SafetensorsTensor from_floats(std::vector<std::size_t> shape, std::span<const float> data);
  /// The values of an F32 tensor as host floats; throws std::invalid_argument naming `name` for
  /// another dtype.
  [[nodiscard]] std::vector<float> to_floats(const std::string& name = "tensor") const;
  /// The number of elements, the product of the shape (1 for a scalar).
  [[nodiscard]] std::size_t elements() const noexcept;
};

struct SafetensorsFile {
  std::map<std::string, SafetensorsTensor> tensors;
  std::map<std::string, std::string> metadata;  ///< the "__metadata__" entry
};

/// Writes `file` to `path` atomically (see above).
void save_safetensors(const std::string& path, const SafetensorsFile& file);

/// Reads and validates a safetensors file (see above).
SafetensorsFile load_safetensors(const std::string& path);

/// Parses the bytes of a safetensors file; `source` names it in error messages.
SafetensorsFile parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& source);

}  // namespace simdiff
