// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/core.hpp: per-type operation tables and forward declarations shared by all archives.
// No stability promise: users include brine.hpp, never this.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <typeinfo>

namespace brine {

class Registry;
class BinaryWriter;
class BinaryReader;
class StateWriter;
class StateReader;
class StableWriter;
class StableDecoder;
class LayoutBuilder;
struct UnknownFields;

namespace detail {

/// What brine can do with one C++ type without knowing it statically: built once per type by
/// type_ops<T>() and copied into each registry the type is registered in. Pointer loads and
/// polymorphic saves go through these; inline fields never do (they are direct template code).
struct TypeOps {
  const std::type_info* cpp_type;
  std::string_view name;  ///< the declared stable name
  std::uint32_t version;  ///< the declared current version
  bool is_abstract;
  bool is_polymorphic;
  std::shared_ptr<void> (*make_shared)();  ///< nullptr for abstract types
  void* (*make_raw)();                     ///< nullptr for abstract types; paired with destroy
  void (*destroy)(void*);
  /// Assigns a default-constructed value, releasing what the object holds; a failed load
  /// calls it on every shared object it created so that shared_ptr cycles among them are
  /// freed. nullptr when the type cannot be assigned so.
  void (*clear)(void*);
  void (*describe)(LayoutBuilder&);  ///< records the field layout; nullptr for abstract
  void (*write_binary)(BinaryWriter&, const void*);
  void (*read_binary)(BinaryReader&, void*);
  void (*write_state)(StateWriter&, const void*);
  void (*read_state)(StateReader&, void*);
  void (*write_stable)(StableWriter&, const void*);
  void (*read_stable)(StableDecoder&, void*);
  /// The UnknownFields of the object at `p`; nullptr when the type does not keep them.
  UnknownFields* (*unknown_fields)(void*);
};

/// Holds the operation table of T. Defined in detail/type_ops_impl.hpp, which includes every
/// archive because the table names each archive's field code; the archive headers do not
/// include it (that would make them include one another).
template <class T>
struct TypeOpsOf;

/// The address of the most-derived object `object` belongs to: one shared object saved
/// through pointers to different bases must get one id.
template <class T>
const void* most_derived(const T* object) noexcept {
  if constexpr (std::is_polymorphic_v<T>)
    return dynamic_cast<const void*>(object);
  else
    return object;
}

/// The operation table of T. A file that saves, loads or registers a declared type must
/// include brine/brine.hpp or brine/registry.hpp: including only an archive header fails
/// here with "incomplete type TypeOpsOf<T>" rather than at link time.
template <class T>
const TypeOps& type_ops() noexcept {
  return TypeOpsOf<T>::table();
}

}  // namespace detail
}  // namespace brine
