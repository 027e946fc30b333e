// safetensors reading and writing (<simdiff/safetensors.h>) with nlohmann-json for the header.
#include "simdiff/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <system_error>

namespace simdiff {
namespace {

std::size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

// Header lengths above this are refused, as the reference implementation does (100 MB).
constexpr std::uint64_t kMaxHeader = 100'000'000;

[[noreturn]] void corrupt(const std::string& source, const std::string& what) {
  throw std::invalid_argument(source + ": corrupt safetensors header: " + what);
}

std::uint32_t to_little_u32(float value) {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
  return bits;
}

}  // namespace

std::size_t SafetensorsTensor::elements() const noexcept {
  std::size_t n = 1;
  for (const std::size_t d : shape) n *= d;
  return n;
}

SafetensorsTensor SafetensorsTensor::from_floats(std::vector<std::size_t> shape,
                                                 std::span<const float> data) {
  SafetensorsTensor tensor{"F32", std::move(shape), {}};
  if (tensor.elements() != data.size()) {
    throw std::invalid_argument("SafetensorsTensor::from_floats: " + std::to_string(data.size()) +
                                " values; expected " + std::to_string(tensor.elements()) +
                                " for the shape");
  }
  tensor.bytes.resize(data.size() * 4);
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::uint32_t bits = to_little_u32(data[i]);
    std::memcpy(tensor.bytes.data() + 4 * i, &bits, 4);
  }
  return tensor;
}

std::vector<float> SafetensorsTensor::to_floats(const std::string& name) const {
  if (dtype != "F32") {
    throw std::invalid_argument(name + ": dtype " + dtype + "; expected F32");
  }
  std::vector<float> values(bytes.size() / 4);
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, bytes.data() + 4 * i, 4);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
    values[i] = std::bit_cast<float>(bits);
  }
  return values;
}

SafetensorsFile parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.size() < 8) {
    throw std::invalid_argument(source +
                                ": truncated safetensors file: " + std::to_string(bytes.size()) +
                                " bytes; expected at least the 8-byte header length");
  }
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i)
    header_size = (header_size << 8) | bytes[static_cast<std::size_t>(i)];
  if (header_size > kMaxHeader) {
    corrupt(source, "header length " + std::to_string(header_size) + "; expected at most " +
                        std::to_string(kMaxHeader));
  }
  if (header_size > bytes.size() - 8) {
    throw std::invalid_argument(source + ": truncated safetensors file: the header is " +
                                std::to_string(header_size) + " bytes but only " +
                                std::to_string(bytes.size() - 8) + " follow its length");
  }
  const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_size);
  } catch (const nlohmann::json::exception& error) {
    corrupt(source, std::string("not JSON (") + error.what() + ")");
  }
  if (!header.is_object()) corrupt(source, "expected a JSON object");
  const std::span<const std::uint8_t> data = bytes.subspan(8 + header_size);

  SafetensorsFile file;
  struct Extent {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<Extent> extents;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) corrupt(source, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) corrupt(source, "__metadata__." + key + " is not a string");
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets")) {
      corrupt(source, where + ": expected an object with dtype, shape and data_offsets");
    }
    const auto& dtype = entry["dtype"];
    const auto& shape = entry["shape"];
    const auto& offsets = entry["data_offsets"];
    if (!dtype.is_string() || dtype_size(dtype.get<std::string>()) == 0) {
      corrupt(source, where + ": dtype " + dtype.dump() + " is not a safetensors dtype");
    }
    if (!shape.is_array()) corrupt(source, where + ": shape is not an array");
    SafetensorsTensor tensor;
    tensor.dtype = dtype.get<std::string>();
    std::uint64_t elements = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned()) corrupt(source, where + ": shape " + shape.dump());
      const auto n = d.get<std::uint64_t>();
      if (n != 0 && elements > std::numeric_limits<std::uint64_t>::max() / n) {
        corrupt(source, where + ": shape " + shape.dump() + " overflows");
      }
      elements *= n;
      tensor.shape.push_back(static_cast<std::size_t>(n));
    }
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      corrupt(source, where + ": data_offsets " + offsets.dump() + "; expected [begin, end]");
    }
    const auto begin = offsets[0].get<std::uint64_t>();
    const auto end = offsets[1].get<std::uint64_t>();
    const std::uint64_t expected = elements * dtype_size(tensor.dtype);
    if (end < begin || end - begin != expected) {
      corrupt(source, where + ": data_offsets " + offsets.dump() + " hold " +
                          std::to_string(end < begin ? 0 : end - begin) + " bytes; its shape " +
                          shape.dump() + " and dtype need " + std::to_string(expected));
    }
    if (end > data.size()) {
      throw std::invalid_argument(source + ": truncated safetensors file: " + where +
                                  " ends at data byte " + std::to_string(end) +
                                  " but the data "
                                  "section has " +
                                  std::to_string(data.size()) + " bytes");
    }
    tensor.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(begin),
                        data.begin() + static_cast<std::ptrdiff_t>(end));
    extents.push_back({begin, end, name});
    file.tensors.emplace(name, std::move(tensor));
  }
  // The format requires the tensors to tile the data section: no overlap, no hole.
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
  std::uint64_t position = 0;
  for (const Extent& extent : extents) {
    if (extent.begin != position) {
      corrupt(source,
              "tensor '" + extent.name + "' starts at data byte " + std::to_string(extent.begin) +
                  "; expected " + std::to_string(position) +
                  (extent.begin < position ? " (it overlaps another tensor)" : " (a hole)"));
    }
    position = extent.end;
  }
  if (position != data.size()) {
    corrupt(source, "the data section has " + std::to_string(data.size()) +
                        " bytes; the tensors cover " + std::to_string(position));
  }
  return file;
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the file for reading");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error(path + ": read error");
  return parse_safetensors(bytes, path);
}

void save_safetensors(const std::string& path, const SafetensorsFile& file) {
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : file.tensors) {  // std::map: sorted names
    if (name == "__metadata__") {
      throw std::invalid_argument("save_safetensors: a tensor may not be named __metadata__");
    }
    const std::size_t size = dtype_size(tensor.dtype);
    if (size == 0 || tensor.bytes.size() != tensor.elements() * size) {
      throw std::invalid_argument("save_safetensors: tensor '" + name + "' has dtype '" +
                                  tensor.dtype + "' and " + std::to_string(tensor.bytes.size()) +
                                  " bytes; expected a safetensors dtype and " +
                                  std::to_string(tensor.elements() * size) + " bytes");
    }
    header[name] = {{"dtype", tensor.dtype},
                    {"shape", tensor.shape},
                    {"data_offsets", {offset, offset + tensor.bytes.size()}}};
    offset += tensor.bytes.size();
  }
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::string text = header.dump();
  // Padding with spaces to a multiple of 8 keeps the data aligned for memory-mapping readers.
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');

  std::vector<std::uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = (text.size() >> (8 * i)) & 0xff;
  bytes.insert(bytes.end(), text.begin(), text.end());
  for (const auto& [name, tensor] : file.tensors) {
    bytes.insert(bytes.end(), tensor.bytes.begin(), tensor.bytes.end());
  }

  // A unique temporary name in the target's directory (rename is atomic only within a file
  // system), then write, fsync, rename.
  std::string temporary = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) {
    throw std::runtime_error(path + ": cannot create a temporary file: " + std::strerror(errno));
  }
  const auto fail = [&](const char* what) {
    const int error = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    throw std::runtime_error(path + ": " + what + ": " + std::strerror(error));
  };
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    written += static_cast<std::size_t>(n);
  }
  // mkstemp creates the file 0600; weights are ordinary readable files.
  ::fchmod(fd, 0644);
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error(path + ": close failed: " + std::strerror(error));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error(
        path + ": cannot rename the temporary file into place: " + std::strerror(error));
  }
}

}  // namespace simdiff
