// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/value_encoder.cpp: BinaryWriter::write_value, state trees written with inferred layouts.
// See docs/format/binary-v1.md.

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "binary/format.hpp"
#include "binary/writer_types.hpp"
#include "brine/binary.hpp"
#include "state/nesting.hpp"
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
  ValueEncoder(BinaryWriter& w) : w_(w) {
    LoadOptions reader;
    reader.max_depth = w.options_.max_depth;
    max_nesting_ = reader.max_nesting();
  }

  [[noreturn]] void fail(const std::string& m) const {
    detail::throw_error(errc::type_mismatch,
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
      case ValueKind::tensor:
        return scalar(LayoutCode::tensor);
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
        if (o.shared_id && !definitions_.back().emplace(*o.shared_id, &o).second)
          fail("shared object id " + std::to_string(*o.shared_id) + " defined twice");
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

  static void check_layout_depth(int depth) {
    if (depth > kMaxLayoutDepth)
      detail::throw_error(
          errc::limit_exceeded,
          "cannot write this state tree as a binary archive: its lists, maps and "
          "optionals nest deeper than a binary layout may (brine::kMaxLayoutDepth = " +
              std::to_string(kMaxLayoutDepth) + "), which the reader would refuse");
  }

  static Desc scalar(LayoutCode c) {
    Desc d;
    d.kind = Desc::scalar;
    d.code = c;
    return d;
  }

  // `depth` counts codes as descriptor_min_size() does when it reads them back: the writer
  // refuses what its reader would.
  void encode_desc(std::string& out, const Desc& d, int depth = 0) {
    if (d.nullable) {
      check_layout_depth(depth);
      out.push_back(static_cast<char>(LayoutCode::optional));
      ++depth;
    }
    check_layout_depth(depth);
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
        return encode_desc(out, d.children[0], depth + 1);
      case Desc::map:
        out.push_back(static_cast<char>(LayoutCode::map));
        out.push_back(static_cast<char>(LayoutCode::text));
        return encode_desc(out, d.children[0], depth + 1);
      case Desc::tuple:
        out.push_back(static_cast<char>(LayoutCode::tuple));
        util::append_varint(out, d.children.size());
        for (const Desc& c : d.children) encode_desc(out, c, depth + 1);
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

  // Writes `roots` as consecutive top-level values. Layouts are inferred over all of them
  // first, so that each type gets one layout that fits every value (an optional empty in
  // the first value and set in a later one): the format defines a type once per archive.
  void write_all(const std::vector<const Value*>& roots) {
    std::vector<Desc> tops;
    tops.reserve(roots.size());
    for (const Value* root : roots) {
      definitions_.emplace_back();
      tops.push_back(infer(*root, "value"));
    }
    // Fields missing from some instances become optional.
    for (auto& [name, shape] : shapes_)
      for (std::size_t i = 0; i < shape.fields.size(); ++i)
        if (shape.present[i] < shape.instances) shape.fields[i].second.nullable = true;
    plan(roots, tops);
    for (std::size_t i = 0; i < roots.size(); ++i) check_nesting(*roots[i], tops[i], 1, 0);
    // Type definitions: reuse identical earlier ones, refuse conflicting ones. All of them
    // go before the first value: a layout may name a type first met in a later value.
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
    for (std::size_t i = 0; i < roots.size(); ++i) {
      w_.check_writable();
      if (w_.cur_ == nullptr) w_.begin_block();
      if (i == 0 && !batch.empty()) {
        w_.put_byte(bf::kRecordTypes);
        w_.put_varint(batch.size());
        for (const auto& [name, layout] : batch) {
          w_.write_text(name);
          w_.put_varint(shapes_[name].version);
          w_.write_text(layout);
        }
      }
      std::string descriptor;
      encode_desc(descriptor, tops[i]);
      w_.put_byte(bf::kRecordValue);
      w_.write_text(descriptor);
      ids_ = std::move(out_ids_[i]);
      value(*roots[i], tops[i]);
      w_.end_record();
    }
  }

  // Where each shared object of a value lands, and the id it gets there. In a shared
  // pointer field it is numbered as readers number pointers (binary-v1.md §6: each new
  // object in write order takes the next id); inside a self-describing value (§7.3) it keeps
  // an explicit id, which is chosen past the pointers' so that the two never collide. A
  // pointer can only refer back to a pointer, so a reference in a pointer field whose object
  // sits in a self-describing value makes that field self-describing too; that may move
  // more objects, so the walk repeats until nothing changes.
  void plan(const std::vector<const Value*>& roots, std::vector<Desc>& tops) {
    for (;;) {
      out_ids_.assign(roots.size(), {});
      bool changed = false;
      carriers_.clear();
      as_reference_.clear();
      for (std::size_t i = 0; i < roots.size() && !changed; ++i) {
        Plan p;
        p.definitions = &definitions_[i];
        plan_value(*roots[i], tops[i], p);
        if (p.changed) {
          changed = true;
          break;
        }
        if (!p.error.empty()) fail(p.error);
        for (std::size_t k = 0; k < p.dynamic_objects.size(); ++k)
          p.ids[p.dynamic_objects[k]].id = p.pointers + k;
        for (const auto& [state_id, place] : p.ids) out_ids_[i][state_id] = place.id;
      }
      if (!changed) return;
    }
  }

  struct Place {
    bool dynamic = false;
    std::uint64_t id = 0;
  };
  struct Plan {
    std::unordered_map<std::uint64_t, Place> ids;  // state id -> where it was defined
    std::uint64_t pointers = 0;                    // objects written as new pointers so far
    std::vector<std::uint64_t> dynamic_objects;    // state ids, in write order
    const std::unordered_map<std::uint64_t, const Object*>* definitions = nullptr;
    bool changed = false;
    std::string error;  // the first problem; only meaningful when nothing changed
  };

  // The object that `reference` names, which its first occurrence in write order carries
  // (a reference may come first: another instance of a type may hold its fields in another
  // order than the layout's), or null after recording the error.
  const Object* definition_for(const Value& reference, Plan& p) {
    const std::uint64_t id = reference.as_reference().id;
    auto it = p.definitions->find(id);
    if (it != p.definitions->end()) {
      carriers_.emplace(&reference, it->second);
      return it->second;
    }
    if (p.error.empty())
      p.error =
          "reference to shared object " + std::to_string(id) + ", which the value does not define";
    return nullptr;
  }

  // Mirrors value(): the same positions in the same order.
  void plan_value(const Value& v, Desc& d, Plan& p) {
    if (p.changed || v.is_null()) return;
    switch (d.kind) {
      case Desc::dynamic:
        return plan_dynamic(v, p);
      case Desc::list:
        for (const Value& e : v.as_list()) plan_value(e, d.children[0], p);
        return;
      case Desc::tuple:
        for (std::size_t i = 0; i < d.children.size() && i < v.as_list().size(); ++i)
          plan_value(v.as_list()[i], d.children[i], p);
        return;
      case Desc::map:
        for (const auto& entry : v.as_map()) plan_value(entry.second, d.children[0], p);
        return;
      case Desc::object:
        return plan_fields(v.as_object(), p);
      case Desc::shared: {
        const bool is_reference = v.kind() == ValueKind::reference;
        const Object* object = is_reference ? nullptr : &v.as_object();
        if (object != nullptr && !object->shared_id) {  // an unshared object behind a pointer
          ++p.pointers;
          return plan_fields(*object, p);
        }
        const std::uint64_t id = is_reference ? v.as_reference().id : *object->shared_id;
        auto it = p.ids.find(id);
        if (it != p.ids.end()) {  // met before: written as a back reference
          if (it->second.dynamic) {
            const bool nullable = d.nullable;
            d = Desc();
            d.kind = Desc::dynamic;
            d.nullable = nullable;
            p.changed = true;
          } else if (object != nullptr) {
            as_reference_.insert(object);
          }
          return;
        }
        const Object* target = object != nullptr ? object : definition_for(v, p);
        if (target == nullptr) return;
        p.ids.emplace(id, Place{false, p.pointers++});
        return plan_fields(*target, p);
      }
      default:
        return;
    }
  }

  void plan_fields(const Object& o, Plan& p) {
    Shape& shape = shapes_.at(o.type);
    for (auto& [name, d] : shape.fields) {
      const Value* f = o.find(name);
      if (f != nullptr) plan_value(*f, d, p);
    }
  }

  // A self-describing value is written in its own order (write_dynamic).
  void plan_dynamic(const Value& v, Plan& p) {
    switch (v.kind()) {
      case ValueKind::list:
        for (const Value& e : v.as_list()) plan_dynamic(e, p);
        return;
      case ValueKind::map:
        for (const auto& entry : v.as_map()) plan_dynamic(entry.second, p);
        return;
      case ValueKind::object: {
        const Object& o = v.as_object();
        if (o.shared_id) {
          if (p.ids.count(*o.shared_id) != 0) {  // carried earlier by a reference
            as_reference_.insert(&o);
            return;
          }
          p.ids.emplace(*o.shared_id, Place{true, 0});
          p.dynamic_objects.push_back(*o.shared_id);
        }
        for (const Field& f : o.fields) plan_dynamic(f.value, p);
        return;
      }
      case ValueKind::reference: {
        const std::uint64_t id = v.as_reference().id;
        if (p.ids.count(id) != 0) return;
        const Object* target = definition_for(v, p);
        if (target == nullptr) return;
        p.ids.emplace(id, Place{true, 0});
        p.dynamic_objects.push_back(id);
        for (const Field& f : target->fields) plan_dynamic(f.value, p);
        return;
      }
      default:
        return;
    }
  }

  // binary-v1.md §7.3, with the ids of shared objects and references as plan() chose them.
  void write_dynamic(const Value& v) {
    switch (v.kind()) {
      case ValueKind::list:
        w_.put_byte(static_cast<std::uint8_t>(v.kind()));
        w_.put_varint(v.as_list().size());
        for (const Value& e : v.as_list()) write_dynamic(e);
        return;
      case ValueKind::map:
        w_.put_byte(static_cast<std::uint8_t>(v.kind()));
        w_.put_varint(v.as_map().size());
        for (const auto& [k, e] : v.as_map()) {
          w_.write_text(k);
          write_dynamic(e);
        }
        return;
      case ValueKind::object: {
        const Object& o = v.as_object();
        if (as_reference_.count(&o) != 0) {
          w_.put_byte(static_cast<std::uint8_t>(ValueKind::reference));
          return w_.put_varint(ids_.at(*o.shared_id));
        }
        return write_dynamic_object(o);
      }
      case ValueKind::reference: {
        auto carried = carriers_.find(&v);
        if (carried != carriers_.end()) return write_dynamic_object(*carried->second);
        w_.put_byte(static_cast<std::uint8_t>(v.kind()));
        return w_.put_varint(ids_.at(v.as_reference().id));
      }
      default:
        return w_.write_dynamic(v);  // scalars: nothing to renumber
    }
  }

  void write_dynamic_object(const Object& o) {
    w_.put_byte(static_cast<std::uint8_t>(ValueKind::object));
    w_.write_text(o.type);
    w_.put_varint(o.version);
    w_.put_byte(o.shared_id ? 1 : 0);
    if (o.shared_id) w_.put_varint(ids_.at(*o.shared_id));
    w_.put_varint(o.fields.size());
    for (const Field& f : o.fields) {
      w_.write_text(f.name);
      write_dynamic(f.value);
    }
  }

  void value(const Value& v, const Desc& d) {
    if (d.kind == Desc::dynamic && !d.nullable) return write_dynamic(v);
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
        return write_dynamic(v);
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
          case LayoutCode::tensor:
            return w_.write_tensor(v.as_tensor());
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
        // plan() has checked every reference and chosen every id.
        const Object* carried = nullptr;
        if (v.kind() == ValueKind::reference) {
          auto it = carriers_.find(&v);
          if (it == carriers_.end())
            return w_.put_varint(ids_.at(v.as_reference().id) + bf::kPointerFirstReference);
          carried = it->second;
        }
        const Object& o = carried != nullptr ? *carried : v.as_object();
        if (carried == nullptr && as_reference_.count(&o) != 0)
          return w_.put_varint(ids_.at(*o.shared_id) + bf::kPointerFirstReference);
        w_.put_varint(bf::kPointerNew);
        w_.put_varint(index_.at(o.type));
        return fields(o);
      }
    }
  }

  // The reader's limits, checked before anything of the values is written: levels as
  // value() writes them (an element one below its list, map or tuple, a field one below its
  // object, a present optional one below its wrapper; self-describing values alike) against
  // max_nesting(), and objects inside objects outside self-describing values against
  // max_depth. `depth` is the level of `v`, `objects` the objects around it.
  void check_nesting(const Value& v, const Desc& d, std::size_t depth, std::size_t objects) {
    if (depth > max_nesting_) fail_nesting();
    if (v.is_null() || (d.kind == Desc::dynamic && !d.nullable))
      return d.kind == Desc::dynamic ? check_dynamic_nesting(v, depth) : void();
    if (d.nullable && ++depth > max_nesting_) fail_nesting();
    switch (d.kind) {
      case Desc::dynamic:
        return check_dynamic_nesting(v, depth);
      case Desc::list:
        for (const Value& e : v.as_list()) check_nesting(e, d.children[0], depth + 1, objects);
        return;
      case Desc::tuple:
        for (std::size_t i = 0; i < d.children.size(); ++i)
          check_nesting(v.as_list()[i], d.children[i], depth + 1, objects);
        return;
      case Desc::map:
        for (const auto& entry : v.as_map())
          check_nesting(entry.second, d.children[0], depth + 1, objects);
        return;
      case Desc::object:
      case Desc::shared: {
        const Object* o = nullptr;
        if (v.kind() == ValueKind::reference) {
          auto it = carriers_.find(&v);
          if (it != carriers_.end()) o = it->second;
        } else if (as_reference_.count(&v.as_object()) == 0) {
          o = &v.as_object();
        }
        if (o == nullptr) return;  // written as a reference: no fields here
        if (objects + 1 > w_.options_.max_depth) fail_depth();
        for (const auto& [name, fd] : shapes_.at(o->type).fields) {
          static const Value null_value;
          const Value* f = o->find(name);
          check_nesting(f ? *f : null_value, fd, depth + 1, objects + 1);
        }
        return;
      }
      default:
        return;
    }
  }

  void check_dynamic_nesting(const Value& v, std::size_t depth) {
    if (depth > max_nesting_) fail_nesting();
    const Object* o = nullptr;
    switch (v.kind()) {
      case ValueKind::list:
        for (const Value& e : v.as_list()) check_dynamic_nesting(e, depth + 1);
        return;
      case ValueKind::map:
        for (const auto& entry : v.as_map()) check_dynamic_nesting(entry.second, depth + 1);
        return;
      case ValueKind::object:
        if (as_reference_.count(&v.as_object()) == 0) o = &v.as_object();
        break;
      case ValueKind::reference: {
        auto it = carriers_.find(&v);
        if (it != carriers_.end()) o = it->second;
        break;
      }
      default:
        return;
    }
    if (o != nullptr)
      for (const Field& f : o->fields) check_dynamic_nesting(f.value, depth + 1);
  }

  [[noreturn]] void fail_nesting() const {
    detail::throw_error(
        errc::limit_exceeded,
        detail::writer_nesting_message("a binary archive", "BinaryWriteOptions::max_depth",
                                       w_.options_.max_depth));
  }
  [[noreturn]] void fail_depth() const {
    LoadOptions reader;
    reader.max_depth = w_.options_.max_depth;
    detail::throw_error(errc::limit_exceeded,
                        "cannot write this state tree as a binary archive: its objects nest deeper "
                        "than its reader accepts, " +
                            detail::depth_message(reader) +
                            " (raise BinaryWriteOptions::max_depth with the reader's)");
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
  std::size_t max_nesting_ = 0;
  std::map<std::string, Shape> shapes_;
  std::vector<std::string> order_;
  std::unordered_map<std::string, std::uint64_t> index_;
  // State shared_id -> the id written, per value (out_ids_) and for the value being written.
  std::vector<std::unordered_map<std::uint64_t, std::uint64_t>> out_ids_;
  std::unordered_map<std::uint64_t, std::uint64_t> ids_;
  std::set<const Object*> visited_;
  // Per value: state shared_id -> the object that defines it.
  std::vector<std::unordered_map<std::uint64_t, const Object*>> definitions_;
  // References that carry their object (the first occurrence in write order), and shared
  // objects written as references to such a carrier.
  std::unordered_map<const Value*, const Object*> carriers_;
  std::unordered_set<const Object*> as_reference_;
};

}  // namespace detail

void BinaryWriter::write_value(const Value& value) {
  check_writable();
  ids_.clear();
  detail::ValueEncoder(*this).write_all({&value});
}

void BinaryWriter::write_values(const std::vector<Value>& values) {
  check_writable();
  ids_.clear();
  std::vector<const Value*> roots;
  roots.reserve(values.size());
  for (const Value& v : values) roots.push_back(&v);
  detail::ValueEncoder(*this).write_all(roots);
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
    case ValueKind::tensor:
      return write_tensor(v.as_tensor());
  }
}

}  // namespace brine
