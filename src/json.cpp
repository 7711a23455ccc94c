// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// json.cpp: the canonical JSON rendering of the state model, on nlohmann::json.

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "brine/error.hpp"
#include "brine/value.hpp"

namespace brine {
namespace {

using Json = nlohmann::ordered_json;

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::vector<std::uint8_t>& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += kBase64[v & 63];
  }
  if (i + 1 == in.size()) {
    std::uint32_t v = in[i] << 16;
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8);
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::vector<std::uint8_t> base64_decode(const std::string& in) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0)
    throw FormatError(errc::corrupt_data, "base64 text length " + std::to_string(in.size()) +
                                              " is not a multiple of 4");
  std::vector<std::uint8_t> out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int d[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        d[k] = 0;
        ++pad;
      } else {
        d[k] = pad ? -1 : digit(c);
        if (d[k] < 0)
          throw FormatError(errc::corrupt_data, "invalid base64 character at offset " +
                                                    std::to_string(i + k));
      }
    }
    std::uint32_t v = (d[0] << 18) | (d[1] << 12) | (d[2] << 6) | d[3];
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(v & 0xFF));
  }
  return out;
}

std::string escape_key(const std::string& key) {
  return !key.empty() && key[0] == '$' ? "$" + key : key;
}

Json to_json_value(const Value& v) {
  switch (v.kind()) {
    case ValueKind::null: return Json(nullptr);
    case ValueKind::boolean: return Json(v.as_bool());
    case ValueKind::signed_integer: return Json(std::get<std::int64_t>(v.variant()));
    case ValueKind::unsigned_integer: return Json(std::get<std::uint64_t>(v.variant()));
    case ValueKind::floating: {
      double d = v.as_double();
      if (std::isnan(d)) return Json{{"$float", "nan"}};
      if (std::isinf(d)) return Json{{"$float", d > 0 ? "inf" : "-inf"}};
      return Json(d);
    }
    case ValueKind::text: return Json(v.as_text());
    case ValueKind::bytes: return Json{{"$bytes", base64_encode(v.as_bytes().data)}};
    case ValueKind::list: {
      Json out = Json::array();
      for (const Value& e : v.as_list()) out.push_back(to_json_value(e));
      return out;
    }
    case ValueKind::map: {
      Json out = Json::object();
      for (const auto& [key, value] : v.as_map()) out[escape_key(key)] = to_json_value(value);
      return out;
    }
    case ValueKind::object: {
      const Object& o = v.as_object();
      Json out = Json::object();
      out["$type"] = o.type;
      out["$version"] = o.version;
      if (o.shared_id) out["$id"] = *o.shared_id;
      for (const Field& f : o.fields) out[escape_key(f.name)] = to_json_value(f.value);
      return out;
    }
    case ValueKind::reference: return Json{{"$ref", v.as_reference().id}};
    case ValueKind::function: return Json{{"$function", v.as_function().name}};
    case ValueKind::path: return Json{{"$path", v.as_path().generic}};
  }
  return Json(nullptr);
}

[[noreturn]] void bad(const std::string& message) {
  throw FormatError(errc::corrupt_data, "invalid brine JSON: " + message);
}

std::string unescape_key(const std::string& key) {
  if (key.size() >= 2 && key[0] == '$' && key[1] == '$') return key.substr(1);
  if (!key.empty() && key[0] == '$') bad("unknown key '" + key + "'");
  return key;
}

const Json& member(const Json& j, const char* key, Json::value_t type) {
  auto it = j.find(key);
  if (it == j.end()) bad(std::string("missing '") + key + "'");
  bool ok = it->type() == type ||
            (type == Json::value_t::number_unsigned && it->type() == Json::value_t::number_integer &&
             it->get<std::int64_t>() >= 0);
  if (!ok) bad(std::string("'") + key + "' has the wrong type");
  return *it;
}

Value from_json_value(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return Value();
    case Json::value_t::boolean: return Value(j.get<bool>());
    case Json::value_t::number_integer: return Value(j.get<std::int64_t>());
    case Json::value_t::number_unsigned: return Value(j.get<std::uint64_t>());
    case Json::value_t::number_float: return Value(j.get<double>());
    case Json::value_t::string: return Value(j.get<std::string>());
    case Json::value_t::array: {
      Value::List list;
      list.reserve(j.size());
      for (const Json& e : j) list.push_back(from_json_value(e));
      return Value(std::move(list));
    }
    case Json::value_t::object: {
      if (j.contains("$type")) {
        Object o;
        o.type = member(j, "$type", Json::value_t::string).get<std::string>();
        std::uint64_t version = member(j, "$version", Json::value_t::number_unsigned).get<std::uint64_t>();
        if (version > 0xFFFFFFFFu) bad("'$version' out of range");
        o.version = static_cast<std::uint32_t>(version);
        if (j.contains("$id")) o.shared_id = member(j, "$id", Json::value_t::number_unsigned).get<std::uint64_t>();
        for (auto it = j.begin(); it != j.end(); ++it) {
          const std::string& key = it.key();
          if (key == "$type" || key == "$version" || key == "$id") continue;
          o.fields.push_back(Field{unescape_key(key), from_json_value(it.value())});
        }
        return Value(std::move(o));
      }
      if (j.size() == 1) {
        const std::string& key = j.begin().key();
        if (key == "$bytes") return Value(Bytes{base64_decode(member(j, "$bytes", Json::value_t::string).get<std::string>())});
        if (key == "$ref") return Value(Reference{member(j, "$ref", Json::value_t::number_unsigned).get<std::uint64_t>()});
        if (key == "$function") return Value(FunctionRef{member(j, "$function", Json::value_t::string).get<std::string>()});
        if (key == "$path") return Value(PathValue{member(j, "$path", Json::value_t::string).get<std::string>()});
        if (key == "$float") {
          std::string s = member(j, "$float", Json::value_t::string).get<std::string>();
          if (s == "nan") return Value(std::nan(""));
          if (s == "inf") return Value(HUGE_VAL);
          if (s == "-inf") return Value(-HUGE_VAL);
          bad("'$float' must be \"nan\", \"inf\" or \"-inf\"");
        }
      }
      Value::Map map;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!map.emplace(unescape_key(it.key()), from_json_value(it.value())).second)
          bad("duplicate key '" + it.key() + "'");
      }
      return Value(std::move(map));
    }
    default: bad("unsupported JSON value");
  }
}

}  // namespace

std::string to_json(const Value& value, const JsonOptions& options) {
  return to_json_value(value).dump(options.indent, ' ', false,
                                   Json::error_handler_t::strict);
}

Value value_from_json(std::string_view json, std::size_t max_depth) {
  Json parsed;
  // Keys seen in each object being parsed: nlohmann keeps the last of duplicate keys, and
  // a document whose meaning depends on which duplicate wins is ambiguous (RFC 8259 §4).
  std::vector<std::set<std::string>> keys;
  try {
    parsed = Json::parse(
        json.begin(), json.end(),
        [max_depth, &keys](int depth, Json::parse_event_t event, Json& value) {
          // Checked while parsing, so a nesting bomb is refused before it is built.
          if (static_cast<std::size_t>(depth) > max_depth)
            throw LimitError(errc::limit_exceeded,
                             "JSON nesting depth exceeds LoadOptions::max_depth (" +
                                 std::to_string(max_depth) + ")");
          switch (event) {
            case Json::parse_event_t::object_start: keys.emplace_back(); break;
            case Json::parse_event_t::object_end: keys.pop_back(); break;
            case Json::parse_event_t::key:
              if (!keys.back().insert(value.get<std::string>()).second)
                bad("duplicate key '" + value.get<std::string>() + "'");
              break;
            default: break;
          }
          return true;
        });
  } catch (const Json::parse_error& e) {
    ErrorContext where;
    where.byte_offset = e.byte;
    throw FormatError(errc::corrupt_data, std::string("malformed JSON: ") + e.what(), where);
  } catch (const Json::out_of_range& e) {
    // nlohmann reports a number beyond double's range (1e400) as out_of_range, without a
    // position; its message quotes the number, which locates it in the input.
    ErrorContext where;
    std::string what = e.what();
    std::size_t open = what.find('\'');
    std::size_t close = what.rfind('\'');
    if (open != std::string::npos && close > open + 1) {
      std::size_t at = json.find(what.substr(open + 1, close - open - 1));
      if (at != std::string_view::npos) where.byte_offset = at;
    }
    throw FormatError(errc::corrupt_data, std::string("malformed JSON: ") + what, where);
  }
  return from_json_value(parsed);
}

}  // namespace brine
