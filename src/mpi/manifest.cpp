// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/manifest.cpp: writing and checking the global manifest of a distributed checkpoint.
// See docs/format/mpi-checkpoint.md §2 "Manifest".

#include "mpi/manifest.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

// Inlined rather than linked: brine::mpi then needs no libxxhash of its own at link time (a
// static brine_mpi would pass it on to every consumer). The SSE2 path it compiles to hashes
// several times faster than the disks it checksums.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace brine::mpi::manifest {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& what, const std::string& source) {
  ErrorContext where;
  where.source = source;
  detail::throw_error(errc::corrupt_data, "invalid checkpoint manifest: " + what, where);
}

const json& member(const json& object, const char* key, const std::string& where,
                   const std::string& source) {
  auto it = object.find(key);
  if (it == object.end()) bad(where + " has no '" + key + "'", source);
  return *it;
}

std::int64_t integer(const json& value, const std::string& what, const std::string& source,
                     std::int64_t min, std::int64_t max) {
  if (!value.is_number_integer()) bad(what + " is not an integer", source);
  // A number above INT64_MAX parses as unsigned; it is out of range whatever `max` is.
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(max))
    bad(what + " is out of range", source);
  std::int64_t v = value.get<std::int64_t>();
  if (v < min || v > max)
    bad(what + " is " + std::to_string(v) + ", outside [" + std::to_string(min) + ", " +
            std::to_string(max) + "]",
        source);
  return v;
}

std::vector<std::string> name_list(const json& value, const std::string& what,
                                   const std::string& source) {
  if (!value.is_array()) bad(what + " is not an array", source);
  std::vector<std::string> names;
  for (const json& n : value) {
    if (!n.is_string() || n.get_ref<const std::string&>().empty())
      bad(what + " holds an entry that is not a non-empty string", source);
    names.push_back(n.get<std::string>());
  }
  if (!std::is_sorted(names.begin(), names.end()) ||
      std::adjacent_find(names.begin(), names.end()) != names.end())
    bad(what + " is not sorted without repeats", source);
  return names;
}

}  // namespace

std::string rank_file_name(int rank) {
  char name[40];
  std::snprintf(name, sizeof name, "rank-%05d.safetensors", rank);
  return name;
}

std::uint64_t xxh3(const void* bytes, std::size_t n) noexcept { return XXH3_64bits(bytes, n); }

std::string hex64(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::string coverage_problem(const TensorEntry& tensor) {
  if (tensor.shape.empty()) return "has no first dimension to distribute";
  std::int64_t next = 0;
  for (const Slice& s : tensor.slices) {
    if (s.rows.begin != next)
      return s.rows.begin < next ? "has rows " + std::to_string(s.rows.begin) + ".." +
                                       std::to_string(next) + " written twice"
                                 : "has rows " + std::to_string(next) + ".." +
                                       std::to_string(s.rows.begin) + " written by no rank";
    if (s.rows.end < s.rows.begin) return "has a slice that ends before it begins";
    next = s.rows.end;
  }
  if (next != tensor.shape[0])
    return next < tensor.shape[0]
               ? "has rows " + std::to_string(next) + ".." + std::to_string(tensor.shape[0]) +
                     " written by no rank"
               : "has slices beyond its " + std::to_string(tensor.shape[0]) + " rows";
  return {};
}

std::string to_json(const Manifest& manifest) {
  json files = json::array();
  for (const FileEntry& f : manifest.files)
    files.push_back({{"name", f.name}, {"size", f.size}, {"xxh3_64", hex64(f.xxh3)}});
  json tensors = json::object();
  for (const auto& [name, t] : manifest.tensors) {
    json slices = json::array();
    for (const Slice& s : t.slices)
      slices.push_back({{"rank", s.rank}, {"begin", s.rows.begin}, {"end", s.rows.end}});
    tensors[name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"slices", slices}};
  }
  json doc = {{"format", kFormatName},
              {"version", kFormatVersion},
              {"step", manifest.step},
              {"world_size", manifest.world_size},
              {"files", files},
              {"tensors", tensors},
              {"replicated", manifest.replicated},
              {"local", manifest.local}};
  return doc.dump(1) + "\n";
}

Manifest parse(std::string_view text, const std::string& source) {
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) bad("not valid JSON", source);
  if (!doc.is_object()) bad("not a JSON object", source);
  const json& format = member(doc, "format", "the manifest", source);
  if (!format.is_string() || format.get<std::string>() != kFormatName)
    bad(std::string("'format' is not \"") + kFormatName + "\"", source);
  std::int64_t version =
      integer(member(doc, "version", "the manifest", source), "'version'", source, 1, INT64_MAX);
  if (version > kFormatVersion) {
    ErrorContext where;
    where.source = source;
    detail::throw_error(errc::newer_format_version,
                        "checkpoint manifest version " + std::to_string(version) +
                            ", this build reads up to " + std::to_string(kFormatVersion) +
                            ": upgrade the program",
                        where);
  }
  Manifest m;
  m.step = integer(member(doc, "step", "the manifest", source), "'step'", source, 0, INT64_MAX);
  m.world_size = static_cast<int>(integer(member(doc, "world_size", "the manifest", source),
                                          "'world_size'", source, 1, kMaxWorldSize));

  const json& files = member(doc, "files", "the manifest", source);
  if (!files.is_array() || files.size() != static_cast<std::size_t>(m.world_size))
    bad("'files' is not an array of one entry per rank (" + std::to_string(m.world_size) + ")",
        source);
  for (std::size_t r = 0; r < files.size(); ++r) {
    std::string where = "files[" + std::to_string(r) + "]";
    const json& f = files[r];
    if (!f.is_object()) bad(where + " is not an object", source);
    FileEntry e;
    const json& name = member(f, "name", where, source);
    e.name = rank_file_name(static_cast<int>(r));
    // Only the name this format gives rank r: a manifest cannot point a rank outside its
    // folder.
    if (!name.is_string() || name.get<std::string>() != e.name)
      bad(where + ".name is not '" + e.name + "'", source);
    e.size = static_cast<std::uint64_t>(
        integer(member(f, "size", where, source), where + ".size", source, 8, INT64_MAX));
    const json& sum = member(f, "xxh3_64", where, source);
    std::string digits = sum.is_string() ? sum.get<std::string>() : std::string();
    if (digits.size() != 16 || digits.find_first_not_of("0123456789abcdef") != std::string::npos)
      bad(where + ".xxh3_64 is not 16 lowercase hex digits", source);
    e.xxh3 = std::stoull(digits, nullptr, 16);
    m.files.push_back(std::move(e));
  }

  const json& tensors = member(doc, "tensors", "the manifest", source);
  if (!tensors.is_object()) bad("'tensors' is not an object", source);
  for (auto it = tensors.begin(); it != tensors.end(); ++it) {
    std::string where = "tensor '" + it.key() + "'";
    if (it.key().empty()) bad("a tensor has an empty name", source);
    const json& t = it.value();
    if (!t.is_object()) bad(where + " is not an object", source);
    TensorEntry e;
    const json& dtype = member(t, "dtype", where, source);
    std::optional<DType> d =
        dtype.is_string() ? dtype_from_name(dtype.get<std::string>()) : std::nullopt;
    if (!d) bad(where + " has an unknown dtype", source);
    e.dtype = *d;
    const json& shape = member(t, "shape", where, source);
    if (!shape.is_array() || shape.empty() || shape.size() > 64)
      bad(where + " has a shape that is not an array of 1 to 64 dimensions", source);
    for (const json& dim : shape)
      e.shape.push_back(integer(dim, where + " dimension", source, 0, INT64_MAX));
    try {
      Tensor::checked_size(e.dtype, e.shape, it.key());
    } catch (Error& error) {
      detail::note_error_source(error, source);
      throw;
    }
    const json& slices = member(t, "slices", where, source);
    if (!slices.is_array() || slices.size() > static_cast<std::size_t>(m.world_size))
      bad(where + " has slices that are not an array of at most one per rank", source);
    std::set<int> ranks;
    for (const json& s : slices) {
      if (!s.is_object()) bad(where + " has a slice that is not an object", source);
      Slice slice;
      slice.rank = static_cast<int>(integer(member(s, "rank", where, source), where + " slice rank",
                                            source, 0, m.world_size - 1));
      slice.rows.begin =
          integer(member(s, "begin", where, source), where + " slice begin", source, 0, e.shape[0]);
      slice.rows.end = integer(member(s, "end", where, source), where + " slice end", source,
                               slice.rows.begin + 1, e.shape[0]);
      if (!ranks.insert(slice.rank).second)
        bad(where + " has two slices of rank " + std::to_string(slice.rank), source);
      e.slices.push_back(slice);
    }
    std::sort(e.slices.begin(), e.slices.end(),
              [](const Slice& a, const Slice& b) { return a.rows.begin < b.rows.begin; });
    std::string problem = coverage_problem(e);
    if (!problem.empty()) bad(where + " " + problem, source);
    m.tensors.emplace(it.key(), std::move(e));
  }
  m.replicated =
      name_list(member(doc, "replicated", "the manifest", source), "'replicated'", source);
  m.local = name_list(member(doc, "local", "the manifest", source), "'local'", source);
  return m;
}

}  // namespace brine::mpi::manifest
