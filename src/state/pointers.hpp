// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/pointers.hpp: creating and casting objects behind pointers, shared by the readers
// and writers of both archives (private).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>

#include "brine/detail/shared_table.hpp"
#include "brine/error.hpp"
#include "brine/registry.hpp"

namespace brine::detail {

std::string demangle(const std::type_info& type);

/// The operations of the dynamic type of an object saved through a pointer to `static_ops`'s
/// type. Throws SchemaError when the dynamic type is not registered: saving it would write
/// an archive no program could load.
inline const TypeOps& dynamic_type_ops(const Registry& registry, const std::type_info& dynamic,
                                       const TypeOps& static_ops) {
  if (dynamic == *static_ops.cpp_type) return static_ops;
  const TypeInfo* info = registry.find(dynamic);
  if (info == nullptr)
    detail::throw_error(errc::unknown_type,
                        "cannot save an object of unregistered dynamic type '" + demangle(dynamic) +
                            "' through a pointer to '" + std::string(static_ops.name) +
                            "': register it with BRINE_REGISTER_POLYMORPHIC(" + demangle(dynamic) +
                            ", " + demangle(*static_ops.cpp_type) + ")");
  return info->ops();
}

/// `object` (the most-derived address of an object of type `ops`) as a pointer to the type
/// of `to`, or nullptr when `to` is neither that type nor a registered base of it.
inline void* upcast_to(const Registry& registry, const TypeOps& ops, const TypeInfo* info,
                       const TypeOps& to, void* object) {
  if (*ops.cpp_type == *to.cpp_type) return object;
  if (info == nullptr) return nullptr;
  return registry.upcast(*info, *to.cpp_type, object);
}

/// An object created for a pointer, destroyed again unless released (so a failing setstate
/// leaks nothing and no partial object escapes).
struct Created {
  void* raw = nullptr;  // most-derived address
  void* as_static = nullptr;
  const TypeOps* ops = nullptr;
  const TypeInfo* info = nullptr;
  std::shared_ptr<void> owner;

  Created() = default;
  Created(const Created&) = delete;
  Created& operator=(const Created&) = delete;
  Created(Created&& other) noexcept
      : raw(other.raw),
        as_static(other.as_static),
        ops(other.ops),
        info(other.info),
        owner(std::move(other.owner)) {
    other.raw = nullptr;
  }
  ~Created() {
    if (raw != nullptr && !owner) ops->destroy(raw);
  }
  PointerTarget release() {
    PointerTarget t{as_static, ops, info, std::move(owner)};
    raw = nullptr;
    return t;
  }
};

/// Creates an object of the archived type `type_name` for a pointer to `static_ops`'s type.
/// `fail(errc, message)` must throw.
template <class Fail>
Created create_object(const Registry& registry, std::string_view type_name, std::uint32_t version,
                      const TypeOps& static_ops, bool shared, bool accept_newer, Fail&& fail) {
  Created c;
  c.info = registry.find(type_name);
  if (c.info != nullptr) {
    c.ops = &c.info->ops();
  } else if (type_name == static_ops.name) {
    c.ops = &static_ops;  // an unregistered type named exactly as the pointer's own type
  } else {
    std::string near;
    for (const std::string& n : registry.near_type_names(type_name))
      near += (near.empty() ? "" : ", ") + ("'" + n + "'");
    fail(errc::unknown_type, "unknown type '" + std::string(type_name) +
                                 "': not registered in this program, so it is not loaded" +
                                 (near.empty() ? std::string() : "; did you mean " + near + "?"));
  }
  // A newer version is accepted only by a type that keeps the fields it does not know
  // (LoadOptions::accept_newer_class_versions); for any other it would lose data.
  if (version > c.ops->version && !(accept_newer && c.ops->unknown_fields != nullptr))
    fail(errc::newer_class_version,
         "archive written by class version " + std::to_string(version) + " of '" +
             std::string(c.ops->name) + "', this build knows up to " +
             std::to_string(c.ops->version) + ": load it with a newer build of the program");
  if (shared ? c.ops->make_shared == nullptr : c.ops->make_raw == nullptr)
    fail(errc::type_mismatch,
         "type '" + std::string(c.ops->name) +
             "' cannot be created: it is abstract or not default-constructible");
  if (shared) {
    c.owner = c.ops->make_shared();
    c.raw = c.owner.get();
  } else {
    c.raw = c.ops->make_raw();
  }
  c.as_static = upcast_to(registry, *c.ops, c.info, static_ops, c.raw);
  if (c.as_static == nullptr)
    fail(errc::type_mismatch, "archived object of type '" + std::string(c.ops->name) +
                                  "' is not a registered subclass of '" +
                                  std::string(static_ops.name) +
                                  "', so it cannot be loaded into a pointer to it");
  return c;
}

/// A pointer target for an already-loaded shared object.
template <class Fail>
PointerTarget target_of(const Registry& registry, const SharedObject& found,
                        const TypeOps& static_ops, Fail&& fail) {
  void* as_static = upcast_to(registry, *found.ops, found.info, static_ops, found.object.get());
  if (as_static == nullptr)
    fail(errc::type_mismatch, "shared object of type '" + std::string(found.ops->name) +
                                  "' is referenced through a pointer to unrelated type '" +
                                  std::string(static_ops.name) + "'");
  return PointerTarget{as_static, found.ops, found.info, found.object};
}

}  // namespace brine::detail
