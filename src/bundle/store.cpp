// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle/store.cpp: bundles by name under one root.

#include "brine/store.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <system_error>

namespace brine {

namespace fs = std::filesystem;

namespace {
[[noreturn]] void io_fail(const std::string& what, const fs::path& path, std::error_code ec) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_io_error(what, ec, where);
}
}  // namespace

Store::Store(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) io_fail("cannot create the store", root, ec);
  root_ = fs::canonical(root, ec);
  if (ec) io_fail("cannot open the store", root, ec);
}

void Store::check_name(const std::string& name) {
  std::string problem;
  if (name.empty())
    problem = "is empty";
  else if (name.size() > 200)
    problem = "is longer than 200 bytes";
  else if (name.find_first_of(std::string("/\\\0", 3)) != std::string::npos)
    problem = "holds a path separator or a NUL byte";
  else if (name[0] == '.')
    problem = "starts with '.' (hidden and temporary folders, '.' and '..')";
  if (!problem.empty())
    detail::throw_error(errc::unsupported_content, "store name '" + name + "' " + problem);
}

std::vector<LoadedValue> Store::load(const std::string& name, BundleLoadOptions options) const {
  check_name(name);
  fs::path dir = root_ / name;
  if (!is_bundle(dir))
    io_fail("no bundle named '" + name + "' in the store", dir,
            std::make_error_code(std::errc::no_such_file_or_directory));
  options.store_root = root_;
  return load_bundle(dir, options);
}

std::vector<std::string> Store::list() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(root_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    // Hidden entries are the temporary folders of saves in progress or killed.
    if (name.empty() || name[0] == '.') continue;
    if (is_bundle(it->path())) names.push_back(name);
  }
  if (ec) io_fail("cannot list the store", root_, ec);
  std::sort(names.begin(), names.end());
  return names;
}

bool Store::contains(const std::string& name) const {
  check_name(name);
  return is_bundle(root_ / name);
}

bool Store::remove(const std::string& name) {
  check_name(name);
  fs::path dir = root_ / name;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return false;
  // Renamed first, so that the name disappears in one step and a crash part-way through
  // the removal leaves a hidden folder, never a half-deleted bundle under the name.
  std::random_device rd;
  fs::path trash = root_ / ("." + name + ".bundle-removed." + std::to_string(::getpid()) + "." +
                            std::to_string(rd()));
  fs::rename(dir, trash, ec);
  if (ec) io_fail("cannot remove the bundle", dir, ec);
  fs::remove_all(trash, ec);
  if (ec) io_fail("cannot remove the bundle", trash, ec);
  return true;
}

}  // namespace brine
