// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// hooks.hpp: declaring a type (name + version) and its getstate/setstate hooks.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "brine/detail/core.hpp"
#include "brine/unknown_fields.hpp"

/// Declares, inside a class, its stable type name and current version, and lets brine call
/// private hooks. Bump the version whenever getstate writes different fields, and register a
/// migration (or handle `ar.version()` in setstate) for the old layout.
///
/// Example:
///   class Linear {
///    public:
///     BRINE_TYPE("nn.Linear", 2);
///     template <class Archive> void getstate(Archive& ar) const { ar("weights", w_)("bias", b_); }
///     template <class Archive> void setstate(Archive& ar) { ar("weights", w_)("bias", b_); }
///    private:
///     std::vector<float> w_, b_;
///   };
#define BRINE_TYPE(type_name, type_version)                           \
  static constexpr ::std::string_view brine_type_name = type_name;    \
  static constexpr ::std::uint32_t brine_type_version = type_version; \
  friend struct ::brine::Access

/// Declares the name and version of a type you cannot edit (a third-party type); use at
/// global scope. Its hooks are free functions found by argument-dependent lookup in the
/// type's namespace or in namespace brine:
///   template <class Archive> void getstate(Archive& ar, const geo::Point& p);
///   template <class Archive> void setstate(Archive& ar, geo::Point& p);
#define BRINE_EXTERNAL_TYPE(cpp_type, type_name, type_version) \
  template <>                                                  \
  struct brine::TypeDeclaration<cpp_type, void> {              \
    static constexpr bool declared = true;                     \
    static constexpr ::std::string_view name = type_name;      \
    static constexpr ::std::uint32_t version = type_version;   \
  }

namespace brine {

/// Name and version of T: filled from BRINE_TYPE members or by BRINE_EXTERNAL_TYPE.
template <class T, class Enable = void>
struct TypeDeclaration {
  static constexpr bool declared = false;
};

template <class T>
struct TypeDeclaration<T,
                       std::void_t<decltype(T::brine_type_name), decltype(T::brine_type_version)>> {
  static constexpr bool declared = true;
  static constexpr std::string_view name = T::brine_type_name;
  static constexpr std::uint32_t version = T::brine_type_version;
};

/// Grants brine access to private hooks; BRINE_TYPE befriends it.
struct Access {
  template <class Archive, class T>
  static auto getstate(Archive& ar, const T& value) -> decltype(value.getstate(ar)) {
    return value.getstate(ar);
  }
  template <class Archive, class T>
  static auto setstate(Archive& ar, T& value) -> decltype(value.setstate(ar)) {
    return value.setstate(ar);
  }
  template <class T>
  static auto unknown_fields(T& value) -> decltype(T::brine_unknown_fields(value)) {
    return T::brine_unknown_fields(value);
  }
};

namespace detail {

/// Whether T keeps the fields it does not know (BRINE_UNKNOWN_FIELDS).
template <class T, class = void>
struct has_unknown_fields : std::false_type {};
template <class T>
struct has_unknown_fields<T, std::void_t<decltype(Access::unknown_fields(std::declval<T&>()))>>
    : std::true_type {};

template <class Archive, class T, class = void>
struct has_member_getstate : std::false_type {};
template <class Archive, class T>
struct has_member_getstate<
    Archive, T,
    std::void_t<decltype(Access::getstate(std::declval<Archive&>(), std::declval<const T&>()))>>
    : std::true_type {};

template <class Archive, class T, class = void>
struct has_member_setstate : std::false_type {};
template <class Archive, class T>
struct has_member_setstate<
    Archive, T,
    std::void_t<decltype(Access::setstate(std::declval<Archive&>(), std::declval<T&>()))>>
    : std::true_type {};

template <class Archive, class T, class = void>
struct has_free_getstate : std::false_type {};
template <class Archive, class T>
struct has_free_getstate<
    Archive, T, std::void_t<decltype(getstate(std::declval<Archive&>(), std::declval<const T&>()))>>
    : std::true_type {};

template <class Archive, class T, class = void>
struct has_free_setstate : std::false_type {};
template <class Archive, class T>
struct has_free_setstate<
    Archive, T, std::void_t<decltype(setstate(std::declval<Archive&>(), std::declval<T&>()))>>
    : std::true_type {};

template <class Archive, class T>
void call_getstate(Archive& ar, const T& value) {
  if constexpr (has_member_getstate<Archive, T>::value) {
    Access::getstate(ar, value);
  } else {
    static_assert(has_free_getstate<Archive, T>::value,
                  "brine: this type declares a name (BRINE_TYPE / BRINE_EXTERNAL_TYPE) but has no "
                  "getstate hook: add `template <class Archive> void getstate(Archive&) const`");
    getstate(ar, value);
  }
}

template <class Archive, class T>
void call_setstate(Archive& ar, T& value) {
  if constexpr (has_member_setstate<Archive, T>::value) {
    Access::setstate(ar, value);
  } else {
    static_assert(has_free_setstate<Archive, T>::value,
                  "brine: this type declares a name (BRINE_TYPE / BRINE_EXTERNAL_TYPE) but has no "
                  "setstate hook: add `template <class Archive> void setstate(Archive&)`");
    setstate(ar, value);
  }
}

}  // namespace detail

/// True for types saved as brine objects: those with a declared name and version.
template <class T>
inline constexpr bool is_object_type_v = TypeDeclaration<std::remove_cv_t<T>>::declared;

/// Writes (when saving) or reads (when loading) the fields of base class `Base` of `self` in
/// place, as if they were the derived class's own fields. Call it from both hooks:
///   template <class Archive> void getstate(Archive& ar) const { brine::base<Node>(ar, *this); ...
///   }
template <class Base, class Archive, class Derived>
void base(Archive& ar, Derived& self) {
  static_assert(std::is_base_of_v<Base, std::remove_const_t<Derived>>,
                "brine::base<Base>: Base is not a base class of this type");
  if constexpr (Archive::is_loading) {
    detail::call_setstate(ar, static_cast<Base&>(self));
  } else {
    detail::call_getstate(ar, static_cast<const Base&>(self));
  }
}

/// The codec of T: how values of T are described, saved and loaded on every archive. brine
/// specializes it for arithmetic types, enums, the standard library families in types/, and
/// declared object types; specialize it yourself only for value types that should not be
/// objects (no name, no version). Each codec has:
///   static void describe(LayoutBuilder&);      // the binary layout descriptor
///   template <class W> static void save(W&, const T&);
///   template <class R> static void load(R&, T&);
///   static constexpr std::size_t min_binary_size; // lower bound of the binary encoding
/// What save and load may call on W and R is the archive concept of brine/archive.hpp.
template <class T, class Enable = void>
struct Codec {
  static_assert(sizeof(T) == 0,
                "brine: no codec for this type. Declare it with BRINE_TYPE (or "
                "BRINE_EXTERNAL_TYPE) and give it getstate/setstate hooks, or include the "
                "brine/types/ header of its standard library family");
};

}  // namespace brine
