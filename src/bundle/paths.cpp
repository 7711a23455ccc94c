// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle/paths.cpp: keeping recorded paths inside their base, and DataPath's own code.

#include "bundle/paths.hpp"

#include <system_error>

#include "brine/bundle.hpp"
#include "brine/data_path.hpp"
#include "brine/error.hpp"
#include "brine/registry.hpp"

namespace brine {

namespace fs = std::filesystem;

namespace bundle_paths {
namespace {

[[noreturn]] void escape(const std::string& message, const fs::path& source) {
  ErrorContext context;
  context.source = source.string();
  detail::throw_error(errc::unsupported_content, message, context);
}

}  // namespace

bool is_within(const fs::path& path, const fs::path& base) {
  auto b = base.begin(), p = path.begin();
  for (; b != base.end(); ++b, ++p) {
    if (b->empty() && std::next(b) == base.end()) break;  // a trailing separator
    if (p == path.end() || *p != *b) return false;
  }
  return true;
}

void check_relative(const std::string& recorded, const char* base_name, const fs::path& source,
                    const std::string& what) {
  std::string subject = what.empty() ? "path '" + recorded + "'" : what;
  if (recorded.empty()) escape(subject + " is empty", source);
  if (recorded.find('\0') != std::string::npos) escape(subject + " holds a NUL byte", source);
  fs::path p(recorded);
  // An absolute path would point anywhere on the machine that loads the bundle.
  if (p.is_absolute() || p.has_root_directory() || p.has_root_name() || recorded[0] == '/' ||
      recorded[0] == '\\')
    escape(subject + " is absolute where a path relative to the " + base_name + " is expected",
           source);
  for (const fs::path& part : p)
    if (part == "..")
      escape(subject + " climbs out of the " + std::string(base_name) + " ('..')", source);
}

fs::path resolve_inside(const fs::path& base, const std::string& recorded, const char* base_name,
                        const fs::path& source, const std::string& what) {
  check_relative(recorded, base_name, source, what);
  std::string subject = what.empty() ? "path '" + recorded + "'" : what;
  fs::path full = (base / fs::path(recorded)).lexically_normal();
  std::error_code ec;
  fs::path canonical_base = fs::canonical(base, ec);
  if (ec) canonical_base = base.lexically_normal();
  // weakly_canonical follows every symlink of the part that exists: a link inside the bundle
  // that leads to /etc ends up outside canonical_base.
  fs::path resolved = fs::weakly_canonical(full, ec);
  if (ec) resolved = full;
  if (!is_within(resolved, canonical_base))
    escape(subject + " leads outside the " + std::string(base_name) + " through a symlink ('" +
               resolved.string() + "')",
           source);
  if (fs::is_directory(resolved, ec)) {
    for (auto it = fs::recursive_directory_iterator(resolved, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_symlink()) continue;
      std::error_code e2;
      fs::path target = fs::weakly_canonical(it->path(), e2);
      if (e2 || !is_within(target, canonical_base))
        escape(subject + " holds symlink '" + it->path().string() + "' leading outside the " +
                   base_name,
               source);
    }
  }
  return full;
}

}  // namespace bundle_paths

const char* to_string(PathBase base) noexcept {
  switch (base) {
    case PathBase::bundle:
      return "bundle";
    case PathBase::store:
      return "store";
    case PathBase::absolute:
      return "absolute";
  }
  return "absolute";
}

DataPath::DataPath(const fs::path& path)
    : base_(PathBase::absolute),
      path_(path.empty() ? path : fs::absolute(path).lexically_normal()) {}

PathBase DataPath::parse_base(const std::string& name) {
  if (name == "bundle") return PathBase::bundle;
  if (name == "store") return PathBase::store;
  if (name == "absolute") return PathBase::absolute;
  detail::throw_error(errc::corrupt_data, "'brine.DataPath' with unknown base '" + name +
                                              "' (expected bundle, store or absolute)");
}

}  // namespace brine

// Registered by the library itself, so that any program linking brine loads DataPaths and
// init-call lists without registering them.
BRINE_REGISTER(brine::DataPath);
BRINE_REGISTER(brine::InitCalls);
