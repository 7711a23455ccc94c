// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_regression_test.cpp: inputs the fuzzers found, replayed through the fuzz targets
// themselves (compiled here without libFuzzer), so every build checks them, with the
// sanitizers when the build has them.

#include "../../fuzz/fuzz_binary_reader.cpp"
// The other targets without their entry points (a program has one LLVMFuzzerTestOneInput):
// each is called by its one_input function.
#define BRINE_FUZZ_REPLAY 1
#include <cctype>
#include <exception>
#include <string>

#include "../../fuzz/fuzz_bundle_manifest.cpp"
#include "../../fuzz/fuzz_json_reader.cpp"
#include "../../fuzz/fuzz_migration_file.cpp"
#include "../../fuzz/fuzz_npy.cpp"
#include "../../fuzz/fuzz_npz.cpp"
#include "../../fuzz/fuzz_safetensors.cpp"
#include "../../fuzz/fuzz_stable_reader.cpp"
#include "hostile_support.hpp"
#include "test_util.hpp"

namespace {

std::string from_hex(const std::string& hex) {
  std::string bytes;
  int high = -1;
  for (char ch : hex) {
    if (std::isspace(static_cast<unsigned char>(ch))) continue;
    int v = std::isdigit(static_cast<unsigned char>(ch))
                ? ch - '0'
                : std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      bytes.push_back(static_cast<char>(high << 4 | v));
      high = -1;
    }
  }
  EXPECT_EQ(high, -1) << "odd number of hex digits";
  return bytes;
}

// What the fuzzer does with one input; anything but brine::Error escaping is a failure here
// (the fuzzer would report it as a crash).
void replay(const std::string& bytes) {
  try {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  } catch (const std::exception& e) {
    ADD_FAILURE() << hostile::type_name(typeid(e)) << " escaped the fuzz target: " << e.what();
  }
}

// The same for the targets included without their entry points.
void replay_with(void (*one_input)(std::string_view), const std::string& bytes) {
  try {
    one_input(bytes);
  } catch (const std::exception& e) {
    ADD_FAILURE() << hostile::type_name(typeid(e)) << " escaped the fuzz target: " << e.what();
  }
}

brine::Buffer seed_like(const std::function<void(brine::BinaryWriter&)>& write) {
  brine::Registry registry;
  fuzz::register_reader_types(registry);
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::BinaryWriter writer(sink, registry);
  write(writer);
  writer.finish();
  return out;
}

// The target itself must take valid archives and junk without failing.
TEST(FuzzRegression, TargetTakesValidArchivesAndJunk) {
  fuzz::Doc doc;
  doc.title = "t";
  doc.more_markers.resize(2);
  brine::Buffer valid = seed_like([&](brine::BinaryWriter& w) {
    w.write(doc);
    w.write(std::string("second"));
  });
  replay(std::string(valid.view()));
  replay("");
  replay(std::string(valid.view()).substr(0, 40));
  replay(
      "\x89"
      "BRINE\r\n\x01\x00\x01\x00");
}

// Regression: fuzz crash (leak: the shared_ptr cycle of a Branch and its edge, built before
// an overlong varint failed the read of std::shared_ptr<fuzz::Node>, was never freed)
TEST(FuzzRegression, CycleBuiltBeforeAFailureIsFreed) {
  replay(from_hex(R"(
      89425249 4e450d0a 01000100 13010001 b5e24da8 4b7c4d61 01010966 757a7a2e
      4e6f6465 012c0305 6c616265 6c100565 64676573 20310966 757a7a2e 4e6f6465
      06706172 656e7433 0966757a 7a2e4e6f 6465020b 31096675 7a7a2e4e 6f646501
      00010b66 757a7a2e 4272616e 6368014f 05056c61 62656c10 05656467 65732031
      0966757a 7a2e4e6f 64650670 6172656e 74330966 757a7a2e 4e6f6465 056f776e
      65643209 66757a7a 2e4e6f64 65056d61 79626524 31096675 7a7a2e4e 6f646502
      01610201 00010966 757a7a2e 4c656166 01340405 6c616265 6c100565 64676573
      20310966 757a7a2e 4e6f6465 06706172 656e7433 0966757a 7a2e4e6f 64650677
      65696768 740b0301 62010200 00000000 00000040 01010163 01040200 01030000
      00000000 000000ff ffffffff ffffffff 01000001 03100000 02fdd3a5 ad822251
      76130100 00000000 00010000 00000000 00)"));
}

// Regression: fuzz crash (stack overflow: fuzz.Branch's recorded layout turned 'owned' from
// a unique into a weak pointer; the value went through the state model, where a back
// reference to the Branch itself landed in its own unique_ptr: a Branch owning itself,
// destroyed recursively -- and a double delete)
TEST(FuzzRegression, BackReferenceIntoAUniquePointerViaTheStatePath) {
  replay(from_hex(R"(
      89425249 4e450d0a 01000100 13010001 b5e24da8 607c4d61 01010966 757a7a2e
      4e6f6465 012c0305 6c616265 6c100565 64676573 20310966 757a7a2e 4e6f6465
      06706172 656e7433 0966757a 7a2e4e6f 6465020b 31096675 7a7a2e4e 6f646501
      00010b66 757a7a2e 4272616e 6368014f 05056c61 62656c10 05656467 65732031
      0966757a 7a2e4e6f 64650670 6172656e 74330966 757a7a2e 4e6f6465 056f776e
      65643309 66757a7a 2e4e6f64 65056d61 79626524 31096675 7a7a2e4e 6f646502
      01610201 00010966 757a7a2e 4c656166 01340405 6c616265 6c100565 64676573
      20310966 757a7a2e 4e6f6465 06706172 656e7433 0966757a 7a2e4e6f 64650677
      65696768 740b0300 00010201 62000000 00000040 01010163 01040202 010300fd
      91fb48ff 7f000000 00010310 000002fd d3a5ad82 22517613 01000000 00000001
      00000000 000000)"));
}

// Regression: fuzz crash (timeout, 3.5 GB: from a 617-byte stream, read_value decoded a list
// of 268,435,453 field-less fuzz.Tag objects; zero-size elements cost no input, and a
// stream's count was bounded by max_elements only). The quick form is
// BinaryLengthBomb.StreamCountOfZeroSizeElementsIsRefusedLikeFromMemory.
TEST(FuzzRegression, StreamListOfZeroSizeObjects) {
  replay(from_hex(R"(
      894252494e450d0a01000100c7010001d7c0712a8e1c689d01030866757a7a2e
      446f6301f30113057469746c651004666c616701046d6f646506047461677320
      10076e756d6265727320090462697473200106706f696e74732210300a66757a
      7a2e506f696e74056e616d6573220410036964732303046e6f74652410066368
      6f69636526030510300a66757a7a2e506f696e7406747269706c652503060a10
      07636f726e6572732102300a66757a7a2e506f696e7403726177130774696d65
      6f75742701e80705056f776e6564320a66757a7a2e506f696e74066f72696769
      6e300a66757a7a2e506f696e74076d6172706572732103300866757a7a2e5461
      670c6d6f72655f6d61726b65727320300866757a7a2e5461670a66757a7a2e50
      6f696e7401070201780401790b0866757a7a2e546167010100020a300866757a
      7a2e446f63057469746c65010102016102626202010000000000000000000000
      0001000003010001010170010000000000000000000440010700000005736576
      656e02ffff030001046e6f74650203000000000000000000f0bf090000c03f01
      740000000000000000000000000400000000000000000010400200ffdc050000
      000000000103050000000000000000001440fdffffff000000000000d03f020a
      000001f1d88f627c511908020110067365636f6e64270000012de0c4730da275
      6102112026021024300a66757a7a2e506f696e74030001780100010101000000
      000000000000f03f19000001526f6fe83c27f8d902292204200b02feffffff00
      0100000001000000000000e03f1000000231655ea6052d078611020000000000
      000400000000000000)"));
}

// The new targets must take valid inputs and junk without failing.
TEST(FuzzRegression, StableJsonAndMigrationTargetsTakeValidInputsAndJunk) {
  brine::Registry registry;
  fuzz::register_reader_types(registry);
  brine::Buffer stable = brine::to_stable(fuzz::sample_doc(), registry);
  replay_with(fuzz::stable_reader::one_input, std::string(stable.view()));
  replay_with(fuzz::stable_reader::one_input, std::string(stable.view()).substr(0, 40));
  replay_with(fuzz::stable_reader::one_input, "");
  replay_with(fuzz::json_reader::one_input, brine::to_json_archive(fuzz::sample_doc(), registry));
  replay_with(fuzz::json_reader::one_input, "{\"format\": ");
  replay_with(fuzz::migration_file::one_input,
              std::string(R"({"brine_migrations": 1, "type": "fuzz.Point", "version": 1,
                  "steps": [{"from": 0, "ops": [{"op": "add_field", "name": "y", "default": 0.5}]}]})") +
                  std::string(1, '\0') + R"({"$type": "fuzz.Point", "$version": 0, "x": 2})");
  replay_with(fuzz::migration_file::one_input, std::string("{\0}", 3));
}

// The manifest and definition target: valid documents are read as such (so the replay
// reaches past the envelope checks), and every truncation of them, and junk, is a verdict.
TEST(FuzzRegression, BundleManifestTargetTakesValidDocumentsAndJunk) {
  const std::string manifest =
      R"({"format": "brine-bundle", "format_version": 1, "brine_version": "0.1.0",
          "values": [{"kind": "object", "type": "demo.Model", "version": 2}],
          "files": [{"path": "data/0/w.bin", "size": 12, "role": "data", "value": 0,
                     "owner": "w", "sha256": "00"}]})";
  const std::string definition =
      R"({"format": "brine-model", "format_version": 1, "brine_version": "0.1.0",
          "value": {"w": {"$tensor_ref": "w"}, "b": [{"$tensor_ref": "b"}], "n": 3}})";
  const auto& folders = fuzz::bundle_manifest::folders();
  fuzz::bundle_manifest::write(folders.bundle / "brine-bundle.json", manifest);
  const brine::BundleManifest m = brine::read_bundle_manifest(folders.bundle);
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].path, "data/0/w.bin");
  EXPECT_EQ(m.values.at(0).type, "demo.Model");
  fuzz::bundle_manifest::write(folders.model / "brine.json", definition);
  const brine::Value state = brine::load_pretrained_state(folders.model);
  EXPECT_EQ(state.as_map().at("w").as_tensor().shape(), (std::vector<std::int64_t>{2, 3}));

  for (const std::string* text : {&manifest, &definition})
    for (std::size_t n = 0; n <= text->size(); ++n)
      replay_with(fuzz::bundle_manifest::one_input, text->substr(0, n));
  replay_with(fuzz::bundle_manifest::one_input, std::string("\0\xff[[[[", 6));
  replay_with(fuzz::bundle_manifest::one_input, "[1, 2]");
}

// Regression: fuzz find in CI (bundle manifest: a number beyond double's range, 1e4649,
// escaped read_bundle_manifest as nlohmann::json::out_of_range and terminated the program)
TEST(FuzzRegression, BundleManifestNumberOverflowIsAFormatError) {
  const std::string text =
      R"({"format": "brine-bundle", "format_version": 1, "brine_version": "0.1.0",
  "values":1e4649b934ca495991b7852b855"}]})";
  replay_with(fuzz::bundle_manifest::one_input, text);
  const auto& folders = fuzz::bundle_manifest::folders();
  fuzz::bundle_manifest::write(folders.bundle / "brine-bundle.json",
                               R"({"format": "brine-bundle", "format_version": 1e400})");
  EXPECT_THROW_WITH(brine::read_bundle_manifest(folders.bundle), brine::FormatError,
                    "not valid JSON");
}

// Regression: fuzz find (migration file: a number beyond double's range, 1e4001, escaped
// parse_migrations as nlohmann::json::out_of_range instead of a brine::FormatError)
TEST(FuzzRegression, MigrationFileNumberOverflowIsAFormatError) {
  replay_with(fuzz::migration_file::one_input,
              R"({"brine_migrations": 1e4001, "type": "fuzz.Point", "version": 1})");
  EXPECT_THROW_WITH(brine::parse_migrations(R"({"brine_migrations": 1, "type": "a.B", "version": 2,
      "steps": [{"from": 1, "ops": [{"op": "add_field", "name": "n", "default": -1e400}]}]})",
                                            "a.B.json"),
                    brine::FormatError, "a.B.json");
}

// Regression: fuzz find (migration file target, by hand: stack overflow in nlohmann's dump()
// of an add_field default nested 200,000 lists deep; parsing the file is iterative, dumping
// the default for value_from_json is not)
TEST(FuzzRegression, MigrationFileDeepDefaultIsRefused) {
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  std::string file = R"({"brine_migrations": 1, "type": "a.B", "version": 2,
      "steps": [{"from": 1, "ops": [{"op": "add_field", "name": "n", "default": )" +
                     deep + "}]}]}";
  EXPECT_THROW_WITH(brine::parse_migrations(file, "a.B.json"), brine::FormatError,
                    "nesting deeper than");
  replay_with(fuzz::migration_file::one_input, file);
  // A default as deep as value_from_json takes still loads.
  std::string ok = std::string(999, '[') + std::string(999, ']');
  brine::MigrationSet set =
      brine::parse_migrations(R"({"brine_migrations": 1, "type": "a.B", "version": 2,
      "steps": [{"from": 1, "ops": [{"op": "add_field", "name": "n", "default": )" +
                              ok + "}]}]}");
  brine::Value v(brine::Object{"a.B", 1, {}, std::nullopt});
  set.upgrade(v);
  EXPECT_EQ(v.as_object().version, 2u);
  EXPECT_EQ(v.as_object().find("n")->kind(), brine::ValueKind::list);
}

// A stable document holding `value` (CBOR bytes) as its only value, with a valid checksum.
std::string stable_document_of(const std::string& value) {
  auto text = [](const std::string& s) {
    return std::string(1, static_cast<char>(0x60 + s.size())) + s;
  };
  std::string values = "\x9f" + value + "\xff";
  std::uint64_t sum = XXH3_64bits(values.data(), values.size());
  std::string checksum = "\x1b";
  for (int shift = 56; shift >= 0; shift -= 8) checksum += static_cast<char>(sum >> shift);
  return std::string("\xd9\xd9\xf7\xd9\x01\x00\xa4", 7) + text("format") +
         "\x6c"
         "brine-stable" +
         text("format_version") + "\x01" + text("values") + values + text("checksum") + checksum;
}

std::string repeated(const std::string& unit, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += unit;
  return out;
}

// Regression: fuzz find (stable reader target, by hand: stack overflow in the fuzz build --
// clang -O2 with ASan -- at 4000 levels of nested lists, maps or shared objects, each
// allowed by LoadOptions::max_nesting(); the inlined container cases and error messages
// made every level of Walker::scan and Walker::decode cost about 2 KiB of stack)
TEST(FuzzRegression, StableDocumentNestedToTheLimit) {
  const std::size_t levels = brine::LoadOptions{}.max_nesting() - 1;  // the values array is one
  const std::string null = "\xf6";
  const std::string lists = repeated("\x81", levels) + null;
  const std::string indefinite = repeated("\x9f", levels) + null + repeated("\xff", levels);
  const std::string maps = repeated(
                               "\xa1\x61"
                               "a",
                               levels) +
                           null;
  // Shareable object 't' v1 whose field 'f' holds the next: two levels each.
  const std::string objects = repeated(
                                  "\xd8\x1c\xd8\x1b\x83\x61t\x01\xa1\x61"
                                  "f",
                                  levels / 2) +
                              null;
  for (const std::string* value : {&lists, &indefinite, &maps, &objects}) {
    std::string document = stable_document_of(*value);
    EXPECT_EQ(brine::read_stable_values(document).size(), 1u);
    replay_with(fuzz::stable_reader::one_input, document);
  }
  hostile::expect_error<brine::LimitError>(
      [&] { brine::read_stable_values(stable_document_of("\x81" + lists)); }, "max_depth (1000)");
}

// The numpy targets take valid files and junk without failing.
TEST(FuzzRegression, NumpyTargetsTakeValidInputsAndJunk) {
  brine::StateDict dict;
  dict.insert("a", brine::Tensor::from_vector(std::vector<float>{1, 2, 3}));
  dict.insert("dir/b", brine::Tensor(brine::DType::complex128, {2, 2}));
  std::string npy = brine::npy_bytes(dict.at("a"));
  replay_with(fuzz::npy::one_input, npy);
  replay_with(fuzz::npy::one_input, npy.substr(0, 40));
  replay_with(fuzz::npy::one_input, "");
  for (bool compress : {false, true}) {
    std::string npz = brine::npz_bytes(dict, compress);
    replay_with(fuzz::npz::one_input, npz);
    replay_with(fuzz::npz::one_input, npz.substr(0, npz.size() / 2));
  }
  replay_with(fuzz::npz::one_input, "PK\x05\x06");
  // An object .npz goes through the object loader too, and round-trips there.
  brine::Object object;
  object.type = "fuzz.Model";
  object.version = 1;
  object.set("a", brine::Value(dict.at("a")));
  object.set("b", brine::Value(dict.at("a")));
  std::string npz = brine::npz_object_bytes(brine::Value(object));
  replay_with(fuzz::npz::one_input, npz);
  replay_with(fuzz::npz::one_input, npz.substr(0, npz.size() - 30));
}

// Regression: fuzz find (fuzz_npz: libzip's message for an archive it refused to open,
// which zip_error_strerror allocates inside the zip_error_t, leaked when it was thrown on).
// The local header's uncompressed size disagrees with the central directory's.
TEST(FuzzRegression, NpzRefusedAtOpenLeaksNothing) {
  brine::StateDict dict;
  dict.insert("x", brine::Tensor::from_vector(std::vector<double>{1, 2}));
  std::string npz = brine::npz_bytes(dict);
  npz[22] = static_cast<char>(npz[22] ^ 0x40);  // local header: uncompressed size
  EXPECT_THROW_WITH(brine::load_npz_from_memory(npz), brine::FormatError, "not a valid .npz");
  replay_with(fuzz::npz::one_input, npz);
}

TEST(FuzzRegression, SafetensorsTargetTakesValidFilesAndJunk) {
  brine::StateDict dict;
  brine::Tensor shared = brine::Tensor::from_vector(std::vector<float>{1, 2, 3});
  dict.insert("a", shared);
  dict.insert("b", shared);
  dict.insert("z", brine::Tensor(brine::DType::int8, {0}));
  dict.metadata = {{"format", "pt"}};
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::write_safetensors(sink, dict);
  std::string file(out.view());
  for (std::size_t cut : {file.size(), file.size() - 1, std::size_t{20}, std::size_t{8},
                          std::size_t{3}, std::size_t{0}})
    replay_with(fuzz::safetensors::one_input, file.substr(0, cut));
  replay_with(fuzz::safetensors::one_input, brine_test::corrupt(file, 9));
}

}  // namespace
