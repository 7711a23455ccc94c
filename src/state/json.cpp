// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/json.cpp: the canonical JSON rendering of the state model, on nlohmann::json.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "brine/error.hpp"
#include "brine/value.hpp"
#include "state/budget.hpp"
#include "state/json_document.hpp"
#include "util/xxhash.hpp"

namespace brine {
namespace {

using Json = nlohmann::ordered_json;

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(Span<const std::uint8_t> in) {
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
    detail::throw_error(errc::corrupt_data, "base64 text length " + std::to_string(in.size()) +
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
          detail::throw_error(errc::corrupt_data,
                              "invalid base64 character at offset " + std::to_string(i + k));
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

Json to_json_value(const Value& v, bool summarize_tensors,
                   const detail::TensorRefNamer* namer = nullptr, bool describe = true) {
  switch (v.kind()) {
    case ValueKind::null:
      return Json(nullptr);
    case ValueKind::boolean:
      return Json(v.as_bool());
    case ValueKind::signed_integer:
      return Json(std::get<std::int64_t>(v.variant()));
    case ValueKind::unsigned_integer:
      return Json(std::get<std::uint64_t>(v.variant()));
    case ValueKind::floating: {
      double d = v.as_double();
      if (std::isnan(d)) return Json{{"$float", "nan"}};
      if (std::isinf(d)) return Json{{"$float", d > 0 ? "inf" : "-inf"}};
      return Json(d);
    }
    case ValueKind::text:
      return Json(v.as_text());
    case ValueKind::bytes:
      return Json{{"$bytes", base64_encode({v.as_bytes().data.data(), v.as_bytes().data.size()})}};
    case ValueKind::list: {
      Json out = Json::array();
      for (const Value& e : v.as_list())
        out.push_back(to_json_value(e, summarize_tensors, namer, describe));
      return out;
    }
    case ValueKind::map: {
      Json out = Json::object();
      for (const auto& [key, value] : v.as_map())
        out[escape_key(key)] = to_json_value(value, summarize_tensors, namer, describe);
      return out;
    }
    case ValueKind::object: {
      const Object& o = v.as_object();
      Json out = Json::object();
      out["$type"] = o.type;
      out["$version"] = o.version;
      if (o.shared_id) out["$id"] = *o.shared_id;
      for (const Field& f : o.fields)
        out[escape_key(f.name)] = to_json_value(f.value, summarize_tensors, namer, describe);
      return out;
    }
    case ValueKind::reference:
      return Json{{"$ref", v.as_reference().id}};
    case ValueKind::function:
      return Json{{"$function", v.as_function().name}};
    case ValueKind::path:
      return Json{{"$path", v.as_path().generic}};
    case ValueKind::tensor: {
      // Keys in bytewise order, as every map of the canonical rendering.
      const Tensor& t = v.as_tensor();
      Json body = Json::object();
      if (namer != nullptr) {
        // The tensor's bytes live in another entry of the file (docs/format/numpy.md §6).
        body["$tensor_ref"] = (*namer)(t);
        if (describe) {
          body["dtype"] = dtype_name(t.dtype());
          body["shape"] = t.shape();
        }
        return body;
      }
      if (summarize_tensors) {
        // For people reading a dump: what the tensor is, and a hash that tells two apart.
        char hash[17];
        std::snprintf(hash, sizeof hash, "%016llx",
                      static_cast<unsigned long long>(XXH3_64bits(t.bytes(), t.nbytes())));
        body["dtype"] = dtype_name(t.dtype());
        body["nbytes"] = t.nbytes();
        body["shape"] = t.shape();
        body["xxh3_64"] = hash;
        return Json{{"$tensor", std::move(body)}};
      }
      body["data"] = base64_encode(
          {reinterpret_cast<const std::uint8_t*>(t.bytes()), static_cast<std::size_t>(t.nbytes())});
      body["dtype"] = dtype_name(t.dtype());
      body["shape"] = t.shape();
      return Json{{"$tensor", std::move(body)}};
    }
  }
  return Json(nullptr);
}

// Where the first byte that is not UTF-8 sits in `s` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF: what nlohmann's dump accepts), or npos.
std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t more = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) low = 0xA0;   // overlong below U+0800
      if (c == 0xED) high = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) low = 0x90;   // overlong below U+10000
      if (c == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (s.size() - i - 1 < more) return i;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < low || second > high) return i;
    for (std::size_t k = 2; k <= more; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    i += more + 1;
  }
  return std::string_view::npos;
}

// The first string of a value that is not UTF-8, in the order the rendering writes them:
// what it is, its field path from the root, and the innermost object around it.
struct Utf8Problem {
  const char* what = nullptr;
  std::string path;
  const Object* object = nullptr;
  std::string_view text;
  std::size_t at = 0;
};

bool check_utf8(std::string_view text, const char* what, const std::string& path,
                const Object* object, Utf8Problem& problem) {
  std::size_t at = invalid_utf8_at(text);
  if (at == std::string_view::npos) return false;
  problem = Utf8Problem{what, path, object, text, at};
  return true;
}

// Recurses once per level, as to_json_value() does before it.
bool find_invalid_utf8(const Value& v, std::string& path, const Object* object,
                       Utf8Problem& problem) {
  switch (v.kind()) {
    case ValueKind::text:
      return check_utf8(v.as_text(), "text", path, object, problem);
    case ValueKind::function:
      return check_utf8(v.as_function().name, "function name", path, object, problem);
    case ValueKind::path:
      return check_utf8(v.as_path().generic, "path", path, object, problem);
    case ValueKind::list: {
      const Value::List& list = v.as_list();
      const std::size_t length = path.size();
      for (std::size_t i = 0; i < list.size(); ++i) {
        path += "[" + std::to_string(i) + "]";
        if (find_invalid_utf8(list[i], path, object, problem)) return true;
        path.resize(length);
      }
      return false;
    }
    case ValueKind::map: {
      const std::size_t length = path.size();
      for (const auto& [key, value] : v.as_map()) {
        if (check_utf8(key, "map key", path, object, problem)) return true;
        path += (length == 0 ? "" : ".") + key;
        if (find_invalid_utf8(value, path, object, problem)) return true;
        path.resize(length);
      }
      return false;
    }
    case ValueKind::object: {
      const Object& o = v.as_object();
      if (check_utf8(o.type, "type name", path, object, problem)) return true;
      const std::size_t length = path.size();
      for (const Field& f : o.fields) {
        if (check_utf8(f.name, "field name", path, &o, problem)) return true;
        path += (length == 0 ? "" : ".") + f.name;
        if (find_invalid_utf8(f.value, path, &o, problem)) return true;
        path.resize(length);
      }
      return false;
    }
    default:
      return false;
  }
}

// nlohmann's dump found a string that is not UTF-8 (type_error 316) but cannot say where in
// the value it was: find it, and report it as brine reports bad data.
[[noreturn]] void throw_invalid_utf8(const Value& value, const Json::exception& e) {
  Utf8Problem problem;
  std::string path;
  if (!find_invalid_utf8(value, path, nullptr, problem))
    detail::throw_error(errc::internal_error,
                        std::string("JSON rendering refused text brine found valid: ") + e.what());
  ErrorContext where;
  where.field_path = problem.path;
  if (problem.object != nullptr &&
      invalid_utf8_at(problem.object->type) == std::string_view::npos) {
    where.type_name = problem.object->type;
    where.version = problem.object->version;
  }
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(problem.text[problem.at]));
  detail::throw_error(errc::corrupt_data,
                      std::string(problem.what) + " is not valid UTF-8 (byte " + byte +
                          " at index " + std::to_string(problem.at) +
                          "): JSON holds UTF-8 text only; keep binary data as bytes "
                          "(std::vector<std::uint8_t>), or render it for reading with "
                          "JsonOptions::replace_invalid_utf8",
                      where);
}

[[noreturn]] void bad(const std::string& message) {
  detail::throw_error(errc::corrupt_data, "invalid brine JSON: " + message);
}

// Keys that begin with '$' are the rendering's own; a map key that begins with '$' is
// written with one more '$'.
std::string unescape_key(std::string key) {
  if (key.size() >= 2 && key[0] == '$' && key[1] == '$') return key.erase(0, 1);
  if (!key.empty() && key[0] == '$') bad("unknown key '" + key + "'");
  return key;
}

const std::string& text_member(const Value& v, const char* key) {
  if (v.kind() != ValueKind::text) bad(std::string("'") + key + "' has the wrong type");
  return v.as_text();
}

// The lexer reads a non-negative integer as unsigned, except "-0" (a signed zero): both count.
std::uint64_t unsigned_member(const Value& v, const char* key) {
  if (v.kind() == ValueKind::unsigned_integer) return std::get<std::uint64_t>(v.variant());
  if (v.kind() == ValueKind::signed_integer && std::get<std::int64_t>(v.variant()) >= 0)
    return static_cast<std::uint64_t>(std::get<std::int64_t>(v.variant()));
  bad(std::string("'") + key + "' has the wrong type");
}

// nlohmann's name for a token, as its parse errors spell it ("number literal"), in words.
std::string token_in_words(const std::string& token) {
  if (token == "string literal") return "string";
  if (token == "number literal") return "number";
  if (token == "true literal") return "'true'";
  if (token == "false literal") return "'false'";
  if (token == "null literal") return "'null'";
  if (token == "'[', '{', or a literal") return "a value";
  return token;  // punctuation, already quoted: "']'"
}

// What nlohmann's parse error `what` (`[json.exception.parse_error.101] parse error at line
// 1, column 9: syntax error while parsing object key - unexpected '}'; expected string
// literal`) says was wrong, in brine's words: its exception ids, grammar terms and "last
// read" echo are its own and mean nothing to someone fixing a document. A message this does
// not recognise becomes "syntax error", never nlohmann's text. `token_length` is set to the
// length of the token the error ends on, 1 for a bad byte, so the error can point at its start.
std::string json_problem(const std::string& what, const std::string& last_token,
                         std::size_t& token_length) {
  token_length = 1;
  const std::size_t dash = what.find(" - ");
  if (dash == std::string::npos) return "syntax error";
  // The parts after the dash: "unexpected X", "expected Y", "last read: '...'".
  std::vector<std::string> parts;
  for (std::size_t at = dash + 3; at <= what.size();) {
    std::size_t end = what.find("; ", at);
    if (end == std::string::npos) end = what.size();
    parts.push_back(what.substr(at, end - at));
    at = end + 2;
  }
  auto starts = [](const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; };
  std::string unexpected, expected, invalid;
  for (const std::string& part : parts) {
    if (starts(part, "unexpected "))
      unexpected = part.substr(11);
    else if (starts(part, "expected "))
      expected = part.substr(9);
    else if (!starts(part, "last read") && invalid.empty())
      invalid = part;
  }
  if (!invalid.empty()) {
    if (invalid.find("missing closing quote") != std::string::npos) {
      token_length = last_token.size();
      return "a string is not closed";
    }
    if (invalid.find("control character") != std::string::npos)
      return "a control character inside a string must be escaped (\\n, \\u0001)";
    if (invalid.find("UTF-8") != std::string::npos) return "a string is not valid UTF-8";
    if (invalid.find("surrogate") != std::string::npos)
      return "a \\u escape is half of a UTF-16 surrogate pair";
    if (invalid.find("after backslash") != std::string::npos)
      return "a backslash in a string starts no valid escape";
    if (invalid.find("4 hex digits") != std::string::npos)
      return "\\u must be followed by 4 hex digits";
    if (starts(invalid, "invalid number")) {
      token_length = last_token.size();
      return "invalid number";
    }
    if (starts(invalid, "invalid literal"))
      return "invalid word (JSON's words are true, false and null; text needs quotes)";
    return "syntax error";
  }
  if (unexpected.empty()) return "syntax error";
  // nlohmann resets its token text at strings and numbers only: the text of a word or a
  // punctuation mark may hold earlier bytes, so their length is known here instead.
  if (unexpected == "string literal" || unexpected == "number literal")
    token_length = last_token.size();
  else if (unexpected == "true literal" || unexpected == "null literal")
    token_length = 4;
  else if (unexpected == "false literal")
    token_length = 5;
  if (expected == "end of input")
    return token_in_words(unexpected) + " after the end of the document";
  std::string out = unexpected == "end of input" ? std::string("the text ends early")
                                                 : "unexpected " + token_in_words(unexpected);
  if (expected == "string literal")
    out += ", expected a key in double quotes";
  else if (!expected.empty())
    out += ", expected " + token_in_words(expected);
  return out;
}

// Throws the FormatError for a document nlohmann refused: what was wrong, where (line and
// column, 1-based, and the byte offset in the context).
[[noreturn]] void throw_malformed(std::string_view text, std::size_t position,
                                  const std::string& last_token, const Json::exception& e) {
  std::string problem;
  std::size_t offset;
  if (e.id == 406) {
    // A number beyond double's range: point at the number itself.
    offset = last_token.size() <= position ? position - last_token.size() : position;
    problem = "number out of range: " + last_token;
  } else {
    // An unexpected token is pointed at from its start; a bad byte inside a string or at
    // the end of the text, itself (the last byte read).
    std::size_t token_length = 1;
    problem = json_problem(e.what(), last_token, token_length);
    // At the end of the text nlohmann counts one byte more than there is.
    const std::size_t read = token_length > 1 ? std::min(position, text.size()) : position;
    if (token_length == 0) token_length = 1;
    offset = token_length <= read ? read - token_length : 0;
  }
  if (offset > text.size()) offset = text.size();
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  ErrorContext where;
  where.byte_offset = offset;
  detail::throw_error(errc::corrupt_data,
                      "malformed JSON at line " + std::to_string(line) + ", column " +
                          std::to_string(column) + ": " + problem,
                      where);
}

// Builds the Value tree straight from nlohmann's SAX events, in one pass and without an
// intermediate nlohmann DOM. (nlohmann's callback parser, used before, rescans the parent
// container at every object close: a list of n objects cost O(n^2), minutes for a few MB
// of hostile or merely large input.)
//
// Elements being built wait on two stacks shared by all open containers: values_, and
// keys_ for the open objects' keys (an object's i-th key belongs to its i-th value). A
// container's close moves its elements off the stacks into one exactly sized List, Map or
// Object, so every element is moved a constant number of times. An object's meaning
// ($type object, tagged form or map) is decided at its close, since "$type" may come
// after the fields.
//
// With a budget (LoadOptions::max_state_expansion), every value is counted when it is read,
// as the other readers count theirs: kStateValueCost, and the heap bytes of its string, for
// the tree it will be part of. The stacks come on top of the tree: a list's elements wait on
// values_ until the list closes and only then move into it, and JSON gives no count that
// could size the list first. So the stacks' allocated size is checked too, against the same
// bound, before either grows, counting the old and the new block that growing holds at once.
class ValueBuilder {
 public:
  /// `root_level`: how many outer containers are the document's wrapper, left out of the
  /// field paths of errors (2 for a brine JSON document's {"values": [...]}).
  ValueBuilder(std::size_t max_depth, std::string_view text, const LoadOptions* options,
               std::size_t root_level, const detail::TensorRefResolver* resolver = nullptr)
      : max_depth_(max_depth), text_(text), root_level_(root_level), resolver_(resolver) {
    if (options != nullptr) {
      budget_.emplace(*options);
      options_ = options;
    }
  }

  bool null() { return push(Value(), 0); }
  bool boolean(bool b) { return push(Value(b), 0); }
  bool number_integer(Json::number_integer_t x) { return push(Value(std::int64_t{x}), 0); }
  bool number_unsigned(Json::number_unsigned_t x) { return push(Value(std::uint64_t{x}), 0); }
  bool number_float(Json::number_float_t x, const Json::string_t& /*text*/) {
    return push(Value(double{x}), 0);
  }
  bool string(Json::string_t& s) {
    const std::size_t bytes = heap_bytes(s);
    return push(Value(std::move(s)), bytes);
  }
  bool binary(Json::binary_t& /*b*/) {
    BRINE_ASSERT(false, "the JSON parser reported a binary value");
    return false;
  }

  bool start_object(std::size_t /*elements: unknown in JSON text*/) {
    check_depth();
    charge(1, 0);
    frames_.push_back(Frame{values_.size(), keys_.size(), nullptr, true});
    return true;
  }

  bool key(Json::string_t& k) {
    check_depth();
    // A key's own heap bytes, its entry in the duplicate index, and what a map node or a
    // field costs beyond the value it holds.
    charge(0, kKeyCost + heap_bytes(k));
    if (keys_.size() == keys_.capacity()) grow(keys_);
    Frame& frame = frames_.back();
    keys_.push_back(std::move(k));
    // Duplicate names make a document ambiguous (RFC 8259 §4); they are refused as soon as
    // the second one is read. A scan of the keys so far is fastest for the small objects
    // most documents hold; past kIndexFrom keys an index keeps the check O(1), so an
    // object of n keys costs O(n), not O(n^2).
    const std::size_t count = keys_.size() - frame.first_key;
    if (frame.index) {
      if (!frame.index->insert(keys_.size() - 1).second) duplicate(keys_.back());
    } else if (count < kIndexFrom) {
      const std::string& last = keys_.back();
      for (std::size_t i = frame.first_key; i + 1 < keys_.size(); ++i)
        if (keys_[i] == last) duplicate(last);
    } else {
      frame.index = std::make_unique<KeyIndex>(2 * count, KeyRef{&keys_}, KeyRef{&keys_});
      for (std::size_t i = frame.first_key; i < keys_.size(); ++i)
        if (!frame.index->insert(i).second) duplicate(keys_[i]);
    }
    return true;
  }

  bool end_object() {
    const Frame& frame = frames_.back();
    closing_ = true;
    Value object = make_object(frame.first_key, frame.first_value);
    closing_ = false;
    values_.erase(values_.begin() + static_cast<std::ptrdiff_t>(frame.first_value), values_.end());
    keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(frame.first_key), keys_.end());
    frames_.pop_back();
    values_.push_back(std::move(object));  // where its first element was: no growth
    return true;
  }

  bool start_array(std::size_t /*elements: unknown in JSON text*/) {
    check_depth();
    charge(1, 0);
    frames_.push_back(Frame{values_.size(), keys_.size(), nullptr, false});
    return true;
  }

  bool end_array() {
    const auto first = values_.begin() + static_cast<std::ptrdiff_t>(frames_.back().first_value);
    Value::List list(std::make_move_iterator(first), std::make_move_iterator(values_.end()));
    values_.erase(first, values_.end());
    frames_.pop_back();
    if (values_.size() == values_.capacity()) grow(values_);  // an empty list
    values_.push_back(Value(std::move(list)));
    return true;
  }

  // Called for syntax errors, invalid UTF-8 and, as out_of_range 406, for a number beyond
  // double's range (1e400). `position` counts the bytes read, the failing one included.
  bool parse_error(std::size_t position, const std::string& last_token, const Json::exception& e) {
    throw_malformed(text_, position, last_token, e);
  }

  /// Gives `error`, raised while building, the field path of the element being built: the
  /// frames are as the failure left them.
  void note_path(Error& error) const {
    if (!error.context().field_path.empty()) return;
    // The innermost frame's element: the object being closed is itself the element.
    std::size_t n = frames_.size();
    if (closing_ && n > 0) --n;
    for (std::size_t i = n; i-- > root_level_;) {
      const Frame& f = frames_[i];
      const bool innermost = i + 1 == frames_.size();
      if (f.object) {
        std::size_t key = innermost ? keys_.size() : frames_[i + 1].first_key;
        if (key > f.first_key) detail::prepend_error_key(error, keys_[key - 1]);
      } else {
        std::size_t end = innermost ? values_.size() : frames_[i + 1].first_value;
        detail::prepend_error_index(error, end - f.first_value);
      }
    }
  }

  Value take() {
    BRINE_ASSERT(frames_.empty() && values_.size() == 1, "the JSON parser ended inside a value");
    return std::move(values_.back());
  }

 private:
  // Hashes and compares keys by their index in keys_, which stays valid while keys_ grows
  // (a string_view into a short string would not survive the vector's reallocation).
  struct KeyRef {
    const std::vector<std::string>* keys;
    std::size_t operator()(std::size_t i) const { return std::hash<std::string>()((*keys)[i]); }
    bool operator()(std::size_t a, std::size_t b) const { return (*keys)[a] == (*keys)[b]; }
  };
  using KeyIndex = std::unordered_set<std::size_t, KeyRef, KeyRef>;
  static constexpr std::size_t kIndexFrom = 16;
  static constexpr std::uint64_t kKeyCost = LoadOptions::kStateValueCost / 2;

  struct Frame {
    std::size_t first_value;          // index in values_ of the container's first element
    std::size_t first_key;            // objects: index in keys_ of the first key
    std::unique_ptr<KeyIndex> index;  // objects of kIndexFrom keys or more
    bool object;                      // an object, else an array
  };

  // Checked before a container or element is added, so a nesting bomb is refused before it
  // is built. An element (key, value or container) may sit inside at most max_depth
  // containers, the rule the callback parser used to apply.
  void check_depth() const {
    if (frames_.size() > max_depth_ && options_ != nullptr)
      detail::throw_error(errc::limit_exceeded, "JSON " + detail::nesting_message(*options_));
    if (frames_.size() > max_depth_)
      detail::throw_error(
          errc::limit_exceeded,
          "JSON nesting depth exceeds LoadOptions::max_depth (" + std::to_string(max_depth_) + ")");
  }

  bool push(Value v, std::size_t bytes) {
    check_depth();
    charge(1, bytes);
    if (values_.size() == values_.capacity()) grow(values_);
    values_.push_back(std::move(v));
    return true;
  }

  static std::size_t heap_bytes(const std::string& s) noexcept {
    return s.capacity() > std::string().capacity() ? s.capacity() : 0;
  }

  void charge(std::uint64_t values, std::uint64_t bytes) {
    if (budget_ && !budget_->take(values, bytes, text_.size())) over(budget_->used());
  }

  // Doubles a stack's capacity, after checking that the tree counted so far, the other
  // stack and both blocks of this one fit the bound.
  template <class Stack>
  void grow(Stack& stack) {
    const std::size_t capacity = stack.capacity() < 16 ? 16 : 2 * stack.capacity();
    if (budget_) {
      const std::uint64_t stacks = values_.capacity() * sizeof(Value) +
                                   keys_.capacity() * sizeof(std::string) +
                                   capacity * sizeof(typename Stack::value_type);
      if (budget_->used() + stacks > options_->max_state_bytes(text_.size()))
        over(budget_->used() + stacks);
    }
    stack.reserve(capacity);
  }

  [[noreturn]] void over(std::uint64_t needed) const {
    detail::throw_error(errc::limit_exceeded,
                        "JSON " + detail::state_bytes_message(*options_, text_.size(), needed));
  }

  static std::vector<std::int64_t> shape_member(const Value& dims, const char* what) {
    if (dims.kind() != ValueKind::list) bad(std::string(what) + " shape must be a list");
    std::vector<std::int64_t> shape;
    for (const Value& d : dims.as_list()) {
      std::uint64_t u = unsigned_member(d, "shape");
      if (u > static_cast<std::uint64_t>(INT64_MAX))
        bad(std::string(what) + " dimension out of range");
      shape.push_back(static_cast<std::int64_t>(u));
    }
    return shape;
  }

  // {"$tensor_ref": name}, alone or with "dtype" and "shape" (both), nothing else: the
  // resolver finds the tensor elsewhere (an .npz entry, a weights file) and checks it.
  Value tensor_ref(std::size_t key0, std::size_t value0, std::size_t n) {
    const Value* name = nullptr;
    const Value* dtype_text = nullptr;
    const Value* dims = nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& k = keys_[key0 + i];
      if (k == "$tensor_ref")
        name = &values_[value0 + i];
      else if (k == "dtype")
        dtype_text = &values_[value0 + i];
      else if (k == "shape")
        dims = &values_[value0 + i];
    }
    if ((n != 1 && n != 3) || (n == 3 && (dtype_text == nullptr || dims == nullptr)))
      bad("'$tensor_ref' may only come with 'dtype' and 'shape', both");
    std::optional<DType> dtype;
    std::optional<std::vector<std::int64_t>> shape;
    if (n == 3) {
      const std::string& dtype_name = text_member(*dtype_text, "dtype");
      dtype = dtype_from_name(dtype_name);
      if (!dtype) bad("'$tensor_ref' has unknown dtype '" + dtype_name + "'");
      shape = shape_member(*dims, "'$tensor_ref'");
    }
    return (*resolver_)(text_member(*name, "$tensor_ref"), dtype, shape);
  }

  // {"$tensor": {"dtype": name, "shape": [dims], "data": base64}}: every member required,
  // no other; the data's length must be what the dtype and shape need.
  Value tensor_member(const Value& v) {
    if (v.kind() != ValueKind::map) bad("'$tensor' must hold an object");
    const Value::Map& m = v.as_map();
    auto member = [&](const char* name) -> const Value& {
      auto it = m.find(name);
      if (it == m.end()) bad(std::string("'$tensor' lacks '") + name + "'");
      return it->second;
    };
    if (m.size() != 3) bad("'$tensor' holds members other than 'data', 'dtype' and 'shape'");
    const std::string& name = text_member(member("dtype"), "dtype");
    std::optional<DType> dtype = dtype_from_name(name);
    if (!dtype) bad("'$tensor' has unknown dtype '" + name + "'");
    std::vector<std::int64_t> shape = shape_member(member("shape"), "'$tensor'");
    std::vector<std::uint8_t> bytes = base64_decode(text_member(member("data"), "data"));
    charge(0, bytes.size());
    return Value(Tensor::copy_of(*dtype, std::move(shape), bytes.data(), bytes.size()));
  }

  [[noreturn]] static void duplicate(const std::string& key) { bad("duplicate key '" + key + "'"); }

  // The object whose keys start at keys_[key0] and values at values_[value0], in document
  // order. Its elements are moved out; the caller drops the husks.
  Value make_object(std::size_t key0, std::size_t value0) {
    constexpr std::size_t kAbsent = ~std::size_t{0};
    const std::size_t n = values_.size() - value0;
    BRINE_ASSERT(keys_.size() - key0 == n, "a JSON object has a key without a value");
    std::size_t type_at = kAbsent, version_at = kAbsent, id_at = kAbsent, ref_at = kAbsent;
    bool special = false;  // a key beginning with a single '$'
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& k = keys_[key0 + i];
      if (k.empty() || k[0] != '$' || (k.size() > 1 && k[1] == '$')) continue;
      special = true;
      if (k == "$type")
        type_at = i;
      else if (k == "$version")
        version_at = i;
      else if (k == "$id")
        id_at = i;
      else if (k == "$tensor_ref" && resolver_ != nullptr)
        ref_at = i;
    }
    if (ref_at != kAbsent) return tensor_ref(key0, value0, n);

    if (type_at != kAbsent) {
      Object o;
      o.type = text_member(values_[value0 + type_at], "$type");
      if (version_at == kAbsent) bad("missing '$version'");
      std::uint64_t version = unsigned_member(values_[value0 + version_at], "$version");
      if (version > 0xFFFFFFFFu) bad("'$version' out of range");
      o.version = static_cast<std::uint32_t>(version);
      if (id_at != kAbsent) o.shared_id = unsigned_member(values_[value0 + id_at], "$id");
      o.fields.reserve(n - 2 - (id_at != kAbsent ? 1 : 0));
      for (std::size_t i = 0; i < n; ++i) {
        if (i == type_at || i == version_at || i == id_at) continue;
        o.fields.push_back(
            Field{unescape_key(std::move(keys_[key0 + i])), std::move(values_[value0 + i])});
      }
      return Value(std::move(o));
    }

    if (special && n == 1) {
      const std::string& key = keys_[key0];
      const Value& v = values_[value0];
      if (key == "$bytes") {
        std::vector<std::uint8_t> bytes = base64_decode(text_member(v, "$bytes"));
        charge(0, bytes.capacity());
        return Value(Bytes{std::move(bytes)});
      }
      if (key == "$ref") return Value(Reference{unsigned_member(v, "$ref")});
      if (key == "$function") return Value(FunctionRef{text_member(v, "$function")});
      if (key == "$path") return Value(PathValue{text_member(v, "$path")});
      if (key == "$tensor") return tensor_member(v);
      if (key == "$float") {
        const std::string& s = text_member(v, "$float");
        if (s == "nan") return Value(std::nan(""));
        if (s == "inf") return Value(HUGE_VAL);
        if (s == "-inf") return Value(-HUGE_VAL);
        bad("'$float' must be \"nan\", \"inf\" or \"-inf\"");
      }
    }

    Value::Map map;
    for (std::size_t i = 0; i < n; ++i) {
      // The canonical rendering writes keys sorted: the hint makes each insertion O(1).
      const std::size_t before = map.size();
      map.emplace_hint(map.end(), unescape_key(std::move(keys_[key0 + i])),
                       std::move(values_[value0 + i]));
      // Keys were checked unique as read, and unescaping maps distinct keys apart.
      BRINE_ASSERT(map.size() > before, "two JSON keys unescaped to one map key");
    }
    return Value(std::move(map));
  }

  std::size_t max_depth_;
  std::string_view text_;  // the whole input, for the line and column of an error
  std::size_t root_level_;
  const detail::TensorRefResolver* resolver_;  // set: {"$tensor_ref", "dtype", "shape"} resolve
  bool closing_ = false;                       // make_object is at work on the innermost frame
  std::optional<detail::StateBudget> budget_;
  const LoadOptions* options_ = nullptr;
  std::vector<Frame> frames_;
  std::vector<Value> values_;
  std::vector<std::string> keys_;
};

}  // namespace

namespace {

std::string dump(const Json& json, const Value& value, const JsonOptions& options) {
  if (options.replace_invalid_utf8)
    return json.dump(options.indent, ' ', false, Json::error_handler_t::replace);
  try {
    return json.dump(options.indent, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::type_error& e) {
    // 316 is the only error dump() raises; anything else would be a bug here.
    if (e.id == 316) throw_invalid_utf8(value, e);
    detail::throw_error(errc::internal_error, std::string("JSON rendering failed: ") + e.what());
  }
}

}  // namespace

std::string to_json(const Value& value, const JsonOptions& options) {
  return dump(to_json_value(value, options.summarize_tensors), value, options);
}

std::string detail::to_json_with_tensor_refs(const Value& value, const JsonOptions& options,
                                             const TensorRefNamer& namer, bool describe) {
  return dump(to_json_value(value, false, &namer, describe), value, options);
}

namespace {

// Runs the parser over [first, last) into `builder`; an error leaves with the field path of
// the element that failed.
template <class Iterator>
Value build(ValueBuilder& builder, Iterator first, Iterator last) {
  try {
    // The builder throws instead of returning false, so a false return is a bug.
    const bool parsed = Json::sax_parse(first, last, &builder, Json::input_format_t::json,
                                        /*strict=*/true);
    BRINE_ASSERT(parsed, "the JSON parser stopped without an error");
  } catch (Error& e) {
    builder.note_path(e);
    throw;
  }
  return builder.take();
}

Value parse_json(std::string_view json, std::size_t max_depth, const LoadOptions* options,
                 std::size_t root_level, const detail::TensorRefResolver* resolver = nullptr) {
  ValueBuilder builder(max_depth, json, options, root_level, resolver);
  return build(builder, json.data(), json.data() + json.size());
}

}  // namespace

Value detail::value_from_json_with_tensor_refs(std::string_view json, std::size_t max_depth,
                                               const LoadOptions& options,
                                               const TensorRefResolver& resolver) {
  return parse_json(json, max_depth, &options, 1, &resolver);
}

Value value_from_json(std::string_view json, std::size_t max_depth) {
  return parse_json(json, max_depth, nullptr, 0);
}

Value detail::value_from_json_document(std::string_view json, std::size_t max_depth,
                                       const LoadOptions& options) {
  return parse_json(json, max_depth, &options, 2);
}

namespace {

// Large enough that advancing the source costs nothing next to parsing the chunk, small
// enough that its position moves many times through a document of a few megabytes.
constexpr std::size_t kJsonChunk = 64 * 1024;

// The direct view of a source, handed out a chunk at a time; the source is advanced past a
// chunk when the next one is asked for, that is once the parser has read all of it.
class SourceChunks {
 public:
  explicit SourceChunks(ByteSource& source) noexcept : source_(source) {}

  bool next(const char*& begin, const char*& end) {
    source_.skip(taken_);
    const std::string_view view = source_.direct_view();
    taken_ = view.size() < kJsonChunk ? view.size() : kJsonChunk;
    begin = view.data();
    end = begin + taken_;
    return taken_ != 0;
  }

 private:
  ByteSource& source_;
  std::size_t taken_ = 0;
};

// nlohmann's iterator input: the parser only dereferences, increments and asks whether the
// iterator is still short of the end one, and that question is where a spent chunk is
// replaced by the next. Per character this costs what a pointer pair costs.
class ChunkIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  ChunkIterator() noexcept = default;  // the end
  explicit ChunkIterator(SourceChunks& chunks) noexcept : chunks_(&chunks) {}

  reference operator*() const noexcept { return *cur_; }
  ChunkIterator& operator++() noexcept {
    ++cur_;
    return *this;
  }
  bool operator!=(const ChunkIterator& /*end*/) {
    return cur_ != end_ || (chunks_ != nullptr && chunks_->next(cur_, end_));
  }
  bool operator==(const ChunkIterator& end) { return !(*this != end); }

 private:
  SourceChunks* chunks_ = nullptr;
  const char* cur_ = nullptr;
  const char* end_ = nullptr;
};

}  // namespace

Value detail::value_from_json_document(ByteSource& source, std::size_t max_depth,
                                       const LoadOptions& options) {
  BRINE_ASSERT(source.has_direct_view(), "JSON parsed in chunks from a source without a view");
  // The whole view stays valid while the source lives: errors find their line in it.
  ValueBuilder builder(max_depth, source.direct_view(), &options, 2);
  SourceChunks chunks(source);
  return build(builder, ChunkIterator(chunks), ChunkIterator());
}

}  // namespace brine
