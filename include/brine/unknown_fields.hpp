// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// unknown_fields.hpp: tolerant loading: fields a newer version of a class wrote, kept aside
// by an older program and written back unchanged when it saves (protobuf's unknown fields).
#pragma once

#include <cstdint>
#include <vector>

#include "brine/value.hpp"

namespace brine {

/// The part of an object's archived state this build does not know. A type opts in by
/// holding one and naming it with BRINE_UNKNOWN_FIELDS; the readers fill it, the stable and
/// state writers write it back after the fields getstate writes.
///
/// With LoadOptions::accept_newer_class_versions, such a type also loads from an archive
/// written by a newer version of the class, as long as every field its setstate reads is
/// there (a newer version that only added fields): the added fields are kept here, with the
/// newer version, and saving writes the object as that version again, so a newer program
/// reads back exactly what it wrote. The binary (short-term) archive has no place for them:
/// BinaryWriter refuses an object whose UnknownFields are not empty.
///
/// Limitation: a kept field that holds shared objects or references to them is written back
/// as a value of its own; sharing with the rest of the document is not restored.
struct UnknownFields {
  /// The newer class version the object was read as; 0 when it was read as this build's.
  std::uint32_t version = 0;
  /// Fields of the archived object that this build's getstate does not write, in order.
  std::vector<Field> fields;

  bool empty() const noexcept { return version == 0 && fields.empty(); }
  void clear() noexcept {
    version = 0;
    fields.clear();
  }
};

}  // namespace brine

/// Names the UnknownFields member of a class declared with BRINE_TYPE (any access section):
///   class Config {
///     BRINE_TYPE("app.Config", 2);
///     BRINE_UNKNOWN_FIELDS(unknown_);
///     brine::UnknownFields unknown_;
///     ...
///   };
#define BRINE_UNKNOWN_FIELDS(member)                           \
  template <class BrineSelf_>                                  \
  static auto& brine_unknown_fields(BrineSelf_& brine_self_) { \
    return brine_self_.member;                                 \
  }                                                            \
  static_assert(true, "")
