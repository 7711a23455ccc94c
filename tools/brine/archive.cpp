// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/archive.cpp: format detection, reading and writing archives without C++ types,
// shared by the subcommands.

#include <algorithm>
#include <brine/binary.hpp>
#include <brine/bundle.hpp>
#include <brine/error.hpp>
#include <brine/hub.hpp>
#include <brine/io.hpp>
#include <brine/npz_object.hpp>
#include <brine/stable.hpp>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>
#include <utility>

#include "cli.hpp"

namespace brine_cli {
namespace {

// See docs/format/binary-v1.md §2 "File header": magic, kind:u16, format-version:u16.
constexpr std::string_view kBinaryMagic{
    "\x89"
    "BRINE\r\n",
    8};
constexpr std::size_t kBinaryVersionOffset = 10;
// A stable archive is a CBOR document that opens with the self-describe tag 55799
// (RFC 8949 §3.4.6), written by StableWriter::start().
constexpr std::string_view kStableMagic{"\xD9\xD9\xF7", 3};
// numpy's .npy (docs/format/numpy.md) and the ZIP container of .npz.
constexpr std::string_view kNpyMagic{"\x93NUMPY", 6};
constexpr std::string_view kZipLocalHeader{"PK\x03\x04", 4};
constexpr std::string_view kZipEmptyArchive{"PK\x05\x06", 4};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A ZIP is a DDUF file when it is named so, or when its first entry is one of the kinds a DDUF
// file holds (numpy's savez names every entry *.npy). A file named .npz stays an .npz, and so
// does a ZIP whose first entry is an object .npz's JSON entry (an object without tensors).
bool is_dduf_zip(std::string_view bytes, const std::string& source) {
  if (ends_with(source, ".dduf")) return true;
  if (ends_with(source, ".npz") || bytes.size() < 30) return false;
  const std::size_t name_length =
      static_cast<unsigned char>(bytes[26]) | static_cast<unsigned char>(bytes[27]) << 8;
  const std::string_view name = bytes.substr(30, name_length);
  if (name == brine::kNpzObjectEntry) return false;
  for (std::string_view ext : {".json", ".safetensors", ".model", ".txt"})
    if (ends_with(name, ext)) return true;
  return false;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string hex_prefix(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < 8; ++i) {
    if (i) out += ' ';
    auto b = static_cast<unsigned char>(bytes[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// The JSON document's format version. json_document_values() has already validated the
// document and checked the version is one this build reads, but does not return it. Parse
// again, only until "format_version" has been read: canonical documents (sorted keys) have it
// before "values", so this costs nothing next to the first parse.
std::uint32_t json_format_version_of(std::string_view text) {
  using Json = nlohmann::json;
  struct Seeker : nlohmann::json_sax<Json> {
    int depth = 0;
    bool at_version = false;  // the last key read at the top level was "format_version"
    std::uint32_t version = 0;
    bool value(std::uint64_t v) {
      if (depth == 1 && at_version) {
        version = static_cast<std::uint32_t>(v);
        return false;  // found: stop the parse
      }
      return true;
    }
    bool other() {
      if (depth == 1 && at_version) return false;  // not a count: json_document_values said 0
      return true;
    }
    bool null() override { return other(); }
    bool boolean(bool) override { return other(); }
    bool number_integer(number_integer_t v) override {
      return v >= 0 ? value(static_cast<std::uint64_t>(v)) : other();
    }
    bool number_unsigned(number_unsigned_t v) override { return value(v); }
    bool number_float(number_float_t v, const string_t&) override {
      return v >= 0 && v < 4294967296.0 ? value(static_cast<std::uint64_t>(v)) : other();
    }
    bool string(string_t&) override { return other(); }
    bool binary(binary_t&) override { return other(); }
    bool start_object(std::size_t) override {
      at_version = false;
      ++depth;
      return true;
    }
    bool key(string_t& k) override {
      at_version = depth == 1 && k == "format_version";
      return true;
    }
    bool end_object() override {
      --depth;
      return true;
    }
    bool start_array(std::size_t) override {
      at_version = false;
      ++depth;
      return true;
    }
    bool end_array() override {
      --depth;
      return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
      return false;
    }
  } seeker;
  Json::sax_parse(text.begin(), text.end(), &seeker, Json::input_format_t::json, false);
  return seeker.version;
}

[[noreturn]] void fail_trailing(const std::string& source, std::uint64_t end, std::uint64_t size) {
  brine::ErrorContext where;
  where.source = source;
  where.byte_offset = end;
  throw brine::FormatError(brine::errc::corrupt_data,
                           std::to_string(size - end) +
                               " bytes after the archive's end marker: the file is damaged or "
                               "holds more than one archive",
                           where);
}

// The rule every loader applies to shared objects (docs/state-model.md): within one
// top-level value, each id is defined once, and a reference names an object met before it,
// depth first in document order (the object may still be open: a cycle). A JSON document,
// or the self-describing values of a binary archive, can break it; the stable reader checks
// it as it reads. Checked here for every format, so that what `verify` accepts, `convert`
// can write and a program can load.
void check_shared_objects(const std::vector<brine::Value>& values, const std::string& source) {
  std::unordered_set<std::uint64_t> defined;
  std::vector<const brine::Value*> stack;  // explicit: the tool keeps its own stack small
  for (std::size_t i = 0; i < values.size(); ++i) {
    defined.clear();
    stack.assign(1, &values[i]);
    auto fail = [&](const std::string& what) {
      brine::ErrorContext where;
      where.source = source;
      throw brine::FormatError(brine::errc::corrupt_data,
                               "value " + std::to_string(i) + ": " + what, where);
    };
    while (!stack.empty()) {
      const brine::Value* v = stack.back();
      stack.pop_back();
      switch (v->kind()) {
        case brine::ValueKind::list: {
          const brine::Value::List& list = v->as_list();
          for (auto it = list.rbegin(); it != list.rend(); ++it) stack.push_back(&*it);
          break;
        }
        case brine::ValueKind::map: {
          const brine::Value::Map& map = v->as_map();
          for (auto it = map.rbegin(); it != map.rend(); ++it) stack.push_back(&it->second);
          break;
        }
        case brine::ValueKind::object: {
          const brine::Object& o = v->as_object();
          if (o.shared_id && !defined.insert(*o.shared_id).second)
            fail("shared object id " + std::to_string(*o.shared_id) + " is defined twice");
          for (auto it = o.fields.rbegin(); it != o.fields.rend(); ++it)
            stack.push_back(&it->value);
          break;
        }
        case brine::ValueKind::reference:
          if (defined.count(v->as_reference().id) == 0)
            fail("reference to shared object " + std::to_string(v->as_reference().id) +
                 " before its definition (a reference must follow the shared object it names)");
          break;
        default:
          break;
      }
    }
  }
}

}  // namespace

const char* format_name(Format format) noexcept {
  switch (format) {
    case Format::binary:
      return "brine-binary";
    case Format::stable:
      return "brine-stable";
    case Format::json:
      return "brine-json";
    case Format::safetensors:
      return "safetensors";
    case Format::npy:
      return "npy";
    case Format::npz:
      return "npz";
    case Format::dduf:
      return "dduf";
    case Format::bundle:
      return "brine-bundle";
    case Format::model_folder:
      return "model-folder";
  }
  return "unknown";
}

Format format_from_option(const std::string& option) {
  if (option == "binary") return Format::binary;
  if (option == "stable") return Format::stable;
  if (option == "json") return Format::json;
  if (option == "safetensors") return Format::safetensors;
  if (option == "npy") return Format::npy;
  if (option == "npz") return Format::npz;
  if (option == "dduf") return Format::dduf;
  throw UsageError("unknown format '" + option +
                   "' (known: binary, stable, json, safetensors, npy, npz)");
}

Format output_format(const std::filesystem::path& out, const std::string& to) {
  if (!to.empty()) return format_from_option(to);
  std::string ext = out.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".brine" || ext == ".bin") return Format::binary;
  if (ext == ".brines" || ext == ".cbor") return Format::stable;
  if (ext == ".json") return Format::json;
  if (ext == ".safetensors") return Format::safetensors;
  if (ext == ".npy") return Format::npy;
  if (ext == ".npz") return Format::npz;
  if (ext == ".dduf") return Format::dduf;
  // A folder (existing, or named with a trailing '/') holds a sharded safetensors checkpoint.
  const std::string name = out.string();
  if ((!name.empty() && name.back() == '/') || std::filesystem::is_directory(out))
    return Format::safetensors;
  throw UsageError("cannot tell the output format from the name '" + out.string() +
                   "': use .brine or .bin (binary), .brines or .cbor (stable), .json, "
                   ".safetensors, .npy, .npz, a folder (sharded safetensors), or --to");
}

Format detect_format(std::string_view bytes, const std::string& source) {
  // A file named .dduf is read as one, so that its errors say which DDUF rule it breaks.
  if (ends_with(source, ".dduf")) return Format::dduf;
  if (starts_with(bytes, kBinaryMagic)) return Format::binary;
  if (starts_with(bytes, kStableMagic)) return Format::stable;
  if (starts_with(bytes, kNpyMagic)) return Format::npy;
  if (starts_with(bytes, kZipLocalHeader) && is_dduf_zip(bytes, source)) return Format::dduf;
  if (starts_with(bytes, kZipLocalHeader) || starts_with(bytes, kZipEmptyArchive))
    return Format::npz;
  // safetensors has no magic: 8 bytes of header length, then the JSON header's '{'. The
  // length must fit the file, which no JSON document's first 8 bytes (text, at least 0x09
  // each: a length of 6.5e17) ever do, so a brine JSON document is never taken for one.
  if (bytes.size() >= 9 && bytes[8] == '{') {
    std::uint64_t header = 0;
    for (int i = 7; i >= 0; --i) header = header << 8 | static_cast<unsigned char>(bytes[i]);
    if (header <= bytes.size() - 8) return Format::safetensors;
  }
  std::size_t i = bytes.find_first_not_of(" \t\r\n");
  if (i != std::string_view::npos && bytes[i] == '{') return Format::json;
  brine::ErrorContext where;
  where.source = source;
  where.byte_offset = 0;
  if (bytes.empty())
    throw brine::FormatError(brine::errc::truncated_input, "empty file: not a brine archive",
                             where);
  if (starts_with(kBinaryMagic, bytes) || starts_with(kStableMagic, bytes))
    throw brine::FormatError(
        brine::errc::truncated_input,
        "file of " + std::to_string(bytes.size()) + " bytes ends inside an archive header", where);
  throw brine::FormatError(brine::errc::corrupt_data,
                           "not a brine archive: starts with " + hex_prefix(bytes) +
                               " (expected a binary archive, a stable CBOR archive or a brine "
                               "JSON document)",
                           where);
}

namespace {

Archive read_file_archive(brine::FileSource& file, Progress& progress) {
  const std::string_view bytes = file.direct_view();  // the mapping lives as long as file
  Archive archive;
  archive.bytes = bytes.size();
  archive.format = detect_format(bytes, file.description());
  if (is_tensor_format(archive.format)) {
    progress.start_reading(bytes.size());
    read_tensor_file(file.description(), bytes, archive);
    progress.read(bytes.size());
    return archive;
  }
  progress.start_reading(bytes.size());
  // The readers advance the source as they decode (the binary reader block by block, the
  // JSON parser chunk by chunk), so its position is the progress through the file.
  CountingSource source(file, progress);
  // The tool has no C++ types: an empty registry makes every reader decode into the state
  // model and refuse nothing for being unknown, so archives of any program can be read.
  const brine::Registry empty;
  const brine::LoadOptions options;
  switch (archive.format) {
    case Format::binary: {
      brine::BinaryReader reader(source, empty, options);
      // The reader checked the header, so the version bytes are there.
      archive.format_version = static_cast<std::uint32_t>(
          static_cast<unsigned char>(bytes[kBinaryVersionOffset]) |
          static_cast<unsigned char>(bytes[kBinaryVersionOffset + 1]) << 8);
      while (!reader.at_end()) archive.values.push_back(reader.read_value());
      // The format lets a stream carry other data after the end block (binary-v1.md §3.2);
      // a file that does is not one whole archive.
      if (source.position() != bytes.size())
        fail_trailing(source.description(), source.position(), bytes.size());
      for (const brine::BinaryReader::TypeEntry& t : reader.types())
        archive.type_table.push_back({t.name, t.version});
      break;
    }
    case Format::stable: {
      // The constructor validates the whole document (structure, limits, checksum, no
      // trailing bytes) before any value is decoded: it has read every byte once it returns,
      // in place, so only then can the count move.
      brine::StableReader reader(source, empty, options);
      progress.read(bytes.size());
      archive.format_version = reader.format_version();
      const std::size_t count = reader.value_count();
      archive.values.reserve(count);
      for (std::size_t i = 0; i < count; ++i) archive.values.push_back(reader.read_value());
      break;
    }
    case Format::json: {
      // Errors name the file: the library names the source.
      archive.values = brine::json_document_values(source, options);
      archive.format_version = json_format_version_of(bytes);
      break;
    }
    case Format::safetensors:
    case Format::npy:
    case Format::npz:
    case Format::dduf:
      break;  // read by read_tensor_file above
    case Format::bundle:
    case Format::model_folder:
      BRINE_ASSERT(false, "a bundle or model folder is a folder: read_archive reads it");
      break;
  }
  check_shared_objects(archive.values, source.description());
  return archive;
}

}  // namespace

bool is_bundle_folder(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) && brine::is_bundle(path);
}

namespace {

// A bundle folder: its values as configurations (no type needed, nothing built, no init
// function run), every data file checked against the manifest's size and SHA-256 on the way.
Archive read_bundle_folder(const std::filesystem::path& path, Progress& progress) {
  const brine::BundleManifest manifest = brine::read_bundle_manifest(path);
  const brine::Registry empty;
  brine::BundleLoadOptions options;
  options.as_instance = false;
  options.run_init_functions = false;
  options.registry = &empty;
  std::vector<brine::LoadedValue> loaded = brine::load_bundle(path, options);
  Archive archive;
  archive.format = Format::bundle;
  archive.format_version = manifest.format_version;
  archive.values.reserve(loaded.size());
  for (const brine::LoadedValue& value : loaded) archive.values.push_back(value.state());
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec))
    if (entry.is_regular_file(ec)) archive.bytes += entry.file_size(ec);
  for (const brine::BundleFileInfo& file : manifest.files)
    archive.files.push_back({file.path, file.size, file.sha256});
  progress.read(archive.bytes);
  return archive;
}

// A model folder: its definition with the weights of every variant it holds, each checked
// against it; the value is the default weights' state (or the first variant's).
Archive read_model_folder(const std::filesystem::path& path, Progress& progress) {
  Archive archive;
  archive.format = Format::model_folder;
  archive.format_version = brine::model_folder_format_version;
  std::vector<std::string> variants = brine::model_folder_variants(path);
  // No weights at all: the default is loaded, and its error says what is missing.
  if (variants.empty()) variants.push_back(std::string());
  brine::ModelFolderOptions options;
  for (const std::string& variant : variants) {
    options.variant = variant;
    brine::Value state = brine::load_pretrained_state(path, options);
    if (archive.values.empty()) archive.values.push_back(std::move(state));
  }
  archive.variants = std::move(variants);
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec))
    if (entry.is_regular_file(ec)) archive.bytes += entry.file_size(ec);
  progress.read(archive.bytes);
  return archive;
}

}  // namespace

bool is_model_folder(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) &&
         (std::filesystem::exists(path / "brine.json", ec) ||
          std::filesystem::exists(path / "definition.json", ec));
}

Archive read_archive(const std::filesystem::path& path, Progress& progress) {
  if (is_bundle_folder(path)) return read_bundle_folder(path, progress);
  if (is_model_folder(path)) return read_model_folder(path, progress);
  if (is_sharded_checkpoint(path)) {
    Archive archive;
    archive.format = Format::safetensors;
    read_tensor_file(path.string(), {}, archive);
    return archive;
  }
  brine::FileSource file(path);
  try {
    return read_file_archive(file, progress);
  } catch (brine::Error& e) {
    // The state model sees values, not a file: name the file for the errors it raises.
    brine::detail::note_error_source(e, file.description());
    throw;
  }
}

void write_archive(const std::filesystem::path& path, Format format,
                   const std::vector<brine::Value>& values, Progress& progress) {
  // Writers register types they meet; write_value meets none, so this stays empty.
  brine::Registry empty;
  brine::AtomicFileSink file(path);
  CountingSink sink(file, progress);
  progress.start_writing();
  switch (format) {
    case Format::binary: {
      brine::BinaryWriter writer(sink, empty);
      // All values at once: a type gets one layout that fits every value.
      writer.write_values(values);
      writer.finish();
      break;
    }
    case Format::stable: {
      brine::StableWriter writer(sink, empty);
      for (const brine::Value& value : values) writer.write_value(value);
      writer.finish();
      break;
    }
    case Format::json: {
      // The document is rendered whole, then written in pieces so that the count moves.
      const std::string text = brine::json_document(values);
      constexpr std::size_t kPiece = std::size_t{1} << 20;
      for (std::size_t at = 0; at < text.size(); at += kPiece)
        sink.write(text.data() + at, text.size() - at < kPiece ? text.size() - at : kPiece);
      sink.write("\n", 1);
      sink.flush();
      break;
    }
    case Format::safetensors:
    case Format::npy:
    case Format::npz:
    case Format::dduf:
    case Format::bundle:
    case Format::model_folder:
      BRINE_ASSERT(false, "write_archive of a tensor format or a bundle: convert writes those");
      break;
  }
  file.commit();
}

std::vector<TypeVersion> collect_types(const Archive& archive) {
  std::set<std::pair<std::string, std::uint32_t>> seen;
  for (const TypeVersion& t : archive.type_table) seen.emplace(t.name, t.version);
  // An explicit stack: the trees are as deep as LoadOptions::max_depth allows, and the
  // tool should not depend on that limit to keep its own stack.
  std::vector<const brine::Value*> stack;
  for (const brine::Value& v : archive.values) stack.push_back(&v);
  while (!stack.empty()) {
    const brine::Value* v = stack.back();
    stack.pop_back();
    switch (v->kind()) {
      case brine::ValueKind::list:
        for (const brine::Value& e : v->as_list()) stack.push_back(&e);
        break;
      case brine::ValueKind::map:
        for (const auto& entry : v->as_map()) stack.push_back(&entry.second);
        break;
      case brine::ValueKind::object: {
        const brine::Object& o = v->as_object();
        seen.emplace(o.type, o.version);
        for (const brine::Field& f : o.fields) stack.push_back(&f.value);
        break;
      }
      default:
        break;
    }
  }
  std::vector<TypeVersion> out;
  for (const auto& [name, version] : seen) out.push_back({name, version});
  return out;
}

std::string one_line(std::string_view text) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace brine_cli
