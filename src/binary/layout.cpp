// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/layout.cpp: field layouts of the binary type table (building them, their fingerprints,
// reading descriptors). See docs/format/binary-v1.md §4.

#include "brine/layout.hpp"

#include "binary/format.hpp"
#include "brine/error.hpp"
#include "util/varint.hpp"
#include "util/xxhash.hpp"

namespace brine {

void LayoutBuilder::count(std::uint64_t n) { util::append_varint(current_, n); }

void LayoutBuilder::type_name(std::string_view name) {
  util::append_varint(current_, name.size());
  current_.append(name.data(), name.size());
}

void LayoutBuilder::object(LayoutCode c, const detail::TypeOps& ops) {
  code(c);
  type_name(ops.name);
  for (const detail::TypeOps* d : dependencies_)
    if (d == &ops) return;
  dependencies_.push_back(&ops);
}

void LayoutBuilder::begin_field(const char* name) {
  fields_ += current_;  // the previous field's descriptor
  current_.clear();
  std::string_view n(name);
  util::append_varint(fields_, n.size());
  fields_.append(n.data(), n.size());
  ++field_count_;
}

Layout LayoutBuilder::finish_descriptor() {
  Layout layout;
  layout.bytes = std::move(current_);
  std::size_t pos = 0;
  layout.min_binary_size =
      layout.bytes.empty() ? 0 : detail::descriptor_min_size(layout.bytes, pos);
  layout.fingerprint = XXH3_64bits(layout.bytes.data(), layout.bytes.size());
  layout.dependencies = std::move(dependencies_);
  current_.clear();
  return layout;
}

Layout LayoutBuilder::finish() {
  Layout layout;
  {
    fields_ += current_;
    util::append_varint(layout.bytes, field_count_);
    layout.bytes += fields_;
    // Minimum size: the sum over fields, read back from the encoding just built.
    std::string_view v(layout.bytes);
    std::size_t pos = 0;
    std::uint64_t count = util::read_varint(v, pos);
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint64_t len = util::read_varint(v, pos);
      layout.field_names.emplace_back(v.substr(pos, len));
      pos += len;
      layout.min_binary_size += detail::descriptor_min_size(v, pos);
    }
  }
  layout.field_count = field_count_;
  layout.fingerprint = XXH3_64bits(layout.bytes.data(), layout.bytes.size());
  layout.dependencies = std::move(dependencies_);
  current_.clear();
  fields_.clear();
  field_count_ = 0;
  return layout;
}

namespace detail {

std::size_t field_count_of(const TypeOps& ops) {
  LayoutBuilder builder(ops.version);
  if (ops.describe != nullptr) ops.describe(builder);
  return builder.finish().field_count;
}

std::size_t descriptor_min_size(std::string_view d, std::size_t& pos, int depth) {
  // Descriptors come from archives, so they are hostile input too: bound the recursion.
  if (depth > kMaxLayoutDepth)
    detail::throw_error(errc::corrupt_data, "layout descriptor nested deeper than " +
                                                std::to_string(kMaxLayoutDepth) +
                                                " levels (brine::kMaxLayoutDepth)");
  if (pos >= d.size()) detail::throw_error(errc::corrupt_data, "layout descriptor ends early");
  auto code = static_cast<LayoutCode>(static_cast<std::uint8_t>(d[pos++]));
  auto name = [&] {
    std::uint64_t len = util::read_varint(d, pos);
    if (len > d.size() - pos)
      detail::throw_error(errc::corrupt_data, "type name in layout descriptor ends early");
    pos += len;
  };
  switch (code) {
    case LayoutCode::boolean:
    case LayoutCode::i8:
    case LayoutCode::u8:
    case LayoutCode::i16:
    case LayoutCode::u16:
    case LayoutCode::i32:
    case LayoutCode::u32:
    case LayoutCode::f32:
    case LayoutCode::i64:
    case LayoutCode::u64:
    case LayoutCode::f64:
      return binary_format::number_size(code);
    case LayoutCode::text:
    case LayoutCode::path:
    case LayoutCode::function:
    case LayoutCode::bytes:
    case LayoutCode::dynamic:
      return 1;
    case LayoutCode::tensor:
      return 4;  // dtype, rank, payload, offset
    case LayoutCode::list:
    case LayoutCode::set:
    case LayoutCode::optional:
      descriptor_min_size(d, pos, depth + 1);
      return 1;
    case LayoutCode::map:
      descriptor_min_size(d, pos, depth + 1);
      descriptor_min_size(d, pos, depth + 1);
      return 1;
    case LayoutCode::array: {
      std::uint64_t n = util::read_varint(d, pos);
      std::size_t each = descriptor_min_size(d, pos, depth + 1);
      // Saturate: a hostile array length must not overflow the sum.
      return n != 0 && each > (std::size_t(1) << 40) / n ? (std::size_t(1) << 40) : n * each;
    }
    case LayoutCode::tuple: {
      std::uint64_t n = util::read_varint(d, pos);
      if (n > 4096)
        detail::throw_error(errc::corrupt_data,
                            "tuple of " + std::to_string(n) + " elements in layout descriptor");
      std::size_t sum = 0;
      for (std::uint64_t i = 0; i < n; ++i) sum += descriptor_min_size(d, pos, depth + 1);
      return sum;
    }
    case LayoutCode::variant: {
      std::uint64_t n = util::read_varint(d, pos);
      if (n == 0 || n > 4096)
        detail::throw_error(errc::corrupt_data, "variant of " + std::to_string(n) +
                                                    " alternatives in layout descriptor");
      for (std::uint64_t i = 0; i < n; ++i) descriptor_min_size(d, pos, depth + 1);
      return 1;
    }
    case LayoutCode::duration:
    case LayoutCode::time_point:
      util::read_varint(d, pos);
      util::read_varint(d, pos);
      return descriptor_min_size(d, pos, depth + 1);
    case LayoutCode::object:
      name();
      return 0;
    case LayoutCode::shared:
    case LayoutCode::unique:
    case LayoutCode::weak:
      name();
      return 1;
  }
  detail::throw_error(errc::corrupt_data,
                      "unknown layout code " + std::to_string(static_cast<int>(code)));
}

}  // namespace detail
}  // namespace brine
