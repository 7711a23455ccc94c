// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/safetensors.cpp: the safetensors format (docs/format/safetensors.md): a validating
// header parser, a mapped loader, the reference-ordered writer, and sharded checkpoint
// folders with an atomic commit.

#include "brine/safetensors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "tensor/safetensors_mapped.hpp"

namespace brine {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t kLengthBytes = 8;

// ---- errors ------------------------------------------------------------------------------

ErrorContext where(const std::string& source, std::optional<std::uint64_t> offset = {}) {
  ErrorContext context;
  context.source = source;
  context.byte_offset = offset;
  return context;
}

// The one place a rule violation is raised: the message starts with the rule's name, so that
// logs and the CLI say which rule failed even where the class is not at hand.
[[noreturn]] void fail(SafetensorsRule rule, const std::string& message, ErrorContext context) {
  std::string text =
      std::string("safetensors rule '") + safetensors_rule_name(rule) + "' broken: " + message;
  if (rule == SafetensorsRule::header_too_large)
    throw SafetensorsLimitError(rule, text, std::move(context));
  errc code = rule == SafetensorsRule::file_too_short || rule == SafetensorsRule::header_beyond_file
                  ? errc::truncated_input
                  : errc::corrupt_data;
  throw SafetensorsError(rule, code, text, std::move(context));
}

std::string in_quotes(std::string_view name) { return "'" + std::string(name) + "'"; }

// ---- UTF-8 -------------------------------------------------------------------------------

// Index of the first byte that is not part of valid UTF-8 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8_at(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (n - i < len) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

// ---- JSON with duplicate keys refused ------------------------------------------------------

// nlohmann keeps the last of two equal keys silently, and its parser callbacks (which could
// see them) cost time quadratic in an object's size (each closing brace scans the parent
// object): this SAX handler builds the DOM itself, in linear time, refusing duplicate keys
// and nesting deeper than `max_depth` containers before the tree grows (a header of a
// million '[' is an error after a few bytes, not a deep tree).
struct JsonViolation {
  bool duplicate;                 // else too deep
  std::string key;                // the duplicate key
  std::vector<std::string> path;  // keys from the root to where it happened
};
struct JsonSyntaxError {
  std::size_t position;  // bytes read when the error was found
  std::string message;
};

class StrictJsonBuilder final : public nlohmann::json_sax<json> {
 public:
  explicit StrictJsonBuilder(std::size_t max_depth) : max_depth_(max_depth) {}
  json& result() { return root_; }

  bool null() override { return put(nullptr); }
  bool boolean(bool v) override { return put(v); }
  bool number_integer(number_integer_t v) override { return put(v); }
  bool number_unsigned(number_unsigned_t v) override { return put(v); }
  bool number_float(number_float_t v, const string_t&) override { return put(v); }
  bool string(string_t& v) override { return put(std::move(v)); }
  bool binary(binary_t&) override { return false; }  // never in JSON text
  bool start_object(std::size_t) override {
    open(json::object());
    keys_.emplace_back();
    path_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!keys_.back().insert(k).second) throw JsonViolation{true, k, path_};
    path_.back() = k;
    slot_ = &(*stack_.back())[k];
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    keys_.pop_back();
    path_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    open(json::array());
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    throw JsonSyntaxError{position, error.what()};
  }

 private:
  // Where the next value goes: the root, the end of the open array, or the slot of the key
  // just read in the open object.
  json* place(json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(value));
      return &top.back();
    }
    *slot_ = std::move(value);
    return slot_;
  }
  template <class V>
  bool put(V&& v) {
    place(json(std::forward<V>(v)));
    return true;
  }
  void open(json container) {
    if (stack_.size() >= max_depth_) throw JsonViolation{false, {}, path_};
    // A pointer into the open array stays valid: the array grows only while this child is
    // closed again.
    stack_.push_back(place(std::move(container)));
  }

  std::size_t max_depth_;
  json root_;
  std::vector<json*> stack_;
  json* slot_ = nullptr;
  std::vector<std::unordered_set<std::string>> keys_;  // one set per open object
  std::vector<std::string> path_;                      // current key per open object
};

json parse_strict_json(std::string_view text, std::size_t max_depth) {
  StrictJsonBuilder builder(max_depth);
  json::sax_parse(text.begin(), text.end(), &builder);
  return std::move(builder.result());
}

// ---- header parsing ------------------------------------------------------------------------

bool is_non_negative_integer(const json& v) { return v.is_number_unsigned(); }

SafetensorsTensorInfo parse_entry(const std::string& name, const json& entry,
                                  const std::string& source, std::uint64_t header_offset) {
  auto at = where(source, header_offset);
  if (!entry.is_object())
    fail(SafetensorsRule::malformed_entry,
         "tensor " + in_quotes(name) + " is a JSON " + entry.type_name() +
             ", not an object of dtype, shape and data_offsets",
         at);
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(key))
      fail(SafetensorsRule::malformed_entry, "tensor " + in_quotes(name) + " has no '" + key + "'",
           at);
  for (const auto& item : entry.items())
    if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets")
      fail(SafetensorsRule::malformed_entry,
           "tensor " + in_quotes(name) + " has an unknown key " + in_quotes(item.key()) +
               " (an entry holds exactly dtype, shape and data_offsets)",
           at);
  SafetensorsTensorInfo info;
  info.name = name;
  const json& dtype = entry["dtype"];
  if (!dtype.is_string())
    fail(SafetensorsRule::malformed_entry,
         "tensor " + in_quotes(name) + ": dtype is a JSON " + dtype.type_name() + ", not a string",
         at);
  const auto& dtype_text = dtype.get_ref<const std::string&>();
  std::optional<DType> parsed_dtype = dtype_from_safetensors_name(dtype_text);
  if (!parsed_dtype)
    fail(SafetensorsRule::unknown_dtype,
         "tensor " + in_quotes(name) + " has dtype " + in_quotes(dtype_text) +
             ", which brine does not know (BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, "
             "F32, F64, C64, C128, F8_E4M3, F8_E5M2)",
         at);
  info.dtype = *parsed_dtype;

  const json& shape = entry["shape"];
  if (!shape.is_array())
    fail(SafetensorsRule::invalid_shape,
         "tensor " + in_quotes(name) + ": shape is a JSON " + shape.type_name() + ", not an array",
         at);
  info.shape.reserve(shape.size());
  bool has_zero = false;
  for (const json& dim : shape) {
    if (!is_non_negative_integer(dim))
      fail(SafetensorsRule::invalid_shape,
           "tensor " + in_quotes(name) + ": shape entry " + dim.dump() +
               " is not a non-negative integer",
           at);
    auto value = dim.get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail(SafetensorsRule::size_overflow,
           "tensor " + in_quotes(name) + ": dimension " + std::to_string(value) +
               " does not fit 63 bits",
           at);
    has_zero = has_zero || value == 0;
    info.shape.push_back(static_cast<std::int64_t>(value));
  }

  const json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !is_non_negative_integer(offsets[0]) ||
      !is_non_negative_integer(offsets[1]))
    fail(SafetensorsRule::invalid_offsets,
         "tensor " + in_quotes(name) + ": data_offsets " + offsets.dump() +
             " is not an array of two non-negative integers",
         at);
  info.begin = offsets[0].get<std::uint64_t>();
  info.end = offsets[1].get<std::uint64_t>();
  if (info.end < info.begin)
    fail(SafetensorsRule::offsets_reversed,
         "tensor " + in_quotes(name) + ": data_offsets end " + std::to_string(info.end) +
             " comes before their begin " + std::to_string(info.begin),
         at);

  // The byte size, in 64 bits with overflow checked; a zero dimension makes it 0 whatever
  // the others are.
  std::uint64_t bytes = 0;
  if (!has_zero) {
    bytes = dtype_size(info.dtype);
    for (std::int64_t dim : info.shape) {
      auto d = static_cast<std::uint64_t>(dim);
      if (bytes > std::numeric_limits<std::uint64_t>::max() / d)
        fail(SafetensorsRule::size_overflow,
             "tensor " + in_quotes(name) + ": the byte size of shape " + shape.dump() + " in " +
                 dtype_text + " overflows 64 bits",
             at);
      bytes *= d;
    }
  }
  if (bytes != info.end - info.begin)
    fail(SafetensorsRule::size_mismatch,
         "tensor " + in_quotes(name) + " of dtype " + dtype_text + " and shape " + shape.dump() +
             " needs " + std::to_string(bytes) + " bytes, its data_offsets [" +
             std::to_string(info.begin) + ", " + std::to_string(info.end) + "] hold " +
             std::to_string(info.end - info.begin),
         at);
  return info;
}

}  // namespace

const char* safetensors_rule_name(SafetensorsRule rule) noexcept {
  switch (rule) {
    case SafetensorsRule::file_too_short:
      return "file_too_short";
    case SafetensorsRule::header_beyond_file:
      return "header_beyond_file";
    case SafetensorsRule::header_too_large:
      return "header_too_large";
    case SafetensorsRule::header_not_object:
      return "header_not_object";
    case SafetensorsRule::header_not_utf8:
      return "header_not_utf8";
    case SafetensorsRule::header_not_json:
      return "header_not_json";
    case SafetensorsRule::duplicate_name:
      return "duplicate_name";
    case SafetensorsRule::malformed_entry:
      return "malformed_entry";
    case SafetensorsRule::unknown_dtype:
      return "unknown_dtype";
    case SafetensorsRule::invalid_shape:
      return "invalid_shape";
    case SafetensorsRule::invalid_offsets:
      return "invalid_offsets";
    case SafetensorsRule::size_overflow:
      return "size_overflow";
    case SafetensorsRule::size_mismatch:
      return "size_mismatch";
    case SafetensorsRule::offsets_reversed:
      return "offsets_reversed";
    case SafetensorsRule::offsets_out_of_bounds:
      return "offsets_out_of_bounds";
    case SafetensorsRule::data_hole:
      return "data_hole";
    case SafetensorsRule::data_overlap:
      return "data_overlap";
    case SafetensorsRule::trailing_bytes:
      return "trailing_bytes";
    case SafetensorsRule::invalid_metadata:
      return "invalid_metadata";
    case SafetensorsRule::invalid_index:
      return "invalid_index";
    case SafetensorsRule::invalid_shard_name:
      return "invalid_shard_name";
    case SafetensorsRule::index_shard_mismatch:
      return "index_shard_mismatch";
  }
  return "unknown_rule";
}

std::optional<SafetensorsRule> safetensors_rule_of(const Error& error) noexcept {
  if (const auto* e = dynamic_cast<const SafetensorsError*>(&error)) return e->rule();
  if (const auto* e = dynamic_cast<const SafetensorsLimitError*>(&error)) return e->rule();
  return std::nullopt;
}

SafetensorsHeader parse_safetensors(std::string_view bytes, const SafetensorsLoadOptions& options,
                                    const std::string& source) {
  if (bytes.size() < kLengthBytes)
    fail(SafetensorsRule::file_too_short,
         "the file has " + std::to_string(bytes.size()) +
             " bytes, fewer than the 8 of the header length",
         where(source, 0));
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < kLengthBytes; ++i)
    n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > options.max_header_bytes)
    fail(SafetensorsRule::header_too_large,
         "header length " + std::to_string(n) +
             " exceeds SafetensorsLoadOptions::max_header_bytes (" +
             std::to_string(options.max_header_bytes) + ")",
         where(source, 0));
  if (n > bytes.size() - kLengthBytes)
    fail(SafetensorsRule::header_beyond_file,
         "header length " + std::to_string(n) + " reaches past the end of the file (" +
             std::to_string(bytes.size() - kLengthBytes) + " bytes follow the length)",
         where(source, 0));
  std::string_view text = bytes.substr(kLengthBytes, static_cast<std::size_t>(n));
  if (text.empty() || text[0] != '{')
    fail(SafetensorsRule::header_not_object, "the header does not start with '{'",
         where(source, kLengthBytes));
  if (std::size_t bad = invalid_utf8_at(text); bad != std::string_view::npos)
    fail(SafetensorsRule::header_not_utf8, "the header is not valid UTF-8",
         where(source, kLengthBytes + bad));

  // nlohmann's lexer takes a NUL byte for the end of the input, and would read "{}\0<junk>"
  // as "{}"; JSON text never holds one (in a string it must be escaped).
  if (std::size_t nul = text.find('\0'); nul != std::string_view::npos)
    fail(SafetensorsRule::header_not_json, "the header holds a NUL byte, which JSON never does",
         where(source, kLengthBytes + nul));
  json document;
  try {
    // Depth 3: the header object, a tensor entry (or __metadata__), its shape array.
    document = parse_strict_json(text, 3);
  } catch (const JsonSyntaxError& e) {
    std::uint64_t at = kLengthBytes + (e.position > 0 ? e.position - 1 : 0);
    fail(SafetensorsRule::header_not_json, "the header is not valid JSON: " + e.message,
         where(source, at));
  } catch (const JsonViolation& v) {
    std::string top = v.path.empty() ? std::string() : v.path[0];
    if (v.duplicate)
      fail(SafetensorsRule::duplicate_name,
           v.path.size() <= 1
               ? "the header names " + in_quotes(v.key) + " twice"
               : "entry " + in_quotes(top) + " has the key " + in_quotes(v.key) + " twice",
           where(source, kLengthBytes));
    if (top == "__metadata__")
      fail(SafetensorsRule::invalid_metadata, "__metadata__ holds nested values",
           where(source, kLengthBytes));
    fail(v.path.size() >= 2 && v.path[1] == "shape" ? SafetensorsRule::invalid_shape
                                                    : SafetensorsRule::malformed_entry,
         "tensor " + in_quotes(top) + " holds values nested deeper than its shape array",
         where(source, kLengthBytes));
  }

  SafetensorsHeader header;
  header.header_bytes = n;
  header.data_bytes = bytes.size() - kLengthBytes - n;
  for (const auto& item : document.items()) {
    if (item.key() == "__metadata__") {
      const json& meta = item.value();
      if (meta.is_null()) continue;  // the reference writes none, and reads null as none
      if (!meta.is_object())
        fail(SafetensorsRule::invalid_metadata,
             std::string("__metadata__ is a JSON ") + meta.type_name() + ", not an object",
             where(source, kLengthBytes));
      header.has_metadata = true;
      for (const auto& m : meta.items()) {
        if (!m.value().is_string())
          fail(SafetensorsRule::invalid_metadata,
               "__metadata__ value of " + in_quotes(m.key()) + " is a JSON " +
                   m.value().type_name() + ", not a string",
               where(source, kLengthBytes));
        header.metadata.emplace(m.key(), m.value().get<std::string>());
      }
      continue;
    }
    header.tensors.push_back(parse_entry(item.key(), item.value(), source, kLengthBytes));
  }

  // The data region: every byte covered by exactly one tensor, in offset order.
  std::stable_sort(header.tensors.begin(), header.tensors.end(),
                   [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
                     return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
                   });
  const std::uint64_t data_start = kLengthBytes + n;
  std::uint64_t covered = 0;
  const SafetensorsTensorInfo* previous = nullptr;
  for (const SafetensorsTensorInfo& t : header.tensors) {
    if (t.end > header.data_bytes)
      fail(SafetensorsRule::offsets_out_of_bounds,
           "tensor " + in_quotes(t.name) + ": data_offsets [" + std::to_string(t.begin) + ", " +
               std::to_string(t.end) + "] reach past the data region's " +
               std::to_string(header.data_bytes) + " bytes",
           where(source, data_start + std::min(t.begin, header.data_bytes)));
    if (t.begin > covered)
      fail(SafetensorsRule::data_hole,
           "bytes " + std::to_string(covered) + " to " + std::to_string(t.begin) +
               " of the data region, before tensor " + in_quotes(t.name) + ", belong to no tensor",
           where(source, data_start + covered));
    if (t.begin < covered)
      fail(SafetensorsRule::data_overlap,
           "tensor " + in_quotes(t.name) + " at [" + std::to_string(t.begin) + ", " +
               std::to_string(t.end) + "] overlaps tensor " +
               in_quotes(previous != nullptr ? previous->name : std::string()) +
               ", which ends at " + std::to_string(covered),
           where(source, data_start + t.begin));
    covered = t.end;
    previous = &t;
  }
  if (covered != header.data_bytes)
    fail(SafetensorsRule::trailing_bytes,
         std::to_string(header.data_bytes - covered) + " bytes follow the last tensor" +
             (previous != nullptr ? " " + in_quotes(previous->name) : std::string()),
         where(source, data_start + covered));
  return header;
}

namespace {

// Builds the dict from a validated header; `make` makes the tensor of one entry.
template <class MakeTensor>
StateDict build_dict(SafetensorsHeader header, const SafetensorsLoadOptions& options,
                     MakeTensor&& make) {
  StateDict dict;
  for (const SafetensorsTensorInfo& t : header.tensors) dict.insert(t.name, make(t));
  dict.metadata = std::move(header.metadata);
  if (options.restore_aliases) {
    for (auto it = dict.metadata.begin(); it != dict.metadata.end();) {
      const Tensor* kept = dict.find(it->second);
      if (kept != nullptr && !dict.contains(it->first)) {
        Tensor alias = *kept;  // another view of the same bytes
        dict.insert(it->first, std::move(alias));
        it = dict.metadata.erase(it);
      } else {
        ++it;
      }
    }
  }
  return dict;
}

}  // namespace

StateDict load_safetensors(const std::filesystem::path& path,
                           const SafetensorsLoadOptions& options) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  SafetensorsHeader header = parse_safetensors(file->view(), options, file->path());
  const std::uint64_t start = header.data_offset();
  return build_dict(std::move(header), options, [&](const SafetensorsTensorInfo& t) {
    return Tensor::view(t.dtype, t.shape, file, static_cast<std::size_t>(start + t.begin));
  });
}

StateDict load_safetensors(std::shared_ptr<const void> owner, std::string_view bytes,
                           const SafetensorsLoadOptions& options, const std::string& source) {
  SafetensorsHeader header = parse_safetensors(bytes, options, source);
  const std::uint64_t start = header.data_offset();
  return build_dict(std::move(header), options, [&](const SafetensorsTensorInfo& t) {
    const auto* base = reinterpret_cast<const std::byte*>(bytes.data());
    return Tensor::view(t.dtype, t.shape, owner, base + start + t.begin,
                        static_cast<std::size_t>(t.end - t.begin));
  });
}

namespace detail {

StateDict load_safetensors_in_file(std::shared_ptr<const MappedFile> file, std::size_t offset,
                                   std::size_t size, const SafetensorsLoadOptions& options,
                                   const std::string& source) {
  BRINE_ASSERT(file != nullptr && offset <= file->size() && size <= file->size() - offset,
               "safetensors range outside its file");
  SafetensorsHeader header = parse_safetensors(file->view().substr(offset, size), options, source);
  const std::uint64_t start = offset + header.data_offset();
  return build_dict(std::move(header), options, [&](const SafetensorsTensorInfo& t) {
    return Tensor::view(t.dtype, t.shape, file, static_cast<std::size_t>(start + t.begin));
  });
}

}  // namespace detail

// ---- writing -----------------------------------------------------------------------------

namespace {

// The position of a dtype in the reference implementation's Dtype enum, which orders dtypes
// by width; its writer puts the widest first so that every tensor stays aligned to its
// element size. complex128, which the reference lacks, is the widest.
int reference_rank(DType d) {
  switch (d) {
    case DType::boolean:
      return 0;
    case DType::uint8:
      return 4;
    case DType::int8:
      return 5;
    case DType::float8_e5m2:
      return 6;
    case DType::float8_e4m3fn:
      return 7;
    case DType::int16:
      return 11;
    case DType::uint16:
      return 12;
    case DType::float16:
      return 13;
    case DType::bfloat16:
      return 14;
    case DType::int32:
      return 15;
    case DType::uint32:
      return 16;
    case DType::float32:
      return 17;
    case DType::complex64:
      return 18;
    case DType::float64:
      return 19;
    case DType::int64:
      return 20;
    case DType::uint64:
      return 21;
    case DType::complex128:
      return 22;
  }
  return 0;
}

std::string json_string(const std::string& text, const char* what) {
  if (invalid_utf8_at(text) != std::string_view::npos)
    detail::throw_error(errc::corrupt_data,
                        std::string(what) + " " + in_quotes(text) +
                            " is not valid UTF-8, which a safetensors header must be");
  return json(text).dump();
}

// What is written: the tensors (aliases removed, in file order) and the header.
struct Plan {
  std::vector<const StateDict::Entry*> tensors;
  std::map<std::string, std::string> metadata;
};

// Identity of one view: two names with the same key are one tensor saved once.
struct ViewKey {
  const void* storage;
  std::size_t offset, nbytes;
  DType dtype;
  std::vector<std::int64_t> shape;
  bool operator<(const ViewKey& o) const {
    return std::tie(storage, offset, nbytes, dtype, shape) <
           std::tie(o.storage, o.offset, o.nbytes, o.dtype, o.shape);
  }
};

Plan plan_file(const StateDict& dict) {
  Plan plan;
  plan.metadata = dict.metadata;
  std::map<ViewKey, std::vector<const StateDict::Entry*>> views;
  std::vector<const StateDict::Entry*> empty;
  for (const StateDict::Entry& e : dict) {
    const Tensor& t = e.second;
    if (t.nbytes() == 0) {
      empty.push_back(&e);  // nothing to share: Hugging Face skips empty storages too
      continue;
    }
    views[{t.storage_id(), t.storage_offset(), t.nbytes(), t.dtype(), t.shape()}].push_back(&e);
  }
  // Kept: the first name in byte order (Hugging Face keeps sorted(names)[0]).
  for (auto& [key, names] : views) {
    std::sort(names.begin(), names.end(), [](const StateDict::Entry* a, const StateDict::Entry* b) {
      return a->first < b->first;
    });
    plan.tensors.push_back(names.front());
    for (std::size_t i = 1; i < names.size(); ++i) {
      const std::string& alias = names[i]->first;
      auto [it, inserted] = plan.metadata.emplace(alias, names.front()->first);
      if (!inserted && it->second != names.front()->first)
        detail::throw_error(errc::unsupported_content,
                            "tensor " + in_quotes(alias) + " shares the bytes of " +
                                in_quotes(names.front()->first) +
                                ", but the metadata key of that name, which would record it, "
                                "holds " +
                                in_quotes(it->second));
    }
  }
  // Distinct views of one storage must not overlap: one file cannot record them.
  std::vector<const StateDict::Entry*> by_storage = plan.tensors;
  std::sort(by_storage.begin(), by_storage.end(),
            [](const StateDict::Entry* a, const StateDict::Entry* b) {
              return std::make_pair(a->second.storage_id(), a->second.storage_offset()) <
                     std::make_pair(b->second.storage_id(), b->second.storage_offset());
            });
  for (std::size_t i = 1; i < by_storage.size(); ++i) {
    const Tensor& a = by_storage[i - 1]->second;
    const Tensor& b = by_storage[i]->second;
    if (a.storage_id() == b.storage_id() && b.storage_offset() < a.storage_offset() + a.nbytes())
      detail::throw_error(
          errc::unsupported_content,
          "tensors " + in_quotes(by_storage[i - 1]->first) + " and " +
              in_quotes(by_storage[i]->first) +
              " overlap in one storage without being the same view; safetensors cannot record "
              "that (clone one of them)");
  }
  plan.tensors.insert(plan.tensors.end(), empty.begin(), empty.end());
  std::sort(plan.tensors.begin(), plan.tensors.end(),
            [](const StateDict::Entry* a, const StateDict::Entry* b) {
              int ra = reference_rank(a->second.dtype()), rb = reference_rank(b->second.dtype());
              if (ra != rb) return ra > rb;
              return a->first < b->first;
            });
  return plan;
}

std::string header_text(const Plan& plan) {
  std::string h = "{";
  bool first = true;
  if (!plan.metadata.empty()) {
    h += "\"__metadata__\":{";
    for (const auto& [key, value] : plan.metadata) {
      if (!first) h += ',';
      first = false;
      h += json_string(key, "metadata key");
      h += ':';
      h += json_string(value, "metadata value");
    }
    h += '}';
  }
  std::uint64_t offset = 0;
  for (const StateDict::Entry* e : plan.tensors) {
    if (e->first == "__metadata__")
      detail::throw_error(errc::corrupt_data,
                          "a tensor cannot be named '__metadata__' in a safetensors file");
    h += h.size() > 1 ? "," : "";
    h += json_string(e->first, "tensor name");
    h += ":{\"dtype\":\"";
    h += safetensors_dtype_name(e->second.dtype());
    h += "\",\"shape\":[";
    for (std::size_t i = 0; i < e->second.shape().size(); ++i) {
      if (i != 0) h += ',';
      h += std::to_string(e->second.shape()[i]);
    }
    h += "],\"data_offsets\":[";
    h += std::to_string(offset) + "," + std::to_string(offset + e->second.nbytes()) + "]}";
    offset += e->second.nbytes();
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');  // the data starts 8-aligned
  return h;
}

}  // namespace

void write_safetensors(ByteSink& sink, const StateDict& dict,
                       const SafetensorsSaveOptions& options) {
  Plan plan = plan_file(dict);
  std::string header = header_text(plan);
  if (header.size() > options.max_header_bytes)
    detail::throw_error(errc::limit_exceeded,
                        "the safetensors header would take " + std::to_string(header.size()) +
                            " bytes, over SafetensorsSaveOptions::max_header_bytes (" +
                            std::to_string(options.max_header_bytes) + ")");
  unsigned char length[kLengthBytes];
  auto n = static_cast<std::uint64_t>(header.size());
  for (std::size_t i = 0; i < kLengthBytes; ++i)
    length[i] = static_cast<unsigned char>(n >> (8 * i));
  sink.write(length, kLengthBytes);
  sink.write(header.data(), header.size());
  for (const StateDict::Entry* e : plan.tensors)
    if (e->second.nbytes() != 0) sink.write(e->second.bytes(), e->second.nbytes());
}

void save_safetensors(const std::filesystem::path& path, const StateDict& dict,
                      const SafetensorsSaveOptions& options) {
  AtomicFileSink sink(path);
  write_safetensors(sink, dict, options);
  sink.commit();
}

// ---- sharded checkpoints -------------------------------------------------------------------

std::uint64_t parse_shard_size(std::string_view text) {
  auto bad = [&]() -> std::uint64_t {
    detail::throw_error(errc::corrupt_data,
                        "shard size " + in_quotes(text) +
                            " is not a number of bytes with an optional unit (B, KB, MB, GB, "
                            "TB: powers of 1000; KiB, MiB, GiB, TiB: powers of 1024)");
  };
  std::size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  std::uint64_t whole = 0;
  std::size_t digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
    if (whole > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) return bad();
    whole = whole * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  if (digits == 0) return bad();
  // A fraction ("1.5GB"), kept as numerator / 10^k with k at most 9.
  std::uint64_t fraction = 0, scale = 1;
  if (i < text.size() && text[i] == '.') {
    ++i;
    std::size_t k = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++k)
      if (k < 9) {
        fraction = fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
        scale *= 10;
      }
    if (k == 0) return bad();
  }
  while (i < text.size() && text[i] == ' ') ++i;
  std::string unit;
  for (; i < text.size(); ++i)
    unit += static_cast<char>(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 'a' + 'A' : text[i]);
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  static const std::pair<const char*, std::uint64_t> kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KB", 1000ull},
      {"MB", 1000ull * 1000},
      {"GB", 1000ull * 1000 * 1000},
      {"TB", 1000ull * 1000 * 1000 * 1000},
      {"KIB", 1ull << 10},
      {"MIB", 1ull << 20},
      {"GIB", 1ull << 30},
      {"TIB", 1ull << 40},
  };
  for (const auto& [name, multiplier] : kUnits) {
    if (unit != name) continue;
    if (whole > std::numeric_limits<std::uint64_t>::max() / multiplier) return bad();
    std::uint64_t bytes = whole * multiplier;
    // multiplier < 2^41 and fraction < 10^9 < 2^30: the product fits.
    std::uint64_t extra = multiplier / scale * fraction + multiplier % scale * fraction / scale;
    if (bytes > std::numeric_limits<std::uint64_t>::max() - extra) return bad();
    return bytes + extra;
  }
  return bad();
}

namespace {

constexpr const char* kStagedSuffix = ".brine-staged";

std::string shard_file_name(const std::string& prefix, std::size_t index, std::size_t count) {
  if (count == 1) return prefix + ".safetensors";
  char digits[64];
  std::snprintf(digits, sizeof digits, "-%05zu-of-%05zu", index + 1, count);
  return prefix + digits + ".safetensors";
}
std::string commit_file_name(const std::string& stem) {
  return "." + stem + ".safetensors.brine-commit";
}

// The file names of one checkpoint of a folder. With a variant they follow transformers'
// _add_variant, which puts the variant before the last extension: `model.fp16.safetensors`,
// `model.fp16-00001-of-00002.safetensors`, `model.safetensors.index.fp16.json`.
struct CheckpointNames {
  std::string stem;   // `prefix` or `prefix.variant`: shards are `<stem>.safetensors` and
                      // `<stem>-NNNNN-of-MMMMM.safetensors`
  std::string index;  // the index file
};

CheckpointNames names_of(const std::string& prefix, const std::string& variant) {
  if (variant.empty()) return {prefix, prefix + ".safetensors.index.json"};
  return {prefix + "." + variant, prefix + ".safetensors.index." + variant + ".json"};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether `name` is a file of the checkpoint `names` that brine or Hugging Face writes.
bool is_checkpoint_file(const std::string& name, const CheckpointNames& names) {
  if (name == names.stem + ".safetensors" || name == names.index) return true;
  const std::string head = names.stem + "-", tail = ".safetensors";
  if (name.size() <= head.size() + tail.size() || name.compare(0, head.size(), head) != 0 ||
      name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
    return false;
  std::string_view middle(name.data() + head.size(), name.size() - head.size() - tail.size());
  std::size_t of = middle.find("-of-");
  return of != std::string_view::npos && all_digits(middle.substr(0, of)) &&
         all_digits(middle.substr(of + 4));
}

void check_prefix(const std::string& prefix) {
  if (prefix.empty() || prefix.find('/') != std::string::npos ||
      prefix.find('\\') != std::string::npos || prefix.find("..") != std::string::npos ||
      prefix[0] == '.')
    detail::throw_error(errc::internal_error,
                        "checkpoint prefix " + in_quotes(prefix) +
                            " must be a plain file name (no '/', no '..', no leading '.')");
}

void check_variant(const std::string& variant) {
  if (variant.find('/') != std::string::npos || variant.find('\\') != std::string::npos ||
      variant.find('.') != std::string::npos || variant.find('\0') != std::string::npos)
    detail::throw_error(errc::internal_error, "checkpoint variant " + in_quotes(variant) +
                                                  " must be a plain name (no '/', no '.')");
}

[[noreturn]] void fail_io(const std::string& what, const fs::path& path, std::error_code ec) {
  detail::throw_io_error(what, ec, where(path.string()));
}

void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fail_io("cannot open the folder to make its changes durable", dir,
            std::error_code(errno, std::generic_category()));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL)
    fail_io("cannot fsync the folder", dir, std::error_code(err, std::generic_category()));
}

// The commit record: what a save that passed its commit point still has to do, and what a
// loader reads instead of the folder's files while it is there.
struct CommitRecord {
  std::vector<std::pair<std::string, std::string>> files;  // staged name, final name
  std::optional<std::string> index;                        // the index file's content
  std::vector<std::string> remove;                         // old files to remove
};

std::string record_text(const CommitRecord& record) {
  json files = json::array();
  for (const auto& [staged, final_name] : record.files) files.push_back({staged, final_name});
  json doc = {{"brine_sharded_commit", 1},
              {"files", files},
              {"index", record.index ? json(*record.index) : json(nullptr)},
              {"remove", record.remove}};
  return doc.dump(1) + "\n";
}

std::optional<CommitRecord> read_record(const fs::path& dir, const CheckpointNames& names) {
  fs::path path = dir / commit_file_name(names.stem);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::string text = read_file(path);
  auto bad = [&](const std::string& why) -> CommitRecord {
    fail(SafetensorsRule::invalid_index, "commit record " + why, where(path.string()));
  };
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("files") || !doc["files"].is_array() ||
      !doc.contains("remove") || !doc["remove"].is_array() || !doc.contains("index"))
    return bad("is not brine's");
  CommitRecord record;
  for (const json& f : doc["files"]) {
    if (!f.is_array() || f.size() != 2 || !f[0].is_string() || !f[1].is_string())
      return bad("lists a file that is not [staged, final]");
    record.files.emplace_back(f[0].get<std::string>(), f[1].get<std::string>());
  }
  for (const json& r : doc["remove"]) {
    if (!r.is_string()) return bad("lists a file to remove that is not a name");
    record.remove.push_back(r.get<std::string>());
  }
  if (doc["index"].is_string()) record.index = doc["index"].get<std::string>();
  for (const auto& [staged, final_name] : record.files)
    if (staged.find('/') != std::string::npos || final_name.find('/') != std::string::npos ||
        final_name.find("..") != std::string::npos)
      return bad("names a file outside its folder");
  for (const std::string& r : record.remove)
    if (r.find('/') != std::string::npos || !is_checkpoint_file(r, names))
      return bad("would remove " + in_quotes(r) + ", which is no checkpoint file of " +
                 in_quotes(names.stem));
  return record;
}

// Finishes a save that passed its commit point: moves the staged shards to their names,
// writes the index, removes the previous checkpoint's files, then the record. Every step
// may be repeated, so a crash during it is finished by the next save.
void roll_forward(const fs::path& dir, const CheckpointNames& names, const CommitRecord& record) {
  std::error_code ec;
  for (const auto& [staged, final_name] : record.files) {
    fs::path from = dir / staged;
    if (!fs::exists(from, ec)) continue;  // moved before a crash
    fs::rename(from, dir / final_name, ec);
    if (ec) fail_io("cannot move the staged shard into place", from, ec);
  }
  sync_directory(dir);
  if (record.index) write_file_atomically(dir / names.index, *record.index);
  for (const std::string& name : record.remove) {
    fs::remove(dir / name, ec);
    if (ec) fail_io("cannot remove a file of the previous checkpoint", dir / name, ec);
  }
  sync_directory(dir);
  fs::remove(dir / commit_file_name(names.stem), ec);
  if (ec) fail_io("cannot remove the commit record", dir / commit_file_name(names.stem), ec);
  sync_directory(dir);
}

std::string random_token() {
  std::random_device device;
  std::uniform_int_distribution<std::uint64_t> any;
  std::uint64_t v = any(device) ^ (static_cast<std::uint64_t>(::getpid()) << 32);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

}  // namespace

SavedStateDict save_state_dict(const std::filesystem::path& directory, const StateDict& dict,
                               const ShardOptions& options) {
  check_prefix(options.prefix);
  check_variant(options.variant);
  const CheckpointNames names = names_of(options.prefix, options.variant);
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) fail_io("cannot create the checkpoint folder", directory, ec);

  // A save killed after its commit point is finished first: its checkpoint is the current one.
  if (std::optional<CommitRecord> pending = read_record(directory, names))
    roll_forward(directory, names, *pending);
  // Staged shards of saves killed before their commit point are garbage now, and so are the
  // temporary files of saves killed while writing one (only those no live process holds).
  remove_stale_temp_files(directory);
  for (const auto& item : fs::directory_iterator(directory, ec)) {
    // `.<shard name>.<16 hex digits><kStagedSuffix>`, for a shard of this checkpoint only:
    // another variant's staged shards may be all that holds its committed checkpoint.
    std::string name = item.path().filename().string();
    const std::size_t tail = 1 + 16 + std::strlen(kStagedSuffix);
    if (name.size() > 1 + tail && name[0] == '.' &&
        name.compare(name.size() - std::strlen(kStagedSuffix), std::strlen(kStagedSuffix),
                     kStagedSuffix) == 0 &&
        is_checkpoint_file(name.substr(1, name.size() - 1 - tail), names))
      fs::remove(item.path(), ec);
  }

  // Hugging Face's split: greedy in key order; a tensor over the limit gets a shard of its
  // own (appended at once, the open shard stays open); an alias follows its first name.
  std::vector<std::vector<const StateDict::Entry*>> shards;
  std::vector<const StateDict::Entry*> open;
  std::uint64_t open_size = 0, total = 0;
  std::map<ViewKey, std::pair<const StateDict::Entry*, std::vector<const StateDict::Entry*>>> views;
  for (const StateDict::Entry& e : dict) {
    const Tensor& t = e.second;
    if (t.nbytes() != 0) {
      auto [it, inserted] = views.try_emplace(
          ViewKey{t.storage_id(), t.storage_offset(), t.nbytes(), t.dtype(), t.shape()},
          std::make_pair(&e, std::vector<const StateDict::Entry*>{}));
      if (!inserted) {
        it->second.second.push_back(&e);
        continue;
      }
    }
    std::uint64_t size = t.nbytes();
    total += size;
    if (size > options.max_shard_size) {
      shards.push_back({&e});
      continue;
    }
    if (open_size + size > options.max_shard_size && !open.empty()) {
      shards.push_back(std::move(open));
      open.clear();
      open_size = 0;
    }
    open.push_back(&e);
    open_size += size;
  }
  if (!open.empty() || shards.empty()) shards.push_back(std::move(open));
  for (const auto& [key, first_and_aliases] : views)
    for (auto& shard : shards)
      if (std::find(shard.begin(), shard.end(), first_and_aliases.first) != shard.end()) {
        shard.insert(shard.end(), first_and_aliases.second.begin(), first_and_aliases.second.end());
        break;
      }

  SavedStateDict saved;
  saved.total_size = total;
  CommitRecord record;
  const std::string token = random_token();
  json weight_map = json::object();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    std::string name = shard_file_name(names.stem, i, shards.size());
    StateDict shard;
    for (const StateDict::Entry* e : shards[i]) {
      shard.insert(e->first, e->second);
      weight_map[e->first] = name;
    }
    shard.metadata = dict.metadata;
    std::string staged = "." + name + "." + token + kStagedSuffix;
    save_safetensors(directory / staged, shard, options.save);  // durable under `staged`
    record.files.emplace_back(staged, name);
    saved.shards.push_back(name);
  }
  if (shards.size() > 1) {
    json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    record.index = index.dump(2) + "\n";
    saved.index = names.index;
  }
  std::set<std::string> keep(saved.shards.begin(), saved.shards.end());
  if (!saved.index.empty()) keep.insert(saved.index);
  for (const auto& item : fs::directory_iterator(directory, ec)) {
    std::string name = item.path().filename().string();
    if (keep.count(name) == 0 && is_checkpoint_file(name, names)) record.remove.push_back(name);
  }
  if (ec) fail_io("cannot list the checkpoint folder", directory, ec);
  std::sort(record.remove.begin(), record.remove.end());

  // The commit point: once the record is durable, the new checkpoint is the folder's.
  write_file_atomically(directory / commit_file_name(names.stem), record_text(record));
  roll_forward(directory, names, record);
  return saved;
}

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void check_shard_name(const std::string& name, const std::string& source) {
  std::string why;
  if (name.empty())
    why = "is empty";
  else if (name[0] == '/' || name[0] == '\\')
    why = "is an absolute path";
  else if (name.find("..") != std::string::npos)
    why = "contains '..'";
  else if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
    why = "has a directory part";
  else if (name.find('\0') != std::string::npos)
    why = "contains a NUL byte";
  else if (!ends_with(name, ".safetensors"))
    why = "is not a .safetensors file";
  if (!why.empty())
    fail(SafetensorsRule::invalid_shard_name,
         "the index names shard " + in_quotes(name) + ", which " + why +
             " (shards are plain .safetensors files of the index's folder)",
         where(source));
}

// Where a shard of a folder is now: during an unfinished commit, its staged file until moved.
using ShardLocator = std::function<fs::path(const std::string&)>;

StateDict load_shard(const ShardLocator& locate, const std::string& name,
                     const SafetensorsLoadOptions& options) {
  fs::path path = locate(name);
  try {
    return load_safetensors(path, options);
  } catch (const IoError&) {
    fs::path again = locate(name);  // moved into place meanwhile by a finishing save
    if (again == path) throw;
    return load_safetensors(again, options);
  }
}

StateDict load_index(const std::string& text, const std::string& source, const ShardLocator& locate,
                     const SafetensorsLoadOptions& options) {
  if (std::size_t nul = text.find('\0'); nul != std::string::npos)
    fail(SafetensorsRule::invalid_index, "the index holds a NUL byte, which JSON never does",
         where(source, nul));
  json doc;
  try {
    doc = parse_strict_json(text, 8);
  } catch (const JsonSyntaxError& e) {
    fail(SafetensorsRule::invalid_index, "the index is not valid JSON: " + e.message,
         where(source, e.position > 0 ? e.position - 1 : 0));
  } catch (const JsonViolation& v) {
    fail(v.duplicate ? SafetensorsRule::duplicate_name : SafetensorsRule::invalid_index,
         v.duplicate ? "the index names " + in_quotes(v.key) + " twice"
                     : std::string("the index nests values too deeply"),
         where(source));
  }
  if (!doc.is_object() || !doc.contains("weight_map") || !doc["weight_map"].is_object())
    fail(SafetensorsRule::invalid_index, "the index has no weight_map object", where(source));
  std::map<std::string, std::set<std::string>> by_shard;
  for (const auto& item : doc["weight_map"].items()) {
    if (!item.value().is_string())
      fail(SafetensorsRule::invalid_index,
           "weight_map entry " + in_quotes(item.key()) + " is not a shard name", where(source));
    const auto& shard = item.value().get_ref<const std::string&>();
    check_shard_name(shard, source);
    by_shard[shard].insert(item.key());
  }
  StateDict dict;
  for (const auto& [shard, names] : by_shard) {
    StateDict part = load_shard(locate, shard, options);
    for (const std::string& name : names)
      if (!part.contains(name))
        fail(SafetensorsRule::index_shard_mismatch,
             "the index puts tensor " + in_quotes(name) + " in shard " + in_quotes(shard) +
                 ", which does not hold it",
             where(source));
    for (auto& [name, tensor] : part) {
      if (names.count(name) == 0)
        fail(SafetensorsRule::index_shard_mismatch,
             "shard " + in_quotes(shard) + " holds tensor " + in_quotes(name) +
                 ", which the index does not list there",
             where(source));
      dict.insert(name, std::move(tensor));
    }
    for (auto& [key, value] : part.metadata) dict.metadata.emplace(key, value);
  }
  return dict;
}

StateDict load_folder(const fs::path& dir, const CheckpointNames& names,
                      const SafetensorsLoadOptions& options) {
  if (std::optional<CommitRecord> record = read_record(dir, names)) {
    // An interrupted save past its commit point: its checkpoint, wherever each file is now.
    std::map<std::string, std::string> staged_for;
    for (const auto& [staged, final_name] : record->files) staged_for[final_name] = staged;
    ShardLocator locate = [dir, staged_for](const std::string& name) {
      auto it = staged_for.find(name);
      std::error_code ec;
      if (it != staged_for.end() && fs::exists(dir / it->second, ec)) return dir / it->second;
      return dir / name;
    };
    fs::path source = dir / commit_file_name(names.stem);
    if (record->index) return load_index(*record->index, source.string(), locate, options);
    if (record->files.size() != 1)
      fail(SafetensorsRule::invalid_index, "commit record without index lists several files",
           where(source.string()));
    return load_shard(locate, record->files[0].second, options);
  }
  std::error_code ec;
  fs::path single = dir / (names.stem + ".safetensors");
  if (fs::exists(single, ec)) return load_safetensors(single, options);
  fs::path index = dir / names.index;
  if (fs::exists(index, ec)) {
    ShardLocator locate = [dir](const std::string& name) { return dir / name; };
    return load_index(read_file(index), index.string(), locate, options);
  }
  fail_io("the folder holds no " + names.stem + ".safetensors nor " + names.index, dir,
          std::make_error_code(std::errc::no_such_file_or_directory));
}

}  // namespace

StateDict load_state_dict(const std::filesystem::path& path, const SafetensorsLoadOptions& options,
                          const std::string& prefix, const std::string& variant) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    check_prefix(prefix);
    check_variant(variant);
    return load_folder(path, names_of(prefix, variant), options);
  }
  const std::string name = path.filename().string();
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const std::string index_tail = ".safetensors.index.json";
  if (ends_with(name, index_tail)) {
    std::string own_prefix = name.substr(0, name.size() - index_tail.size());
    if (fs::exists(dir / commit_file_name(own_prefix), ec))
      return load_folder(dir, names_of(own_prefix, ""), options);
    ShardLocator locate = [dir](const std::string& shard) { return dir / shard; };
    return load_index(read_file(path), path.string(), locate, options);
  }
  if (ends_with(name, ".safetensors")) {
    std::string own_prefix = name.substr(0, name.size() - std::strlen(".safetensors"));
    if (!own_prefix.empty() && fs::exists(dir / commit_file_name(own_prefix), ec))
      return load_folder(dir, names_of(own_prefix, ""), options);
  }
  return load_safetensors(path, options);
}
}  // namespace brine
