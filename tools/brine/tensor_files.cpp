// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/tensor_files.cpp: safetensors (single and sharded), .npy and .npz files as the
// subcommands see them: named tensors, and one brine value (a map from name to tensor), so
// that inspect, dump, verify and convert treat them as they treat brine archives.

#include <brine/dduf.hpp>
#include <brine/error.hpp>
#include <brine/model_state.hpp>
#include <brine/npz_object.hpp>
#include <brine/numpy.hpp>
#include <brine/safetensors.hpp>
#include <string>
#include <utility>

#include "cli.hpp"

namespace brine_cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The one brine value a tensor file stands for: {name: tensor}.
brine::Value value_of(const brine::StateDict& tensors) {
  brine::Value::Map map;
  for (const auto& [name, tensor] : tensors) map.emplace(name, brine::Value(tensor));
  return brine::Value(std::move(map));
}

}  // namespace

bool is_sharded_checkpoint(const std::filesystem::path& path) {
  return std::filesystem::is_directory(path) ||
         ends_with(path.filename().string(), ".safetensors.index.json");
}

void read_tensor_file(const std::string& path, std::string_view bytes, Archive& archive) {
  switch (archive.format) {
    case Format::safetensors:
      if (is_sharded_checkpoint(path)) {
        archive.tensors = brine::load_state_dict(path);
        archive.sharded = true;
        // A folder has no one size: report the tensor bytes it holds.
        archive.bytes = 0;
        for (const auto& entry : archive.tensors) archive.bytes += entry.second.nbytes();
      } else {
        archive.tensors = brine::load_safetensors(path);
      }
      archive.format_version = 0;  // safetensors records no version
      break;
    case Format::npy: {
      // The header from the bytes already mapped, rather than opening the file again.
      brine::NpyHeader header = brine::parse_npy_header(bytes, bytes.size(), {}, path);
      archive.format_version = static_cast<std::uint32_t>(header.major_version);
      // An .npy holds one unnamed array; numpy.load gives it no name either. The tool names
      // it after the file, as `convert x.npy y.npz` then stores it as numpy.savez would
      // store `x=array`.
      std::string name = std::filesystem::path(path).stem().string();
      archive.tensors.insert(name.empty() ? "array" : name, brine::load_npy(path));
      break;
    }
    case Format::npz:
      if (brine::is_npz_object(bytes, {}, path)) {
        // An object saved by brine::save_npz: the value is the object's state (so inspect
        // lists its types and versions, dump shows it), the tensors its arrays by entry name.
        archive.values.assign(1, brine::load_npz_state_from_memory(bytes, {}, {}, path));
        archive.tensors = brine::load_npz_from_memory(bytes, {}, path);
        archive.format_version = brine::npz_object_format_version;
        return;
      }
      archive.tensors = brine::load_npz(path);
      archive.format_version = 0;  // ZIP records no version of the npz convention
      break;
    case Format::dduf: {
      // Every rule checked, CRCs included, and every safetensors entry parsed: verify then
      // means the whole file. The value is {entry name: content}: a safetensors entry's
      // tensors; the text of a .json or .txt entry up to kMaxDdufText; any other entry (a
      // .model, a larger text) as a uint8 tensor viewing the mapping, never copied.
      constexpr std::uint64_t kMaxDdufText = std::uint64_t{64} << 20;
      brine::DdufReadOptions options;
      options.verify_crc = true;
      brine::DdufFile dduf = brine::open_dduf(path, options);
      brine::Value::Map entries;
      for (const brine::DdufEntry& e : dduf.entries()) {
        archive.entries.push_back({e.name(), e.offset(), e.size()});
        if (e.is_directory()) continue;
        if (ends_with(e.name(), ".safetensors")) {
          brine::StateDict dict = brine::load_safetensors(e);
          for (const auto& [name, tensor] : dict)
            archive.tensors.insert(e.name() + ":" + name, tensor);
          entries.emplace(e.name(), value_of(dict));
        } else if (!ends_with(e.name(), ".model") && e.size() <= kMaxDdufText) {
          entries.emplace(e.name(), brine::Value(e.text()));
        } else {
          entries.emplace(e.name(), brine::Value(brine::Tensor::view(
                                        brine::DType::uint8, {static_cast<std::int64_t>(e.size())},
                                        e.file(), static_cast<std::size_t>(e.offset()))));
        }
      }
      archive.format_version = 0;  // DDUF records no version
      archive.values.clear();
      archive.values.emplace_back(std::move(entries));  // not assign(1, v): a copy
      return;
    }
    case Format::binary:
    case Format::stable:
    case Format::json:
    case Format::bundle:
      BRINE_ASSERT(false, "read_tensor_file of a brine archive");
  }
  archive.values.assign(1, value_of(archive.tensors));
}

brine::StateDict tensors_of(const Archive& archive) {
  if (is_tensor_format(archive.format)) return archive.tensors;
  if (archive.values.size() == 1) return brine::state_dict_of(archive.values.front());
  brine::StateDict all;
  for (std::size_t i = 0; i < archive.values.size(); ++i)
    for (auto& [name, tensor] : brine::state_dict_of(archive.values[i]))
      all.insert(std::to_string(i) + "." + name, tensor);
  return all;
}

void write_tensor_file(const std::filesystem::path& path, Format format,
                       const brine::StateDict& tensors, std::uint64_t max_shard_size) {
  switch (format) {
    case Format::safetensors: {
      const std::string name = path.string();
      if (max_shard_size != 0 || (!name.empty() && name.back() == '/') ||
          std::filesystem::is_directory(path)) {
        brine::ShardOptions options;
        if (max_shard_size != 0) options.max_shard_size = max_shard_size;
        brine::save_state_dict(path, tensors, options);
      } else {
        brine::save_safetensors(path, tensors);
      }
      return;
    }
    case Format::npy:
      if (tensors.size() != 1)
        brine::detail::throw_error(brine::errc::type_mismatch,
                                   "an .npy file holds one array, and the input has " +
                                       std::to_string(tensors.size()) +
                                       " tensors: write .npz or .safetensors instead");
      brine::save_npy(path, tensors.begin()->second);
      return;
    case Format::npz:
      brine::save_npz(path, tensors);
      return;
    case Format::dduf:
      break;  // convert packs DDUF files itself
    case Format::binary:
    case Format::stable:
    case Format::json:
    case Format::bundle:
      break;
  }
  BRINE_ASSERT(false, "write_tensor_file of a brine archive format");
}

}  // namespace brine_cli
