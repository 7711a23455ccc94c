// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/value_encoder.cpp: BinaryWriter::write_value, state trees written with inferred layouts.
// See docs/format/binary-v1.md.

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "binary/format.hpp"
#include "binary/writer_types.hpp"
#include "brine/binary.hpp"
#include "util/varint.hpp"

namespace brine {
namespace detail {

namespace bf = binary_format;

/// An inferred descriptor. `any` stands for "no value seen yet" (an empty list's elements).
struct Desc {
  enum Kind { any, scalar, list, map, object, shared, tuple, dynamic } kind = any;
  LayoutCode code = LayoutCode::i64;  // for scalars
  std::string type;                   // for objects and pointers
  std::vector<Desc> children;         // list element, map value, tuple elements
  bool nullable = false;
};

struct Shape {
  std::uint32_t version = 0;
  std::vector<std::pair<std::string, Desc>> fields;
  std::size_t instances = 0;
  std::vector<std::size_t> present;  // per field
};

class ValueEncoder {
 public:
  ValueEncoder(BinaryWriter& w) : w_(w) {}

  [[noreturn]] void fail(const std::string& m) const {
    throw SchemaError(errc::type_mismatch,
                      "cannot write this state tree as a binary archive: " + m);
  }

  void unify(Desc& a, const Desc& b, const std::string& where) {
    bool nullable = a.nullable || b.nullable;
    if (b.kind == Desc::any) {
      a.nullable = nullable;
      return;
    }
    if (a.kind == Desc::any) {
      a = b;
      a.nullable = nullable;
      return;
    }
    bool a_obj = a.kind == Desc::object || a.kind == Desc::shared;
    bool b_obj = b.kind == Desc::object || b.kind == Desc::shared;
    if (a_obj && b_obj) {
      if (a.kind != b.kind || a.type != b.type)
        a.kind = Desc::shared;  // mixed: polymorphic pointer
    } else if (a.kind != b.kind && a.kind == Desc::tuple && b.kind == Desc::list) {
      for (Desc& c : a.children) unify(c, b.children[0], where);
    } else if (a.kind != b.kind && a.kind == Desc::list && b.kind == Desc::tuple) {
      Desc t = b;
      for (Desc& c : t.children) unify(c, a.children[0], where);
      t.nullable = nullable;
      a = t;
      return;
    } else if (a.kind == Desc::dynamic || b.kind == Desc::dynamic || a.kind != b.kind) {
      // Values of different kinds at one position: written self-describing.
      a = Desc();
      a.kind = Desc::dynamic;
    } else if (a.kind == Desc::scalar && a.code != b.code) {
      auto numeric = [](LayoutCode c) {
        return c == LayoutCode::i64 || c == LayoutCode::u64 || c == LayoutCode::f64;
      };
      if (!numeric(a.code) || !numeric(b.code)) {
        a = Desc();
        a.kind = Desc::dynamic;
      } else {
        a.code = (a.code == LayoutCode::f64 || b.code == LayoutCode::f64) ? LayoutCode::f64
                                                                          : LayoutCode::i64;
      }
    } else if (a.kind == Desc::list || a.kind == Desc::map) {
      unify(a.children[0], b.children[0], where + "[]");
    } else if (a.kind == Desc::tuple) {
      if (a.children.size() != b.children.size()) {
        a = Desc();
        a.kind = Desc::dynamic;
        a.nullable = nullable;
        return;
      }
      for (std::size_t i = 0; i < a.children.size(); ++i)
        unify(a.children[i], b.children[i], where + "[" + std::to_string(i) + "]");
    }
    a.nullable = nullable;
  }

  Desc infer(const Value& v, const std::string& where) {
    Desc d;
    switch (v.kind()) {
      case ValueKind::null:
        d.nullable = true;
        return d;
      case ValueKind::boolean:
        return scalar(LayoutCode::boolean);
      case ValueKind::signed_integer:
        return scalar(LayoutCode::i64);
      case ValueKind::unsigned_integer:
        return scalar(LayoutCode::u64);
      case ValueKind::floating:
        return scalar(LayoutCode::f64);
      case ValueKind::text:
        return scalar(LayoutCode::text);
      case ValueKind::bytes:
        return scalar(LayoutCode::bytes);
      case ValueKind::path:
        return scalar(LayoutCode::path);
      case ValueKind::function:
        return scalar(LayoutCode::function);
      case ValueKind::list: {
        // A list whose elements share a layout is a list; one whose elements differ (a pair,
        // a tuple, a map entry [key, value]) is a tuple.
        std::vector<Desc> elements;
        for (const Value& e : v.as_list()) elements.push_back(infer(e, where + "[]"));
        d.kind = Desc::list;
        d.children.emplace_back();
        for (const Desc& e : elements) unify(d.children[0], e, where + "[]");
        if (d.children[0].kind == Desc::dynamic && !elements.empty()) {
          d.kind = Desc::tuple;
          d.children = std::move(elements);
        }
        return d;
      }
      case ValueKind::map: {
        d.kind = Desc::map;
        d.children.emplace_back();
        for (const auto& [k, e] : v.as_map())
          unify(d.children[0], infer(e, where + "." + k), where + "." + k);
        return d;
      }
      case ValueKind::reference:
        d.kind = Desc::shared;
        d.type = "";
        return d;
      case ValueKind::object: {
        const Object& o = v.as_object();
        d.kind = o.shared_id ? Desc::shared : Desc::object;
        d.type = o.type;
        if (visited_.insert(&o).second) record_shape(o);
        return d;
      }
    }
    return d;
  }

  void record_shape(const Object& o) {
    auto [it, inserted] = shapes_.try_emplace(o.type);
    Shape& s = it->second;
    if (inserted) {
      order_.push_back(o.type);
      s.version = o.version;
    } else if (s.version != o.version) {
      fail("objects of type '" + o.type + "' have versions " + std::to_string(s.version) + " and " +
           std::to_string(o.version));
    }
    ++s.instances;
    for (const Field& f : o.fields) {
      Desc fd = infer(f.value, o.type + "." + f.name);
      Shape& shape = shapes_[o.type];  // re-find: infer may have inserted shapes
      std::size_t i = 0;
      while (i < shape.fields.size() && shape.fields[i].first != f.name) ++i;
      if (i == shape.fields.size()) {
        shape.fields.emplace_back(f.name, fd);
        shape.present.push_back(0);
      } else {
        unify(shape.fields[i].second, fd, o.type + "." + f.name);
      }
      ++shape.present[i];
    }
  }

  static Desc scalar(LayoutCode c) {
    Desc d;
    d.kind = Desc::scalar;
    d.code = c;
    return d;
  }

  void encode_desc(std::string& out, const Desc& d) {
    if (d.nullable) out.push_back(static_cast<char>(LayoutCode::optional));
    switch (d.kind) {
      case Desc::any:
        out.push_back(static_cast<char>(LayoutCode::i64));
        return;
      case Desc::dynamic:
        out.push_back(static_cast<char>(LayoutCode::dynamic));
        return;
      case Desc::scalar:
        out.push_back(static_cast<char>(d.code));
        return;
      case Desc::list:
        out.push_back(static_cast<char>(LayoutCode::list));
        return encode_desc(out, d.children[0]);
      case Desc::map:
        out.push_back(static_cast<char>(LayoutCode::map));
        out.push_back(static_cast<char>(LayoutCode::text));
        return encode_desc(out, d.children[0]);
      case Desc::tuple:
        out.push_back(static_cast<char>(LayoutCode::tuple));
        util::append_varint(out, d.children.size());
        for (const Desc& c : d.children) encode_desc(out, c);
        return;
      case Desc::object:
      case Desc::shared: {
        out.push_back(
            static_cast<char>(d.kind == Desc::object ? LayoutCode::object : LayoutCode::shared));
        std::string type = d.type.empty() ? std::string("brine.Object") : d.type;
        util::append_varint(out, type.size());
        out += type;
        return;
      }
    }
  }

  void write(const Value& root) {
    Desc top = infer(root, "value");
    // Fields missing from some instances become optional.
    for (auto& [name, shape] : shapes_)
      for (std::size_t i = 0; i < shape.fields.size(); ++i)
        if (shape.present[i] < shape.instances) shape.fields[i].second.nullable = true;
    std::string descriptor;
    encode_desc(descriptor, top);
    // Type definitions: reuse identical earlier ones, refuse conflicting ones.
    std::vector<std::pair<std::string, std::string>> batch;
    for (const std::string& name : order_) {
      const Shape& shape = shapes_[name];
      std::string layout;
      util::append_varint(layout, shape.fields.size());
      for (const auto& [field, d] : shape.fields) {
        util::append_varint(layout, field.size());
        layout += field;
        encode_desc(layout, d);
      }
      auto& table = w_.types_->by_name;
      auto it = table.find(name);
      if (it != table.end()) {
        if (it->second.second != layout)
          fail("type '" + name + "' was defined in this stream with another layout");
        index_[name] = it->second.first;
        continue;
      }
      std::uint64_t index = w_.types_->take_index();
      table[name] = {index, layout};
      index_[name] = index;
      batch.emplace_back(name, std::move(layout));
    }
    if (w_.cur_ == nullptr) w_.begin_block();
    if (!batch.empty()) {
      w_.put_byte(bf::kRecordTypes);
      w_.put_varint(batch.size());
      for (const auto& [name, layout] : batch) {
        w_.write_text(name);
        w_.put_varint(shapes_[name].version);
        w_.write_text(layout);
      }
    }
    w_.put_byte(bf::kRecordValue);
    w_.write_text(descriptor);
    value(root, top);
  }

  void value(const Value& v, const Desc& d) {
    if (d.kind == Desc::dynamic && !d.nullable) return w_.write_dynamic(v);
    if (d.nullable) {
      w_.put_byte(v.is_null() ? 0 : 1);
      if (v.is_null()) return;
    } else if (v.is_null()) {
      fail("null where a value is required");
    }
    switch (d.kind) {
      case Desc::any:
        fail("a value of unknown layout");
      case Desc::dynamic:
        return w_.write_dynamic(v);
      case Desc::scalar:
        switch (d.code) {
          case LayoutCode::boolean:
            return w_.write_bool(v.as_bool());
          case LayoutCode::i64:
            return w_.write_number(v.as_int64());
          case LayoutCode::u64:
            return w_.write_number(v.as_uint64());
          case LayoutCode::f64:
            return w_.write_number(v.as_double());
          case LayoutCode::text:
            return w_.write_text(v.as_text());
          case LayoutCode::bytes:
            return w_.write_bytes(v.as_bytes().data.data(), v.as_bytes().data.size());
          case LayoutCode::path:
            return w_.write_text(v.as_path().generic);
          case LayoutCode::function:
            return w_.write_text(v.as_function().name);
          default:
            fail("unexpected scalar");
        }
      case Desc::list:
        w_.put_varint(v.as_list().size());
        for (const Value& e : v.as_list()) value(e, d.children[0]);
        return;
      case Desc::tuple:
        if (v.as_list().size() != d.children.size())
          fail("a list of another length where a tuple is expected");
        for (std::size_t i = 0; i < d.children.size(); ++i) value(v.as_list()[i], d.children[i]);
        return;
      case Desc::map:
        w_.put_varint(v.as_map().size());
        for (const auto& [k, e] : v.as_map()) {
          w_.write_text(k);
          value(e, d.children[0]);
        }
        return;
      case Desc::object:
        return fields(v.as_object());
      case Desc::shared: {
        if (v.kind() == ValueKind::reference) {
          auto it = ids_.find(v.as_reference().id);
          if (it == ids_.end())
            fail("reference to shared object " + std::to_string(v.as_reference().id) +
                 " before its definition");
          return w_.put_varint(it->second + bf::kPointerFirstReference);
        }
        const Object& o = v.as_object();
        std::uint64_t id = next_id_++;
        if (o.shared_id) ids_[*o.shared_id] = id;
        w_.put_varint(bf::kPointerNew);
        w_.put_varint(index_.at(o.type));
        return fields(o);
      }
    }
  }

  void fields(const Object& o) {
    const Shape& shape = shapes_.at(o.type);
    for (const auto& [name, d] : shape.fields) {
      const Value* f = o.find(name);
      static const Value null_value;
      value(f ? *f : null_value, d);
    }
  }

 private:
  BinaryWriter& w_;
  std::map<std::string, Shape> shapes_;
  std::vector<std::string> order_;
  std::unordered_map<std::string, std::uint64_t> index_;
  std::unordered_map<std::uint64_t, std::uint64_t> ids_;  // state shared_id -> binary id
  std::uint64_t next_id_ = 0;
  std::set<const Object*> visited_;
};

}  // namespace detail

void BinaryWriter::write_value(const Value& value) {
  check_writable();
  ids_.clear();
  next_id_ = 0;
  detail::ValueEncoder(*this).write(value);
  end_record();
}

}  // namespace brine

namespace brine {

// See docs/format/binary-v1.md §7.3 "Dynamic values": a kind byte (ValueKind), then the value.
void BinaryWriter::write_dynamic(const Value& v) {
  put_byte(static_cast<std::uint8_t>(v.kind()));
  switch (v.kind()) {
    case ValueKind::null:
      return;
    case ValueKind::boolean:
      return write_bool(v.as_bool());
    case ValueKind::signed_integer:
      return put_fixed(std::get<std::int64_t>(v.variant()));
    case ValueKind::unsigned_integer:
      return put_fixed(std::get<std::uint64_t>(v.variant()));
    case ValueKind::floating:
      return put_fixed(v.as_double());
    case ValueKind::text:
      return write_text(v.as_text());
    case ValueKind::bytes:
      return write_bytes(v.as_bytes().data.data(), v.as_bytes().data.size());
    case ValueKind::path:
      return write_text(v.as_path().generic);
    case ValueKind::function:
      return write_text(v.as_function().name);
    case ValueKind::list:
      put_varint(v.as_list().size());
      for (const Value& e : v.as_list()) write_dynamic(e);
      return;
    case ValueKind::map:
      put_varint(v.as_map().size());
      for (const auto& [k, e] : v.as_map()) {
        write_text(k);
        write_dynamic(e);
      }
      return;
    case ValueKind::object: {
      const Object& o = v.as_object();
      write_text(o.type);
      put_varint(o.version);
      put_byte(o.shared_id ? 1 : 0);
      if (o.shared_id) put_varint(*o.shared_id);
      put_varint(o.fields.size());
      for (const Field& f : o.fields) {
        write_text(f.name);
        write_dynamic(f.value);
      }
      return;
    }
    case ValueKind::reference:
      return put_varint(v.as_reference().id);
  }
}

}  // namespace brine
