// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/npz.cpp: numpy's .npz, a ZIP of .npy entries, through libzip (docs/format/numpy.md §3).

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "brine/io.hpp"
#include "brine/numpy.hpp"
#include "io/zip_directory.hpp"
#include "io/zip_writer.hpp"
#include "tensor/npy_format.hpp"

namespace brine {
namespace {

constexpr std::string_view kNpySuffix = ".npy";
// Added to the bounds on inflated sizes, so that small entries (a .npy header deflates
// poorly, and tiny arrays can inflate a few hundred times) are never refused for their ratio.
constexpr std::uint64_t kEntryRatioAllowance = 4096;
constexpr std::uint64_t kTotalRatioAllowance = 65536;

[[noreturn]] void fail(errc code, const std::string& message, const std::string& source,
                       const std::string& entry = {}) {
  ErrorContext where;
  where.source = source;
  where.field_path = entry;
  detail::throw_error(code, message, where);
}

[[noreturn]] void fail_zip(const zip_error_t* error, const std::string& what,
                           const std::string& source, const std::string& entry = {}) {
  int code = zip_error_code_zip(error);
  if (code == ZIP_ER_MEMORY) throw std::bad_alloc();
  // zip_error_strerror is not const-correct; it formats into the error itself.
  auto* mutable_error = const_cast<zip_error_t*>(error);
  std::string message = what + ": " + zip_error_strerror(mutable_error);
  errc kind = errc::corrupt_data;
  if (code == ZIP_ER_CRC) kind = errc::checksum_mismatch;
  if (code == ZIP_ER_COMPNOTSUPP || code == ZIP_ER_ENCRNOTSUPP || code == ZIP_ER_MULTIDISK)
    kind = errc::unsupported_content;
  fail(kind, message, source, entry);
}

// A zip_error_t of our own: zip_error_strerror allocates the text it returns inside the
// error, which only zip_error_fini frees, also when the message is thrown on.
struct ZipError {
  zip_error_t error;
  ZipError() { zip_error_init(&error); }
  ~ZipError() { zip_error_fini(&error); }
  ZipError(const ZipError&) = delete;
  ZipError& operator=(const ZipError&) = delete;
};

struct ArchiveCloser {
  void operator()(zip_t* archive) const noexcept { zip_discard(archive); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;
struct FileCloser {
  void operator()(zip_file_t* file) const noexcept { zip_fclose(file); }
};
using EntryFile = std::unique_ptr<zip_file_t, FileCloser>;
struct SourceFreer {
  void operator()(zip_source_t* source) const noexcept { zip_source_free(source); }
};
using Source = std::unique_ptr<zip_source_t, SourceFreer>;

// Opens the ZIP in `bytes` for reading, with libzip's consistency checks (the local headers
// must agree with the central directory).
Archive open_archive(std::string_view bytes, const std::string& source) {
  if (bytes.empty()) fail(errc::truncated_input, "an empty file is not an .npz", source);
  ZipError holder;
  zip_error_t& error = holder.error;
  Source buffer(zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error));
  if (!buffer) fail_zip(&error, "cannot read the .npz", source);
  zip_t* archive = zip_open_from_source(buffer.get(), ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (archive == nullptr) {
    if (zip_error_code_zip(&error) == ZIP_ER_NOZIP)
      fail(errc::corrupt_data, "not an .npz: no ZIP end of central directory record", source);
    // libzip refuses two entries of one name as it opens the archive, without naming it.
    if (zip_error_code_zip(&error) == ZIP_ER_EXISTS)
      fail(errc::corrupt_data, "an entry name appears twice in the .npz's central directory",
           source);
    fail_zip(&error, "not a valid .npz (ZIP)", source);
  }
  buffer.release();  // the archive owns it now
  return Archive(archive);
}

// Reads exactly `n` bytes of an entry, or fails naming it.
void read_exactly(zip_file_t* file, void* into, std::uint64_t n, const std::string& source,
                  const std::string& entry) {
  auto* p = static_cast<char*>(into);
  std::uint64_t done = 0;
  while (done < n) {
    zip_int64_t got = zip_fread(file, p + done, n - done);
    if (got < 0)
      fail_zip(zip_file_get_error(file), "cannot read entry '" + entry + "'", source, entry);
    if (got == 0)
      fail(errc::truncated_input,
           "entry '" + entry + "' ends after " + std::to_string(done) + " of its " +
               std::to_string(n) + " bytes",
           source, entry);
    done += static_cast<std::uint64_t>(got);
  }
}

// One .npy entry, opened, with its header read and parsed.
struct OpenEntry {
  NpzEntry info;
  std::string zip_name;
  EntryFile file;
};

// Reads the whole of an opened entry that is not an array (the object .npz's JSON entry).
std::string read_file_entry(zip_file_t* file, std::uint64_t size, const std::string& source,
                            const std::string& entry) {
  std::string out(static_cast<std::size_t>(size), '\0');
  if (size != 0) read_exactly(file, out.data(), size, source, entry);
  char extra;
  zip_int64_t got = zip_fread(file, &extra, 1);
  if (got < 0)
    fail_zip(zip_file_get_error(file), "cannot read entry '" + entry + "'", source, entry);
  if (got > 0)
    fail(errc::corrupt_data, "entry '" + entry + "' holds more bytes than it declares", source,
         entry);
  return out;
}

// Walks the central directory: skips what is not an array, checks what would be read.
// Each array's header is read (for load and inspect both); the other entries are skipped,
// unless `read_other(name, size)` says it wants them, then `on_other(name, bytes)` gets
// their content.
template <class OnArray, class ReadOther, class OnOther>
NpzContents walk(std::string_view bytes, const NumpyLoadOptions& options, const std::string& source,
                 OnArray&& on_array, ReadOther&& read_other, OnOther&& on_other) {
  Archive archive = open_archive(bytes, source);
  zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  if (count < 0) fail(errc::corrupt_data, "cannot count the .npz's entries", source);
  if (static_cast<std::uint64_t>(count) > options.max_entries)
    fail(errc::limit_exceeded,
         ".npz of " + std::to_string(count) + " entries exceeds NumpyLoadOptions::max_entries (" +
             std::to_string(options.max_entries) + ")",
         source);
  NpzContents contents;
  std::set<std::string, std::less<>> seen;
  // What the arrays read so far take in the file and in memory: the sums bound a load by its
  // file even when entries overlap (many central directory entries naming one deflate
  // stream, the overlapping-files zip bomb).
  std::uint64_t total_compressed = 0, total_inflated = 0;
  const std::uint64_t ratio = std::max<std::uint64_t>(1, options.max_compression_ratio);
  const std::uint64_t file_size = bytes.size();
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0)
      fail_zip(zip_get_error(archive.get()), "cannot read entry " + std::to_string(i), source);
    const zip_uint64_t needed = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE |
                                ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
    if ((st.valid & needed) != needed || st.name == nullptr)
      fail(errc::corrupt_data, "entry " + std::to_string(i) + " has no name or size", source);
    std::string zip_name = st.name;
    if (!seen.insert(zip_name).second)
      fail(errc::corrupt_data, "entry '" + zip_name + "' appears twice in the .npz", source,
           zip_name);
    bool is_array =
        zip_name.size() >= kNpySuffix.size() &&
        std::string_view(zip_name).substr(zip_name.size() - kNpySuffix.size()) == kNpySuffix &&
        zip_name.back() != '/';
    const bool is_other = !is_array && zip_name.back() != '/' && read_other(zip_name, st.size);
    if (!is_array && !is_other) {
      contents.skipped.push_back(zip_name);
      continue;
    }
    if (st.encryption_method != ZIP_EM_NONE)
      fail(errc::unsupported_content, "entry '" + zip_name + "' is encrypted", source, zip_name);
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
      fail(errc::unsupported_content,
           "entry '" + zip_name + "' uses ZIP compression method " +
               std::to_string(st.comp_method) + " (brine reads stored and deflate entries)",
           source, zip_name);
    if (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size)
      fail(errc::corrupt_data,
           "stored entry '" + zip_name + "' claims " + std::to_string(st.size) +
               " bytes but holds " + std::to_string(st.comp_size),
           source, zip_name);
    // The inflated size decides the allocation; it is checked against the compressed size,
    // which the file's own size bounds, before anything is inflated.
    if (st.comp_size > file_size - total_compressed)
      fail(errc::corrupt_data,
           "entry '" + zip_name + "' claims " + std::to_string(st.comp_size) +
               " bytes of data; with the entries before it that is more than the file's " +
               std::to_string(file_size) + " bytes",
           source, zip_name);
    total_compressed += st.comp_size;
    auto over_ratio = [&](std::uint64_t inflated, std::uint64_t compressed,
                          std::uint64_t allowance) {
      return (inflated - std::min(inflated, allowance)) / ratio > compressed;
    };
    if (over_ratio(st.size, st.comp_size, kEntryRatioAllowance))
      fail(errc::limit_exceeded,
           "entry '" + zip_name + "' inflates " + std::to_string(st.comp_size) + " bytes to " +
               std::to_string(st.size) + ", more than NumpyLoadOptions::max_compression_ratio (" +
               std::to_string(options.max_compression_ratio) + ") allows",
           source, zip_name);
    total_inflated += st.size;
    if (over_ratio(total_inflated, file_size, kTotalRatioAllowance))
      fail(errc::limit_exceeded,
           "the arrays up to entry '" + zip_name + "' inflate to " +
               std::to_string(total_inflated) + " bytes from a file of " +
               std::to_string(file_size) + ", more than NumpyLoadOptions::max_compression_ratio (" +
               std::to_string(options.max_compression_ratio) + ") allows",
           source, zip_name);
    std::string where = source + ":" + zip_name;
    zip_file_t* raw = zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0);
    if (raw == nullptr)
      fail_zip(zip_get_error(archive.get()), "cannot open entry '" + zip_name + "'", source,
               zip_name);
    if (is_other) {
      EntryFile file(raw);
      on_other(zip_name, read_file_entry(file.get(), st.size, source, zip_name));
      continue;
    }
    OpenEntry entry;
    entry.file.reset(raw);
    entry.zip_name = zip_name;
    entry.info.name = zip_name.substr(0, zip_name.size() - kNpySuffix.size());
    entry.info.compressed = st.comp_method == ZIP_CM_DEFLATE;
    entry.info.compressed_size = st.comp_size;
    entry.info.uncompressed_size = st.size;

    // The header: its fixed prefix first, which says its length (bounded by
    // max_header_bytes and by the entry), then the rest.
    std::string header(
        static_cast<std::size_t>(std::min<std::uint64_t>(npy::kLongestPrefix, st.size)), '\0');
    read_exactly(entry.file.get(), header.data(), header.size(), source, zip_name);
    std::uint64_t header_end = npy::header_size(header, st.size, options, where);
    if (header_end > header.size()) {
      std::size_t had = header.size();
      header.resize(static_cast<std::size_t>(header_end));
      read_exactly(entry.file.get(), header.data() + had, header_end - had, source, zip_name);
    }
    entry.info.header = parse_npy_header(header, st.size, options, where);
    on_array(entry, contents);
  }
  return contents;
}

// Reads an opened entry's data into an owned tensor, C order, little-endian, and checks
// that nothing follows it (which makes libzip check the CRC).
Tensor read_array(OpenEntry& entry, const std::string& source) {
  const NpyHeader& header = entry.info.header;
  Tensor t(header.dtype, header.shape);
  if (header.data_nbytes != 0)
    read_exactly(entry.file.get(), t.mutable_bytes(), header.data_nbytes, source, entry.zip_name);
  char extra;
  zip_int64_t got = zip_fread(entry.file.get(), &extra, 1);
  if (got < 0)
    fail_zip(zip_file_get_error(entry.file.get()), "cannot read entry '" + entry.zip_name + "'",
             source, entry.zip_name);
  if (got > 0)
    fail(errc::corrupt_data, "entry '" + entry.zip_name + "' holds more bytes than it declares",
         source, entry.zip_name);
  if (header.fortran_order && header.shape.size() > 1) {
    Tensor c_order(header.dtype, header.shape);
    npy::to_c_order_little_endian(header, t.bytes(), c_order.mutable_bytes());
    return c_order;
  }
  if (header.big_endian) npy::to_c_order_little_endian(header, t.bytes(), t.mutable_bytes());
  return t;
}

constexpr auto kNoOther = [](const std::string&, std::uint64_t) { return false; };
constexpr auto kIgnoreOther = [](const std::string&, std::string) {};

// The stored entries of a mapped .npz, by ZIP name, as the validating ZIP reader
// (io/zip_directory) found them: where their bytes are in the file. libzip 1.7 does not say.
std::map<std::string, detail::zip::Entry, std::less<>> stored_entries(std::string_view bytes,
                                                                      const std::string& source) {
  // libzip's verdict first, so that a file it refuses is refused with the same error as
  // from memory; then the stricter structure checks the mapped entries rely on.
  (void)open_archive(bytes, source);
  detail::zip::Hooks hooks;
  hooks.reject = [&](detail::zip::Problem problem, const std::string& message,
                     std::optional<std::uint64_t>, const std::string& entry) {
    fail(problem == detail::zip::Problem::truncated ? errc::truncated_input : errc::corrupt_data,
         "not a valid .npz (ZIP): " + message, source, entry);
  };
  std::map<std::string, detail::zip::Entry, std::less<>> out;
  for (detail::zip::Entry& e : detail::zip::read_directory(bytes, hooks).entries)
    if (e.method == 0 && e.compressed_size == e.size) out.emplace(e.name, std::move(e));
  return out;
}

// A view of the array's data in the mapped file, when the entry is stored and its data is
// C order, little-endian and aligned for its dtype (as numpy's np.savez writes it); none
// otherwise, and the entry is read through libzip.
std::optional<Tensor> mapped_array(
    const OpenEntry& entry, const std::map<std::string, detail::zip::Entry, std::less<>>& stored,
    const std::shared_ptr<const MappedFile>& file, const NumpyLoadOptions& options,
    const std::string& source) {
  const NpyHeader& header = entry.info.header;
  auto it = stored.find(entry.zip_name);
  if (it == stored.end() || header.big_endian || (header.fortran_order && header.shape.size() > 1))
    return std::nullopt;
  const detail::zip::Entry& z = it->second;
  // Trailing bytes are refused on the libzip path; a mapped entry is the .npy exactly.
  if (header.data_offset + header.data_nbytes != z.size)
    fail(errc::corrupt_data, "entry '" + z.name + "' holds more bytes than it declares", source,
         z.name);
  const std::uint64_t at = z.data_offset + header.data_offset;
  // Typed access checks the alignment of a component: a complex128 is two doubles.
  const std::size_t unit = header.dtype == DType::complex64    ? 4
                           : header.dtype == DType::complex128 ? 8
                                                               : dtype_size(header.dtype);
  if (reinterpret_cast<std::uintptr_t>(file->data() + at) % unit != 0) return std::nullopt;
  if (options.verify_crc &&
      detail::zip::crc32_update(0, file->data() + z.data_offset, z.size) != z.crc32)
    fail(errc::checksum_mismatch,
         "entry '" + z.name + "': CRC-32 of its bytes does not match the recorded one", source,
         z.name);
  return Tensor::view(header.dtype, header.shape, file, static_cast<std::size_t>(at));
}

StateDict load_npz_bytes(std::string_view bytes, const NumpyLoadOptions& options,
                         const std::string& source,
                         const std::shared_ptr<const MappedFile>& file = nullptr) {
  std::map<std::string, detail::zip::Entry, std::less<>> stored;
  if (file) stored = stored_entries(bytes, source);
  StateDict dict;
  walk(
      bytes, options, source,
      [&](OpenEntry& entry, NpzContents&) {
        // Duplicates of the ZIP names are refused by walk; two ZIP names never give one key.
        std::optional<Tensor> mapped;
        if (file) mapped = mapped_array(entry, stored, file, options, source);
        dict.insert(entry.info.name, mapped ? std::move(*mapped) : read_array(entry, source));
      },
      kNoOther, kIgnoreOther);
  return dict;
}

NpzContents inspect_npz_bytes(std::string_view bytes, const NumpyLoadOptions& options,
                              const std::string& source) {
  return walk(
      bytes, options, source,
      [](OpenEntry& entry, NpzContents& contents) {
        contents.arrays.push_back(std::move(entry.info));
      },
      kNoOther, kIgnoreOther);
}

// ---- writing ---------------------------------------------------------------------------

[[noreturn]] void fail_write(zip_error_t* error, const std::string& what) {
  if (zip_error_code_zip(error) == ZIP_ER_MEMORY) throw std::bad_alloc();
  detail::throw_error(errc::internal_error, what + ": " + zip_error_strerror(error));
}

// Writes a stored .npz through the aligned ZIP writer (io/zip_writer.hpp): each entry's data
// starts 64-aligned, and the .npy header pads to a multiple of 64, so every array's data lies
// 64-aligned in the file and load_npz maps it in place.
void write_stored_npz(const StateDict& dict, const std::vector<npy::NpzFile>& files,
                      const std::function<void(const void*, std::size_t)>& sink,
                      const std::string& destination) {
  detail::zip::Writer zip(sink, detail::zip::WriterOptions{}, destination);
  for (const auto& [name, tensor] : dict) {
    const std::string header =
        npy::header_bytes(tensor.dtype(), tensor.shape(), NpyVersion::automatic);
    std::uint32_t crc = detail::zip::crc32_update(0, header.data(), header.size());
    crc = detail::zip::crc32_update(crc, tensor.bytes(), tensor.nbytes());
    zip.begin_entry(name + ".npy", header.size() + tensor.nbytes(), crc);
    zip.write(header.data(), header.size());
    if (tensor.nbytes() != 0) zip.write(tensor.bytes(), tensor.nbytes());
  }
  for (const npy::NpzFile& file : files) {
    zip.begin_entry(file.name, file.bytes.size(),
                    detail::zip::crc32_update(0, file.bytes.data(), file.bytes.size()));
    zip.write(file.bytes.data(), file.bytes.size());
  }
  zip.finish();
}

// Builds the .npz and hands its bytes to `sink` in chunks: stored through the aligned writer,
// deflated through libzip (in a memory buffer).
template <class Sink>
void build_npz(const StateDict& dict, const std::vector<npy::NpzFile>& files, bool compress,
               Sink&& sink, const std::string& destination) {
  if (!compress) {
    write_stored_npz(
        dict, files, [&](const void* p, std::size_t n) { sink(static_cast<const char*>(p), n); },
        destination);
    return;
  }
  if (dict.empty() && files.empty()) {
    // libzip writes nothing for an archive without entries; numpy.savez writes the end of
    // central directory record alone, which is a valid empty ZIP.
    static constexpr char kEmptyZip[22] = {'P', 'K', 5, 6};
    sink(kEmptyZip, sizeof kEmptyZip);
    return;
  }
  ZipError holder;
  zip_error_t& error = holder.error;
  Source buffer(zip_source_buffer_create(nullptr, 0, 0, &error));
  if (!buffer) fail_write(&error, "cannot create the .npz in memory");
  zip_source_keep(buffer.get());  // the archive's close must not free it: its bytes are read after
  zip_t* archive = zip_open_from_source(buffer.get(), ZIP_TRUNCATE, &error);
  if (archive == nullptr) {
    zip_source_free(buffer.get());  // the reference zip_source_keep added
    fail_write(&error, "cannot create the .npz in memory");
  }
  Archive open(archive);
  // The headers must live until zip_close, which reads the fragments.
  std::vector<std::string> headers;
  headers.reserve(dict.size());
  for (const auto& [name, tensor] : dict) {
    headers.push_back(npy::header_bytes(tensor.dtype(), tensor.shape(), NpyVersion::automatic));
    zip_buffer_fragment_t fragments[2] = {
        {reinterpret_cast<zip_uint8_t*>(headers.back().data()), headers.back().size()},
        {const_cast<zip_uint8_t*>(reinterpret_cast<const zip_uint8_t*>(tensor.bytes())),
         tensor.nbytes()}};
    zip_source_t* entry =
        zip_source_buffer_fragment(archive, fragments, tensor.nbytes() == 0 ? 1 : 2, 0);
    if (entry == nullptr) fail_write(zip_get_error(archive), "cannot add '" + name + "'");
    zip_int64_t index = zip_file_add(archive, (name + ".npy").c_str(), entry, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(entry);
      fail_write(zip_get_error(archive), "cannot add '" + name + "'");
    }
    if (zip_set_file_compression(archive, static_cast<zip_uint64_t>(index),
                                 compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0)
      fail_write(zip_get_error(archive), "cannot set the compression of '" + name + "'");
  }
  for (const npy::NpzFile& file : files) {
    zip_source_t* entry = zip_source_buffer(archive, file.bytes.data(), file.bytes.size(), 0);
    if (entry == nullptr) fail_write(zip_get_error(archive), "cannot add '" + file.name + "'");
    zip_int64_t index = zip_file_add(archive, file.name.c_str(), entry, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(entry);
      fail_write(zip_get_error(archive), "cannot add '" + file.name + "'");
    }
    if (zip_set_file_compression(archive, static_cast<zip_uint64_t>(index),
                                 compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0)
      fail_write(zip_get_error(archive), "cannot set the compression of '" + file.name + "'");
  }
  if (zip_close(open.get()) != 0) fail_write(zip_get_error(open.get()), "cannot write the .npz");
  open.release();
  if (zip_source_open(buffer.get()) != 0)
    fail_write(zip_source_error(buffer.get()), "cannot read the .npz back");
  std::vector<char> chunk(1 << 20);
  for (;;) {
    zip_int64_t got = zip_source_read(buffer.get(), chunk.data(), chunk.size());
    if (got < 0) {
      zip_source_close(buffer.get());
      fail_write(zip_source_error(buffer.get()), "cannot read the .npz back");
    }
    if (got == 0) break;
    sink(chunk.data(), static_cast<std::size_t>(got));
  }
  zip_source_close(buffer.get());
}

}  // namespace

StateDict load_npz(const std::filesystem::path& path, const NumpyLoadOptions& options) {
  auto file = MappedFile::open(path);
  return load_npz_bytes(file->view(), options, file->path(), file);
}

StateDict load_npz_from_memory(std::string_view bytes, const NumpyLoadOptions& options,
                               const std::string& source) {
  return load_npz_bytes(bytes, options, source);
}

NpzContents inspect_npz(const std::filesystem::path& path, const NumpyLoadOptions& options) {
  auto file = MappedFile::open(path);
  return inspect_npz_bytes(file->view(), options, file->path());
}

NpzContents inspect_npz_from_memory(std::string_view bytes, const NumpyLoadOptions& options,
                                    const std::string& source) {
  return inspect_npz_bytes(bytes, options, source);
}

std::string npz_bytes(const StateDict& dict, bool compress) {
  return npy::npz_bytes_with_files(dict, {}, compress);
}

void save_npz(const std::filesystem::path& path, const StateDict& dict, bool compress) {
  npy::save_npz_with_files(path, dict, {}, compress);
}

std::string npy::npz_bytes_with_files(const StateDict& dict, const std::vector<NpzFile>& files,
                                      bool compress) {
  std::string out;
  build_npz(
      dict, files, compress, [&](const char* p, std::size_t n) { out.append(p, n); }, "<memory>");
  return out;
}

void npy::save_npz_with_files(const std::filesystem::path& path, const StateDict& dict,
                              const std::vector<NpzFile>& files, bool compress) {
  AtomicFileSink sink(path);
  build_npz(
      dict, files, compress, [&](const char* p, std::size_t n) { sink.write(p, n); },
      path.string());
  sink.commit();
}

npy::NpzArchive npy::read_npz_archive(std::string_view bytes, const NumpyLoadOptions& options,
                                      const std::string& source,
                                      const std::function<bool(const std::string&)>& wanted,
                                      std::uint64_t max_file_bytes) {
  NpzArchive out;
  NpzContents contents = walk(
      bytes, options, source,
      [&](OpenEntry& entry, NpzContents& c) {
        c.arrays.push_back(entry.info);
        out.arrays.insert(entry.info.name, read_array(entry, source));
      },
      [&](const std::string& name, std::uint64_t size) {
        if (!wanted(name)) return false;
        if (size > max_file_bytes)
          fail(errc::limit_exceeded,
               "entry '" + name + "' of " + std::to_string(size) +
                   " bytes exceeds LoadOptions::max_input_bytes (" +
                   std::to_string(max_file_bytes) + ")",
               source, name);
        return true;
      },
      [&](const std::string& name, std::string content) {
        out.files.push_back({name, std::move(content)});
      });
  out.entries = std::move(contents.arrays);
  out.skipped = std::move(contents.skipped);
  return out;
}

npy::NpzArchive npy::inspect_npz_archive(std::string_view bytes, const NumpyLoadOptions& options,
                                         const std::string& source,
                                         const std::function<bool(const std::string&)>& wanted,
                                         std::uint64_t max_file_bytes) {
  NpzArchive out;
  NpzContents contents = walk(
      bytes, options, source,
      [](OpenEntry& entry, NpzContents& c) { c.arrays.push_back(std::move(entry.info)); },
      [&](const std::string& name, std::uint64_t size) {
        return wanted(name) && size <= max_file_bytes;
      },
      [&](const std::string& name, std::string content) {
        out.files.push_back({name, std::move(content)});
      });
  out.entries = std::move(contents.arrays);
  out.skipped = std::move(contents.skipped);
  return out;
}

}  // namespace brine
