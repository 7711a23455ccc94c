// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// nesting_limits_test.cpp: input nested right up to LoadOptions::max_nesting() is decoded,
// upgraded and destroyed within the stack of a sanitizer build; one level more is a
// LimitError. Every reader recurses once per level, and so does ~Value: the limit is only
// a defence if everything below it fits.

#include <pthread.h>

#include <brine/brine.hpp>
#include <exception>
#include <functional>
#include <string>

#include "hostile_support.hpp"
#include "test_util.hpp"

namespace {

// A JSON document whose single value is `levels` nested lists around a null: the document
// object and its "values" list are two levels more.
std::string json_document_of_depth(std::size_t levels) {
  std::string inner(levels, '[');
  inner += "null";
  inner.append(levels, ']');
  return R"({"format": "brine-json", "format_version": 1, "values": [)" + inner + "]}";
}

TEST(NestingLimits, JsonDocumentAtTheLimitLoadsAndOneMoreIsRefused) {
  brine::LoadOptions options;
  const std::size_t limit = options.max_nesting();
  std::vector<brine::Value> values =
      brine::json_document_values(json_document_of_depth(limit - 2), options);
  ASSERT_EQ(values.size(), 1u);
  std::size_t depth = 0;
  for (const brine::Value* v = &values[0]; v->kind() == brine::ValueKind::list;
       v = &v->as_list()[0])
    ++depth;
  EXPECT_EQ(depth, limit - 2);
  brine::Registry registry;
  registry.upgrade(values[0], options);  // the migration walk over the same depth
  hostile::expect_error<brine::LimitError>(
      [&] { brine::json_document_values(json_document_of_depth(limit - 1), options); },
      "max_depth (1000)");
}

// The same depth written as a stable (CBOR) archive and read back without types.
TEST(NestingLimits, StableArchiveAtTheLimitLoadsAndOneMoreIsRefused) {
  brine::LoadOptions options;
  const std::size_t limit = options.max_nesting();
  auto archive_of_depth = [](std::size_t levels) {
    brine::Value v;
    for (std::size_t i = 0; i < levels; ++i) {
      brine::Value::List wrap;  // not an initializer list: that would copy the whole tree
      wrap.push_back(std::move(v));
      v = brine::Value(std::move(wrap));
    }
    brine::Buffer out;
    brine::BufferSink sink(out);
    brine::Registry empty;
    brine::StableWriteOptions deeper;  // the writer refuses what the reader would
    deeper.max_depth = 2 * brine::LoadOptions{}.max_depth;
    brine::StableWriter writer(sink, empty, deeper);
    writer.write_value(v);
    writer.finish();
    return std::string(out.view());
  };
  // The document's list of values is one level.
  std::vector<brine::Value> values =
      brine::read_stable_values(archive_of_depth(limit - 1), options);
  ASSERT_EQ(values.size(), 1u);
  hostile::expect_error<brine::LimitError>(
      [&] { brine::read_stable_values(archive_of_depth(limit), options); }, "max_depth (1000)");
}

}  // namespace

namespace nesting {

struct Tree {
  BRINE_TYPE("nesting.Tree", 1);
  std::vector<Tree> kids;
  template <class A>
  void getstate(A& ar) const {
    ar("kids", kids);
  }
  template <class A>
  void setstate(A& ar) {
    ar("kids", kids);
  }
};

Tree chain(std::size_t depth) {
  Tree root;
  Tree* t = &root;
  for (std::size_t i = 1; i < depth; ++i) {
    t->kids.emplace_back();
    t = &t->kids.back();
  }
  return root;
}

std::size_t depth_of(const Tree& t) {
  std::size_t d = 1;
  for (const Tree* p = &t; !p->kids.empty(); p = &p->kids[0]) ++d;
  return d;
}

}  // namespace nesting

namespace {

// max_depth counts objects, and the same tree loads from every encoding: the binary archive
// (typed and through read_value), the stable archive and the JSON document.
TEST(NestingLimits, TreeAtMaxDepthLoadsFromEveryEncoding) {
  brine::Registry registry;
  registry.add<nesting::Tree>();
  const std::size_t depth = brine::LoadOptions{}.max_depth;
  nesting::Tree tree = nesting::chain(depth);
  brine::Buffer binary = brine::to_binary(tree, registry);
  EXPECT_EQ(nesting::depth_of(brine::from_binary<nesting::Tree>(binary.view(), registry)), depth);
  {
    brine::MemorySource source(binary.view());
    brine::BinaryReader reader(source, registry);
    EXPECT_EQ(reader.read_value().kind(), brine::ValueKind::object);
  }
  brine::Buffer stable = brine::to_stable(tree, registry);
  EXPECT_EQ(nesting::depth_of(brine::from_stable<nesting::Tree>(stable.view(), registry)), depth);
  std::string json = brine::to_json_archive(tree, registry);
  EXPECT_EQ(nesting::depth_of(brine::from_json_archive<nesting::Tree>(json, registry)), depth);

  nesting::Tree deeper = nesting::chain(depth + 1);
  EXPECT_THROW(
      brine::from_binary<nesting::Tree>(brine::to_binary(deeper, registry).view(), registry),
      brine::LimitError);
  EXPECT_THROW(
      brine::from_stable<nesting::Tree>(brine::to_stable(deeper, registry).view(), registry),
      brine::LimitError);
  EXPECT_THROW(
      brine::from_json_archive<nesting::Tree>(brine::to_json_archive(deeper, registry), registry),
      brine::LimitError);
}

}  // namespace

// The writers of state trees refuse what their readers, with the limits the writer is told
// (the defaults unless raised), would refuse: before, each wrote one level more than its own
// reader reads back.
namespace {

brine::Value lists_around(brine::Value v, std::size_t levels) {
  for (std::size_t i = 0; i < levels; ++i) {
    brine::Value::List wrap;
    wrap.push_back(std::move(v));
    v = brine::Value(std::move(wrap));
  }
  return v;
}

std::string binary_of(const brine::Value& v, const brine::BinaryWriteOptions& options = {}) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::Registry empty;
  brine::BinaryWriter writer(sink, empty, options);
  writer.write_value(v);
  writer.finish();
  return std::string(out.view());
}

brine::Value binary_read(const std::string& bytes, const brine::LoadOptions& options = {}) {
  brine::MemorySource source(bytes);
  brine::Registry empty;
  brine::BinaryReader reader(source, empty, options);
  return reader.read_value();
}

std::string stable_of(const brine::Value& v, const brine::StableWriteOptions& options = {}) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::Registry empty;
  brine::StableWriter writer(sink, empty, options);
  writer.write_value(v);
  writer.finish();
  return std::string(out.view());
}

// Lists of lists: the inferred layout nests one code per list, and layouts nest at most
// kMaxLayoutDepth codes below their top (the innermost list's element is an i64 code).
TEST(NestingLimits, BinaryWriterRefusesALayoutItsReaderWouldRefuse) {
  const auto deepest = static_cast<std::size_t>(brine::kMaxLayoutDepth);
  brine::Value v = lists_around(brine::Value(brine::Value::List{}), deepest - 1);
  EXPECT_EQ(binary_read(binary_of(v)), v);
  v = lists_around(std::move(v), 1);
  hostile::expect_error<brine::LimitError>([&] { binary_of(v); }, "brine::kMaxLayoutDepth = 64");
}

// [[deep], [1]]: the inner lists' elements differ, so `deep` is a self-describing value two
// levels down, which the reader bounds by max_nesting().
TEST(NestingLimits, BinaryWriterRefusesADynamicValueItsReaderWouldRefuse) {
  auto archive_value = [](std::size_t levels) {
    brine::Value::List deep, one, root;
    deep.push_back(lists_around(brine::Value(), levels));
    one.push_back(brine::Value(std::int64_t{1}));
    root.push_back(brine::Value(std::move(deep)));
    root.push_back(brine::Value(std::move(one)));
    return brine::Value(std::move(root));
  };
  const std::size_t limit = brine::LoadOptions{}.max_nesting();
  const brine::Value deepest = archive_value(limit - 3);
  EXPECT_EQ(binary_read(binary_of(deepest)), deepest);
  const brine::Value beyond = archive_value(limit - 2);
  hostile::expect_error<brine::LimitError>(
      [&] { binary_of(beyond); },
      "4 x LoadOptions::max_depth (1000) (raise BinaryWriteOptions::max_depth");
  // Written for a reader whose limit is raised as well, it loads there.
  brine::BinaryWriteOptions deeper;
  deeper.max_depth = 1001;
  brine::LoadOptions raised;
  raised.max_depth = 1001;
  EXPECT_EQ(binary_read(binary_of(beyond, deeper), raised), beyond);
}

TEST(NestingLimits, BinaryWriterRefusesObjectsDeeperThanMaxDepth) {
  auto chain = [](std::size_t objects) {
    brine::Value v;
    for (std::size_t i = 0; i < objects; ++i) {
      brine::Object o;
      o.type = "nesting.Link";
      o.version = 1;
      o.fields.push_back(brine::Field{"next", std::move(v)});
      v = brine::Value(std::move(o));
    }
    return v;
  };
  const std::size_t limit = brine::LoadOptions{}.max_depth;
  EXPECT_NO_THROW(binary_read(binary_of(chain(limit))));
  hostile::expect_error<brine::LimitError>([&] { binary_of(chain(limit + 1)); },
                                           "max_depth (1000)");
}

TEST(NestingLimits, StableWriterRefusesWhatItsReaderWouldRefuse) {
  const std::size_t limit = brine::LoadOptions{}.max_nesting();
  // The document's array of values is the first level.
  const brine::Value deepest = lists_around(brine::Value(std::int64_t{1}), limit - 1);
  EXPECT_EQ(brine::read_stable_values(stable_of(deepest)).at(0), deepest);
  const brine::Value beyond = lists_around(brine::Value(std::int64_t{1}), limit);
  hostile::expect_error<brine::LimitError>(
      [&] { stable_of(beyond); },
      "4 x LoadOptions::max_depth (1000) (raise StableWriteOptions::max_depth");
  // An object's fields sit two levels below it (tag 27's array, then its map).
  brine::Object o;
  o.type = "nesting.Box";
  o.version = 1;
  o.fields.push_back(brine::Field{"x", brine::Value(std::int64_t{1})});
  hostile::expect_error<brine::LimitError>(
      [&] { stable_of(lists_around(brine::Value(o), limit - 2)); },
      "StableWriteOptions::max_depth");
  EXPECT_NO_THROW(brine::read_stable_values(stable_of(lists_around(brine::Value(o), limit - 3))));

  brine::StableWriteOptions deeper;
  deeper.max_depth = 1001;
  brine::LoadOptions raised;
  raised.max_depth = 1001;
  EXPECT_EQ(brine::read_stable_values(stable_of(beyond, deeper), raised).at(0), beyond);
}

void json_document_refuses_what_its_reader_would_refuse();

// Runs `work` on a thread with a 512 MiB stack. Copying, comparing and destroying a Value
// tree recurse once per level, and in a Debug build under AddressSanitizer a tree 4,000
// lists deep (a JSON document at the reader's limit) needs more than the main thread's
// 8 MiB for that alone: the readers' bounded stack covers what they parse, not trees the
// program builds itself.
void on_large_stack(const std::function<void()>& work) {
  std::exception_ptr failure;
  auto body = [&] {
    try {
      work();
    } catch (...) {
      failure = std::current_exception();
    }
  };
  using Body = decltype(body);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, std::size_t{512} << 20);
  pthread_t thread;
  const int created = pthread_create(
      &thread, &attr,
      [](void* b) -> void* {
        (*static_cast<Body*>(b))();
        return nullptr;
      },
      &body);
  pthread_attr_destroy(&attr);
  ASSERT_EQ(created, 0) << "cannot start a thread with a 512 MiB stack";
  pthread_join(thread, nullptr);
  if (failure) std::rethrow_exception(failure);
}

TEST(NestingLimits, JsonDocumentRefusesWhatItsReaderWouldRefuse) {
  on_large_stack([] { json_document_refuses_what_its_reader_would_refuse(); });
}

void json_document_refuses_what_its_reader_would_refuse() {
  const std::size_t limit = brine::LoadOptions{}.max_nesting();
  // The document's object and its "values" array are two levels.
  const brine::Value deepest = lists_around(brine::Value(std::int64_t{1}), limit - 2);
  EXPECT_EQ(brine::json_document_values(brine::json_document({deepest})).at(0), deepest);
  const brine::Value beyond = lists_around(brine::Value(std::int64_t{1}), limit - 1);
  hostile::expect_error<brine::LimitError>(
      [&] { brine::json_document({beyond}); },
      "4 x LoadOptions::max_depth (1000) (raise JsonOptions::max_depth");
  // A reference is {"$ref": id}: its id one level below it.
  hostile::expect_error<brine::LimitError>(
      [&] { brine::json_document({lists_around(brine::Value(brine::Reference{0}), limit - 2)}); },
      "JsonOptions::max_depth");

  brine::JsonOptions deeper;
  deeper.max_depth = 1001;
  brine::LoadOptions raised;
  raised.max_depth = 1001;
  EXPECT_EQ(brine::json_document_values(brine::json_document({beyond}, deeper), raised).at(0),
            beyond);
}

}  // namespace
