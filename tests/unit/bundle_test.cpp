// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle_test.cpp: bundles with data files: save, load without naming types, moves and copies,
// checksums, the atomic replace, identifiers, the files hook and the serialization context.

#include <brine/bundle.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

struct Tokenizer {
  BRINE_TYPE("bundle_test.Tokenizer", 1);
  std::string lang;
  brine::DataPath vocab;
  template <class A>
  void getstate(A& ar) const {
    ar("lang", lang)("vocab", vocab);
  }
  template <class A>
  void setstate(A& ar) {
    ar("lang", lang)("vocab", vocab);
  }
};

struct Model {
  BRINE_TYPE("bundle_test.Model", 1);
  std::vector<float> weights;
  Tokenizer tokenizer;
  brine::DataPath assets;  // a folder
  template <class A>
  void getstate(A& ar) const {
    ar("weights", weights)("tokenizer", tokenizer)("assets", assets);
  }
  template <class A>
  void setstate(A& ar) {
    ar("weights", weights)("tokenizer", tokenizer)("assets", assets);
  }
};

struct Base {
  BRINE_TYPE("bundle_test.Base", 1);
  virtual ~Base() = default;
  int b = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("b", b);
  }
  template <class A>
  void setstate(A& ar) {
    ar("b", b);
  }
};
struct Derived : Base {
  BRINE_TYPE("bundle_test.Derived", 1);
  int d = 0;
  template <class A>
  void getstate(A& ar) const {
    brine::base<Base>(ar, *this);
    ar("d", d);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Base>(ar, *this);
    ar("d", d);
  }
};

BRINE_REGISTER(Tokenizer);
BRINE_REGISTER(Model);
BRINE_REGISTER_POLYMORPHIC(Derived, Base);

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}
std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
nlohmann::json manifest_of(const fs::path& dir) {
  return nlohmann::json::parse(read_text(dir / "brine-bundle.json"));
}

/// A model whose vocabulary and asset folder live under `src`.
Model make_model(const fs::path& src) {
  write_text(src / "vocab.txt", "hello\nworld\n");
  write_text(src / "assets" / "a.txt", "A");
  write_text(src / "assets" / "sub" / "b.txt", "BB");
  Model m;
  m.weights = {1.5f, -2.0f, 3.25f};
  m.tokenizer.lang = "en";
  m.tokenizer.vocab = brine::DataPath(src / "vocab.txt");
  m.assets = brine::DataPath(src / "assets");
  return m;
}

TEST(DataPath, OutsideABundleRecordsAnAbsolutePath) {
  brine::DataPath p("relative/file.txt");
  EXPECT_TRUE(p.path().is_absolute());
  brine::Value state = brine::to_state(p);
  EXPECT_EQ(state.as_object().find("base")->as_text(), "absolute");
  EXPECT_EQ(brine::from_state<brine::DataPath>(state), p);
}

TEST(DataPath, IsLeftOutOfTheIdentifier) {
  Tokenizer a, b, c;
  a.lang = b.lang = "en";
  c.lang = "fr";
  a.vocab = brine::DataPath("/data/one/vocab.txt");
  b.vocab = brine::DataPath("/elsewhere/two.txt");
  c.vocab = a.vocab;
  EXPECT_EQ(brine::identifier(a), brine::identifier(b));
  EXPECT_NE(brine::identifier(a), brine::identifier(c));
}

TEST(Bundle, RoundTripsAnObjectWithItsDataFiles) {
  TempDir tmp;
  Model m = make_model(tmp / "src");
  fs::path dir = tmp / "bundle";
  brine::save_bundle(dir, m);

  EXPECT_TRUE(brine::is_bundle(dir));
  EXPECT_TRUE(fs::is_regular_file(dir / "values.brine"));
  EXPECT_EQ(read_text(dir / "data/0/tokenizer/vocab/vocab.txt"), "hello\nworld\n");
  EXPECT_EQ(read_text(dir / "data/0/assets/assets/sub/b.txt"), "BB");
  EXPECT_FALSE(fs::is_symlink(dir / "data/0/tokenizer/vocab/vocab.txt"));
  // Same file system: a hard link, not a copy.
  EXPECT_EQ(fs::hard_link_count(tmp / "src" / "vocab.txt"), 2u);

  brine::BundleManifest manifest = brine::read_bundle_manifest(dir);
  EXPECT_EQ(manifest.format_version, 1u);
  ASSERT_EQ(manifest.values.size(), 1u);
  EXPECT_EQ(manifest.values[0].type, "bundle_test.Model");
  ASSERT_EQ(manifest.files.size(), 3u);
  EXPECT_EQ(manifest.files[0].path, "data/0/tokenizer/vocab/vocab.txt");
  EXPECT_EQ(manifest.files[0].size, 12u);
  EXPECT_EQ(manifest.files[0].sha256,
            "4a1e67f2fe1d1cc7b31d0ca2ec441da4778203a036a77da10344c85e24ff0f92");

  auto values = brine::load_bundle(dir);
  ASSERT_EQ(values.size(), 1u);
  Model& loaded = values[0].get<Model>();
  EXPECT_EQ(loaded.weights, m.weights);
  EXPECT_EQ(loaded.tokenizer.lang, "en");
  EXPECT_EQ(loaded.tokenizer.vocab.base(), brine::PathBase::absolute);
  EXPECT_EQ(loaded.tokenizer.vocab.path(), dir / "data/0/tokenizer/vocab/vocab.txt");
  EXPECT_EQ(read_text(loaded.tokenizer.vocab.path()), "hello\nworld\n");
  EXPECT_EQ(read_text(loaded.assets.path() / "sub" / "b.txt"), "BB");
  // Moving the data did not change who the model is.
  EXPECT_EQ(brine::identifier(loaded), brine::identifier(m));
}

TEST(Bundle, ManifestHoldsTheSha256OfEachFile) {
  TempDir tmp;
  write_text(tmp / "f.txt", "abc");
  brine::save_bundle(tmp / "b", brine::DataPath(tmp / "f.txt"));
  auto m = manifest_of(tmp / "b");
  EXPECT_EQ(m["format"], "brine-bundle");
  EXPECT_EQ(m["format_version"], 1);
  ASSERT_EQ(m["files"].size(), 1u);
  EXPECT_EQ(m["files"][0]["path"], "data/0/f.txt");
  EXPECT_EQ(m["files"][0]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(m["files"][0]["size"], 3);
}

TEST(Bundle, LoadsWithoutNamingTheTypes) {
  TempDir tmp;
  Model m = make_model(tmp / "src");
  brine::save_bundle(tmp / "b", m, 42, std::string("note"));
  // A generic tool: it inspects kinds, names and state trees only.
  auto values = brine::load_bundle(tmp / "b");
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].kind(), brine::ValueKind::object);
  EXPECT_EQ(values[0].type_name(), "bundle_test.Model");
  EXPECT_EQ(values[0].version(), 1u);
  EXPECT_TRUE(values[0].has_instance());
  const brine::Object& o = values[0].state().as_object();
  ASSERT_NE(o.find("tokenizer"), nullptr);
  EXPECT_TRUE(values[1].state().is_number());
  EXPECT_EQ(values[1].as<int>(), 42);
  EXPECT_EQ(values[2].as<std::string>(), "note");
  EXPECT_FALSE(values[1].has_instance());
}

TEST(Bundle, AsConfigurationBuildsNothingUntilAsked) {
  TempDir tmp;
  brine::save_bundle(tmp / "b", make_model(tmp / "src"));
  brine::BundleLoadOptions options;
  options.as_instance = false;
  auto values = brine::load_bundle(tmp / "b", options);
  EXPECT_FALSE(values[0].has_instance());
  const brine::Value* vocab =
      values[0].state().as_object().find("tokenizer")->as_object().find("vocab");
  EXPECT_EQ(vocab->as_object().find("base")->as_text(), "absolute");
  EXPECT_EQ(fs::path(vocab->as_object().find("path")->as_path().generic),
            tmp / "b" / "data/0/tokenizer/vocab/vocab.txt");
  EXPECT_EQ(values[0].get<Model>().tokenizer.lang, "en");
  EXPECT_TRUE(values[0].has_instance());
}

TEST(Bundle, GetOfAnotherTypeNamesBothTypes) {
  TempDir tmp;
  brine::save_bundle(tmp / "b", make_model(tmp / "src"), 7);
  auto values = brine::load_bundle(tmp / "b");
  EXPECT_THROW_WITH(values[0].get<Tokenizer>(), brine::SchemaError,
                    "'bundle_test.Model' v1, not a 'bundle_test.Tokenizer'");
  EXPECT_THROW_WITH(values[1].get<Tokenizer>(), brine::SchemaError,
                    "integer, not an object of type 'bundle_test.Tokenizer'");
  try {
    values[0].get<Tokenizer>();
  } catch (const brine::Error& e) {
    EXPECT_EQ(e.code(), brine::errc::type_mismatch);
  }
}

TEST(Bundle, GetReachesARegisteredBase) {
  TempDir tmp;
  Derived d;
  d.b = 3;
  d.d = 4;
  brine::save_bundle(tmp / "b", d);
  auto values = brine::load_bundle(tmp / "b");
  EXPECT_EQ(values[0].get<Base>().b, 3);
  EXPECT_EQ(values[0].shared<Derived>()->d, 4);
}

TEST(Bundle, ContainersAndMapsOfObjects) {
  TempDir tmp;
  Model m = make_model(tmp / "src");
  write_text(tmp / "src" / "fr.txt", "bonjour");
  Tokenizer fr;
  fr.lang = "fr";
  fr.vocab = brine::DataPath(tmp / "src" / "fr.txt");
  std::map<std::string, Tokenizer> by_lang{{"en", m.tokenizer}, {"fr", fr}};
  std::vector<Model> models{m, m};
  brine::save_bundle(tmp / "b", models, by_lang);
  EXPECT_EQ(read_text(tmp / "b" / "data/1/fr/vocab/fr.txt"), "bonjour");
  EXPECT_TRUE(fs::exists(tmp / "b" / "data/0/1/tokenizer/vocab/vocab.txt"));

  auto values = brine::load_bundle(tmp / "b");
  auto loaded_models = values[0].as<std::vector<Model>>();
  ASSERT_EQ(loaded_models.size(), 2u);
  EXPECT_EQ(loaded_models[1].tokenizer.vocab.path(),
            tmp / "b" / "data/0/1/tokenizer/vocab/vocab.txt");
  auto loaded_map = values[1].as<std::map<std::string, Tokenizer>>();
  EXPECT_EQ(read_text(loaded_map.at("fr").vocab.path()), "bonjour");
}

struct Weights {
  BRINE_TYPE("bundle_test.Weights", 1);
  brine::Tensor w;
  brine::DataPath config;
  template <class A>
  void getstate(A& ar) const {
    ar("w", w)("config", config);
  }
  template <class A>
  void setstate(A& ar) {
    ar("w", w)("config", config);
  }
};
BRINE_REGISTER(Weights);

TEST(Bundle, HoldsTensorsBesideDataFiles) {
  TempDir tmp;
  write_text(tmp / "config.json", "{}");
  Weights w;
  w.w = brine::Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  w.config = brine::DataPath(tmp / "config.json");
  brine::save_bundle(tmp / "b", w);
  auto values = brine::load_bundle(tmp / "b");
  const Weights& loaded = values[0].get<Weights>();
  EXPECT_EQ(loaded.w, w.w);
  EXPECT_EQ(read_text(loaded.config.path()), "{}");
}

TEST(Bundle, MovedAndCopiedBundlesResolveToTheirNewPlace) {
  TempDir tmp;
  brine::save_bundle(tmp / "b", make_model(tmp / "src"));
  fs::remove_all(tmp / "src");  // nothing may point back at the sources

  fs::create_directories(tmp / "elsewhere");
  fs::rename(tmp / "b", tmp / "elsewhere" / "moved");
  auto moved = brine::load_bundle(tmp / "elsewhere" / "moved");
  EXPECT_EQ(moved[0].get<Model>().tokenizer.vocab.path(),
            tmp / "elsewhere" / "moved" / "data/0/tokenizer/vocab/vocab.txt");
  EXPECT_EQ(read_text(moved[0].get<Model>().tokenizer.vocab.path()), "hello\nworld\n");

  fs::copy(tmp / "elsewhere" / "moved", tmp / "copy", fs::copy_options::recursive);
  fs::remove_all(tmp / "elsewhere");
  auto copied = brine::load_bundle(tmp / "copy");
  EXPECT_EQ(copied[0].get<Model>().assets.path(), tmp / "copy" / "data/0/assets/assets");
  EXPECT_EQ(read_text(copied[0].get<Model>().assets.path() / "a.txt"), "A");
}

TEST(Bundle, AChangedDataFileFailsItsChecksum) {
  TempDir tmp;
  brine::save_bundle(tmp / "b", make_model(tmp / "src"));
  fs::path vocab = tmp / "b" / "data/0/tokenizer/vocab/vocab.txt";
  fs::remove(vocab);  // a hard link: rewrite a fresh file, not the source's inode
  write_text(vocab, "hello\nWorld\n");
  EXPECT_THROW_WITH(brine::load_bundle(tmp / "b"), brine::FormatError,
                    "does not match its SHA-256");
  EXPECT_THROW_WITH(brine::verify_bundle(tmp / "b"), brine::FormatError, "vocab.txt");
  write_text(vocab, "short");
  EXPECT_THROW_WITH(brine::load_bundle(tmp / "b"), brine::FormatError, "holds 5 bytes");
  brine::BundleLoadOptions trusting;
  trusting.verify_data_files = false;
  EXPECT_EQ(brine::load_bundle(tmp / "b", trusting).size(), 1u);
}

TEST(Bundle, AMissingDataFileIsAnIoError) {
  TempDir tmp;
  brine::save_bundle(tmp / "b", make_model(tmp / "src"));
  fs::remove(tmp / "b" / "data/0/assets/assets/a.txt");
  EXPECT_THROW_WITH(brine::load_bundle(tmp / "b"), brine::IoError, "is missing");
  Model m;
  m.tokenizer.vocab = brine::DataPath(tmp / "nowhere.txt");
  EXPECT_THROW_WITH(brine::save_bundle(tmp / "c", m), brine::IoError, "is missing");
  EXPECT_FALSE(fs::exists(tmp / "c"));
}

TEST(Bundle, ANewerFormatIsRefused) {
  TempDir tmp;
  brine::save_bundle(tmp / "b", 1);
  auto m = manifest_of(tmp / "b");
  m["format_version"] = 2;
  write_text(tmp / "b" / "brine-bundle.json", m.dump());
  EXPECT_THROW_WITH(brine::load_bundle(tmp / "b"), brine::VersionError, "bundle format version 2");
  write_text(tmp / "b" / "brine-bundle.json", "{\"format\": 3");
  EXPECT_THROW_WITH(brine::load_bundle(tmp / "b"), brine::FormatError, "not valid JSON");
  write_text(tmp / "b" / "brine-bundle.json", "{\"format\": \"zip\"}");
  EXPECT_THROW_WITH(brine::read_bundle_manifest(tmp / "b"), brine::FormatError, "brine-bundle");
}

TEST(Bundle, AManifestThatDisagreesWithTheArchiveIsRefused) {
  TempDir tmp;
  brine::save_bundle(tmp / "b", make_model(tmp / "src"));
  auto m = manifest_of(tmp / "b");
  m["values"][0]["type"] = "bundle_test.Tokenizer";
  write_text(tmp / "b" / "brine-bundle.json", m.dump());
  EXPECT_THROW_WITH(brine::load_bundle(tmp / "b"), brine::FormatError, "the manifest lists");
}

TEST(Bundle, ASecondSaveReplacesTheFirstWhole) {
  TempDir tmp;
  Model m = make_model(tmp / "src");
  brine::save_bundle(tmp / "b", m);
  m.weights = {9.0f};
  m.assets = brine::DataPath();
  brine::save_bundle(tmp / "b", m);
  auto values = brine::load_bundle(tmp / "b");
  EXPECT_EQ(values[0].get<Model>().weights, std::vector<float>{9.0f});
  EXPECT_FALSE(fs::exists(tmp / "b" / "data/0/assets"));
  // No temporary or old folder is left next to it.
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(tmp.path())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"b", "src"}));
}

TEST(Bundle, ReSavingALoadedBundleOverItselfKeepsItsFiles) {
  TempDir tmp;
  brine::save_bundle(tmp / "b", make_model(tmp / "src"));
  fs::remove_all(tmp / "src");
  Model loaded = brine::load_bundle(tmp / "b")[0].get<Model>();
  loaded.weights.push_back(1.0f);
  brine::save_bundle(tmp / "b", loaded);
  auto again = brine::load_bundle(tmp / "b");
  EXPECT_EQ(again[0].get<Model>().weights.size(), 4u);
  EXPECT_EQ(read_text(again[0].get<Model>().tokenizer.vocab.path()), "hello\nworld\n");
}

TEST(Bundle, RefusesToReplaceAFolderThatIsNotABundle) {
  TempDir tmp;
  write_text(tmp / "precious" / "thesis.tex", "years of work");
  EXPECT_THROW_WITH(brine::save_bundle(tmp / "precious", 1), brine::IoError, "not a bundle");
  EXPECT_EQ(read_text(tmp / "precious" / "thesis.tex"), "years of work");
  fs::create_directories(tmp / "empty");
  brine::save_bundle(tmp / "empty", 1);
  EXPECT_EQ(brine::load_bundle(tmp / "empty")[0].as<int>(), 1);
}

TEST(Bundle, RefusesASymlinkLeadingOutOfADataFolder) {
  TempDir tmp;
  write_text(tmp / "secret.txt", "secret");
  write_text(tmp / "folder" / "ok.txt", "ok");
  fs::create_symlink(tmp / "secret.txt", tmp / "folder" / "leak.txt");
  EXPECT_THROW_WITH(brine::save_bundle(tmp / "b", brine::DataPath(tmp / "folder")),
                    brine::FormatError, "leads outside it");
  EXPECT_FALSE(fs::exists(tmp / "b"));
  // A link that stays inside the folder is copied as the file it names.
  fs::remove(tmp / "folder" / "leak.txt");
  fs::create_symlink(tmp / "folder" / "ok.txt", tmp / "folder" / "alias.txt");
  brine::save_bundle(tmp / "b", brine::DataPath(tmp / "folder"));
  EXPECT_FALSE(fs::is_symlink(tmp / "b" / "data/0/folder/alias.txt"));
  EXPECT_EQ(read_text(tmp / "b" / "data/0/folder/alias.txt"), "ok");
}

TEST(Bundle, RefusesADataFolderThatHoldsTheBundle) {
  TempDir tmp;
  write_text(tmp / "project" / "a.txt", "a");
  EXPECT_THROW_WITH(brine::save_bundle(tmp / "project" / "b", brine::DataPath(tmp / "project")),
                    brine::FormatError, "holds the bundle being saved");
  EXPECT_FALSE(fs::exists(tmp / "project" / "b"));
}

struct Private {
  BRINE_TYPE("bundle_test.Private", 3);
  int x = 0;
  brine::DataPath file;
  template <class A>
  void getstate(A& ar) const {
    ar("x", x)("file", file);
  }
  template <class A>
  void setstate(A& ar) {
    ar("x", x)("file", file);
  }
};

// A tool that registered none of the bundle's types still reads it as configurations, and
// refuses, with a typed error, only to build them.
TEST(Bundle, AToolWithoutTheTypesReadsConfigurations) {
  TempDir tmp;
  write_text(tmp / "f.txt", "f");
  brine::Registry writer_registry;
  writer_registry.add<Private>();
  Private p;
  p.x = 5;
  p.file = brine::DataPath(tmp / "f.txt");
  brine::BundleSaveOptions save;
  save.registry = &writer_registry;
  brine::save_bundle_with(tmp / "b", save, p);

  brine::Registry tool_registry;  // knows nothing
  brine::BundleLoadOptions load;
  load.registry = &tool_registry;
  load.as_instance = false;
  brine::verify_bundle(tmp / "b", load);
  auto values = brine::load_bundle(tmp / "b", load);
  EXPECT_EQ(values[0].type_name(), "bundle_test.Private");
  EXPECT_EQ(values[0].version(), 3u);
  EXPECT_EQ(values[0].state().as_object().find("x")->as_int64(), 5);
  load.as_instance = true;
  EXPECT_THROW_WITH(brine::load_bundle(tmp / "b", load), brine::SchemaError, "bundle_test.Private");
}

// A context that always copies, into a folder of its own choosing.
class CopyingContext : public brine::SerializationContext {
 public:
  int calls = 0;
  std::string place(const fs::path& source, const std::string& relative_target,
                    const fs::path& bundle_dir) override {
    ++calls;
    std::string target = "files/" + std::to_string(calls) + "-" + source.filename().string();
    fs::create_directories((bundle_dir / target).parent_path());
    fs::copy(source, bundle_dir / target, fs::copy_options::recursive);
    EXPECT_EQ(relative_target.rfind("data/0/", 0), 0u);
    return target;
  }
};

TEST(Bundle, ASerializationContextPlacesTheFiles) {
  TempDir tmp;
  Model m = make_model(tmp / "src");
  CopyingContext context;
  brine::BundleSaveOptions options;
  options.context = &context;
  brine::save_bundle_with(tmp / "b", options, m);
  EXPECT_EQ(context.calls, 2);
  EXPECT_EQ(fs::hard_link_count(tmp / "b" / "files/1-vocab.txt"), 1u);
  auto values = brine::load_bundle(tmp / "b");
  EXPECT_EQ(values[0].get<Model>().tokenizer.vocab.path(), tmp / "b" / "files/1-vocab.txt");
  EXPECT_EQ(read_text(values[0].get<Model>().assets.path() / "sub/b.txt"), "BB");
}

class EscapingContext : public brine::SerializationContext {
 public:
  std::string place(const fs::path&, const std::string&, const fs::path&) override {
    return "../outside";
  }
};

TEST(Bundle, AContextCannotPlaceAFileOutsideTheBundle) {
  TempDir tmp;
  EscapingContext context;
  brine::BundleSaveOptions options;
  options.context = &context;
  EXPECT_THROW_WITH(brine::save_bundle_with(tmp / "b", options, make_model(tmp / "src")),
                    brine::FormatError, "climbs out of the bundle");
}

struct Annotated {
  BRINE_TYPE("bundle_test.Annotated", 1);
  brine::DataPath main;
  brine::DataPath cache;
  template <class A>
  void getstate(A& ar) const {
    ar("main", main)("cache", cache);
  }
  template <class A>
  void setstate(A& ar) {
    ar("main", main)("cache", cache);
  }
};
BRINE_REGISTER(Annotated);

TEST(Bundle, AFilesHookRenamesExcludesAndAddsFiles) {
  TempDir tmp;
  write_text(tmp / "w.bin", "weights");
  write_text(tmp / "cache.bin", "cache");
  write_text(tmp / "README.md", "# model");
  brine::Registry& registry = brine::default_registry();
  fs::path readme = tmp / "README.md";
  brine::add_bundle_files_hook<Annotated>(
      [readme](const Annotated& a, brine::BundleFiles& files) {
        EXPECT_EQ(a.main.path().filename(), "w.bin");
        files.rename("main", "model.bin");
        files.exclude("cache");
        files.add(readme, "README.md");
      },
      registry);
  Annotated a;
  a.main = brine::DataPath(tmp / "w.bin");
  a.cache = brine::DataPath(tmp / "cache.bin");
  brine::save_bundle(tmp / "b", a);
  EXPECT_EQ(read_text(tmp / "b" / "data/0/main/model.bin"), "weights");
  EXPECT_FALSE(fs::exists(tmp / "b" / "data/0/cache"));
  auto values = brine::load_bundle(tmp / "b");
  Annotated& loaded = values[0].get<Annotated>();
  EXPECT_EQ(loaded.main.path(), tmp / "b" / "data/0/main/model.bin");
  EXPECT_EQ(loaded.cache.path(), tmp / "cache.bin");  // excluded: still the absolute source
  ASSERT_EQ(values[0].extra_files().size(), 1u);
  EXPECT_EQ(values[0].extra_files()[0].first, "data/0/README.md");
  EXPECT_EQ(read_text(values[0].extra_files()[0].second), "# model");
}

}  // namespace
