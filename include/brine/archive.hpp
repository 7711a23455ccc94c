// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// archive.hpp: the archive concept: what a hook (getstate/setstate) and a Codec may call on
// the writer W and the reader R they are handed. Six classes implement it: BinaryWriter and
// BinaryReader (binary archive), StableWriter and StableDecoder (stable archive; StableReader
// hands each value to a StableDecoder), StateWriter and StateReader (the state model). A
// seventh, LayoutBuilder, only describes: it sees the hook interface and Codec::describe.
// brine/registry.hpp checks each archive against the traits below at compile time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "brine/error.hpp"

namespace brine {

class Registry;
struct FunctionInfo;

// The writer W, as hooks and Codec<T>::save see it. Every call writes one value at the
// current position (a field, a list element, a map key or value, a tuple member); a
// container is its begin_*, then its elements, then its end_*, properly nested.
//
//   Hook interface
//     static constexpr bool is_loading = false;
//     W& operator()(const char* name, const T& value)  field `name`: Codec<T>::save. Names
//                                    are string literals; each call of a getstate must write
//                                    the same fields in the same order every time.
//     std::uint32_t version()       the version being written: the type's current one.
//     registry()                    the Registry the archive resolves types and functions in.
//
//   Codec interface (values)
//     write_bool(bool)
//     write_number(T)               T arithmetic (not bool): fixed width in the binary archive.
//     write_numbers(const T*, n)    n numbers whose count the reader knows (std::array).
//     write_number_list(const T*, n)  a counted list of numbers (std::vector<arithmetic>).
//     write_text(std::string_view)  UTF-8 text.
//     write_bytes(const void*, n)   a byte string.
//     begin_list(n) ... end_list()  n values.
//     begin_map<K>(n) ... end_map() n entries, each save_entry(key, value); K = std::string
//                                    gives a text-keyed map in the self-describing formats.
//     begin_tuple(n) ... end_tuple()  n values of fixed types (pair, tuple, complex).
//     write_optional(bool present)  then the value, when present.
//     begin_variant(index) ... end_variant()  the alternative's index, then its value.
//     write_duration(Rep count, num, den)  a count of num/den seconds.
//     write_path(std::string generic)  a path in generic form.
//     write_function(void (*)(), const std::type_info& signature)  a registered function, by
//                                    name; SchemaError when it is not registered.
//     write_function_name(const std::string&)  a registered callable's name.
//
//   Codec interface (objects)
//     write_object(const T&)        a declared type's fields inline (no sharing).
//     write_shared(const T*, bool weak = false)  an object behind a shared_ptr (or weak_ptr):
//                                    written once, referred to after; nullptr is null. The
//                                    dynamic type is written when it differs from T.
//     write_unique(const T*)        an object behind a unique_ptr, never shared.
//
// The reader R, as hooks and Codec<T>::load see it: the mirror image. Every read either
// returns what the writer's matching call wrote or throws a brine::Error (on a positional
// archive it cannot tell which call wrote the bytes: a codec must read exactly what its save
// wrote).
//
//   Hook interface
//     static constexpr bool is_loading = true;
//     R& operator()(const char* name, T& value)  field `name` into value; SchemaError
//                                    (missing_field) when the archived object lacks it.
//     bool optional_field(const char* name, T& value)  reads the field when present; false
//                                    and `value` untouched when absent.
//     bool has(const char* name)    whether the object being read has that field. Positional
//                                    archives answer true: their layout matched the type's.
//     std::uint32_t version()       the version of the object being read (older ones reach
//                                    setstate through the state model, after migrations).
//     registry()
//
//   Codec interface
//     bool read_bool()
//     T read_number<T>()            throws when the value does not fit T.
//     read_numbers(T*, n)           exactly n numbers.
//     read_number_list(std::vector<T>&)
//     read_text(std::string&), read_bytes(std::vector<std::uint8_t>&)
//     std::size_t begin_list(min_element_size) ... end_list()  the element count, already
//                                    checked against LoadOptions::max_elements and, where the
//                                    archive can, against the bytes left (min_element_size
//                                    each, Codec<Element>::min_binary_size).
//     std::size_t reserve_limit(n, element_size)  how many elements a codec may reserve up
//                                    front: a count read from hostile input is not a size.
//     std::size_t begin_map<K>(min_entry_size) ... end_map()  each entry load_entry(key, value).
//     begin_tuple(n) ... end_tuple()
//     bool read_optional()          whether a value follows.
//     std::size_t begin_variant(alternatives) ... end_variant()  an index below alternatives.
//     Rep read_duration<Rep>(num, den)  a count converted to num/den seconds.
//     std::string read_path()
//     void (*read_function(const std::type_info&))()  a registered plain function.
//     const FunctionInfo& read_function_info(const std::type_info&)  a registered callable.
//     read_object(T&), read_shared(std::shared_ptr<T>&), read_unique(std::unique_ptr<T>&)
//     [[noreturn]] fail(errc, const std::string& message)  how a codec refuses a value it
//                                    cannot accept (a duplicate map key): the archive throws
//                                    the exception class that fits `code`, with its context
//                                    (type, field, byte offset).
//   Optional: std::string_view read_text_view(), valid until the next read, lets a codec
//   build a string in place (brine/types/map.hpp uses it when present).
//
// Both archives also offer save(value) / load(value), which call Codec<T>::save / load.

namespace detail {
namespace archive_check {

/// Stand-ins for "any type" in the checks: the archives' member templates take any T.
struct Probe {};
template <class T>
T returns(T);  // valid in decltype when the expression converts to T

#define BRINE_DETAIL_ARCHIVE_CHECK(name, expr) \
  template <class A, class = void>             \
  struct name : std::false_type {};            \
  template <class A>                           \
  struct name<A, std::void_t<decltype(expr)>> : std::true_type {}

#define BRINE_DETAIL_A std::declval<A&>()

BRINE_DETAIL_ARCHIVE_CHECK(not_loading, std::enable_if_t<!A::is_loading>());
BRINE_DETAIL_ARCHIVE_CHECK(loading, std::enable_if_t<A::is_loading>());
BRINE_DETAIL_ARCHIVE_CHECK(version, returns<std::uint32_t>(BRINE_DETAIL_A.version()));
BRINE_DETAIL_ARCHIVE_CHECK(registry, returns<const Registry&>(BRINE_DETAIL_A.registry()));

BRINE_DETAIL_ARCHIVE_CHECK(save_field, returns<A&>(BRINE_DETAIL_A("f", std::declval<int>())));
BRINE_DETAIL_ARCHIVE_CHECK(write_bool, BRINE_DETAIL_A.write_bool(true));
BRINE_DETAIL_ARCHIVE_CHECK(write_number, (BRINE_DETAIL_A.write_number(std::int64_t{}),
                                          BRINE_DETAIL_A.write_number(std::uint8_t{}),
                                          BRINE_DETAIL_A.write_number(double{})));
BRINE_DETAIL_ARCHIVE_CHECK(write_numbers,
                           BRINE_DETAIL_A.write_numbers(std::declval<const float*>(), 0));
BRINE_DETAIL_ARCHIVE_CHECK(write_number_list,
                           BRINE_DETAIL_A.write_number_list(std::declval<const float*>(), 0));
BRINE_DETAIL_ARCHIVE_CHECK(write_text, BRINE_DETAIL_A.write_text(std::string_view()));
BRINE_DETAIL_ARCHIVE_CHECK(write_bytes, BRINE_DETAIL_A.write_bytes(std::declval<const void*>(), 0));
BRINE_DETAIL_ARCHIVE_CHECK(write_list, (BRINE_DETAIL_A.begin_list(0), BRINE_DETAIL_A.end_list()));
BRINE_DETAIL_ARCHIVE_CHECK(write_map,
                           (BRINE_DETAIL_A.template begin_map<std::string>(0),
                            BRINE_DETAIL_A.save_entry(std::string(), int{}),
                            BRINE_DETAIL_A.template begin_map<int>(0),
                            BRINE_DETAIL_A.save_entry(int{}, int{}), BRINE_DETAIL_A.end_map()));
BRINE_DETAIL_ARCHIVE_CHECK(write_tuple,
                           (BRINE_DETAIL_A.begin_tuple(0), BRINE_DETAIL_A.end_tuple()));
BRINE_DETAIL_ARCHIVE_CHECK(write_optional, BRINE_DETAIL_A.write_optional(true));
BRINE_DETAIL_ARCHIVE_CHECK(write_variant,
                           (BRINE_DETAIL_A.begin_variant(0), BRINE_DETAIL_A.end_variant()));
BRINE_DETAIL_ARCHIVE_CHECK(write_duration, BRINE_DETAIL_A.write_duration(std::int64_t{}, 1, 1000));
BRINE_DETAIL_ARCHIVE_CHECK(write_path, BRINE_DETAIL_A.write_path(std::string()));
BRINE_DETAIL_ARCHIVE_CHECK(write_function,
                           (BRINE_DETAIL_A.write_function(std::declval<void (*)()>(),
                                                          typeid(void())),
                            BRINE_DETAIL_A.write_function_name(std::string())));
BRINE_DETAIL_ARCHIVE_CHECK(write_object, BRINE_DETAIL_A.write_object(Probe()));
BRINE_DETAIL_ARCHIVE_CHECK(write_shared,
                           (BRINE_DETAIL_A.write_shared(std::declval<const Probe*>()),
                            BRINE_DETAIL_A.write_shared(std::declval<const Probe*>(), true)));
BRINE_DETAIL_ARCHIVE_CHECK(write_unique, BRINE_DETAIL_A.write_unique(std::declval<const Probe*>()));

BRINE_DETAIL_ARCHIVE_CHECK(load_field, returns<A&>(BRINE_DETAIL_A("f", std::declval<int&>())));
BRINE_DETAIL_ARCHIVE_CHECK(optional_field,
                           returns<bool>(BRINE_DETAIL_A.optional_field("f", std::declval<int&>())));
BRINE_DETAIL_ARCHIVE_CHECK(has, returns<bool>(BRINE_DETAIL_A.has("f")));
BRINE_DETAIL_ARCHIVE_CHECK(read_bool, returns<bool>(BRINE_DETAIL_A.read_bool()));
BRINE_DETAIL_ARCHIVE_CHECK(
    read_number, (returns<std::int64_t>(BRINE_DETAIL_A.template read_number<std::int64_t>()),
                  returns<std::uint8_t>(BRINE_DETAIL_A.template read_number<std::uint8_t>()),
                  returns<double>(BRINE_DETAIL_A.template read_number<double>())));
BRINE_DETAIL_ARCHIVE_CHECK(read_numbers, BRINE_DETAIL_A.read_numbers(std::declval<float*>(), 0));
BRINE_DETAIL_ARCHIVE_CHECK(read_number_list,
                           BRINE_DETAIL_A.read_number_list(std::declval<std::vector<float>&>()));
BRINE_DETAIL_ARCHIVE_CHECK(read_text, BRINE_DETAIL_A.read_text(std::declval<std::string&>()));
BRINE_DETAIL_ARCHIVE_CHECK(read_bytes,
                           BRINE_DETAIL_A.read_bytes(std::declval<std::vector<std::uint8_t>&>()));
BRINE_DETAIL_ARCHIVE_CHECK(read_list, (returns<std::size_t>(BRINE_DETAIL_A.begin_list(0)),
                                       BRINE_DETAIL_A.end_list()));
BRINE_DETAIL_ARCHIVE_CHECK(reserve_limit, returns<std::size_t>(BRINE_DETAIL_A.reserve_limit(0, 1)));
BRINE_DETAIL_ARCHIVE_CHECK(read_map,
                           (returns<std::size_t>(BRINE_DETAIL_A.template begin_map<std::string>(0)),
                            BRINE_DETAIL_A.load_entry(std::declval<std::string&>(),
                                                      std::declval<int&>()),
                            returns<std::size_t>(BRINE_DETAIL_A.template begin_map<int>(0)),
                            BRINE_DETAIL_A.load_entry(std::declval<int&>(), std::declval<int&>()),
                            BRINE_DETAIL_A.end_map()));
BRINE_DETAIL_ARCHIVE_CHECK(read_tuple, (BRINE_DETAIL_A.begin_tuple(0), BRINE_DETAIL_A.end_tuple()));
BRINE_DETAIL_ARCHIVE_CHECK(read_optional, returns<bool>(BRINE_DETAIL_A.read_optional()));
BRINE_DETAIL_ARCHIVE_CHECK(read_variant, (returns<std::size_t>(BRINE_DETAIL_A.begin_variant(1)),
                                          BRINE_DETAIL_A.end_variant()));
BRINE_DETAIL_ARCHIVE_CHECK(
    read_duration,
    returns<std::int64_t>(BRINE_DETAIL_A.template read_duration<std::int64_t>(1, 1000)));
BRINE_DETAIL_ARCHIVE_CHECK(read_path, returns<std::string>(BRINE_DETAIL_A.read_path()));
BRINE_DETAIL_ARCHIVE_CHECK(
    read_function,
    (returns<void (*)()>(BRINE_DETAIL_A.read_function(typeid(void()))),
     returns<const FunctionInfo&>(BRINE_DETAIL_A.read_function_info(typeid(void())))));
BRINE_DETAIL_ARCHIVE_CHECK(read_object, BRINE_DETAIL_A.read_object(std::declval<Probe&>()));
BRINE_DETAIL_ARCHIVE_CHECK(read_shared,
                           BRINE_DETAIL_A.read_shared(std::declval<std::shared_ptr<Probe>&>()));
BRINE_DETAIL_ARCHIVE_CHECK(read_unique,
                           BRINE_DETAIL_A.read_unique(std::declval<std::unique_ptr<Probe>&>()));
BRINE_DETAIL_ARCHIVE_CHECK(fail, BRINE_DETAIL_A.fail(errc::corrupt_data, std::string()));

#undef BRINE_DETAIL_A
#undef BRINE_DETAIL_ARCHIVE_CHECK

}  // namespace archive_check
}  // namespace detail

/// True when W offers everything a hook and a Codec may call on a writer (see above).
template <class W>
inline constexpr bool is_writer_archive_v = [] {
  namespace c = detail::archive_check;
  return c::not_loading<W>::value && c::version<W>::value && c::registry<W>::value &&
         c::save_field<W>::value && c::write_bool<W>::value && c::write_number<W>::value &&
         c::write_numbers<W>::value && c::write_number_list<W>::value && c::write_text<W>::value &&
         c::write_bytes<W>::value && c::write_list<W>::value && c::write_map<W>::value &&
         c::write_tuple<W>::value && c::write_optional<W>::value && c::write_variant<W>::value &&
         c::write_duration<W>::value && c::write_path<W>::value && c::write_function<W>::value &&
         c::write_object<W>::value && c::write_shared<W>::value && c::write_unique<W>::value;
}();

/// True when R offers everything a hook and a Codec may call on a reader (see above).
template <class R>
inline constexpr bool is_reader_archive_v = [] {
  namespace c = detail::archive_check;
  return c::loading<R>::value && c::version<R>::value && c::registry<R>::value &&
         c::load_field<R>::value && c::optional_field<R>::value && c::has<R>::value &&
         c::read_bool<R>::value && c::read_number<R>::value && c::read_numbers<R>::value &&
         c::read_number_list<R>::value && c::read_text<R>::value && c::read_bytes<R>::value &&
         c::read_list<R>::value && c::reserve_limit<R>::value && c::read_map<R>::value &&
         c::read_tuple<R>::value && c::read_optional<R>::value && c::read_variant<R>::value &&
         c::read_duration<R>::value && c::read_path<R>::value && c::read_function<R>::value &&
         c::read_object<R>::value && c::read_shared<R>::value && c::read_unique<R>::value &&
         c::fail<R>::value;
}();

namespace detail {

/// Checks a writer archive member by member, so that a missing one is named in the error.
template <class W>
constexpr bool check_writer_archive() {
  namespace c = archive_check;
  static_assert(c::not_loading<W>::value, "writer archive: needs is_loading == false");
  static_assert(c::version<W>::value, "writer archive: needs std::uint32_t version()");
  static_assert(c::registry<W>::value, "writer archive: needs registry()");
  static_assert(c::save_field<W>::value, "writer archive: needs W& operator()(name, value)");
  static_assert(c::write_bool<W>::value, "writer archive: needs write_bool");
  static_assert(c::write_number<W>::value, "writer archive: needs write_number<T>");
  static_assert(c::write_numbers<W>::value, "writer archive: needs write_numbers");
  static_assert(c::write_number_list<W>::value, "writer archive: needs write_number_list");
  static_assert(c::write_text<W>::value, "writer archive: needs write_text");
  static_assert(c::write_bytes<W>::value, "writer archive: needs write_bytes");
  static_assert(c::write_list<W>::value, "writer archive: needs begin_list/end_list");
  static_assert(c::write_map<W>::value, "writer archive: needs begin_map/save_entry/end_map");
  static_assert(c::write_tuple<W>::value, "writer archive: needs begin_tuple/end_tuple");
  static_assert(c::write_optional<W>::value, "writer archive: needs write_optional");
  static_assert(c::write_variant<W>::value, "writer archive: needs begin_variant/end_variant");
  static_assert(c::write_duration<W>::value, "writer archive: needs write_duration");
  static_assert(c::write_path<W>::value, "writer archive: needs write_path");
  static_assert(c::write_function<W>::value,
                "writer archive: needs write_function/write_function_name");
  static_assert(c::write_object<W>::value, "writer archive: needs write_object");
  static_assert(c::write_shared<W>::value, "writer archive: needs write_shared(p, weak)");
  static_assert(c::write_unique<W>::value, "writer archive: needs write_unique");
  return true;
}

/// Checks a reader archive member by member, so that a missing one is named in the error.
template <class R>
constexpr bool check_reader_archive() {
  namespace c = archive_check;
  static_assert(c::loading<R>::value, "reader archive: needs is_loading == true");
  static_assert(c::version<R>::value, "reader archive: needs std::uint32_t version()");
  static_assert(c::registry<R>::value, "reader archive: needs registry()");
  static_assert(c::load_field<R>::value, "reader archive: needs R& operator()(name, value)");
  static_assert(c::optional_field<R>::value, "reader archive: needs bool optional_field");
  static_assert(c::has<R>::value, "reader archive: needs bool has(name)");
  static_assert(c::read_bool<R>::value, "reader archive: needs bool read_bool()");
  static_assert(c::read_number<R>::value, "reader archive: needs T read_number<T>()");
  static_assert(c::read_numbers<R>::value, "reader archive: needs read_numbers");
  static_assert(c::read_number_list<R>::value, "reader archive: needs read_number_list");
  static_assert(c::read_text<R>::value, "reader archive: needs read_text");
  static_assert(c::read_bytes<R>::value, "reader archive: needs read_bytes");
  static_assert(c::read_list<R>::value, "reader archive: needs size_t begin_list/end_list");
  static_assert(c::reserve_limit<R>::value, "reader archive: needs size_t reserve_limit");
  static_assert(c::read_map<R>::value, "reader archive: needs begin_map/load_entry/end_map");
  static_assert(c::read_tuple<R>::value, "reader archive: needs begin_tuple/end_tuple");
  static_assert(c::read_optional<R>::value, "reader archive: needs bool read_optional()");
  static_assert(c::read_variant<R>::value, "reader archive: needs begin_variant/end_variant");
  static_assert(c::read_duration<R>::value, "reader archive: needs Rep read_duration<Rep>");
  static_assert(c::read_path<R>::value, "reader archive: needs std::string read_path()");
  static_assert(c::read_function<R>::value,
                "reader archive: needs read_function/read_function_info");
  static_assert(c::read_object<R>::value, "reader archive: needs read_object");
  static_assert(c::read_shared<R>::value, "reader archive: needs read_shared");
  static_assert(c::read_unique<R>::value, "reader archive: needs read_unique");
  static_assert(c::fail<R>::value, "reader archive: needs [[noreturn]] fail(errc, message)");
  return true;
}

}  // namespace detail
}  // namespace brine
