// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/type_ops_impl.hpp: the operation table of a declared type (type_ops<T>()), which
// names every archive class's field code. It includes every archive header and none of them
// includes it: registry.hpp and brine.hpp do.
#pragma once

#include <memory>
#include <type_traits>

#include "brine/archive.hpp"
#include "brine/binary.hpp"
#include "brine/hooks.hpp"
#include "brine/layout.hpp"
#include "brine/stable.hpp"
#include "brine/state.hpp"
#include "brine/unknown_fields.hpp"

namespace brine {
namespace detail {

// Every class a Codec is handed implements the archive concept (archive.hpp).
static_assert(check_writer_archive<BinaryWriter>() && is_writer_archive_v<BinaryWriter>);
static_assert(check_reader_archive<BinaryReader>() && is_reader_archive_v<BinaryReader>);
static_assert(check_writer_archive<StableWriter>() && is_writer_archive_v<StableWriter>);
static_assert(check_reader_archive<StableDecoder>() && is_reader_archive_v<StableDecoder>);
static_assert(check_writer_archive<StateWriter>() && is_writer_archive_v<StateWriter>);
static_assert(check_reader_archive<StateReader>() && is_reader_archive_v<StateReader>);

template <class Writer, class T>
void write_fields_thunk(Writer& w, const void* p) {
  w.write_fields(*static_cast<const T*>(p));
}
template <class Reader, class T>
void read_fields_thunk(Reader& r, void* p) {
  r.read_fields(*static_cast<T*>(p));
}

template <class T>
TypeOps make_type_ops() {
  static_assert(is_object_type_v<T>,
                "brine: pointers and registrations need a declared type (BRINE_TYPE or "
                "BRINE_EXTERNAL_TYPE)");
  TypeOps ops{};
  ops.cpp_type = &typeid(T);
  ops.name = TypeDeclaration<T>::name;
  ops.version = TypeDeclaration<T>::version;
  ops.is_abstract = std::is_abstract_v<T>;
  ops.is_polymorphic = std::is_polymorphic_v<T>;
  if constexpr (!std::is_abstract_v<T> && std::is_default_constructible_v<T>) {
    ops.make_shared = []() -> std::shared_ptr<void> { return std::make_shared<T>(); };
    ops.make_raw = []() -> void* { return new T(); };
    if constexpr (std::is_move_assignable_v<T>)
      ops.clear = [](void* p) { *static_cast<T*>(p) = T(); };
    ops.describe = [](LayoutBuilder& b) {
      const T instance{};
      call_getstate(b, instance);
    };
  }
  ops.destroy = [](void* p) { delete static_cast<T*>(p); };
  ops.write_binary = &write_fields_thunk<BinaryWriter, T>;
  ops.read_binary = &read_fields_thunk<BinaryReader, T>;
  ops.write_state = &write_fields_thunk<StateWriter, T>;
  ops.read_state = &read_fields_thunk<StateReader, T>;
  ops.write_stable = &write_fields_thunk<StableWriter, T>;
  ops.read_stable = &read_fields_thunk<StableDecoder, T>;
  if constexpr (has_unknown_fields<T>::value)
    ops.unknown_fields = [](void* p) -> UnknownFields* {
      return &Access::unknown_fields(*static_cast<T*>(p));
    };
  return ops;
}

template <class T>
struct TypeOpsOf {
  static const TypeOps& table() noexcept {
    static const TypeOps ops = make_type_ops<T>();
    return ops;
  }
};

}  // namespace detail

}  // namespace brine
