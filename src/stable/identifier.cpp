// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/identifier.cpp: the identifier, a SHA-256 of the deterministic CBOR of a state tree.
// See docs/format/stable-v1.md.
// See docs/format/stable-v1.md §9.

#include "brine/identifier.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_map>

#include "stable/cbor.hpp"

namespace brine {
namespace {

class Deterministic {
 public:
  Deterministic(const Registry& registry, const Value& root) : registry_(registry) { index(root); }

  void head(unsigned major, std::uint64_t v) {
    std::uint8_t buf[9];
    out_.append(reinterpret_cast<const char*>(buf), cbor::encode_head(buf, major, v));
  }
  void text(const std::string& s) {
    head(3, s.size());
    out_.append(s);
  }
  void number(double d) {
    // Shortest of float16/32/64 that holds the value exactly (RFC 8949 §4.2.2).
    if (std::isnan(d)) return bytes({0xF9, 0x7E, 0x00});
    float f = static_cast<float>(d);
    if (static_cast<double>(f) == d) {
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      std::uint32_t exp = (bits >> 23) & 0xFF, mant = bits & 0x7FFFFF;
      bool half = (mant & 0x1FFF) == 0 &&
                  ((exp >= 113 && exp <= 142) || exp == 0xFF || (exp == 0 && mant == 0));
      if (half) {
        std::uint16_t h = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
        if (exp == 0xFF)
          h |= 0x7C00;
        else if (exp != 0)
          h |= static_cast<std::uint16_t>(((exp - 112) << 10) | (mant >> 13));
        return bytes({0xF9, static_cast<std::uint8_t>(h >> 8), static_cast<std::uint8_t>(h)});
      }
      byte(0xFA);
      for (int i = 3; i >= 0; --i) byte(static_cast<std::uint8_t>(bits >> (8 * i)));
      return;
    }
    std::uint64_t bits;
    std::memcpy(&bits, &d, 8);
    byte(0xFB);
    for (int i = 7; i >= 0; --i) byte(static_cast<std::uint8_t>(bits >> (8 * i)));
  }

  void encode(const Value& v) {
    switch (v.kind()) {
      case ValueKind::null:
        return byte(0xF6);
      case ValueKind::boolean:
        return byte(v.as_bool() ? 0xF5 : 0xF4);
      case ValueKind::signed_integer: {
        std::int64_t x = std::get<std::int64_t>(v.variant());
        if (x < 0) return head(1, static_cast<std::uint64_t>(-(x + 1)));
        return head(0, static_cast<std::uint64_t>(x));
      }
      case ValueKind::unsigned_integer:
        return head(0, std::get<std::uint64_t>(v.variant()));
      case ValueKind::floating:
        return number(v.as_double());
      case ValueKind::text:
        return text(v.as_text());
      case ValueKind::bytes:
        head(2, v.as_bytes().data.size());
        out_.append(reinterpret_cast<const char*>(v.as_bytes().data.data()),
                    v.as_bytes().data.size());
        return;
      case ValueKind::list:
        head(4, v.as_list().size());
        for (const Value& e : v.as_list()) encode(e);
        return;
      case ValueKind::map: {
        // Keys sorted by their encoding: shorter first, then bytewise (RFC 8949 §4.2.1).
        std::vector<const std::pair<const std::string, Value>*> entries;
        for (const auto& e : v.as_map()) entries.push_back(&e);
        std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) {
          return a->first.size() != b->first.size() ? a->first.size() < b->first.size()
                                                    : a->first < b->first;
        });
        head(5, entries.size());
        for (auto* e : entries) {
          text(e->first);
          encode(e->second);
        }
        return;
      }
      case ValueKind::object:
        return object(v.as_object());
      case ValueKind::reference: {
        auto it = shared_.find(v.as_reference().id);
        if (it == shared_.end())
          detail::throw_error(errc::corrupt_data, "reference to shared object " +
                                                      std::to_string(v.as_reference().id) +
                                                      ", which is not in the state");
        return object(*it->second);
      }
      case ValueKind::function:
        head(6, cbor::kTagObject);
        head(4, 2);
        text(cbor::kFunctionType);
        return text(v.as_function().name);
      case ValueKind::path:
        head(6, cbor::kTagObject);
        head(4, 2);
        text(cbor::kPathType);
        return text(v.as_path().generic);
      case ValueKind::tensor: {
        // tag(27, ["$tensor", dtype name, [dims], bytes]): the dtype, shape and every byte.
        const Tensor& t = v.as_tensor();
        head(6, cbor::kTagObject);
        head(4, 4);
        text(cbor::kTensorType);
        text(dtype_name(t.dtype()));
        head(4, t.shape().size());
        for (std::int64_t d : t.shape()) head(0, static_cast<std::uint64_t>(d));
        head(2, t.nbytes());
        out_.append(reinterpret_cast<const char*>(t.bytes()), t.nbytes());
        return;
      }
    }
  }

  void object(const Object& o) {
    if (o.shared_id) {
      auto done = emitted_.find(*o.shared_id);
      if (done != emitted_.end()) {
        head(6, cbor::kTagSharedRef);
        return head(0, done->second);
      }
      std::uint64_t index = emitted_.size();
      emitted_.emplace(*o.shared_id, index);
      head(6, cbor::kTagShareable);
    }
    const TypeInfo* info = registry_.find(o.type);
    std::vector<const Field*> fields;
    // Where a DataPath's content lives is not part of the identity of its owner: a bundle
    // moved, or re-saved with its files elsewhere, keeps its identifier.
    // See docs/format/bundle.md §4.
    bool data_path = o.type == "brine.DataPath";
    for (const Field& f : o.fields) {
      if (data_path) break;
      if (info && std::find(info->identifier_excludes().begin(), info->identifier_excludes().end(),
                            f.name) != info->identifier_excludes().end())
        continue;
      fields.push_back(&f);
    }
    std::sort(fields.begin(), fields.end(), [](const Field* a, const Field* b) {
      return a->name.size() != b->name.size() ? a->name.size() < b->name.size() : a->name < b->name;
    });
    head(6, cbor::kTagObject);
    head(4, 2);
    text(info ? info->name() : o.type);
    head(5, fields.size());
    for (const Field* f : fields) {
      text(f->name);
      encode(f->value);
    }
  }

  const std::string& bytes_out() const { return out_; }

 private:
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void bytes(std::initializer_list<std::uint8_t> bs) {
    for (auto b : bs) byte(b);
  }
  void index(const Value& v) {
    switch (v.kind()) {
      case ValueKind::list:
        for (const Value& e : v.as_list()) index(e);
        return;
      case ValueKind::map:
        for (const auto& e : v.as_map()) index(e.second);
        return;
      case ValueKind::object: {
        const Object& o = v.as_object();
        if (o.shared_id) {
          if (shared_.count(*o.shared_id)) return;
          shared_.emplace(*o.shared_id, &o);
        }
        for (const Field& f : o.fields) index(f.value);
        return;
      }
      default:
        return;
    }
  }

  const Registry& registry_;
  std::string out_;
  std::unordered_map<std::uint64_t, const Object*> shared_;   // id -> definition
  std::unordered_map<std::uint64_t, std::uint64_t> emitted_;  // id -> canonical index
};

}  // namespace

std::string identifier_of(const Value& state, const Registry& registry) {
  Deterministic d(registry, state);
  d.encode(state);
  const std::string& bytes = d.bytes_out();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    detail::throw_error(errc::internal_error, "SHA-256 failed");
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace brine
