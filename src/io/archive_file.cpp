// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/archive_file.cpp: ArchiveFileWriter and ArchiveFileReader, several values in one file in
// any encoding.

#include "brine/archive_file.hpp"

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "state/nesting.hpp"

namespace brine {

namespace {

// See docs/format/binary-v1.md §2 "File header" and docs/format/stable-v1.md (a stable archive
// opens with the CBOR self-describe tag 55799, RFC 8949 §3.4.6).
constexpr std::string_view kBinaryMagic{
    "\x89"
    "BRINE\r\n",
    8};
constexpr std::string_view kStableMagic{"\xD9\xD9\xF7", 3};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

Encoding detect_encoding(std::string_view bytes, const std::string& source) {
  if (starts_with(bytes, kBinaryMagic)) return Encoding::binary;
  if (starts_with(bytes, kStableMagic)) return Encoding::stable;
  std::size_t i = bytes.find_first_not_of(" \t\r\n");
  if (i != std::string_view::npos && bytes[i] == '{') return Encoding::json;
  ErrorContext where;
  where.source = source;
  where.byte_offset = 0;
  if (bytes.empty())
    detail::throw_error(errc::truncated_input, "empty file: not a brine archive", where);
  if (starts_with(kBinaryMagic, bytes) || starts_with(kStableMagic, bytes))
    detail::throw_error(
        errc::truncated_input,
        "file of " + std::to_string(bytes.size()) + " bytes ends inside an archive header", where);
  detail::throw_error(errc::corrupt_data,
                      "not a brine archive (expected the binary magic, a stable archive's CBOR "
                      "self-describe tag or a brine JSON document)",
                      where);
}

[[noreturn]] void misuse(const std::filesystem::path& path, const char* what) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_io_error(what, std::make_error_code(std::errc::bad_file_descriptor), where);
}

}  // namespace

const char* to_string(Encoding encoding) noexcept {
  switch (encoding) {
    case Encoding::binary:
      return "binary";
    case Encoding::stable:
      return "stable";
    case Encoding::json:
      return "json";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------
// Writer.

struct ArchiveFileWriter::Impl {
  std::filesystem::path path;
  AtomicFileSink sink;
  std::unique_ptr<BinaryWriter> binary;
  std::unique_ptr<StableWriter> stable;
  JsonOptions json;
  bool open = true;

  Impl(const std::filesystem::path& p) : path(p), sink(p) {}
};

ArchiveFileWriter::ArchiveFileWriter(const std::filesystem::path& path, Encoding encoding,
                                     Registry& registry, const ArchiveWriteOptions& options)
    : impl_(std::make_unique<Impl>(path)), encoding_(encoding), registry_(&registry) {
  switch (encoding) {
    case Encoding::binary:
      impl_->binary = std::make_unique<BinaryWriter>(impl_->sink, registry, options.binary);
      binary_ = impl_->binary.get();
      break;
    case Encoding::stable:
      impl_->stable = std::make_unique<StableWriter>(impl_->sink, registry);
      stable_ = impl_->stable.get();
      break;
    case Encoding::json: {
      // The same bytes as json_document() of the values (see write_json), written as they
      // come: a JSON document of one value is byte for byte what save_json writes.
      impl_->json = options.json;
      const bool compact = options.json.indent < 0;
      const std::string nl = compact ? "" : "\n",
                        pad = compact
                                  ? ""
                                  : std::string(static_cast<std::size_t>(options.json.indent), ' ');
      const std::string colon = compact ? ":" : ": ";
      std::string head = "{" + nl + pad + "\"format\"" + colon + "\"brine-json\"," + nl + pad +
                         "\"format_version\"" + colon + std::to_string(json_format_version) + "," +
                         nl + pad + "\"values\"" + colon + "[";
      impl_->sink.write(head.data(), head.size());
      break;
    }
  }
}

ArchiveFileWriter::~ArchiveFileWriter() = default;  // Impl's sink abandons the file

ArchiveFileWriter::ArchiveFileWriter(ArchiveFileWriter&& other) noexcept
    : impl_(std::move(other.impl_)),
      encoding_(other.encoding_),
      registry_(other.registry_),
      binary_(std::exchange(other.binary_, nullptr)),
      stable_(std::exchange(other.stable_, nullptr)),
      values_written_(other.values_written_) {}

ArchiveFileWriter& ArchiveFileWriter::operator=(ArchiveFileWriter&& other) noexcept {
  if (this != &other) {
    abandon();
    impl_ = std::move(other.impl_);
    encoding_ = other.encoding_;
    registry_ = other.registry_;
    binary_ = std::exchange(other.binary_, nullptr);
    stable_ = std::exchange(other.stable_, nullptr);
    values_written_ = other.values_written_;
  }
  return *this;
}

const std::filesystem::path& ArchiveFileWriter::path() const noexcept {
  static const std::filesystem::path none;
  return impl_ ? impl_->path : none;
}

bool ArchiveFileWriter::is_open() const noexcept { return impl_ && impl_->open; }

void ArchiveFileWriter::check_open() const {
  if (!impl_) misuse({}, "archive file writer used after it was moved from");
  if (!impl_->open) misuse(impl_->path, "archive file written to after commit() or abandon()");
}

void ArchiveFileWriter::write_value(const Value& value) {
  guarded([&] {
    switch (encoding_) {
      case Encoding::binary:
        binary_->write_value(value);
        break;
      case Encoding::stable:
        stable_->write_value(value);
        break;
      case Encoding::json:
        write_json(value);
        break;
    }
  });
}

void ArchiveFileWriter::write_json(const Value& state) {
  // json_document() renders {"format", "format_version", "values": [...]} with the values at
  // the third level of indentation; each value is rendered alone and indented to match
  // (JSON strings hold no raw newline, so every '\n' is between tokens).
  const JsonOptions& options = impl_->json;
  // Refused, as json_document refuses it, when a reader would refuse it.
  detail::check_json_document_nesting(state, options.max_depth);
  std::string text = to_json(state, options);
  std::string out;
  if (options.indent < 0) {
    out = (values_written_ == 0 ? "" : ",") + text;
  } else {
    const std::string pad(2 * static_cast<std::size_t>(options.indent), ' ');
    out.reserve(text.size() + pad.size() + 2);
    out += values_written_ == 0 ? "\n" : ",\n";
    out += pad;
    for (char c : text) {
      out += c;
      if (c == '\n') out += pad;
    }
  }
  impl_->sink.write(out.data(), out.size());
}

void ArchiveFileWriter::commit() {
  check_open();
  try {
    switch (encoding_) {
      case Encoding::binary:
        binary_->finish();
        break;
      case Encoding::stable:
        stable_->finish();
        break;
      case Encoding::json: {
        const int indent = impl_->json.indent;
        std::string tail = indent < 0 || values_written_ == 0
                               ? std::string("]")
                               : "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "]";
        tail += indent < 0 ? "}" : "\n}";
        impl_->sink.write(tail.data(), tail.size());
        break;
      }
    }
    impl_->sink.commit();
  } catch (...) {
    abandon();
    throw;
  }
  impl_->open = false;
}

void ArchiveFileWriter::abandon() noexcept {
  if (!impl_ || !impl_->open) return;
  impl_->open = false;
  impl_->sink.abandon();
}

// ---------------------------------------------------------------------------------------
// Reader.

struct ArchiveFileReader::Impl {
  std::filesystem::path path;
  FileSource source;
  LoadOptions options;
  std::unique_ptr<BinaryReader> binary;
  std::unique_ptr<StableReader> stable;
  std::vector<Value> json_values;
  std::size_t json_next = 0;

  Impl(const std::filesystem::path& p, const LoadOptions& o) : path(p), source(p), options(o) {}
};

ArchiveFileReader::ArchiveFileReader(const std::filesystem::path& path, const Registry& registry,
                                     const LoadOptions& options)
    : impl_(std::make_unique<Impl>(path, options)), registry_(&registry) {
  options_ = &impl_->options;
  const std::string source = path.string();
  encoding_ = detect_encoding(impl_->source.direct_view(), source);
  try {
    switch (encoding_) {
      case Encoding::binary:
        impl_->binary = std::make_unique<BinaryReader>(impl_->source, registry, impl_->options);
        binary_ = impl_->binary.get();
        break;
      case Encoding::stable:
        impl_->stable = std::make_unique<StableReader>(impl_->source, registry, impl_->options);
        stable_ = impl_->stable.get();
        break;
      case Encoding::json:
        impl_->json_values = json_document_values(impl_->source.direct_view(), impl_->options);
        break;
    }
  } catch (const Error&) {
    rethrow_naming_file();
  }
}

ArchiveFileReader::~ArchiveFileReader() = default;

ArchiveFileReader::ArchiveFileReader(ArchiveFileReader&& other) noexcept
    : impl_(std::move(other.impl_)),
      encoding_(other.encoding_),
      registry_(other.registry_),
      options_(std::exchange(other.options_, nullptr)),
      binary_(std::exchange(other.binary_, nullptr)),
      stable_(std::exchange(other.stable_, nullptr)),
      values_read_(other.values_read_) {}

ArchiveFileReader& ArchiveFileReader::operator=(ArchiveFileReader&& other) noexcept {
  if (this != &other) {
    impl_ = std::move(other.impl_);
    encoding_ = other.encoding_;
    registry_ = other.registry_;
    options_ = std::exchange(other.options_, nullptr);
    binary_ = std::exchange(other.binary_, nullptr);
    stable_ = std::exchange(other.stable_, nullptr);
    values_read_ = other.values_read_;
  }
  return *this;
}

const std::filesystem::path& ArchiveFileReader::path() const noexcept {
  static const std::filesystem::path none;
  return impl_ ? impl_->path : none;
}

void ArchiveFileReader::rethrow_naming_file() const {
  try {
    throw;
  } catch (Error& e) {
    // Named in place: a new exception would lose the dynamic class of this one.
    if (impl_) detail::note_error_source(e, impl_->path.string());
    throw;
  }
}

bool ArchiveFileReader::at_end() {
  if (!impl_) misuse({}, "archive file reader used after it was moved from");
  switch (encoding_) {
    case Encoding::binary: {
      bool end;
      try {
        end = binary_->at_end();
      } catch (const Error&) {
        rethrow_naming_file();
      }
      // An archive ends at its end block; in a file, nothing may follow it (a stream may
      // carry more, but a file with two archives would hide the second one here).
      if (end && impl_->source.remaining().value_or(0) != 0) {
        ErrorContext where;
        where.source = impl_->path.string();
        where.byte_offset = impl_->source.position();
        detail::throw_error(errc::corrupt_data,
                            std::to_string(*impl_->source.remaining()) +
                                " bytes after the archive's end marker: the file is damaged or "
                                "holds more than one archive",
                            where);
      }
      return end;
    }
    case Encoding::stable:
      return stable_->at_end();
    case Encoding::json:
      return impl_->json_next >= impl_->json_values.size();
  }
  return true;
}

void ArchiveFileReader::expect_value() {
  if (!at_end()) return;
  ErrorContext where;
  where.source = impl_->path.string();
  detail::throw_error(errc::truncated_input,
                      "no value left to read: all " + std::to_string(values_read_) + " value" +
                          (values_read_ == 1 ? "" : "s") + " of the " + to_string(encoding_) +
                          " archive have been read",
                      where);
}

Value ArchiveFileReader::take_json_value() {
  return std::move(impl_->json_values[impl_->json_next++]);
}

Value ArchiveFileReader::next_value() {
  expect_value();
  Value v;
  try {
    switch (encoding_) {
      case Encoding::binary:
        v = binary_->read_value();
        break;
      case Encoding::stable:
        ++values_read_;  // consumed even when it fails
        v = stable_->read_value();
        --values_read_;
        break;
      case Encoding::json:
        v = take_json_value();
        break;
    }
  } catch (const Error&) {
    rethrow_naming_file();
  }
  ++values_read_;
  return v;
}

void ArchiveFileReader::skip() {
  expect_value();
  try {
    switch (encoding_) {
      case Encoding::binary:
        binary_->skip();
        break;
      case Encoding::stable:
        stable_->skip();
        break;
      case Encoding::json:
        take_json_value();  // dropped: the tree is all there is to skip
        break;
    }
  } catch (const Error&) {
    rethrow_naming_file();
  }
  ++values_read_;
}

}  // namespace brine
