// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle/dduf.cpp: DDUF files (docs/format/dduf.md): a ZIP reader that validates every record
// before handing out views of the mapping, and a writer that aligns each entry's data.

#include "brine/dduf.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <system_error>
#include <unordered_set>

#include "brine/io.hpp"
#include "io/zip_directory.hpp"
#include "io/zip_writer.hpp"
#include "tensor/safetensors_mapped.hpp"

namespace brine {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using namespace detail::zip;  // the ZIP constants, Bytes and crc32_update
// Deeper JSON than this in model_index.json is refused before parsing (a recursive parser).
constexpr std::size_t kMaxIndexDepth = 128;
constexpr const char* kModelIndex = "model_index.json";

// ---- errors ------------------------------------------------------------------------------

bool is_name_rule(DdufRule rule) {
  return rule >= DdufRule::invalid_name && rule <= DdufRule::duplicate_name;
}

std::string in_quotes(std::string_view name) { return "'" + std::string(name) + "'"; }

[[noreturn]] void fail(DdufRule rule, const std::string& message, const std::string& entry,
                       const std::string& source, std::optional<std::uint64_t> offset = {}) {
  ErrorContext context;
  context.source = source;
  context.byte_offset = offset;
  std::string text = std::string("DDUF rule '") + dduf_rule_name(rule) + "' broken: " + message;
  errc code = rule == DdufRule::truncated      ? errc::truncated_input
              : rule == DdufRule::crc_mismatch ? errc::checksum_mismatch
                                               : errc::corrupt_data;
  if (is_name_rule(rule)) throw DdufEntryNameError(rule, code, text, entry, std::move(context));
  throw DdufError(rule, code, text, entry, std::move(context));
}

[[noreturn]] void fail_export(DdufRule rule, const std::string& message, const std::string& entry,
                              const std::string& destination) {
  ErrorContext context;
  context.source = destination;
  std::string text =
      std::string("DDUF export refused, rule '") + dduf_rule_name(rule) + "' broken: " + message;
  throw DdufExportError(rule, errc::corrupt_data, text, entry, std::move(context));
}

// ---- rules shared by the reader and the writer -------------------------------------------

struct Violation {
  DdufRule rule;
  std::string message;
  std::string entry;
};

std::optional<Violation> check_name(std::string_view name) {
  auto bad = [&](DdufRule rule, const std::string& why) {
    return Violation{rule, "entry " + in_quotes(name) + ": " + why, std::string(name)};
  };
  if (name.empty()) return bad(DdufRule::invalid_name, "empty name");
  if (name.find('\0') != std::string_view::npos)
    return bad(DdufRule::invalid_name, "a NUL byte in the name");
  if (name.find('\\') != std::string_view::npos)
    return bad(DdufRule::backslash_in_name, "a backslash in the name (DDUF names use '/')");
  if (name.front() == '/') return bad(DdufRule::absolute_name, "an absolute name");
  const bool directory = name.back() == '/';
  std::string_view body = directory ? name.substr(0, name.size() - 1) : name;
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    std::size_t slash = body.find('/', start);
    parts.push_back(body.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (std::string_view part : parts) {
    if (part == "..") return bad(DdufRule::parent_reference, "a '..' component");
    if (part.empty() || part == ".")
      return bad(DdufRule::invalid_name, "an empty or '.' component");
  }
  if (directory) {
    if (parts.size() > 1) return bad(DdufRule::too_deep, "a directory below a directory");
    return std::nullopt;
  }
  if (parts.size() > 2)
    return bad(DdufRule::too_deep, "more than one directory level (DDUF allows 'folder/file')");
  std::string_view file = parts.back();
  std::size_t dot = file.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view{} : file.substr(dot);
  if (ext != ".json" && ext != ".safetensors" && ext != ".model" && ext != ".txt")
    return bad(DdufRule::extension_not_allowed, "not a .json, .safetensors, .model or .txt file");
  return std::nullopt;
}

// Whether `text` nests more than `limit` arrays and objects (strings skipped).
bool nests_deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// A file that counts as a component's config file (docs/format/dduf.md §4).
bool is_config_file(std::string_view file) {
  constexpr std::string_view kSuffix = "config.json";
  return file == "image_processor.json" ||
         (file.size() >= kSuffix.size() && file.substr(file.size() - kSuffix.size()) == kSuffix);
}

// The structure rules: model_index.json present and a JSON object, each folder named in it and
// holding a config file. `index` is null when there is no model_index.json.
std::optional<Violation> check_structure(const std::string* index,
                                         const std::vector<std::string>& names) {
  if (index == nullptr)
    return Violation{DdufRule::missing_model_index, "no 'model_index.json' at the root",
                     kModelIndex};
  if (nests_deeper_than(*index, kMaxIndexDepth))
    return Violation{DdufRule::model_index_not_json,
                     "'model_index.json' nests deeper than " + std::to_string(kMaxIndexDepth),
                     kModelIndex};
  json doc = json::parse(*index, nullptr, false);
  if (doc.is_discarded())
    return Violation{DdufRule::model_index_not_json, "'model_index.json' is not valid JSON",
                     kModelIndex};
  if (!doc.is_object())
    return Violation{
        DdufRule::model_index_not_object,
        "'model_index.json' holds JSON of type " + std::string(doc.type_name()) + ", not an object",
        kModelIndex};
  std::map<std::string, bool> folders;  // folder -> has a config file
  for (const std::string& name : names) {
    std::size_t slash = name.find('/');
    if (slash == std::string::npos) continue;
    bool& has_config = folders[name.substr(0, slash)];
    has_config = has_config || is_config_file(std::string_view(name).substr(slash + 1));
  }
  for (const auto& [folder, has_config] : folders) {
    if (!doc.contains(folder))
      return Violation{DdufRule::folder_not_in_index,
                       "folder " + in_quotes(folder) + " is not a component of 'model_index.json'",
                       folder + "/"};
    if (!has_config)
      return Violation{DdufRule::folder_without_config,
                       "folder " + in_quotes(folder) +
                           " holds no config file (config.json, *config.json, "
                           "image_processor.json)",
                       folder + "/"};
  }
  return std::nullopt;
}

using ZipEntry = detail::zip::Entry;

// The DDUF rule a ZIP structure problem breaks.
DdufRule rule_of(Problem problem) {
  switch (problem) {
    case Problem::not_a_zip:
      return DdufRule::not_a_zip;
    case Problem::truncated:
      return DdufRule::truncated;
    case Problem::multi_disk:
      return DdufRule::multi_disk;
    case Problem::invalid_zip64:
      return DdufRule::invalid_zip64;
    case Problem::invalid_central_directory:
      return DdufRule::invalid_central_directory;
    case Problem::entry_out_of_bounds:
      return DdufRule::entry_out_of_bounds;
    case Problem::local_header_mismatch:
      return DdufRule::local_header_mismatch;
    case Problem::duplicate_name:
      return DdufRule::duplicate_name;
    case Problem::directory_with_data:
      return DdufRule::invalid_name;
    case Problem::overlapping_entries:
      return DdufRule::overlapping_entries;
  }
  return DdufRule::invalid_central_directory;
}

}  // namespace

// ---- reading -----------------------------------------------------------------------------

const char* dduf_rule_name(DdufRule rule) noexcept {
  switch (rule) {
    case DdufRule::not_a_zip:
      return "not_a_zip";
    case DdufRule::truncated:
      return "truncated";
    case DdufRule::multi_disk:
      return "multi_disk";
    case DdufRule::invalid_zip64:
      return "invalid_zip64";
    case DdufRule::invalid_central_directory:
      return "invalid_central_directory";
    case DdufRule::local_header_mismatch:
      return "local_header_mismatch";
    case DdufRule::compressed_entry:
      return "compressed_entry";
    case DdufRule::encrypted_entry:
      return "encrypted_entry";
    case DdufRule::size_mismatch:
      return "size_mismatch";
    case DdufRule::entry_out_of_bounds:
      return "entry_out_of_bounds";
    case DdufRule::overlapping_entries:
      return "overlapping_entries";
    case DdufRule::crc_mismatch:
      return "crc_mismatch";
    case DdufRule::invalid_name:
      return "invalid_name";
    case DdufRule::backslash_in_name:
      return "backslash_in_name";
    case DdufRule::absolute_name:
      return "absolute_name";
    case DdufRule::parent_reference:
      return "parent_reference";
    case DdufRule::too_deep:
      return "too_deep";
    case DdufRule::extension_not_allowed:
      return "extension_not_allowed";
    case DdufRule::duplicate_name:
      return "duplicate_name";
    case DdufRule::missing_model_index:
      return "missing_model_index";
    case DdufRule::model_index_not_json:
      return "model_index_not_json";
    case DdufRule::model_index_not_object:
      return "model_index_not_object";
    case DdufRule::folder_not_in_index:
      return "folder_not_in_index";
    case DdufRule::folder_without_config:
      return "folder_without_config";
    case DdufRule::unreadable_source:
      return "unreadable_source";
  }
  return "unknown";
}

std::optional<DdufRule> dduf_rule_of(const Error& error) noexcept {
  if (const auto* e = dynamic_cast<const DdufError*>(&error)) return e->rule();
  return std::nullopt;
}

void validate_dduf_entry_name(std::string_view name) {
  if (auto v = check_name(name)) fail(v->rule, v->message, v->entry, {});
}

const DdufEntry* DdufFile::find(std::string_view name) const noexcept {
  for (const DdufEntry& e : entries_)
    if (e.name() == name) return &e;
  return nullptr;
}

const DdufEntry& DdufFile::at(std::string_view name) const {
  if (const DdufEntry* e = find(name)) return *e;
  fail(name == kModelIndex ? DdufRule::missing_model_index : DdufRule::invalid_name,
       "no entry " + in_quotes(name), std::string(name), source_);
}

// Reads a DDUF file's records into a DdufFile (a friend of both classes).
struct DdufBuilder {
  static DdufFile build(std::shared_ptr<const void> owner, std::shared_ptr<const MappedFile> file,
                        std::string_view text, const DdufReadOptions& options,
                        const std::string& source);
};

DdufFile DdufBuilder::build(std::shared_ptr<const void> owner,
                            std::shared_ptr<const MappedFile> file, std::string_view text,
                            const DdufReadOptions& options, const std::string& source) {
  auto bad = [&](DdufRule rule, const std::string& message, std::optional<std::uint64_t> at = {},
                 const std::string& entry = {}) { fail(rule, message, entry, source, at); };

  Hooks hooks;
  hooks.reject = [&](Problem problem, const std::string& message, std::optional<std::uint64_t> at,
                     const std::string& entry) { bad(rule_of(problem), message, at, entry); };
  // DDUF's own rules on each central record: names, no encryption, stored only.
  hooks.central = [&](const ZipEntry& e, std::uint64_t at) {
    const std::string& name = e.name;
    if (auto v = check_name(name)) bad(v->rule, v->message, at, name);
    if ((e.flags & 0x0041) != 0)
      bad(DdufRule::encrypted_entry, "entry " + in_quotes(name) + " is encrypted", at, name);
    if (e.method != 0)
      bad(DdufRule::compressed_entry,
          "entry " + in_quotes(name) + " is compressed (method " + std::to_string(e.method) +
              "); DDUF entries are stored",
          at, name);
    if (e.compressed_size != e.size)
      bad(DdufRule::size_mismatch,
          "entry " + in_quotes(name) + ": stored size " + std::to_string(e.compressed_size) +
              " differs from its size " + std::to_string(e.size),
          at, name);
  };
  hooks.local = [&](const ZipEntry& e, std::uint16_t lflags, std::uint16_t lmethod,
                    std::uint64_t lho) {
    if (lmethod != 0)
      bad(DdufRule::compressed_entry,
          "entry " + in_quotes(e.name) + " is compressed (local header)", lho, e.name);
    if ((lflags & 0x0041) != 0)
      bad(DdufRule::encrypted_entry, "entry " + in_quotes(e.name) + " is encrypted (local header)",
          lho, e.name);
  };
  Directory directory = read_directory(text, hooks);

  DdufFile out;
  out.zip64_ = directory.zip64;
  out.file_size_ = text.size();
  out.source_ = source;
  out.entries_.reserve(directory.entries.size());
  std::vector<std::string> names;
  for (ZipEntry& z : directory.entries) {
    DdufEntry entry;
    entry.name_ = z.name;
    entry.offset_ = z.data_offset;
    entry.size_ = z.size;
    entry.header_offset_ = z.header_offset;
    entry.crc32_ = z.crc32;
    entry.base_ = reinterpret_cast<const std::byte*>(text.data());
    entry.owner_ = owner;
    entry.file_ = file;
    entry.source_ = source;
    out.entries_.push_back(std::move(entry));
    names.push_back(std::move(z.name));
  }

  if (options.verify_crc) {
    for (const DdufEntry& e : out.entries_) {
      const std::uint32_t actual = crc32_update(0, text.data() + e.offset(), e.size());
      if (actual != e.crc32())
        bad(DdufRule::crc_mismatch,
            "entry " + in_quotes(e.name()) +
                ": CRC-32 of its bytes does not match the recorded one",
            e.offset(), e.name());
    }
  }

  const DdufEntry* index = out.find(kModelIndex);
  std::string index_text = index != nullptr ? index->text() : std::string();
  if (auto v = check_structure(index != nullptr ? &index_text : nullptr, names))
    bad(v->rule, v->message, std::nullopt, v->entry);
  return out;
}

DdufFile open_dduf(const std::filesystem::path& path, const DdufReadOptions& options) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  return DdufBuilder::build(file, file, file->view(), options, file->path());
}

DdufFile read_dduf(std::shared_ptr<const void> owner, std::string_view bytes,
                   const DdufReadOptions& options, const std::string& source) {
  return DdufBuilder::build(std::move(owner), nullptr, bytes, options, source);
}

StateDict load_safetensors(const DdufEntry& entry, const SafetensorsLoadOptions& options) {
  const std::string source = entry.source() + ":" + entry.name();
  if (entry.file() != nullptr)
    return detail::load_safetensors_in_file(entry.file(), static_cast<std::size_t>(entry.offset()),
                                            static_cast<std::size_t>(entry.size()), options,
                                            source);
  return load_safetensors(entry.owner(), entry.view(), options, source);
}

// ---- writing -----------------------------------------------------------------------------

namespace {

std::string read_whole(const fs::path& path, const std::string& name,
                       const std::string& destination) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    fail_export(DdufRule::unreadable_source,
                "entry " + in_quotes(name) + ": " + path.string() + " is not a regular file", name,
                destination);
  return read_file(path);
}

}  // namespace

// The DDUF rules on top of the aligned ZIP writer (io/zip_writer.hpp).
struct DdufWriter::Impl {
  fs::path path;
  AtomicFileSink sink;
  Writer zip;
  std::set<std::string> names;
  std::optional<std::string> model_index;
  bool finished = false;
  // Set while an entry is being written: an add that failed half-way leaves a partial entry,
  // after which the archive cannot be finished.
  bool broken = false;

  Impl(const fs::path& p, const DdufWriteOptions& o)
      : path(p),
        sink(p),
        zip([this](const void* bytes, std::size_t n) { sink.write(bytes, n); },
            WriterOptions{o.alignment, o.force_zip64}, p.string()) {}

  std::string destination() const { return path.string(); }

  void write(const void* bytes, std::size_t n) { zip.write(bytes, n); }

  void check_usable() {
    if (finished)
      detail::throw_error(errc::internal_error, "DdufWriter used after finish()",
                          ErrorContext{destination(), {}, {}, {}, {}});
    if (broken)
      detail::throw_error(errc::internal_error,
                          "DdufWriter used after an add that failed while writing its entry",
                          ErrorContext{destination(), {}, {}, {}, {}});
  }

  void check_new_name(const std::string& name) {
    check_usable();
    if (auto v = check_name(name)) fail_export(v->rule, v->message, v->entry, destination());
    if (names.count(name) != 0)
      fail_export(DdufRule::duplicate_name, "entry " + in_quotes(name) + " added twice", name,
                  destination());
  }

  void write_local_header(const std::string& name, std::uint64_t size, std::uint32_t crc) {
    zip.begin_entry(name, size, crc);
    names.insert(name);
  }

  void finish() {
    check_usable();
    std::vector<std::string> all(names.begin(), names.end());
    if (auto v = check_structure(model_index ? &*model_index : nullptr, all))
      fail_export(v->rule, v->message, v->entry, destination());
    zip.finish();
    sink.commit();
    finished = true;
  }
};

DdufWriter::DdufWriter(const std::filesystem::path& path, const DdufWriteOptions& options) {
  const std::size_t a = options.alignment;
  if (a == 0 || a > 32768 || (a & (a - 1)) != 0)
    detail::throw_error(errc::internal_error,
                        "DdufWriteOptions::alignment must be a power of two from 1 to 32768, not " +
                            std::to_string(a));
  impl_ = std::make_unique<Impl>(path, options);
}

DdufWriter::~DdufWriter() = default;

void DdufWriter::add(const std::string& name, std::string_view bytes) {
  impl_->check_new_name(name);
  if (name == kModelIndex) impl_->model_index = std::string(bytes);
  impl_->broken = true;
  impl_->write_local_header(name, bytes.size(), crc32_update(0, bytes.data(), bytes.size()));
  impl_->write(bytes.data(), bytes.size());
  impl_->broken = false;
}

namespace {

// Reads `path` in chunks, calling `use(bytes, n)` for each; returns the byte count.
template <class Use>
std::uint64_t stream_file(const fs::path& path, Use&& use) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    detail::throw_io_error("cannot open", std::error_code(errno, std::generic_category()),
                           ErrorContext{path.string(), {}, {}, {}, {}});
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  constexpr std::size_t kChunk = std::size_t{4} << 20;
  std::unique_ptr<char[]> buffer(new char[kChunk]);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.get(), kChunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      detail::throw_io_error("cannot read", std::error_code(errno, std::generic_category()),
                             ErrorContext{path.string(), {}, {}, {}, {}});
    }
    if (n == 0) break;
    use(buffer.get(), static_cast<std::size_t>(n));
    total += static_cast<std::uint64_t>(n);
  }
  return total;
}

}  // namespace

void DdufWriter::add_file(const std::string& name, const std::filesystem::path& file) {
  impl_->check_new_name(name);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    fail_export(DdufRule::unreadable_source,
                "entry " + in_quotes(name) + ": " + file.string() + " is not a regular file", name,
                impl_->destination());
  if (name == kModelIndex) impl_->model_index = read_file(file);
  std::uint32_t crc = 0;
  const std::uint64_t size =
      stream_file(file, [&](const char* p, std::size_t n) { crc = crc32_update(crc, p, n); });
  impl_->broken = true;
  impl_->write_local_header(name, size, crc);
  std::uint32_t copied_crc = 0;
  const std::uint64_t copied = stream_file(file, [&](const char* p, std::size_t n) {
    copied_crc = crc32_update(copied_crc, p, n);
    impl_->write(p, n);
  });
  if (copied != size || copied_crc != crc)
    fail_export(DdufRule::unreadable_source,
                "entry " + in_quotes(name) + ": " + file.string() + " changed while it was copied",
                name, impl_->destination());
  impl_->broken = false;
}

void DdufWriter::finish() { impl_->finish(); }

namespace {

// The rules an export from disk can check before writing anything.
void check_entries_before_writing(const std::vector<DdufFileEntry>& entries,
                                  const std::string& destination) {
  std::set<std::string> seen;
  std::vector<std::string> names;
  std::optional<std::string> index;
  for (const DdufFileEntry& e : entries) {
    if (auto v = check_name(e.name)) fail_export(v->rule, v->message, v->entry, destination);
    if (!seen.insert(e.name).second)
      fail_export(DdufRule::duplicate_name, "entry " + in_quotes(e.name) + " given twice", e.name,
                  destination);
    if (e.name.back() == '/')
      fail_export(DdufRule::invalid_name,
                  "entry " + in_quotes(e.name) + ": directory entries are not exported", e.name,
                  destination);
    if (e.name == kModelIndex) index = read_whole(e.path, e.name, destination);
    std::error_code ec;
    if (!fs::is_regular_file(e.path, ec))
      fail_export(DdufRule::unreadable_source,
                  "entry " + in_quotes(e.name) + ": " + e.path.string() + " is not a regular file",
                  e.name, destination);
    names.push_back(e.name);
  }
  if (auto v = check_structure(index ? &*index : nullptr, names))
    fail_export(v->rule, v->message, v->entry, destination);
}

}  // namespace

void export_dduf(const std::filesystem::path& out, const std::vector<DdufFileEntry>& entries,
                 const DdufWriteOptions& options) {
  check_entries_before_writing(entries, out.string());
  DdufWriter writer(out, options);
  for (const DdufFileEntry& e : entries) writer.add_file(e.name, e.path);
  writer.finish();
}

void export_dduf(const std::filesystem::path& out,
                 const std::function<std::optional<DdufBytesEntry>()>& next,
                 const DdufWriteOptions& options) {
  DdufWriter writer(out, options);
  while (std::optional<DdufBytesEntry> entry = next()) {
    if (!entry->name.empty() && entry->name.back() == '/')
      fail_export(DdufRule::invalid_name,
                  "entry " + in_quotes(entry->name) + ": directory entries are not exported",
                  entry->name, out.string());
    writer.add(entry->name, entry->bytes);
  }
  writer.finish();
}

void export_dduf_folder(const std::filesystem::path& folder, const std::filesystem::path& out,
                        const DdufWriteOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    detail::throw_io_error("not a folder",
                           ec ? ec : std::make_error_code(std::errc::not_a_directory),
                           ErrorContext{folder.string(), {}, {}, {}, {}});
  std::vector<DdufFileEntry> entries;
  fs::recursive_directory_iterator it(folder, ec), end;
  if (ec)
    detail::throw_io_error("cannot list the folder", ec,
                           ErrorContext{folder.string(), {}, {}, {}, {}});
  for (; it != end; it.increment(ec)) {
    if (ec)
      detail::throw_io_error("cannot list the folder", ec,
                             ErrorContext{folder.string(), {}, {}, {}, {}});
    const fs::path& p = it->path();
    const std::string name = p.lexically_relative(folder).generic_string();
    if (it->is_symlink(ec) && it->is_directory(ec))
      fail_export(DdufRule::unreadable_source,
                  "entry " + in_quotes(name) + ": a symbolic link to a folder", name, out.string());
    if (it->is_directory(ec)) continue;
    if (!it->is_regular_file(ec))
      fail_export(DdufRule::unreadable_source, "entry " + in_quotes(name) + ": not a regular file",
                  name, out.string());
    entries.push_back(DdufFileEntry{name, p});
  }
  std::sort(entries.begin(), entries.end(), [](const DdufFileEntry& a, const DdufFileEntry& b) {
    const bool a_index = a.name == kModelIndex, b_index = b.name == kModelIndex;
    if (a_index != b_index) return a_index;
    return a.name < b.name;
  });
  export_dduf(out, entries, options);
}

void extract_dduf(const std::filesystem::path& in, const std::filesystem::path& folder,
                  const DdufReadOptions& options) {
  DdufFile dduf = open_dduf(in, options);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(folder, ec)))
    detail::throw_io_error("the destination folder already exists",
                           std::make_error_code(std::errc::file_exists),
                           ErrorContext{folder.string(), {}, {}, {}, {}});
  fs::path target = folder;
  if (target.filename().empty()) target = target.parent_path();
  fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::random_device rd;
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08x%08x", rd(), rd());
  const fs::path temp = parent / ("." + target.filename().string() + ".brine-tmp." +
                                  std::to_string(::getpid()) + "." + suffix);
  struct Cleanup {
    fs::path path;
    bool armed = true;
    ~Cleanup() {
      std::error_code ignored;
      if (armed) fs::remove_all(path, ignored);
    }
  } cleanup{temp};
  fs::create_directory(temp, ec);
  if (ec)
    detail::throw_io_error("cannot create the temporary folder", ec,
                           ErrorContext{temp.string(), {}, {}, {}, {}});
  for (const DdufEntry& e : dduf.entries()) {
    const fs::path dest = temp / fs::path(e.name());
    if (e.is_directory()) {
      fs::create_directories(dest, ec);
    } else {
      fs::create_directories(dest.parent_path(), ec);
      if (!ec) write_file_atomically(dest, e.view());
    }
    if (ec)
      detail::throw_io_error("cannot create a folder", ec,
                             ErrorContext{dest.string(), {}, {}, {}, {}});
  }
  fs::rename(temp, target, ec);
  if (ec)
    detail::throw_io_error("cannot rename the temporary folder", ec,
                           ErrorContext{target.string(), {}, {}, {}, {}});
  cleanup.armed = false;
  int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace brine
