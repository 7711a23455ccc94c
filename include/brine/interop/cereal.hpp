// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// interop/cereal.hpp: classes written for cereal saved in brine archives through their own
// cereal functions (BRINE_CEREAL_TYPE), brine types inside cereal archives, and import of
// archives cereal wrote. Link brine::cereal; the core library never needs cereal.
// docs/from-cereal.md is the user's guide.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <istream>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

// The archives come before anything a user registers with CEREAL_REGISTER_TYPE: cereal binds
// a polymorphic type to the archives declared before the registration, brine's import
// archives among them.
#include <cereal/archives/binary.hpp>
#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <cereal/archives/xml.hpp>
#include <cereal/cereal.hpp>
#include <cereal/types/base_class.hpp>
#include <cereal/types/polymorphic.hpp>
#include <cereal/types/string.hpp>

#include "brine/brine.hpp"

namespace brine::interop::detail {

/// The class version CEREAL_CLASS_VERSION gave T (0 without one). cereal initializes it at
/// start-up, so it is read when first needed, not at compile time: registerVersion(), where
/// the macro defined it, returns the number whatever the order of static initialization.
template <class T, class = void>
struct has_register_version : std::false_type {};
template <class T>
struct has_register_version<T, std::void_t<decltype(cereal::detail::Version<T>::registerVersion())>>
    : std::true_type {};

template <class T>
struct CerealVersion {
  // NOLINTNEXTLINE(google-explicit-constructor): stands where brine reads a version number
  operator std::uint32_t() const { return value(); }
  static std::uint32_t value() {
    static const std::uint32_t version = [] {
      if constexpr (has_register_version<T>::value) {
        return static_cast<std::uint32_t>(cereal::detail::Version<T>::registerVersion());
      } else {
        return static_cast<std::uint32_t>(cereal::detail::Version<T>::version);
      }
    }();
    return version;
  }
};

}  // namespace brine::interop::detail

/// Declares a class that has cereal serialization functions (member or free `serialize`, or
/// `save` + `load`, versioned or not) as a brine type named `type_name`, whose hooks are those
/// functions: each value they pass to the archive becomes a field, named by its NVP
/// (CEREAL_NVP / cereal::make_nvp) or, without one, by its position in the object ("_0",
/// "_1", ...). The version is CEREAL_CLASS_VERSION's (0 without one). Use at global scope,
/// then register the type (BRINE_REGISTER, or BRINE_REGISTER_POLYMORPHIC for a class saved
/// through a pointer to its base). The class's source is not touched.
///
/// Example:
///   struct Point { double x, y;
///     template <class Archive> void serialize(Archive& ar) { ar(CEREAL_NVP(x), CEREAL_NVP(y)); }
///     };
///   BRINE_CEREAL_TYPE(Point, "geo.Point");
///   BRINE_REGISTER(Point);
#define BRINE_CEREAL_TYPE(cpp_type, type_name)                                       \
  template <>                                                                        \
  struct brine::TypeDeclaration<cpp_type, void> {                                    \
    static constexpr bool declared = true;                                           \
    static constexpr bool cereal_hooks = true;                                       \
    static constexpr ::std::string_view name = type_name;                            \
    static constexpr ::brine::interop::detail::CerealVersion<cpp_type> version = {}; \
  }

namespace brine::interop {

/// True for types declared with BRINE_CEREAL_TYPE: brine runs their cereal functions.
template <class T, class = void>
struct is_cereal_type : std::false_type {};
template <class T>
struct is_cereal_type<T, std::void_t<decltype(TypeDeclaration<T>::cereal_hooks)>>
    : std::bool_constant<TypeDeclaration<T>::cereal_hooks> {};
template <class T>
inline constexpr bool is_cereal_type_v = is_cereal_type<std::remove_cv_t<T>>::value;

namespace detail {

/// Field names for values a cereal function passes without an NVP: "_" and the value's
/// position among all the values of its object.
inline constexpr std::size_t kMaxPositionalFields = 256;
inline const char* positional_name(std::size_t index) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n(kMaxPositionalFields);
    for (std::size_t i = 0; i < n.size(); ++i) n[i] = "_" + std::to_string(i);
    return n;
  }();
  if (index >= names.size()) {
    brine::detail::throw_error(errc::unsupported_content,
                               "a cereal function passed more than " +
                                   std::to_string(kMaxPositionalFields) +
                                   " values without names: name them with cereal::make_nvp");
  }
  return names[index].c_str();
}

template <class T>
struct is_nvp : std::false_type {};
template <class T>
struct is_nvp<cereal::NameValuePair<T>> : std::true_type {};
template <class T>
struct is_base_wrapper : std::false_type {};
template <class T>
struct is_base_wrapper<cereal::base_class<T>> : std::true_type {};
template <class T>
struct is_base_wrapper<cereal::virtual_base_class<T>> : std::true_type {};
template <class T>
struct is_size_tag : std::false_type {};
template <class T>
struct is_size_tag<cereal::SizeTag<T>> : std::true_type {};
template <class T>
struct is_binary_data : std::false_type {};
template <class T>
struct is_binary_data<cereal::BinaryData<T>> : std::true_type {};

}  // namespace detail

// Unqualified calls of a class's free cereal functions are made from this namespace, where
// these deleted declarations stop ordinary lookup: only argument-dependent lookup (the
// class's namespace, and cereal's through the adapters' base) finds the user's functions, as
// it does from inside cereal.
namespace cereal_calls {
void serialize() = delete;
void save() = delete;
void load() = delete;

#define BRINE_DETAIL_CEREAL_HOOK_TEST(trait, expr) \
  template <class A, class T, class = void>        \
  struct trait : std::false_type {};               \
  template <class A, class T>                      \
  struct trait<A, T, std::void_t<decltype(expr)>> : std::true_type {}

BRINE_DETAIL_CEREAL_HOOK_TEST(member_serialize,
                              cereal::access::member_serialize(std::declval<A&>(),
                                                               std::declval<T&>()));
BRINE_DETAIL_CEREAL_HOOK_TEST(member_serialize_v,
                              cereal::access::member_serialize(std::declval<A&>(),
                                                               std::declval<T&>(), 0u));
BRINE_DETAIL_CEREAL_HOOK_TEST(free_serialize, serialize(std::declval<A&>(), std::declval<T&>()));
BRINE_DETAIL_CEREAL_HOOK_TEST(free_serialize_v,
                              serialize(std::declval<A&>(), std::declval<T&>(), 0u));
BRINE_DETAIL_CEREAL_HOOK_TEST(member_save, cereal::access::member_save(std::declval<A&>(),
                                                                       std::declval<const T&>()));
BRINE_DETAIL_CEREAL_HOOK_TEST(member_save_v,
                              cereal::access::member_save(std::declval<A&>(),
                                                          std::declval<const T&>(), 0u));
BRINE_DETAIL_CEREAL_HOOK_TEST(free_save, save(std::declval<A&>(), std::declval<const T&>()));
BRINE_DETAIL_CEREAL_HOOK_TEST(free_save_v, save(std::declval<A&>(), std::declval<const T&>(), 0u));
BRINE_DETAIL_CEREAL_HOOK_TEST(member_load,
                              cereal::access::member_load(std::declval<A&>(), std::declval<T&>()));
BRINE_DETAIL_CEREAL_HOOK_TEST(member_load_v, cereal::access::member_load(std::declval<A&>(),
                                                                         std::declval<T&>(), 0u));
BRINE_DETAIL_CEREAL_HOOK_TEST(free_load, load(std::declval<A&>(), std::declval<T&>()));
BRINE_DETAIL_CEREAL_HOOK_TEST(free_load_v, load(std::declval<A&>(), std::declval<T&>(), 0u));
#undef BRINE_DETAIL_CEREAL_HOOK_TEST

/// An archive type for asking whether T has cereal functions of its own, outside namespace
/// cereal so that the search cannot meet the functions below that cereal archives use for
/// brine types (which ask this very question).
struct ProbeArchive {};

/// True when T has cereal functions (member, or free in its own namespace) that are templates
/// over the archive.
template <class T>
inline constexpr bool has_cereal_functions_v =
    member_serialize<ProbeArchive, T>::value || member_serialize_v<ProbeArchive, T>::value ||
    free_serialize<ProbeArchive, T>::value || free_serialize_v<ProbeArchive, T>::value ||
    member_save<ProbeArchive, T>::value || member_save_v<ProbeArchive, T>::value ||
    free_save<ProbeArchive, T>::value || free_save_v<ProbeArchive, T>::value ||
    member_load<ProbeArchive, T>::value || member_load_v<ProbeArchive, T>::value ||
    free_load<ProbeArchive, T>::value || free_load_v<ProbeArchive, T>::value;

/// Runs T's cereal function for the adapter `ar`: serialize when T has one, else save (when
/// saving) or load. A class with none of them is a compile error naming what to add.
template <class A, class T>
void run(A& ar, T& value, std::uint32_t version) {
  if constexpr (member_serialize<A, T>::value) {
    cereal::access::member_serialize(ar, value);
  } else if constexpr (member_serialize_v<A, T>::value) {
    cereal::access::member_serialize(ar, value, version);
  } else if constexpr (free_serialize<A, T>::value) {
    serialize(ar, value);
  } else if constexpr (free_serialize_v<A, T>::value) {
    serialize(ar, value, version);
  } else if constexpr (!A::is_loading::value) {
    const T& object = value;
    if constexpr (member_save<A, T>::value) {
      cereal::access::member_save(ar, object);
    } else if constexpr (member_save_v<A, T>::value) {
      cereal::access::member_save(ar, object, version);
    } else if constexpr (free_save<A, T>::value) {
      save(ar, object);
    } else {
      static_assert(free_save_v<A, T>::value,
                    "brine: a BRINE_CEREAL_TYPE class needs a cereal serialize or save function "
                    "that is a template over the archive (save_minimal is not supported)");
      save(ar, object, version);
    }
  } else {
    if constexpr (member_load<A, T>::value) {
      cereal::access::member_load(ar, value);
    } else if constexpr (member_load_v<A, T>::value) {
      cereal::access::member_load(ar, value, version);
    } else if constexpr (free_load<A, T>::value) {
      load(ar, value);
    } else {
      static_assert(free_load_v<A, T>::value,
                    "brine: a BRINE_CEREAL_TYPE class needs a cereal serialize or load function "
                    "that is a template over the archive (load_minimal is not supported)");
      load(ar, value, version);
    }
  }
}

}  // namespace cereal_calls

namespace detail {

/// What a class's cereal functions are handed when brine saves it: the cereal archive
/// interface (operator(), &, <<, NVPs, base classes), each value forwarded to the brine
/// writer `W` as a field. `AdlTag`, a class of namespace cereal, puts that namespace among the
/// places argument-dependent lookup searches, as it is for cereal's own archives.
template <class W, class AdlTag = cereal::access>
class CerealSaveAdapter {
 public:
  using is_loading = std::false_type;
  using is_saving = std::true_type;

  explicit CerealSaveAdapter(W& writer) noexcept : writer_(writer) {}

  template <class... Ts>
  CerealSaveAdapter& operator()(Ts&&... values) {
    (process(values), ...);
    return *this;
  }
  template <class T>
  CerealSaveAdapter& operator&(T&& value) {
    process(value);
    return *this;
  }
  template <class T>
  CerealSaveAdapter& operator<<(T&& value) {
    process(value);
    return *this;
  }

 private:
  template <class T>
  void process(const T& value) {
    if constexpr (is_nvp<T>::value) {
      if constexpr (is_base_wrapper<std::decay_t<decltype(value.value)>>::value) {
        process(value.value);  // a named base class is still inlined
      } else {
        writer_(value.name, value.value);
        ++position_;
      }
    } else if constexpr (is_base_wrapper<T>::value) {
      // A base class's values become fields of this object, as brine::base does; the base is
      // written at its own current version.
      using Base = std::remove_pointer_t<decltype(value.base_ptr)>;
      cereal_calls::run(*this, *value.base_ptr,
                        static_cast<std::uint32_t>(CerealVersion<Base>::value()));
    } else {
      static_assert(!is_size_tag<T>::value && !is_binary_data<T>::value,
                    "brine: cereal::make_size_tag and cereal::binary_data in a BRINE_CEREAL_TYPE "
                    "class are not supported: hold the elements in a standard container");
      writer_(positional_name(position_), value);
      ++position_;
    }
  }

  W& writer_;
  std::size_t position_ = 0;
};

/// The mirror of CerealSaveAdapter: each value a cereal function asks for is read from the
/// brine reader `R` as the field of the same name.
template <class R, class AdlTag = cereal::access>
class CerealLoadAdapter {
 public:
  using is_loading = std::true_type;
  using is_saving = std::false_type;

  explicit CerealLoadAdapter(R& reader) noexcept : reader_(reader) {}

  template <class... Ts>
  CerealLoadAdapter& operator()(Ts&&... values) {
    (process(values), ...);
    return *this;
  }
  template <class T>
  CerealLoadAdapter& operator&(T&& value) {
    process(value);
    return *this;
  }
  template <class T>
  CerealLoadAdapter& operator>>(T&& value) {
    process(value);
    return *this;
  }

 private:
  template <class T>
  void process(T& value) {
    if constexpr (is_nvp<std::remove_const_t<T>>::value) {
      if constexpr (is_base_wrapper<std::decay_t<decltype(value.value)>>::value) {
        process(value.value);
      } else {
        reader_(value.name, value.value);
        ++position_;
      }
    } else if constexpr (is_base_wrapper<std::remove_const_t<T>>::value) {
      using Base = std::remove_pointer_t<decltype(value.base_ptr)>;
      cereal_calls::run(*this, *value.base_ptr,
                        static_cast<std::uint32_t>(CerealVersion<Base>::value()));
    } else {
      static_assert(!is_size_tag<std::remove_const_t<T>>::value &&
                        !is_binary_data<std::remove_const_t<T>>::value,
                    "brine: cereal::make_size_tag and cereal::binary_data in a BRINE_CEREAL_TYPE "
                    "class are not supported: hold the elements in a standard container");
      reader_(positional_name(position_), value);
      ++position_;
    }
  }

  R& reader_;
  std::size_t position_ = 0;
};

}  // namespace detail
}  // namespace brine::interop

namespace brine::interop {

/// True for brine types with brine hooks (BRINE_TYPE / BRINE_EXTERNAL_TYPE) and no cereal
/// functions of their own: cereal archives save them through the functions below. A type with
/// both keeps its cereal functions in cereal archives and its brine hooks in brine's.
template <class T>
inline constexpr bool is_brine_hooks_type_v =
    is_object_type_v<T> && !is_cereal_type_v<T> && !cereal_calls::has_cereal_functions_v<T>;

}  // namespace brine::interop

namespace brine {

// brine's hooks of a BRINE_CEREAL_TYPE class: its cereal functions through the adapters.
// Found by argument-dependent lookup through the brine archive.
template <class Archive, class T, std::enable_if_t<interop::is_cereal_type_v<T>, int> = 0>
void getstate(Archive& ar, const T& value) {
  interop::detail::CerealSaveAdapter<Archive> adapter(ar);
  interop::cereal_calls::run(adapter, const_cast<T&>(value), ar.version());
}

template <class Archive, class T, std::enable_if_t<interop::is_cereal_type_v<T>, int> = 0>
void setstate(Archive& ar, T& value) {
  interop::detail::CerealLoadAdapter<Archive> adapter(ar);
  interop::cereal_calls::run(adapter, value, ar.version());
}

}  // namespace brine

// brine types inside cereal archives. A binary archive holds the object's stable brine
// archive (CBOR bytes) as one string; a text archive (JSON, XML) holds its JSON rendering
// (brine::to_json_archive) as one string, readable and diffable. Both go through brine's
// loaders, so older class versions migrate and bad bytes are typed brine errors.
// Found by argument-dependent lookup through the cereal archive.
namespace cereal {

template <class Archive, class T,
          std::enable_if_t<::brine::interop::is_brine_hooks_type_v<T>, int> = 0>
void CEREAL_SAVE_FUNCTION_NAME(Archive& ar, const T& value) {
  if constexpr (traits::is_text_archive<Archive>::value) {
    ar(make_nvp("brine_json", ::brine::to_json_archive(value)));
  } else {
    const ::brine::Buffer bytes = ::brine::to_stable(value);
    ar(make_nvp("brine_stable", std::string(bytes.view())));
  }
}

template <class Archive, class T,
          std::enable_if_t<::brine::interop::is_brine_hooks_type_v<T>, int> = 0>
void CEREAL_LOAD_FUNCTION_NAME(Archive& ar, T& value) {
  std::string bytes;
  if constexpr (traits::is_text_archive<Archive>::value) {
    ar(make_nvp("brine_json", bytes));
    value = ::brine::from_json_archive<T>(bytes);
  } else {
    ar(make_nvp("brine_stable", bytes));
    value = ::brine::from_stable<T>(bytes);
  }
}

}  // namespace cereal

namespace brine::interop {

/// The archive classes of cereal that import_cereal reads.
enum class CerealFormat {
  binary,           ///< cereal::BinaryOutputArchive
  portable_binary,  ///< cereal::PortableBinaryOutputArchive (either byte order)
  json,             ///< cereal::JSONOutputArchive
  xml,              ///< cereal::XMLOutputArchive
};

/// "binary", "portable binary", "json" or "xml", as error messages name the formats.
inline const char* format_name(CerealFormat format) noexcept {
  switch (format) {
    case CerealFormat::binary:
      return "binary";
    case CerealFormat::portable_binary:
      return "portable binary";
    case CerealFormat::json:
      return "json";
    case CerealFormat::xml:
      return "xml";
  }
  return "unknown";
}

/// Bounds on what an import may cost. cereal's loaders trust their input; these are checked
/// on brine's side before cereal acts on it.
struct CerealImportOptions {
  /// How deeply values may nest: in binary archives class values (an object, a container, a
  /// smart pointer and cereal's wrapper of its target: a pointer to an object is three
  /// levels), in JSON arrays and objects, in XML elements. cereal's loaders and the JSON and
  /// XML parsers recurse once or more per level, so a deeper archive, a few bytes per level,
  /// would overflow the stack. Raise it for data that is legitimately deeper (long chains of
  /// pointers), on a thread with the stack to match.
  std::size_t max_depth = 256;
  /// The largest archive accepted, in bytes: the import holds the whole archive, and the JSON
  /// and XML parsers a document tree a small multiple of it.
  std::uint64_t max_bytes = std::uint64_t{1} << 32;
};

namespace detail {

/// A read-only std::streambuf over memory, for cereal's stream-based text archives.
class MemoryStreambuf : public std::streambuf {
 public:
  explicit MemoryStreambuf(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());  // never written: no put area
    setg(begin, begin, begin + bytes.size());
  }
};

/// cereal's binary and portable binary input archives, reading from memory with the checks
/// cereal leaves out: a size read from the archive must fit the bytes left before a container
/// is sized by it, objects nest at most CerealImportOptions::max_depth deep, and a read past
/// the end names the offset. The bytes are read as cereal's own archives read them.
template <bool Portable>
class BoundedBinaryInputArchive : public cereal::InputArchive<BoundedBinaryInputArchive<Portable>,
                                                              cereal::AllowEmptyClassElision> {
 public:
  BoundedBinaryInputArchive(std::string_view bytes, const CerealImportOptions& options)
      : cereal::InputArchive<BoundedBinaryInputArchive<Portable>, cereal::AllowEmptyClassElision>(
            this),
        bytes_(bytes),
        options_(options) {
    if constexpr (Portable) {
      // The writer's byte order comes first: 1 little-endian, 0 big-endian.
      std::uint8_t little = 0;
      load_raw(&little, 1, 1);
      if (little > 1)
        fail(errc::corrupt_data,
             "byte order flag " + std::to_string(little) + " is neither 0 nor 1");
      swap_ = (little == 1) != host_is_little_endian();
    }
  }

  /// Reads `size` bytes; on a portable archive from the other byte order, each group of
  /// `element_size` bytes is reversed.
  void load_raw(void* data, std::size_t size, std::size_t element_size) {
    if (size > bytes_.size() - position_) {
      fail(errc::truncated_input, "truncated input: " + std::to_string(size) + " bytes needed, " +
                                      std::to_string(bytes_.size() - position_) + " remain");
    }
    if (size == 0) return;  // an empty container's data() may be null, which memcpy forbids
    std::memcpy(data, bytes_.data() + position_, size);
    position_ += size;
    if (Portable && swap_ && element_size > 1) {
      auto* p = static_cast<unsigned char*>(data);
      for (std::size_t i = 0; i + element_size <= size; i += element_size)
        std::reverse(p + i, p + i + element_size);
    }
  }

  /// A container size: each element takes at least one byte, so a size beyond the bytes left
  /// is refused before cereal resizes a container to it.
  void check_size(std::uint64_t size) {
    const std::uint64_t left = bytes_.size() - position_;
    if (size > left) {
      fail(errc::truncated_input, "truncated input: a size of " + std::to_string(size) +
                                      " elements needs at least as many bytes, " +
                                      std::to_string(left) + " remain");
    }
  }

  void enter() {
    if (++depth_ > options_.max_depth) {
      fail(errc::limit_exceeded, "nesting depth " + std::to_string(depth_) +
                                     " exceeds CerealImportOptions::max_depth (" +
                                     std::to_string(options_.max_depth) + ")");
    }
  }
  void leave() noexcept { --depth_; }

  std::size_t position() const noexcept { return position_; }

  [[noreturn]] void fail(errc code, const std::string& message) const {
    ErrorContext context;
    context.byte_offset = position_;
    brine::detail::throw_error(
        code,
        std::string(Portable ? "cereal portable binary archive: " : "cereal binary archive: ") +
            message,
        std::move(context));
  }

 private:
  static bool host_is_little_endian() noexcept {
    const std::uint16_t one = 1;
    unsigned char first = 0;
    std::memcpy(&first, &one, 1);
    return first == 1;
  }

  std::string_view bytes_;
  std::size_t position_ = 0;
  std::size_t depth_ = 0;
  bool swap_ = false;
  CerealImportOptions options_;
};

// The functions cereal calls on these archives, found by argument-dependent lookup.
template <bool P, class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(
    BoundedBinaryInputArchive<P>& ar, T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    // cereal copies the byte into the bool; any value but 0 or 1 would be undefined behaviour.
    std::uint8_t byte = 0;
    ar.load_raw(&byte, 1, 1);
    if (byte > 1) ar.fail(errc::corrupt_data, "a bool holds " + std::to_string(byte));
    value = byte == 1;
  } else {
    ar.load_raw(std::addressof(value), sizeof(T), sizeof(T));
  }
}

template <bool P, class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedBinaryInputArchive<P>& ar,
                                    cereal::NameValuePair<T>& nvp) {
  ar(nvp.value);
}

template <bool P, class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedBinaryInputArchive<P>& ar, cereal::SizeTag<T>& tag) {
  ar(tag.size);
  ar.check_size(static_cast<std::uint64_t>(tag.size));
}

template <bool P, class T>
void CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive<P>& ar, cereal::BinaryData<T>& data) {
  using Element = std::remove_pointer_t<T>;
  constexpr std::size_t element_size = std::is_void_v<Element> ? 1 : sizeof(Element);
  ar.load_raw(data.data, static_cast<std::size_t>(data.size), element_size);
}

// Every value cereal loads passes through these. A class value (an object, a container, a
// smart pointer and cereal's wrapper around its target) counts a nesting level; cereal's name
// and size wrappers, which recurse no further, do not.
template <class T>
inline constexpr bool counts_as_level_v =
    std::is_class_v<T> && !is_nvp<T>::value && !is_size_tag<T>::value && !is_binary_data<T>::value;

template <bool P, class T>
void prologue(BoundedBinaryInputArchive<P>& ar, const T&) {
  if constexpr (counts_as_level_v<T>) ar.enter();
}
template <bool P, class T>
void epilogue(BoundedBinaryInputArchive<P>& ar, const T&) {
  if constexpr (counts_as_level_v<T>) ar.leave();
}

/// The C++ type of each shared object an import has loaded, by cereal's pointer id. cereal
/// keeps its shared objects untyped and casts a later reference to whatever type the reader
/// asks for, so an archive whose id points at an object of another type would hand the
/// program a pointer of the wrong type. Installed by import_cereal for its duration, on its
/// thread; outside an import the checked load below behaves as cereal's.
struct SharedPointerTypes {
  std::unordered_map<std::uint32_t, const std::type_info*> types;
};
inline SharedPointerTypes*& current_shared_pointer_types() noexcept {
  thread_local SharedPointerTypes* current = nullptr;
  return current;
}
class SharedPointerTypesScope {
 public:
  SharedPointerTypesScope() noexcept : previous_(current_shared_pointer_types()) {
    current_shared_pointer_types() = &table_;
  }
  ~SharedPointerTypesScope() { current_shared_pointer_types() = previous_; }
  SharedPointerTypesScope(const SharedPointerTypesScope&) = delete;
  SharedPointerTypesScope& operator=(const SharedPointerTypesScope&) = delete;

 private:
  SharedPointerTypes table_;
  SharedPointerTypes* previous_;
};

/// cereal's load of a std::shared_ptr<T> (types/memory.hpp), reading the same archive, with the
/// type of a reference checked against the object its id names.
template <class Archive, class T>
void load_shared_checked(Archive& ar,
                         cereal::memory_detail::PtrWrapper<std::shared_ptr<T>&>& wrapper) {
  using NonConstT = std::remove_const_t<T>;
  std::uint32_t id = 0;
  ar(cereal::make_nvp("id", id));
  SharedPointerTypes* table = current_shared_pointer_types();
  if (id & cereal::detail::msb_32bit) {
    std::shared_ptr<NonConstT> ptr(
        cereal::detail::Construct<NonConstT, Archive>::load_andor_construct());
    ar.registerSharedPointer(id, ptr);
    if (table != nullptr) table->types[id & ~cereal::detail::msb_32bit] = &typeid(NonConstT);
    ar(cereal::make_nvp("data", *ptr));
    wrapper.ptr = std::move(ptr);
  } else {
    if (table != nullptr && id != 0) {
      const auto known = table->types.find(id);
      if (known != table->types.end() && *known->second != typeid(NonConstT)) {
        brine::detail::throw_error(errc::type_mismatch,
                                   "cereal archive: shared pointer id " + std::to_string(id) +
                                       " refers to an object of another type than the pointer's");
      }
    }
    wrapper.ptr = std::static_pointer_cast<T>(ar.getSharedPointer(id));
  }
}

template <bool P, class T>
std::enable_if_t<!cereal::traits::has_load_and_construct<T, BoundedBinaryInputArchive<P>>::value>
CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive<P>& ar,
                          cereal::memory_detail::PtrWrapper<std::shared_ptr<T>&>& wrapper) {
  load_shared_checked(ar, wrapper);
}

using BoundedBinaryArchive = BoundedBinaryInputArchive<false>;
using BoundedPortableBinaryArchive = BoundedBinaryInputArchive<true>;

/// One pass over a JSON text, strings skipped, before RapidJSON (under cereal's JSON archive)
/// parses it:
/// - the nesting of arrays and objects: one deeper than `max_depth` is refused (LimitError)
///   before RapidJSON's recursive parser meets it;
/// - zeros written long: RapidJSON 1.1 parses a zero with a large exponent or many fraction
///   digits ("0e51", "0.000...0") by normalizing a zero significand, `__builtin_clzll(0)`,
///   which is undefined and makes a wrong value of what is exactly zero (found by
///   fuzz_cereal_import). Every zero with a fraction or an exponent that is longer than three
///   characters is rewritten "0.0", padded with spaces (the sign stays, so its value, +0.0 or
///   -0.0, and its type are unchanged), in `copy`. Only well-formed numbers are rewritten, so
///   no invalid text becomes valid.
/// Returns whether `copy` holds a rewritten text, which the import then reads instead.
inline bool prepare_json_text(std::string_view text, std::size_t max_depth, std::string& copy) {
  auto digit = [&](std::size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  std::size_t depth = 0;
  bool in_string = false;
  bool rewritten = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        ErrorContext context;
        context.byte_offset = i;
        brine::detail::throw_error(errc::limit_exceeded,
                                   "cereal json archive: nesting depth " + std::to_string(depth) +
                                       " exceeds CerealImportOptions::max_depth (" +
                                       std::to_string(max_depth) + ")",
                                   std::move(context));
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    } else if (c == '0' && (i == 0 || (!digit(i - 1) && text[i - 1] != '.'))) {
      std::size_t end = i + 1;
      bool zero = true, decorated = false;
      if (end < text.size() && text[end] == '.') {
        ++end;
        if (!digit(end)) zero = false;  // "0." is not a number
        for (; digit(end); ++end) zero = zero && text[end] == '0';
        decorated = true;
      }
      if (zero && end < text.size() && (text[end] == 'e' || text[end] == 'E')) {
        ++end;
        if (end < text.size() && (text[end] == '+' || text[end] == '-')) ++end;
        if (!digit(end)) zero = false;
        while (digit(end)) ++end;
        decorated = true;
      }
      // Three characters ("0e9", "0.0") parse on RapidJSON's fast path; a longer zero leaves
      // room for a space after "0.0", so that what follows (in an invalid text, "e5" of
      // "0e0e5") cannot join it into a new number.
      if (zero && decorated && end - i > 3) {
        if (!rewritten) copy.assign(text.data(), text.size());
        rewritten = true;
        std::fill(copy.begin() + static_cast<std::ptrdiff_t>(i),
                  copy.begin() + static_cast<std::ptrdiff_t>(end), ' ');
        copy.replace(i, 3, "0.0");
      }
      i = end - 1;
    }
  }
  return rewritten;
}

/// The deepest element nesting of an XML text, over-estimated rather than under: comments,
/// processing instructions, CDATA and quoted attribute values are skipped, every other '<'
/// not followed by '/' opens an element that only "</" or "/>" closes.
inline void check_xml_depth(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  auto skip_past = [&](std::size_t from, std::string_view end) {
    const std::size_t at = text.find(end, from);
    return at == std::string_view::npos ? text.size() : at + end.size() - 1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '<') continue;
    const std::string_view rest = text.substr(i);
    if (rest.rfind("<!--", 0) == 0) {
      i = skip_past(i + 4, "-->");
    } else if (rest.rfind("<![CDATA[", 0) == 0) {
      i = skip_past(i + 9, "]]>");
    } else if (rest.rfind("<?", 0) == 0 || rest.rfind("<!", 0) == 0) {
      i = skip_past(i + 2, ">");
    } else if (rest.rfind("</", 0) == 0) {
      if (depth > 0) --depth;
      i = skip_past(i + 2, ">");
    } else {
      std::size_t j = i + 1;
      char quote = 0;
      for (; j < text.size(); ++j) {
        const char c = text[j];
        if (quote != 0) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      const bool self_closing = j < text.size() && j > i + 1 && text[j - 1] == '/';
      if (!self_closing && ++depth > max_depth) {
        ErrorContext context;
        context.byte_offset = i;
        brine::detail::throw_error(errc::limit_exceeded,
                                   "cereal xml archive: nesting depth " + std::to_string(depth) +
                                       " exceeds CerealImportOptions::max_depth (" +
                                       std::to_string(max_depth) + ")",
                                   std::move(context));
      }
      i = j;
    }
  }
}

/// The element name of the first value in a cereal XML document (the first child of its
/// root). cereal 1.3's XML reader dereferences a null node when a value without a name is
/// read and no element is left, so the import names the top-level value it reads. Throws
/// FormatError when the root holds no element.
inline std::string xml_first_value_name(std::string_view text) {
  auto fail = [&](const std::string& what) {
    brine::detail::throw_error(errc::corrupt_data, "cereal xml archive: " + what);
  };
  std::size_t at = text.find("<cereal");
  if (at == std::string_view::npos) fail("no root element 'cereal'");
  at = text.find('>', at);
  if (at == std::string_view::npos) fail("the root element does not end");
  if (text[at - 1] == '/') fail("the root element holds no value");
  for (++at; at < text.size(); ++at) {
    if (text[at] != '<') continue;
    const std::string_view rest = text.substr(at);
    if (rest.rfind("<!--", 0) == 0) {
      const std::size_t end = text.find("-->", at);
      if (end == std::string_view::npos) break;
      at = end + 2;
      continue;
    }
    if (rest.rfind("<?", 0) == 0 || rest.rfind("<!", 0) == 0) {
      const std::size_t end = text.find('>', at);
      if (end == std::string_view::npos) break;
      at = end;
      continue;
    }
    if (rest.rfind("</", 0) == 0) break;
    std::size_t end = at + 1;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_' ||
            text[end] == '-' || text[end] == '.' || text[end] == ':'))
      ++end;
    if (end == at + 1) break;
    return std::string(text.substr(at + 1, end - at - 1));
  }
  fail("the root element holds no value");
  return {};
}

/// The XML element being read holds at least `count` child elements (a fixed-size array's,
/// which cereal reads without names): cereal's reader crashes on a missing one.
inline void require_xml_elements(cereal::XMLInputArchive& ar, std::size_t count, const char* what) {
  std::size_t children = 0;
  ar(cereal::make_size_tag(children));
  if (children < count)
    throw cereal::Exception("XML Parsing failed - " + std::string(what) + " of " +
                            std::to_string(count) + " elements holds " + std::to_string(children));
}

/// Runs `load` and turns what cereal, its parsers and the standard library throw on bad input
/// into brine errors naming the format and the source. `position` gives the byte offset
/// reached, where the archive knows it. Other exceptions (the user's own) pass unchanged.
template <class Load, class Position>
void translate_cereal_errors(CerealFormat format, const std::string& source, Load&& load,
                             Position&& position) {
  const std::string prefix = std::string("cereal ") + format_name(format) + " archive: ";
  auto context = [&] {
    ErrorContext c;
    c.source = source;
    c.byte_offset = position();
    return c;
  };
  try {
    load();
  } catch (Error& e) {
    if (!source.empty() && e.context().source.empty()) brine::detail::note_error_source(e, source);
    throw;
  } catch (const cereal::Exception& e) {
    const std::string what = e.what();
    errc code = errc::corrupt_data;
    if (what.find("unregistered polymorphic type") != std::string::npos ||
        what.find("unregistered polymorphic cast") != std::string::npos) {
      code = errc::unknown_type;
    } else if (what.find("Failed to read") != std::string::npos) {
      code = errc::truncated_input;
    }
    brine::detail::throw_error(code, prefix + what, context());
  } catch (const std::bad_alloc&) {
    brine::detail::throw_error(errc::limit_exceeded,
                               prefix + "an allocation the archive asked for failed", context());
  } catch (const std::length_error& e) {
    brine::detail::throw_error(errc::corrupt_data,
                               prefix + "a size is too large (" + e.what() + ")", context());
  } catch (const std::invalid_argument& e) {
    brine::detail::throw_error(errc::corrupt_data,
                               prefix + "a value does not parse (" + e.what() + ")", context());
  } catch (const std::out_of_range& e) {
    brine::detail::throw_error(errc::corrupt_data,
                               prefix + "a value is out of range (" + e.what() + ")", context());
  }
}

}  // namespace detail

}  // namespace brine::interop

// The checked shared pointer load for cereal's own JSON and XML input archives: more
// specialized than cereal's, so chosen wherever this header is included; outside an import it
// does what cereal's does.
namespace cereal {
template <class T>
std::enable_if_t<!traits::has_load_and_construct<T, JSONInputArchive>::value>
CEREAL_LOAD_FUNCTION_NAME(JSONInputArchive& ar,
                          memory_detail::PtrWrapper<std::shared_ptr<T>&>& wrapper) {
  ::brine::interop::detail::load_shared_checked(ar, wrapper);
}
template <class T>
std::enable_if_t<!traits::has_load_and_construct<T, XMLInputArchive>::value>
CEREAL_LOAD_FUNCTION_NAME(XMLInputArchive& ar,
                          memory_detail::PtrWrapper<std::shared_ptr<T>&>& wrapper) {
  ::brine::interop::detail::load_shared_checked(ar, wrapper);
}

// cereal 1.3's XML reader starts a value without a name on the next child element and, when no
// child is left, builds its node state on a null pointer (NodeInfo, cereal/archives/xml.hpp):
// a damaged archive that lacks the element crashes the program. cereal's own unnamed values
// are base classes and the elements of fixed-size arrays (a collection's elements are counted
// from the document, so they exist); these overloads, more specialized than cereal's, check the
// elements are there first. Values the user's own functions pass unnamed remain exposed
// (docs/from-cereal.md).
template <class Base>
void prologue(XMLInputArchive& ar, base_class<Base> const&) {
  if (ar.getNodeName() == nullptr)
    throw Exception("XML Parsing failed - no element left for a base class");
  ar.startNode();
}
template <class Base>
void prologue(XMLInputArchive& ar, virtual_base_class<Base> const&) {
  if (ar.getNodeName() == nullptr)
    throw Exception("XML Parsing failed - no element left for a virtual base class");
  ar.startNode();
}
template <class T, std::size_t N>
void CEREAL_LOAD_FUNCTION_NAME(XMLInputArchive& ar, std::array<T, N>& array) {
  ::brine::interop::detail::require_xml_elements(ar, N, "a std::array");
  for (auto& element : array) ar(element);
}
// cereal gives C arrays a serialize (not a load), so the override is a serialize too.
template <class T>
std::enable_if_t<std::is_array<T>::value> CEREAL_SERIALIZE_FUNCTION_NAME(XMLInputArchive& ar,
                                                                         T& array) {
  ::brine::interop::detail::require_xml_elements(ar, std::extent<T>::value, "an array");
  for (auto& element : array) ar(element);
}
}  // namespace cereal

namespace brine::interop {

/// Loads one object of type T from an archive cereal wrote (`ar(object)` or
/// `ar(cereal::make_nvp(name, object))`, the first value of the archive) with T's cereal
/// functions, which must be templates over the archive. Archives written at older class
/// versions load as cereal loads them: the version is handed to T's functions. The object is
/// then an ordinary brine object, ready for brine::save_stable. `source` names the input in
/// error messages.
/// Throws FormatError (truncated or corrupt archive, what cereal or its parsers refuse),
/// LimitError (over `options`), SchemaError (unknown_type: a polymorphic type not registered
/// with cereal); exceptions of T's own functions pass unchanged.
template <class T>
T import_cereal(std::string_view bytes, CerealFormat format,
                const CerealImportOptions& options = {}, const std::string& source = {}) {
  if (bytes.size() > options.max_bytes) {
    ErrorContext context;
    context.source = source;
    brine::detail::throw_error(errc::limit_exceeded,
                               std::string("cereal ") + format_name(format) + " archive of " +
                                   std::to_string(bytes.size()) +
                                   " bytes exceeds CerealImportOptions::max_bytes (" +
                                   std::to_string(options.max_bytes) + ")",
                               std::move(context));
  }
  T value{};
  detail::SharedPointerTypesScope shared_pointer_types;
  switch (format) {
    case CerealFormat::binary:
    case CerealFormat::portable_binary: {
      auto run = [&](auto& archive) {
        detail::translate_cereal_errors(
            format, source, [&] { archive(value); }, [&] { return archive.position(); });
      };
      // Constructing the portable archive reads its byte order: within the translation too.
      detail::translate_cereal_errors(
          format, source,
          [&] {
            if (format == CerealFormat::binary) {
              detail::BoundedBinaryArchive archive(bytes, options);
              run(archive);
            } else {
              detail::BoundedPortableBinaryArchive archive(bytes, options);
              run(archive);
            }
          },
          [] { return std::optional<std::uint64_t>(); });
      break;
    }
    case CerealFormat::json:
    case CerealFormat::xml: {
      auto no_position = [] { return std::optional<std::uint64_t>(); };
      std::string rewritten;
      bool read_rewritten = false;
      detail::translate_cereal_errors(
          format, source,
          [&] {
            if (format == CerealFormat::json) {
              read_rewritten = detail::prepare_json_text(bytes, options.max_depth, rewritten);
            } else {
              detail::check_xml_depth(bytes, options.max_depth);
            }
          },
          no_position);
      detail::MemoryStreambuf buffer(read_rewritten ? std::string_view(rewritten) : bytes);
      std::istream stream(&buffer);
      detail::translate_cereal_errors(
          format, source,
          [&] {
            if (format == CerealFormat::json) {
              cereal::JSONInputArchive archive(stream);
              archive(value);
            } else {
              const std::string name = detail::xml_first_value_name(bytes);
              cereal::XMLInputArchive archive(stream);
              archive(cereal::make_nvp(name.c_str(), value));
            }
          },
          no_position);
      break;
    }
  }
  return value;
}

/// import_cereal on the file at `path`, which error messages name.
/// Throws IoError when the file cannot be read, and what import_cereal throws.
template <class T>
T import_cereal_file(const std::filesystem::path& path, CerealFormat format,
                     const CerealImportOptions& options = {}) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > options.max_bytes) {
    ErrorContext context;
    context.source = path.string();
    brine::detail::throw_error(errc::limit_exceeded,
                               std::string("cereal ") + format_name(format) + " archive of " +
                                   std::to_string(size) +
                                   " bytes exceeds CerealImportOptions::max_bytes (" +
                                   std::to_string(options.max_bytes) + ")",
                               std::move(context));
  }
  const std::string bytes = read_file(path);
  return import_cereal<T>(bytes, format, options, path.string());
}

}  // namespace brine::interop

// Polymorphic pointers in imported archives: cereal binds each CEREAL_REGISTER_TYPE to the
// archives registered before it, and to find the reading code for those archives it needs
// to know which output archive each one reads.
CEREAL_REGISTER_ARCHIVE(brine::interop::detail::BoundedBinaryArchive)
CEREAL_REGISTER_ARCHIVE(brine::interop::detail::BoundedPortableBinaryArchive)
namespace cereal::traits::detail {
template <>
struct get_output_from_input<brine::interop::detail::BoundedBinaryArchive> {
  using type = cereal::BinaryOutputArchive;
};
template <>
struct get_output_from_input<brine::interop::detail::BoundedPortableBinaryArchive> {
  using type = cereal::PortableBinaryOutputArchive;
};
}  // namespace cereal::traits::detail
