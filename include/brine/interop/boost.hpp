// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// interop/boost.hpp: Boost.Serialization classes in brine archives (their serialize as brine
// hooks), brine types inside Boost archives, and the import of archives Boost wrote.
// docs/from-boost.md is the guide.
//
// Opt-in: brine/brine.hpp does not include this header, and libbrine does not link Boost. Link
// the brine::boost target (brine::brine + Boost::serialization):
//   find_package(brine CONFIG REQUIRED COMPONENTS boost)
//   target_link_libraries(app PRIVATE brine::boost)
//
// Include this header before any BOOST_CLASS_EXPORT of the classes you import: Boost
// instantiates pointer loading for the archive classes declared before the export, and the
// import reads through archive classes of its own (BoundedBinaryIArchive and its siblings).
#pragma once

#include <algorithm>
#include <boost/archive/archive_exception.hpp>
#include <boost/archive/basic_binary_iarchive.hpp>
#include <boost/archive/basic_binary_oarchive.hpp>
#include <boost/archive/binary_iarchive_impl.hpp>
#include <boost/archive/detail/basic_iserializer.hpp>
#include <boost/archive/detail/basic_pointer_iserializer.hpp>
#include <boost/archive/detail/register_archive.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>
#include <boost/archive/impl/basic_text_iarchive.ipp>
#include <boost/archive/impl/basic_text_iprimitive.ipp>
#include <boost/archive/impl/basic_xml_iarchive.ipp>
#include <boost/archive/impl/text_iarchive_impl.ipp>
#include <boost/archive/impl/xml_iarchive_impl.ipp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/xml_archive_exception.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/mpl/bool.hpp>
#include <boost/serialization/array_optimization.hpp>
#include <boost/serialization/array_wrapper.hpp>
#include <boost/serialization/base_object.hpp>
#include <boost/serialization/binary_object.hpp>
#include <boost/serialization/collection_size_type.hpp>
#include <boost/serialization/extended_type_info.hpp>
#include <boost/serialization/item_version_type.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/serialization.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/split_member.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/version.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <istream>
#include <limits>
#include <new>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "brine/error.hpp"
#include "brine/hooks.hpp"
#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/registry.hpp"
#include "brine/stable.hpp"
#include "brine/types/sequence.hpp"
#include "brine/types/string.hpp"

/// Declares a class that has a Boost.Serialization `serialize` (member or free, split or not)
/// as a brine object type named `type_name`, at the version BOOST_CLASS_VERSION gives it (0
/// without one). Use at global scope, after BOOST_CLASS_VERSION; the class is not touched. Its
/// serialize becomes its getstate/setstate: each `ar & make_nvp("x", x)` is field "x", an
/// unnamed `ar & x` is field "_0", "_1", ... by position. Register it as any type
/// (BRINE_REGISTER, BRINE_REGISTER_POLYMORPHIC for a derived class).
///
/// Example:
///   BOOST_CLASS_VERSION(geo::Track, 2)
///   BRINE_BOOST_TYPE(geo::Track, "geo.Track");
///   BRINE_REGISTER(geo::Track);
#define BRINE_BOOST_TYPE(cpp_type, type_name)                                                 \
  BRINE_EXTERNAL_TYPE(cpp_type, type_name, ::boost::serialization::version<cpp_type>::value); \
  template <>                                                                                 \
  struct brine::interop::UsesBoostHooks<cpp_type> : ::std::true_type {}

/// Lets a brine type be a member of a class saved with Boost.Serialization (text, XML and
/// binary archives): inside a Boost archive it is one string, its brine stable archive (CBOR)
/// in binary archives and its JSON rendering in text and XML archives, so the brine object
/// keeps its name, version and migrations there. Use at global scope.
#define BRINE_IN_BOOST_ARCHIVES(cpp_type)                            \
  namespace boost {                                                  \
  namespace serialization {                                          \
  template <class Archive>                                           \
  void serialize(Archive& ar, cpp_type& value, const unsigned int) { \
    ::brine::interop::boost_detail::serialize_in_boost(ar, value);   \
  }                                                                  \
  }                                                                  \
  }                                                                  \
  static_assert(                                                     \
      ::brine::is_object_type_v<cpp_type>,                           \
      "BRINE_IN_BOOST_ARCHIVES: declare the type with BRINE_TYPE or BRINE_EXTERNAL_TYPE")

namespace brine {
namespace interop {

/// True for the classes BRINE_BOOST_TYPE declares: their Boost serialize is their brine hook.
template <class T>
struct UsesBoostHooks : std::false_type {};

/// The three archive formats of Boost.Serialization (narrow characters).
enum class BoostFormat {
  text,    ///< boost::archive::text_oarchive
  xml,     ///< boost::archive::xml_oarchive
  binary,  ///< boost::archive::binary_oarchive: native byte order and sizes, not portable
};

/// What an import accepts.
struct BoostImportOptions {
  /// How many elements one collection may claim, and the cap on counts before Boost
  /// allocates for them (LoadOptions::max_elements, LoadOptions's default).
  std::uint64_t max_elements = LoadOptions{}.max_elements;
  /// The name the top-level object was saved under (`make_nvp(name, obj)`); only the XML
  /// archive records it, and Boost does not check it. Never null: Boost reads objects behind
  /// pointers as unnamed NVPs, which is how the import tells them apart.
  const char* name = "data";
};

namespace boost_detail {

/// Field names for unnamed members, by position: "_0", "_1", ... Names must outlive the call
/// that uses them, so they come from a table built once.
inline const char* positional_name(std::size_t index) {
  constexpr std::size_t kCount = 256;
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    all.reserve(kCount);
    for (std::size_t i = 0; i < kCount; ++i) all.push_back("_" + std::to_string(i));
    return all;
  }();
  if (index >= kCount)
    brine::detail::throw_error(
        errc::unsupported_content,
        "a Boost serialize function writes more than 256 unnamed members: name them with "
        "BOOST_SERIALIZATION_NVP or make_nvp");
  return names[index].c_str();
}

template <class T>
struct is_nvp : std::false_type {};
template <class T>
struct is_nvp<boost::serialization::nvp<T>> : std::true_type {};

template <class T>
struct is_array_wrapper : std::false_type {};
template <class T>
struct is_array_wrapper<boost::serialization::array_wrapper<T>> : std::true_type {};

template <class Archive, class T>
void run_serialize(Archive& ar, T& value, std::size_t& position, unsigned version);

/// Presents the Boost archive interface (operator&, <<, >>, is_saving/is_loading, NVPs) to a
/// class's serialize and forwards every value to the brine archive `ar(name, value)`. Self is
/// the class whose serialize runs, so that `base_object<Base>(*this)` (a reference to a base
/// of Self) is read as the base's fields inline, as brine::base does.
template <class Archive, class Self>
class BoostAdapter {
 public:
  using is_saving = boost::mpl::bool_<!Archive::is_loading>;
  using is_loading = boost::mpl::bool_<Archive::is_loading>;

  BoostAdapter(Archive& ar, std::size_t& position) : ar_(ar), position_(position) {}

  template <class T>
  BoostAdapter& operator&(T&& value) {
    member(value);
    return *this;
  }
  template <class T>
  BoostAdapter& operator<<(const T& value) {
    static_assert(!Archive::is_loading, "operator<< in a serialize run while loading");
    member(value);
    return *this;
  }
  template <class T>
  BoostAdapter& operator>>(T&& value) {
    static_assert(Archive::is_loading, "operator>> in a serialize run while saving");
    member(value);
    return *this;
  }

  /// Boost's polymorphic-pointer registration: brine learns derived types from its registry
  /// (BRINE_REGISTER_POLYMORPHIC), so there is nothing to do.
  template <class T>
  const void* register_type(const T* = nullptr) {
    return nullptr;
  }
  /// The library version of this Boost, for serialize functions that branch on it.
  boost::archive::library_version_type get_library_version() const {
    return boost::archive::BOOST_ARCHIVE_VERSION();
  }
  void reset_object_address(const void*, const void*) {}
  void delete_created_pointers() {}

  Archive& brine_archive() noexcept { return ar_; }

 private:
  template <class T>
  void member(const T& value) {
    using Value = std::remove_cv_t<T>;
    if constexpr (is_nvp<Value>::value) {
      field(value.name(), value.value());
    } else {
      field(nullptr, const_cast<Value&>(value));
    }
  }

  template <class T>
  void field(const char* name, T& value_ref) {
    using Value = std::remove_cv_t<T>;
    Value& value = const_cast<Value&>(value_ref);
    if constexpr (std::is_base_of_v<Value, Self> && !std::is_same_v<Value, Self>) {
      // base_object<Base>(*this): the base's fields inline, numbered on from the derived
      // class's, at the base's current version (brine records one version per object).
      run_serialize<Archive, Value>(ar_, value, position_,
                                    boost::serialization::version<Value>::value);
    } else if constexpr (std::is_same_v<Value, boost::serialization::collection_size_type>) {
      std::uint64_t n = value;
      ar_(field_name(name), n);
      value = boost::serialization::collection_size_type(static_cast<std::size_t>(n));
    } else if constexpr (std::is_same_v<Value, boost::serialization::item_version_type> ||
                         std::is_same_v<Value, boost::serialization::version_type>) {
      std::uint32_t n = value;
      ar_(field_name(name), n);
      value = Value(n);
    } else if constexpr (is_array_wrapper<Value>::value) {
      array(field_name(name), value.address(), value.count());
    } else if constexpr (std::is_same_v<Value, boost::serialization::binary_object>) {
      binary(field_name(name), value);
    } else {
      ar_(field_name(name), value);
    }
  }

  const char* field_name(const char* name) {
    return name != nullptr ? name : positional_name(position_++);
  }

  template <class E>
  void array(const char* name, E* data, std::size_t count) {
    using Element = std::remove_cv_t<E>;
    if constexpr (Archive::is_loading) {
      std::vector<Element> elements;
      ar_(name, elements);
      if (elements.size() != count)
        ar_.fail(errc::type_mismatch,
                 "make_array: the archive holds " + std::to_string(elements.size()) +
                     " elements where the object has room for " + std::to_string(count));
      std::copy(elements.begin(), elements.end(), const_cast<Element*>(data));
    } else {
      std::vector<Element> elements(data, data + count);
      ar_(name, elements);
    }
  }

  void binary(const char* name, const boost::serialization::binary_object& object) {
    if constexpr (Archive::is_loading) {
      std::vector<std::byte> bytes;
      ar_(name, bytes);
      if (bytes.size() != object.m_size)
        ar_.fail(errc::type_mismatch, "make_binary_object: the archive holds " +
                                          std::to_string(bytes.size()) + " bytes where " +
                                          std::to_string(object.m_size) + " are expected");
      if (!bytes.empty()) std::memcpy(const_cast<void*>(object.m_t), bytes.data(), bytes.size());
    } else {
      const auto* begin = static_cast<const std::byte*>(object.m_t);
      std::vector<std::byte> bytes(begin, begin + object.m_size);
      ar_(name, bytes);
    }
  }

  Archive& ar_;
  std::size_t& position_;
};

/// Runs T's Boost serialize (member, free, split) through an adapter over `ar`.
template <class Archive, class T>
void run_serialize(Archive& ar, T& value, std::size_t& position, unsigned version) {
  BoostAdapter<Archive, T> adapter(ar, position);
  boost::serialization::serialize_adl(adapter, value, version);
}

template <class Archive, class T>
void boost_hooks(Archive& ar, T& value) {
  std::size_t position = 0;
  run_serialize(ar, value, position, ar.version());
}

/// The brine object inside a Boost archive: one string, stable CBOR in a binary archive and the
/// JSON rendering in text and XML ones (which must stay text).
template <class Archive, class T>
void serialize_in_boost(Archive& ar, T& value) {
  constexpr bool binary =
      std::is_base_of_v<boost::archive::basic_binary_oarchive<Archive>, Archive> ||
      std::is_base_of_v<boost::archive::basic_binary_iarchive<Archive>, Archive>;
  std::string encoded;
  if constexpr (Archive::is_saving::value) {
    if constexpr (binary) {
      Buffer bytes = to_stable(value);
      encoded.assign(bytes.view());
    } else {
      encoded = to_json_archive(value);
    }
    ar << boost::serialization::make_nvp("brine", encoded);
  } else {
    ar >> boost::serialization::make_nvp("brine", encoded);
    if constexpr (binary) {
      value = from_stable<T>(encoded);
    } else {
      value = from_json_archive<T>(encoded);
    }
  }
}

/// A read-only streambuf over bytes, which tells the import how many remain and where it is.
class ViewStreambuf : public std::streambuf {
 public:
  explicit ViewStreambuf(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());
    setg(begin, begin, begin + bytes.size());
  }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(egptr() - gptr()); }
  std::size_t position() const noexcept { return static_cast<std::size_t>(gptr() - eback()); }

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
    char* base = dir == std::ios_base::beg ? eback() : dir == std::ios_base::cur ? gptr() : egptr();
    if (off < eback() - base || off > egptr() - base) return pos_type(off_type(-1));
    setg(eback(), base + off, egptr());
    return pos_type(gptr() - eback());
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode mode) override {
    return seekoff(off_type(pos), std::ios_base::beg, mode);
  }
};

/// What the import's archives check before Boost allocates for a count it read: a collection
/// or a string cannot have more elements than the archive has bytes left (each takes at least
/// one), nor more than BoostImportOptions::max_elements.
class ImportBounds {
 public:
  ImportBounds(const ViewStreambuf& buffer, std::uint64_t max_elements)
      : buffer_(buffer), max_elements_(max_elements) {}

  // Boost allocates an object it loads through a pointer, and hands it to the smart pointer
  // only after the pointer's element is read whole: when reading throws before that, the object
  // leaks. Such objects are owned by no one; delete_orphans() deletes them when the import
  // fails. Boost reads the object itself as an unnamed NVP (its type the one Boost created),
  // and the pointer as a named NVP of pointer type. An object whose own reading threw is an
  // orphan; so is the object a pointer received when the pointer's element threw after it
  // (the XML closing tag), if it was created while that element was read (an object loaded
  // before, which this pointer only refers to, has an owner already).
  template <class T, class Load>
  void load_nvp(const boost::serialization::nvp<T>& t, Load&& load) {
    if (t.name() == nullptr) {
      try {
        load();
      } catch (...) {
        orphans_.push_back(owner_of(&t.value()));
        throw;
      }
      created_.push_back(owner_of(&t.value()));
    } else if constexpr (std::is_pointer_v<T>) {
      t.value() = nullptr;
      const std::size_t mark = created_.size();
      try {
        load();
      } catch (...) {
        // The object this pointer created is the last one created (its members' objects come
        // before it). Only addresses are compared: the pointer is never followed, since a
        // damaged archive can make it point anywhere.
        if (t.value() != nullptr && created_.size() > mark &&
            created_.back().first == static_cast<const void*>(t.value())) {
          orphans_.push_back(created_.back());
          created_.pop_back();
        }
        throw;
      }
    } else {
      load();
    }
  }
  /// An object and how to delete it as the type it was created as.
  using Owned = std::pair<const void*, void (*)(const void*)>;
  template <class T>
  static Owned owner_of(T* object) {
    using Object = std::remove_cv_t<T>;
    return {object, [](const void* p) { delete static_cast<const Object*>(p); }};
  }
  void delete_orphans() noexcept {
    for (auto& [object, destroy] : orphans_) destroy(object);
    orphans_.clear();
  }

  /// At least `n` bytes remain for `what`.
  void require(std::size_t n, const char* what) const {
    if (buffer_.remaining() < n)
      brine::detail::throw_error(errc::truncated_input,
                                 std::string(what) + " needs " + std::to_string(n) +
                                     " bytes, only " + std::to_string(buffer_.remaining()) +
                                     " remain",
                                 context());
  }
  /// A count of elements of a collection (`what`) Boost is about to allocate for.
  void check_count(std::uint64_t count, const char* what) const {
    check_length(count, what);
    if (count > max_elements_)
      brine::detail::throw_error(errc::limit_exceeded,
                                 std::string(what) + " of " + std::to_string(count) +
                                     " elements exceeds BoostImportOptions::max_elements (" +
                                     std::to_string(max_elements_) + ")",
                                 context());
  }
  /// A length Boost is about to size a string or collection by: each element takes a byte of
  /// the archive at least (a collection of empty classes, which takes none, is refused too).
  void check_length(std::uint64_t count, const char* what) const {
    if (count > buffer_.remaining())
      brine::detail::throw_error(errc::corrupt_data,
                                 std::string(what) + " claims " + std::to_string(count) +
                                     " elements, but only " + std::to_string(buffer_.remaining()) +
                                     " bytes remain",
                                 context());
  }
  // Boost numbers the classes of an archive 0, 1, 2... in the order they first appear, and
  // registers a class it has not seen when a pointer's class id is not below the count so far,
  // trusting (only in debug builds of Boost) that the id is the next one: a larger id writes
  // past the end of its class table, a negative one reads before it. A class met as an object
  // (not through a pointer) is registered with its (optional, unchecked) class id read first.
  void note_new_class() { ++classes_; }
  void check_class_id(std::int64_t id) {
    // -1 is Boost's null pointer.
    if (id < -1 || id > classes_)
      brine::detail::throw_error(errc::corrupt_data,
                                 "class id " + std::to_string(id) + " where " +
                                     std::to_string(classes_) + " classes are known",
                                 context());
    if (id == classes_) ++classes_;
  }

  // Boost numbers the tracked objects of an archive 0, 1, 2... as it loads them, and resolves a
  // later object id below the count to the object loaded under it, whatever its class: a
  // pointer of one class would receive an object of another (type confusion, which the caller
  // then casts). The import keeps each object id's class, as Boost's own table does not, and
  // refuses a reference to an object of another class. A legitimate archive refers back only
  // to an object of the class it names, since Boost tracks an object by address and class.
  using ClassInfo = boost::serialization::extended_type_info;

  /// Boost loads an object by value (or the object behind a pointer it just allocated).
  template <class Load>
  void load_object(void* object, const ClassInfo& cls, Load&& load) {
    // The object a pointer allocated is loaded by value next, with no object id of its own:
    // its class is the one the pointer's class id named.
    if (!frames_.empty()) {
      Frame& top = frames_.back();
      if (top.pointer != nullptr && top.created >= 0 && *top.pointer == object &&
          objects_[static_cast<std::size_t>(top.created)] == nullptr)
        objects_[static_cast<std::size_t>(top.created)] = &cls;
    }
    frames_.push_back(Frame{&cls, nullptr});
    load();
    frames_.pop_back();
  }
  /// Boost loads a pointer; `load` returns the serializer of the class the archive names.
  template <class Load>
  auto load_pointer(void*& target, Load&& load) {
    frames_.push_back(Frame{nullptr, &target});
    auto serializer = load();
    const Frame frame = frames_.back();
    frames_.pop_back();
    if (serializer == nullptr) return serializer;
    const ClassInfo& cls = serializer->get_eti();
    if (frame.referenced >= 0) check_class_of(frame.referenced, cls);
    if (frame.created >= 0 && objects_[static_cast<std::size_t>(frame.created)] == nullptr)
      objects_[static_cast<std::size_t>(frame.created)] = &cls;
    return serializer;
  }
  /// An object id Boost read: a new object (the next id) or a reference to an earlier one.
  void check_object_id(std::uint64_t id) {
    if (frames_.empty())
      brine::detail::throw_error(errc::corrupt_data, "an object id outside any object", context());
    Frame& top = frames_.back();
    if (id < objects_.size()) {
      if (top.pointer != nullptr)
        top.referenced = static_cast<std::int64_t>(id);  // its class is known on return
      else
        check_class_of(static_cast<std::int64_t>(id), *top.cls);
      return;
    }
    if (id > objects_.size())
      brine::detail::throw_error(errc::corrupt_data,
                                 "object id " + std::to_string(id) + " where " +
                                     std::to_string(objects_.size()) +
                                     " objects are known (ids are given in order)",
                                 context());
    if (top.pointer != nullptr) top.created = static_cast<std::int64_t>(id);
    objects_.push_back(top.cls);
  }

  ErrorContext context() const {
    ErrorContext c;
    c.byte_offset = buffer_.position();
    return c;
  }
  bool string_length_pending = false;

 private:
  void check_class_of(std::int64_t id, const ClassInfo& expected) const {
    const ClassInfo* actual = objects_[static_cast<std::size_t>(id)];
    // An object is unknown only while its pointer is read and before its own data: a
    // reference to it then (from its load_construct_data) is refused too.
    if (actual == nullptr || !(*actual == expected))
      brine::detail::throw_error(errc::corrupt_data,
                                 "a reference to object " + std::to_string(id) + " of class " +
                                     (actual == nullptr ? std::string("(not yet loaded)")
                                                        : std::string(class_name(*actual))) +
                                     " where the archive names class " + class_name(expected),
                                 context());
  }
  static const char* class_name(const ClassInfo& cls) {
    if (cls.get_key() != nullptr) return cls.get_key();
    return cls.get_debug_info() != nullptr ? cls.get_debug_info() : "(unnamed)";
  }

  // What is being loaded: an object by value (its class known) or a pointer (its class known
  // when Boost returns; `pointer` is the caller's variable, which holds the new object).
  struct Frame {
    const ClassInfo* cls;
    void* const* pointer;
    std::int64_t created = -1;     // the object id a pointer gave a new object
    std::int64_t referenced = -1;  // the earlier object a pointer refers to
  };
  std::vector<Frame> frames_;
  std::vector<const ClassInfo*> objects_;  // each object id's class (null while unknown)

  const ViewStreambuf& buffer_;
  std::uint64_t max_elements_;
  std::int64_t classes_ = 0;
  std::vector<Owned> orphans_;
  std::vector<Owned> created_;  // objects Boost created, in the order it finished them
};

// The import's archive classes: Boost's own text, XML and binary loaders, with the counts they
// read checked (ImportBounds) before Boost sizes a string or a collection by them.
#define BRINE_DETAIL_BOUNDED_LOADS(Base)                                                 \
 public:                                                                                 \
  using Base::load;                                                                      \
  using Base::load_override;                                                             \
  template <class T>                                                                     \
  void load_override(const boost::serialization::nvp<T>& t) {                            \
    bounds_.load_nvp(t, [&] { Base::load_override(t); });                                \
  }                                                                                      \
  void load(boost::serialization::collection_size_type& t) {                             \
    Base::load(t);                                                                       \
    bounds_.check_count(static_cast<std::size_t>(t), "a collection");                    \
  }                                                                                      \
  void load(std::string& s) {                                                            \
    bounds_.string_length_pending = true;                                                \
    Base::load(s);                                                                       \
    bounds_.string_length_pending = false;                                               \
  }                                                                                      \
  void load_override(boost::archive::class_id_optional_type& t) {                        \
    Base::load_override(t);                                                              \
    bounds_.note_new_class();                                                            \
  }                                                                                      \
  void load_override(boost::archive::class_id_type& t) {                                 \
    Base::load_override(t);                                                              \
    bounds_.check_class_id(t);                                                           \
  }                                                                                      \
  void load_override(boost::archive::object_id_type& t) {                                \
    Base::load_override(t);                                                              \
    bounds_.check_object_id(static_cast<std::uint32_t>(t));                              \
  }                                                                                      \
  /* Boost's iserializers call these on the archive's own type, so */                    \
  /* these hide basic_iarchive's and see every object and pointer. */                    \
  void load_object(void* t, const boost::archive::detail::basic_iserializer& bis) {      \
    bounds_.load_object(t, bis.get_eti(), [&] { Base::load_object(t, bis); });           \
  }                                                                                      \
  const boost::archive::detail::basic_pointer_iserializer* load_pointer(                 \
      void*& t, const boost::archive::detail::basic_pointer_iserializer* bpis,           \
      const boost::archive::detail::basic_pointer_iserializer* (*finder)(                \
          const boost::serialization::extended_type_info&)) {                            \
    return bounds_.load_pointer(t, [&] { return Base::load_pointer(t, bpis, finder); }); \
  }                                                                                      \
  void load(unsigned long& n) {                                                          \
    Base::load(n);                                                                       \
    if (bounds_.string_length_pending) {                                                 \
      bounds_.string_length_pending = false;                                             \
      bounds_.check_length(n, "a string");                                               \
    }                                                                                    \
  }                                                                                      \
                                                                                         \
 private:                                                                                \
  ImportBounds& bounds_

class BoundedBinaryIArchive
    : public boost::archive::binary_iarchive_impl<BoundedBinaryIArchive, char,
                                                  std::char_traits<char>> {
  using Base =
      boost::archive::binary_iarchive_impl<BoundedBinaryIArchive, char, std::char_traits<char>>;
  friend class boost::archive::detail::interface_iarchive<BoundedBinaryIArchive>;
  friend class boost::archive::basic_binary_iarchive<BoundedBinaryIArchive>;
  friend class boost::archive::load_access;

 public:
  BoundedBinaryIArchive(std::streambuf& buffer, ImportBounds& bounds)
      : Base(buffer, 0), bounds_(bounds) {
    // The header is the signature's length (8 bytes), the signature (22) and the library
    // version: Boost reads that last byte without checking for the end of the input, and a
    // debug build of the program asserts on the end-of-file it then gets.
    bounds_.require(8 + 22 + 1, "the archive header");
    init(0);
  }
  // Boost copies a byte into a bool and then reads it, which is undefined for bytes other
  // than 0 and 1 (and asserts in debug builds): the byte is checked first.
  void load(bool& t) {
    unsigned char byte = 0;
    this->load_binary(&byte, 1);
    if (byte > 1)
      brine::detail::throw_error(errc::corrupt_data,
                                 "a bool holds " + std::to_string(byte) + ", not 0 or 1",
                                 bounds_.context());
    t = byte != 0;
  }
  void load(boost::archive::tracking_type& t) {
    bool tracked = false;
    load(tracked);
    t = boost::archive::tracking_type(tracked);
  }
  // Boost's archives before library version 6 stored a collection count as 32 bits, read here
  // rather than through load(collection_size_type&).
  void load_override(boost::serialization::collection_size_type& t) {
    Base::load_override(t);
    bounds_.check_count(static_cast<std::size_t>(t), "a collection");
  }
  BRINE_DETAIL_BOUNDED_LOADS(Base);
};

class BoundedTextIArchive : public boost::archive::text_iarchive_impl<BoundedTextIArchive> {
  using Base = boost::archive::text_iarchive_impl<BoundedTextIArchive>;
  friend class boost::archive::detail::interface_iarchive<BoundedTextIArchive>;
  friend class boost::archive::basic_text_iarchive<BoundedTextIArchive>;
  friend class boost::archive::load_access;

 public:
  BoundedTextIArchive(std::istream& is, ImportBounds& bounds) : Base(is, 0), bounds_(bounds) {
    init();
  }
  BRINE_DETAIL_BOUNDED_LOADS(Base);
};

class BoundedXmlIArchive : public boost::archive::xml_iarchive_impl<BoundedXmlIArchive> {
  using Base = boost::archive::xml_iarchive_impl<BoundedXmlIArchive>;
  friend class boost::archive::detail::interface_iarchive<BoundedXmlIArchive>;
  friend class boost::archive::basic_xml_iarchive<BoundedXmlIArchive>;
  friend class boost::archive::load_access;

 public:
  // Opened with no_header, and the header read here: Boost's destructor otherwise parses the
  // closing tag, and throws from the destructor (std::terminate) when a truncated archive lacks
  // it. finish() reads it instead. Closing tags are not compared with the names the classes
  // expect: Boost's comparison reads past the end of the expected name when the archive's is
  // longer (found by fuzz_boost_import), and the names carry no data.
  BoundedXmlIArchive(std::istream& is, ImportBounds& bounds)
      : Base(is, boost::archive::no_header | boost::archive::no_xml_tag_checking), bounds_(bounds) {
    init();
  }
  void finish() {
    if (!gimpl->windup(is))
      throw boost::archive::xml_archive_exception(
          boost::archive::xml_archive_exception::xml_archive_parsing_error);
  }
  BRINE_DETAIL_BOUNDED_LOADS(Base);
};

#undef BRINE_DETAIL_BOUNDED_LOADS

inline const char* format_name(BoostFormat format) {
  switch (format) {
    case BoostFormat::text:
      return "Boost text archive";
    case BoostFormat::xml:
      return "Boost XML archive";
    case BoostFormat::binary:
      return "Boost binary archive";
  }
  return "Boost archive";
}

/// Turns what Boost (or the standard library under it) throws into the brine error that fits,
/// naming the format, the source and the byte where reading stopped.
[[noreturn]] inline void rethrow_as_brine(BoostFormat format, const std::string& source,
                                          const ViewStreambuf& buffer) {
  ErrorContext context;
  context.source = source;
  context.byte_offset = buffer.position();
  const std::string where = std::string(format_name(format)) + ": ";
  try {
    throw;
  } catch (Error& e) {
    brine::detail::note_error_source(e, source);
    throw;
  } catch (const boost::archive::xml_archive_exception& e) {
    brine::detail::throw_error(errc::corrupt_data, where + "malformed XML: " + e.what(), context);
  } catch (const boost::archive::archive_exception& e) {
    using boost::archive::archive_exception;
    switch (e.code) {
      case archive_exception::unsupported_version:
      case archive_exception::unsupported_class_version:
        brine::detail::throw_error(
            errc::newer_format_version,
            where + e.what() + ": written by a newer Boost or a newer class version", context);
      case archive_exception::unregistered_class:
      case archive_exception::unregistered_cast:
        brine::detail::throw_error(
            errc::unknown_type,
            where + e.what() +
                ": a class in the archive is not exported (BOOST_CLASS_EXPORT after "
                "including brine/interop/boost.hpp) in this program",
            context);
      case archive_exception::input_stream_error:
        brine::detail::throw_error(
            buffer.remaining() == 0 ? errc::truncated_input : errc::corrupt_data, where + e.what(),
            context);
      default:
        brine::detail::throw_error(errc::corrupt_data, where + e.what(), context);
    }
  } catch (const std::bad_alloc&) {
    brine::detail::throw_error(
        errc::limit_exceeded,
        where + "an allocation the archive asked for failed (BoostImportOptions)", context);
  } catch (const std::length_error& e) {
    brine::detail::throw_error(
        errc::corrupt_data, where + "a size past what a container can hold: " + e.what(), context);
  } catch (const std::ios_base::failure& e) {
    brine::detail::throw_error(buffer.remaining() == 0 ? errc::truncated_input : errc::corrupt_data,
                               where + "stream failure: " + e.what(), context);
  }
}

}  // namespace boost_detail

/// Loads an object of type T from an archive Boost.Serialization wrote (text, XML or binary,
/// Boost 1.74 and earlier), with T's Boost serialize, and returns it whole: ready to be saved
/// as a brine archive. Counts and lengths are checked against the bytes left before Boost
/// allocates for them (docs/from-boost.md lists what Boost's loaders still leave unchecked).
/// `source` names the input in errors.
/// Throws FormatError (malformed or truncated archive; LimitError over a limit), VersionError
/// (newer Boost archive or class version), SchemaError (a class not exported in this program).
template <class T>
T import_boost(std::string_view bytes, BoostFormat format, const BoostImportOptions& options = {},
               const std::string& source = "<memory>") {
  boost_detail::ViewStreambuf buffer(bytes);
  boost_detail::ImportBounds bounds(buffer, options.max_elements);
  const char* name = options.name != nullptr ? options.name : "data";
  T value{};
  try {
    std::istream stream(&buffer);
    switch (format) {
      case BoostFormat::binary: {
        boost_detail::BoundedBinaryIArchive ar(buffer, bounds);
        ar >> boost::serialization::make_nvp(name, value);
        break;
      }
      case BoostFormat::text: {
        boost_detail::BoundedTextIArchive ar(stream, bounds);
        ar >> boost::serialization::make_nvp(name, value);
        break;
      }
      case BoostFormat::xml: {
        boost_detail::BoundedXmlIArchive ar(stream, bounds);
        ar >> boost::serialization::make_nvp(name, value);
        ar.finish();
        break;
      }
    }
  } catch (...) {
    bounds.delete_orphans();
    boost_detail::rethrow_as_brine(format, source, buffer);
  }
  return value;
}

/// import_boost on the content of file `path`. Throws IoError when it cannot be read.
template <class T>
T import_boost_file(const std::filesystem::path& path, BoostFormat format,
                    const BoostImportOptions& options = {}) {
  const std::string bytes = read_file(path);
  return import_boost<T>(bytes, format, options, path.string());
}

}  // namespace interop

/// The hooks of BRINE_BOOST_TYPE classes: their Boost serialize, through the adapter.
template <class Archive, class T,
          std::enable_if_t<interop::UsesBoostHooks<T>::value && !Archive::is_loading, int> = 0>
void getstate(Archive& ar, const T& value) {
  interop::boost_detail::boost_hooks(ar, const_cast<T&>(value));
}
template <class Archive, class T,
          std::enable_if_t<interop::UsesBoostHooks<T>::value && Archive::is_loading, int> = 0>
void setstate(Archive& ar, T& value) {
  interop::boost_detail::boost_hooks(ar, value);
}

}  // namespace brine

// Boost's binary archives write arrays of plain values (std::vector<double>) as one block, and
// read them back that way only in archives declared to use the optimization, as
// binary_iarchive is.
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(brine::interop::boost_detail::BoundedBinaryIArchive)

// Boost instantiates pointer loading (BOOST_CLASS_EXPORT) for these archives too.
BOOST_SERIALIZATION_REGISTER_ARCHIVE(brine::interop::boost_detail::BoundedBinaryIArchive)
BOOST_SERIALIZATION_REGISTER_ARCHIVE(brine::interop::boost_detail::BoundedTextIArchive)
BOOST_SERIALIZATION_REGISTER_ARCHIVE(brine::interop::boost_detail::BoundedXmlIArchive)
