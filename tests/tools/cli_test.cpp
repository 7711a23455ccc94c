// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/cli_test.cpp: the `brine` command-line tool, run as a separate process on archives
// the library writes: exit codes, output schemas, round trips, migrations, damaged input.

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <brine/brine.hpp>
#include <brine/npz_object.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sample_types.hpp"
#include "test_util.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace brine_test;

// A type whose inferred layout depends on the value: the optional is empty in one value and
// set in another.
struct Note {
  BRINE_TYPE("rep.Note", 1);
  std::optional<std::string> text;
  int n = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("text", text)("n", n);
  }
  template <class A>
  void setstate(A& ar) {
    ar("text", text)("n", n);
  }
};

// ---------------------------------------------------------------------------------------
// Running the tool.

struct RunResult {
  int exit_code = -1;  // -1 when the process did not exit normally
  int signal = 0;      // the signal that ended it, or 0
  std::string out;
  std::string err;
};

std::string describe(const RunResult& r) {
  std::ostringstream s;
  s << "exit " << r.exit_code << ", signal " << r.signal << "\nstdout: " << r.out.substr(0, 2000)
    << "\nstderr: " << r.err.substr(0, 2000);
  return s.str();
}

// Runs the built tool with `args`, capturing stdout and stderr through pipes. Both pipes are
// drained together, so a tool that fills one while we wait on the other cannot deadlock.
// The tool gets this process's environment without BRINE_PROGRESS, plus `env` ("NAME=value").
RunResult run_brine(const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {}) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  std::vector<std::string> all{BRINE_CLI_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "BRINE_PROGRESS=", 15) != 0) env_strings.push_back(*e);
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, BRINE_CLI_PATH, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error(std::string("posix_spawn ") + BRINE_CLI_PATH + ": " +
                             std::strerror(rc));
  }
  RunResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// What a run with BRINE_PROGRESS=force printed: "brine: progress reading R of T bytes",
// "brine: progress writing W bytes", and last "brine: progress done, read R bytes, wrote W
// bytes".
struct ProgressReport {
  std::vector<std::uint64_t> read;     // R of each reading line
  std::vector<std::uint64_t> total;    // T of each reading line
  std::vector<std::uint64_t> written;  // W of each writing line
  bool done_last = false;              // the done line came last, and only once
  std::uint64_t done_read = 0, done_written = 0;
  std::size_t other_lines = 0;  // lines of no known shape
};

ProgressReport progress_report(const std::string& err) {
  ProgressReport report;
  const std::vector<std::string> lines = lines_of(err);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    unsigned long long a = 0, b = 0;
    char tail = 0;
    const char* line = lines[i].c_str();
    if (std::sscanf(line, "brine: progress reading %llu of %llu bytes%c", &a, &b, &tail) == 2) {
      report.read.push_back(a);
      report.total.push_back(b);
    } else if (std::sscanf(line, "brine: progress writing %llu bytes%c", &a, &tail) == 1) {
      report.written.push_back(a);
    } else if (std::sscanf(line, "brine: progress done, read %llu bytes, wrote %llu bytes%c", &a,
                           &b, &tail) == 2 &&
               i + 1 == lines.size()) {
      report.done_last = true;
      report.done_read = a;
      report.done_written = b;
    } else if (lines[i] != "brine: progress migrating") {
      ++report.other_lines;
    }
  }
  return report;
}

// The distinct figures strictly between 0 and `total`.
std::set<std::uint64_t> intermediate(const std::vector<std::uint64_t>& figures,
                                     std::uint64_t total) {
  std::set<std::uint64_t> out;
  for (std::uint64_t f : figures)
    if (f > 0 && f < total) out.insert(f);
  return out;
}

// ---------------------------------------------------------------------------------------
// Archives.

constexpr std::string_view kBinaryMagic{
    "\x89"
    "BRINE\r\n",
    8};

void write_bytes(const fs::path& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

// The values of an archive as the library itself reads them, with an empty registry: what
// the tool's output is checked against.
std::vector<brine::Value> library_values(const fs::path& path) {
  std::string bytes = brine::read_file(path);
  std::vector<brine::Value> out;
  if (bytes.compare(0, kBinaryMagic.size(), kBinaryMagic) == 0) {
    brine::MemorySource source(bytes);
    brine::Registry empty;
    brine::BinaryReader reader(source, empty);
    while (!reader.at_end()) out.push_back(reader.read_value());
    return out;
  }
  if (bytes.compare(0, 3, "\xD9\xD9\xF7") == 0) return brine::read_stable_values(bytes);
  return brine::json_document_values(bytes);
}

class CliTest : public ::testing::Test {
 protected:
  CliTest() { register_shapes(registry_); }

  // One value of Everything in each format: everything.brine, .brines, .json.
  void write_everything() {
    brine::save_binary(dir_ / "everything.brine", make_everything(), registry_);
    brine::save_stable(dir_ / "everything.brines", make_everything(), registry_);
    brine::save_json(dir_ / "everything.json", make_everything(), registry_);
  }

  // Two top-level values (a Scene, then an Everything) in the given file and format.
  void write_two_values(const fs::path& path, const std::string& format) {
    Scene scene = make_scene();
    Everything everything = make_everything();
    if (format == "binary") {
      brine::AtomicFileSink sink(path);
      brine::BinaryWriter writer(sink, registry_);
      writer.write(scene);
      writer.write(everything);
      writer.finish();
      sink.commit();
    } else if (format == "stable") {
      brine::AtomicFileSink sink(path);
      brine::StableWriter writer(sink, registry_);
      writer.write(scene);
      writer.write(everything);
      writer.finish();
      sink.commit();
    } else {
      brine::write_file_atomically(
          path, brine::json_document(
                    {brine::to_state(scene, registry_), brine::to_state(everything, registry_)}));
    }
  }

  fs::path path(const std::string& name) const { return dir_ / name; }

  TempDir dir_;
  brine::Registry registry_;
};

const char* const kFormats[] = {"binary", "stable", "json"};

std::string extension_of(const std::string& format) {
  return format == "binary" ? ".brine" : format == "stable" ? ".brines" : ".json";
}

std::string format_name(const std::string& format) { return "brine-" + format; }

// ---------------------------------------------------------------------------------------
// inspect

TEST_F(CliTest, InspectJsonReportsFormatTypesAndObjectCount) {
  write_everything();
  for (const char* name : {"everything.brine", "everything.brines", "everything.json"}) {
    SCOPED_TRACE(name);
    RunResult r = run_brine({"inspect", path(name).string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "");
    Json j = Json::parse(r.out);
    ASSERT_TRUE(j.is_object());
    std::string ext = fs::path(name).extension().string();
    EXPECT_EQ(j.at("format"), ext == ".brine"    ? "brine-binary"
                              : ext == ".brines" ? "brine-stable"
                                                 : "brine-json");
    // Binary archives are written in format version 2 since tensors (binary-v1.md §13).
    EXPECT_EQ(j.at("format_version"), ext == ".brine" ? 2 : 1);
    EXPECT_EQ(j.at("objects"), 1);
    EXPECT_EQ(j.at("bytes"), fs::file_size(path(name)));
    EXPECT_EQ(j.at("tensors"), Json::array());
    Json expected_types = Json::array(
        {{{"name", "test.Everything"}, {"version", 1}}, {{"name", "test.Inner"}, {"version", 1}}});
    EXPECT_EQ(j.at("types"), expected_types);
  }
}

// The JSON format version is found wherever the document puts it: after "values" (whose
// maps may hold keys of the same name), or written as 1.0.
TEST_F(CliTest, InspectFindsTheJsonFormatVersionInAnyKeyOrder) {
  const char* const documents[] = {
      R"({"values": [{"format_version": 7, "x": [{"format_version": 8}]}], "format": "brine-json",
          "format_version": 1})",
      R"({"format": "brine-json", "values": [], "format_version": 1.0})",
      R"({"format_version": 1, "format": "brine-json", "values": [{"format_version": 3}]})",
  };
  for (const char* document : documents) {
    SCOPED_TRACE(document);
    write_bytes(path("order.json"), document);
    RunResult r = run_brine({"inspect", "--json", path("order.json").string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(Json::parse(r.out).at("format_version"), 1);
  }
}

TEST_F(CliTest, InspectCountsEveryTopLevelValueAndEveryType) {
  for (const char* format : kFormats) {
    SCOPED_TRACE(format);
    fs::path file = path(std::string("two") + extension_of(format));
    write_two_values(file, format);
    RunResult r = run_brine({"inspect", "--json", file.string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json j = Json::parse(r.out);
    EXPECT_EQ(j.at("format"), format_name(format));
    EXPECT_EQ(j.at("objects"), 2);
    std::vector<std::string> names;
    for (const Json& t : j.at("types")) {
      names.push_back(t.at("name"));
      EXPECT_EQ(t.at("version"), 1);
    }
    for (const char* expected :
         {"test.Circle", "test.Everything", "test.Inner", "test.Scene", "test.Square"})
      EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end())
          << expected << " in " << r.out;
    // A binary archive's type table also names the base class no object is an instance of.
    EXPECT_EQ(std::find(names.begin(), names.end(), "test.Shape") != names.end(),
              std::string(format) == "binary")
        << r.out;
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end())) << r.out;
  }
}

TEST_F(CliTest, InspectPrintsReadableSummary) {
  write_everything();
  RunResult r = run_brine({"inspect", path("everything.brine").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("brine-binary, format version 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test.Everything v1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("objects:         1"), std::string::npos) << r.out;
}

// ---------------------------------------------------------------------------------------
// dump

TEST_F(CliTest, DumpPrintsEveryValueAsTheLibraryRendersIt) {
  for (const char* format : kFormats) {
    SCOPED_TRACE(format);
    fs::path file = path(std::string("two") + extension_of(format));
    write_two_values(file, format);
    std::vector<brine::Value> values = library_values(file);
    ASSERT_EQ(values.size(), 2u);
    RunResult r = run_brine({"dump", file.string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "");
    Json doc = Json::parse(r.out);
    EXPECT_EQ(doc.at("format"), "brine-json");
    ASSERT_EQ(doc.at("values").size(), 2u);
    for (std::size_t i = 0; i < values.size(); ++i)
      EXPECT_EQ(doc.at("values").at(i), Json::parse(brine::to_json(values[i]))) << i;
    // The dump is itself a loadable document holding the same values.
    EXPECT_EQ(brine::json_document_values(r.out), values);
  }
}

TEST_F(CliTest, DumpPrintsWhatConvertToJsonWrites) {
  write_two_values(path("two.brines"), "stable");
  RunResult c = run_brine({"convert", path("two.brines").string(), path("two.json").string()});
  ASSERT_EQ(c.exit_code, 0) << describe(c);
  RunResult d = run_brine({"dump", path("two.brines").string()});
  ASSERT_EQ(d.exit_code, 0) << describe(d);
  EXPECT_EQ(d.out, brine::read_file(path("two.json")));
}

TEST_F(CliTest, DumpOfTypedArchiveMatchesToState) {
  write_everything();
  brine::Value state = brine::to_state(make_everything(), registry_);
  for (const char* name : {"everything.brine", "everything.brines", "everything.json"}) {
    SCOPED_TRACE(name);
    RunResult r = run_brine({"dump", "--full", "--indent", "-1", path(name).string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "--indent -1 prints one line";
    std::vector<brine::Value> values = brine::json_document_values(r.out);
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(values[0], state) << brine::to_json(values[0]) << "\n---\n" << brine::to_json(state);
  }
}

// A std::string may hold bytes that are not UTF-8, and binary and stable archives keep them.
// `dump` is for reading: it shows each invalid byte as U+FFFD (docs/cli.md). `convert` to
// JSON writes an archive, which must not change data: it refuses, naming the field.
TEST_F(CliTest, DumpShowsTextThatIsNotUtf8AndConvertRefusesIt) {
  const std::string bad("ab\xff\xfe", 4);
  brine::save_stable(path("bad-text.brines"), Inner{1, bad}, registry_);
  brine::save_binary(path("bad-text.brine"), Inner{1, bad}, registry_);
  for (const char* name : {"bad-text.brines", "bad-text.brine"}) {
    SCOPED_TRACE(name);
    RunResult d = run_brine({"dump", path(name).string()});
    ASSERT_EQ(d.exit_code, 0) << describe(d);
    EXPECT_EQ(d.signal, 0);
    std::vector<brine::Value> values = brine::json_document_values(d.out);
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(values[0].as_object().find("s")->as_text(), "ab\xef\xbf\xbd\xef\xbf\xbd");

    fs::path out = path(std::string(name) + ".json");
    RunResult c = run_brine({"convert", path(name).string(), out.string()});
    EXPECT_EQ(c.exit_code, 1) << describe(c);
    EXPECT_EQ(c.signal, 0);
    EXPECT_EQ(lines_of(c.err).size(), 1u) << describe(c);
    EXPECT_NE(c.err.find("not valid UTF-8"), std::string::npos) << describe(c);
    EXPECT_NE(c.err.find("field 'values[0].s'"), std::string::npos) << describe(c);
    EXPECT_FALSE(fs::exists(out));
  }
}

// ---------------------------------------------------------------------------------------
// verify

TEST_F(CliTest, VerifyAcceptsWholeArchives) {
  write_everything();
  for (const char* format : kFormats)
    write_two_values(path(std::string("two") + extension_of(format)), format);
  for (const char* name : {"everything.brine", "everything.brines", "everything.json", "two.brine",
                           "two.brines", "two.json"}) {
    SCOPED_TRACE(name);
    RunResult r = run_brine({"verify", path(name).string()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find(": ok ("), std::string::npos) << r.out;
  }
  RunResult quiet =
      run_brine({"verify", "-q", path("two.brine").string(), path("two.brines").string()});
  EXPECT_EQ(quiet.exit_code, 0) << describe(quiet);
  EXPECT_EQ(quiet.out, "");
}

// Verifies `files` in as few launches as the command line allows (verify takes several
// files), and expects each to be reported bad on its own stderr line. When a launch dies by
// a signal, the files are rerun one by one so the failure names the culprit.
void expect_all_rejected(const std::vector<fs::path>& files, bool must_reject) {
  constexpr std::size_t kBatch = 256;
  for (std::size_t begin = 0; begin < files.size(); begin += kBatch) {
    std::size_t end = std::min(files.size(), begin + kBatch);
    std::vector<std::string> args{"verify", "--quiet"};
    for (std::size_t i = begin; i < end; ++i) args.push_back(files[i].string());
    RunResult r = run_brine(args);
    if (r.signal != 0 || r.exit_code < 0 || r.exit_code > 1) {
      for (std::size_t i = begin; i < end; ++i) {
        RunResult one = run_brine({"verify", "--quiet", files[i].string()});
        ASSERT_TRUE(one.signal == 0 && (one.exit_code == 0 || one.exit_code == 1))
            << files[i] << ": " << describe(one);
      }
      FAIL() << "a batch failed but no single file does: " << describe(r);
    }
    std::vector<std::string> lines = lines_of(r.err);
    if (must_reject) {
      EXPECT_EQ(r.exit_code, 1) << describe(r);
      EXPECT_EQ(lines.size(), end - begin) << "one line per damaged file\n" << describe(r);
    }
    EXPECT_EQ(r.exit_code == 1, !lines.empty()) << describe(r);
    for (const std::string& line : lines) EXPECT_EQ(line.rfind("brine: ", 0), 0u) << line;
  }
}

// Single-file launches on a sample of `files`: exit 1, exactly one line, no signal.
void expect_each_rejected_alone(const std::vector<fs::path>& files, std::size_t samples) {
  std::size_t stride = std::max<std::size_t>(1, files.size() / samples);
  for (std::size_t i = 0; i < files.size(); i += stride) {
    RunResult r = run_brine({"verify", files[i].string()});
    EXPECT_EQ(r.signal, 0) << files[i] << ": " << describe(r);
    EXPECT_EQ(r.exit_code, 1) << files[i] << ": " << describe(r);
    EXPECT_EQ(lines_of(r.err).size(), 1u) << files[i] << ": " << describe(r);
  }
}

TEST_F(CliTest, VerifyRejectsEveryTruncation) {
  for (const char* format : {"binary", "stable"}) {
    SCOPED_TRACE(format);
    fs::path file = path(std::string("two") + extension_of(format));
    write_two_values(file, format);
    std::string bytes = brine::read_file(file);
    fs::path damaged_dir = path(std::string("truncated-") + format);
    fs::create_directories(damaged_dir);
    std::vector<fs::path> damaged;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      damaged.push_back(damaged_dir / ("t" + std::to_string(n) + extension_of(format)));
      write_bytes(damaged.back(), std::string_view(bytes).substr(0, n));
    }
    expect_all_rejected(damaged, true);
    expect_each_rejected_alone(damaged, 40);
  }
}

TEST_F(CliTest, VerifyRejectsFlippedByteAtEveryOffset) {
  for (const char* format : {"binary", "stable"}) {
    SCOPED_TRACE(format);
    fs::path file = path(std::string("two") + extension_of(format));
    write_two_values(file, format);
    std::string bytes = brine::read_file(file);
    fs::path damaged_dir = path(std::string("flipped-") + format);
    fs::create_directories(damaged_dir);
    std::vector<fs::path> damaged;
    for (std::size_t at = 0; at < bytes.size(); ++at) {
      damaged.push_back(damaged_dir / ("f" + std::to_string(at) + extension_of(format)));
      write_bytes(damaged.back(), corrupt(bytes, at));
    }
    expect_all_rejected(damaged, true);
    expect_each_rejected_alone(damaged, 40);
  }
}

// JSON has no checksum: a flipped byte inside a string is a different valid document. What
// holds is that the tool never dies, and that cutting into the document is refused.
TEST_F(CliTest, VerifySurvivesDamagedJsonDocuments) {
  fs::path file = path("two.json");
  write_two_values(file, "json");
  std::string bytes = brine::read_file(file);
  std::size_t last_brace = bytes.rfind('}');
  std::vector<fs::path> cut, flipped;
  fs::create_directories(path("json-damage"));
  for (std::size_t n = 0; n <= last_brace; n += 3) {
    cut.push_back(path("json-damage") / ("t" + std::to_string(n) + ".json"));
    write_bytes(cut.back(), std::string_view(bytes).substr(0, n));
  }
  for (std::size_t at = 0; at < bytes.size(); at += 3) {
    flipped.push_back(path("json-damage") / ("f" + std::to_string(at) + ".json"));
    write_bytes(flipped.back(), corrupt(bytes, at));
  }
  expect_all_rejected(cut, true);
  expect_all_rejected(flipped, false);
}

// A JSON syntax error names the file, the line and column, in brine's words, not the JSON
// library's ("[json.exception.parse_error.101] ... syntax error while parsing value").
TEST_F(CliTest, JsonSyntaxErrorsNameTheFileInBrinesWords) {
  fs::path file = path("broken.json");
  write_bytes(file, "{\"format\": \"brine-json\", \"format_version\": 1,\n \"values\": [nul]}\n");
  for (const char* command : {"inspect", "dump", "verify", "convert"}) {
    SCOPED_TRACE(command);
    std::vector<std::string> args{command, file.string()};
    if (std::string(command) == "convert") args.push_back(path("out.brine").string());
    RunResult r = run_brine(args);
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    ASSERT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("brine: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("malformed JSON at line 2, column 16: invalid word"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("in '" + file.string() + "'"), std::string::npos) << r.err;
    for (const char* word : {"json.exception", "parse_error", "syntax error", "last read"})
      EXPECT_EQ(r.err.find(word), std::string::npos) << word << " in: " << r.err;
  }
  EXPECT_FALSE(fs::exists(path("out.brine")));
}

TEST_F(CliTest, VerifyRejectsWhatIsNotOneArchive) {
  write_everything();
  std::string archive = brine::read_file(path("everything.brine"));
  write_bytes(path("trailing.brine"), archive + "extra");
  write_bytes(path("twice.brine"), archive + archive);
  write_bytes(path("empty.brine"), "");
  write_bytes(path("text.brine"), "hello, world\n");
  write_bytes(path("half-magic.brine"), kBinaryMagic.substr(0, 5));
  write_bytes(path("other.json"), R"({"format": "something-else", "values": []})");
  write_bytes(path("newline\nname.brine"), "x");
  fs::create_directories(path("a-directory"));
  for (const char* name :
       {"trailing.brine", "twice.brine", "empty.brine", "text.brine", "half-magic.brine",
        "other.json", "newline\nname.brine", "a-directory", "missing.brine"}) {
    SCOPED_TRACE(name);
    RunResult r = run_brine({"verify", path(name).string()});
    EXPECT_EQ(r.signal, 0) << describe(r);
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(lines_of(r.err).size(), 1u) << describe(r);
  }
  RunResult trailing = run_brine({"verify", path("trailing.brine").string()});
  EXPECT_NE(trailing.err.find("5 bytes after the archive's end marker"), std::string::npos)
      << trailing.err;
  // Several files: one line for each bad one, the good one does not hide them.
  RunResult mixed = run_brine({"verify", "-q", path("everything.brine").string(),
                               path("empty.brine").string(), path("text.brine").string()});
  EXPECT_EQ(mixed.exit_code, 1) << describe(mixed);
  EXPECT_EQ(lines_of(mixed.err).size(), 2u) << describe(mixed);
}

// ---------------------------------------------------------------------------------------
// convert

TEST_F(CliTest, ConvertRoundTripsThroughEveryFormat) {
  write_everything();
  std::vector<brine::Value> original = library_values(path("everything.brine"));
  // binary -> stable -> json -> binary, by extension.
  const char* chain[] = {"everything.brine", "step1.brines", "step2.json", "step3.brine"};
  for (int i = 0; i < 3; ++i) {
    RunResult r = run_brine({"convert", path(chain[i]).string(), path(chain[i + 1]).string()});
    ASSERT_EQ(r.exit_code, 0) << chain[i + 1] << ": " << describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(library_values(path(chain[i + 1])), original) << chain[i + 1];
  }
  EXPECT_EQ(brine::read_file(path("step1.brines")).compare(0, 3, "\xD9\xD9\xF7"), 0);
  // Each result loads into the C++ type.
  expect_everything(brine::load_stable<Everything>(path("step1.brines"), registry_));
  expect_everything(brine::load_json<Everything>(path("step2.json"), registry_));
  expect_everything(brine::load_binary<Everything>(path("step3.brine"), registry_));
  expect_everything(
      brine::from_binary<Everything>(brine::read_file(path("step3.brine")), registry_));
}

TEST_F(CliTest, ConvertKeepsSharingPolymorphismAndSeveralValues) {
  write_two_values(path("two.brine"), "binary");
  std::vector<brine::Value> original = library_values(path("two.brine"));
  const char* chain[] = {"two.brine", "two.cbor", "two.json", "back.bin"};
  for (int i = 0; i < 3; ++i) {
    RunResult r = run_brine({"convert", path(chain[i]).string(), path(chain[i + 1]).string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(library_values(path(chain[i + 1])), original) << chain[i + 1];
  }
  std::string bytes = brine::read_file(path("back.bin"));
  brine::MemorySource source(bytes);
  brine::BinaryReader reader(source, registry_);
  expect_scene(reader.read<Scene>());
  expect_everything(reader.read<Everything>());
  EXPECT_TRUE(reader.at_end());
}

// docs/cli.md "Progress": bytes read and written, within one large value too. Forced
// reports come every MiB of progress, so a document of a few MiB shows several before the
// final line. Fails before the progress line counted bytes (it counted values, and had no
// forced mode).
TEST_F(CliTest, ProgressCountsBytesWithinOneLargeValue) {
  // One list of 400,000 short texts, and one text of 5 MB: single values of several MiB.
  brine::Value::List items;
  for (int i = 0; i < 400000; ++i) items.emplace_back("item " + std::to_string(i));
  const std::vector<brine::Value> documents[] = {{brine::Value(std::move(items))},
                                                 {brine::Value(std::string(5000000, 'x'))}};
  for (const std::vector<brine::Value>& values : documents) {
    SCOPED_TRACE(values.front().kind() == brine::ValueKind::list ? "list" : "text");
    write_bytes(path("big.json"), brine::json_document(values) + "\n");
    const std::uint64_t json_size = fs::file_size(path("big.json"));
    ASSERT_GT(json_size, 3u << 20);

    // JSON in, binary out.
    RunResult r = run_brine({"convert", path("big.json").string(), path("big.brine").string()},
                            {"BRINE_PROGRESS=force"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, "");
    ProgressReport p = progress_report(r.err);
    EXPECT_EQ(p.other_lines, 0u) << r.err;
    ASSERT_TRUE(p.done_last) << r.err;
    EXPECT_EQ(p.done_read, json_size);
    const std::uint64_t binary_size = fs::file_size(path("big.brine"));
    EXPECT_EQ(p.done_written, binary_size);
    for (std::uint64_t t : p.total) EXPECT_EQ(t, json_size);
    EXPECT_GE(intermediate(p.read, json_size).size(), 2u) << r.err;
    EXPECT_GE(intermediate(p.written, binary_size).size(), 2u) << r.err;
    EXPECT_EQ(library_values(path("big.brine")), values);

    // Binary in, stable out.
    r = run_brine({"convert", path("big.brine").string(), path("big.brines").string()},
                  {"BRINE_PROGRESS=force"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    p = progress_report(r.err);
    EXPECT_EQ(p.other_lines, 0u) << r.err;
    ASSERT_TRUE(p.done_last) << r.err;
    EXPECT_EQ(p.done_read, binary_size);
    EXPECT_EQ(p.done_written, fs::file_size(path("big.brines")));
    EXPECT_GE(intermediate(p.read, binary_size).size(), 2u) << r.err;
    // The stable writer hands a long text to the sink in one write: only the list is written
    // in pieces.
    if (values.front().kind() == brine::ValueKind::list) {
      EXPECT_GE(intermediate(p.written, p.done_written).size(), 2u) << r.err;
    }
    EXPECT_EQ(library_values(path("big.brines")), values);

    // Without a terminal and without the override, and with BRINE_PROGRESS=off: nothing.
    for (const std::vector<std::string>& env :
         {std::vector<std::string>{}, std::vector<std::string>{"BRINE_PROGRESS=off"}}) {
      r = run_brine({"convert", path("big.json").string(), path("quiet.brine").string()}, env);
      ASSERT_EQ(r.exit_code, 0) << describe(r);
      EXPECT_EQ(r.err, "");
      r = run_brine({"verify", "-q", path("big.brine").string()}, env);
      ASSERT_EQ(r.exit_code, 0) << describe(r);
      EXPECT_EQ(r.err, "");
    }
  }
}

// A failed run under the forced mode ends with its error, not a done line.
TEST_F(CliTest, ProgressEndsWithTheErrorWhenARunFails) {
  write_bytes(path("bad.json"),
              "{\"format\": \"brine-json\", \"format_version\": 1, \"values\": [tru]}");
  RunResult r = run_brine({"convert", path("bad.json").string(), path("out.brine").string()},
                          {"BRINE_PROGRESS=force"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  const std::vector<std::string> lines = lines_of(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("brine: malformed JSON", 0), 0u) << r.err;
  EXPECT_NE(lines.back().find("bad.json"), std::string::npos) << r.err;
  EXPECT_FALSE(progress_report(r.err).done_last) << r.err;
}

TEST_F(CliTest, ConvertToOverridesTheExtension) {
  write_everything();
  RunResult r = run_brine(
      {"convert", "--to", "json", path("everything.brine").string(), path("out.brine").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  RunResult i = run_brine({"inspect", "--json", path("out.brine").string()});
  ASSERT_EQ(i.exit_code, 0) << describe(i);
  EXPECT_EQ(Json::parse(i.out).at("format"), "brine-json");
}

TEST_F(CliTest, ConvertLeavesNoOutputWhenInputIsBad) {
  write_bytes(path("bad.brine"), "not an archive");
  RunResult r = run_brine({"convert", path("bad.brine").string(), path("out.brines").string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(lines_of(r.err).size(), 1u) << describe(r);
  EXPECT_FALSE(fs::exists(path("out.brines")));
}

// ---------------------------------------------------------------------------------------
// migrate

struct PointV1 {
  BRINE_TYPE("cli.Point", 1);
  double x = 0, y = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("x", x)("y", y);
  }
  template <class A>
  void setstate(A& ar) {
    ar("x", x)("y", y);
  }
};
struct PolylineV1 {
  BRINE_TYPE("cli.Polyline", 1);
  std::string name;
  std::vector<PointV1> points;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("points", points);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("points", points);
  }
};

// Version 2 renamed x and y and added a label; the polyline is unchanged but holds them.
struct PointV2 {
  BRINE_TYPE("cli.Point", 2);
  double px = 0, py = 0;
  std::string label;
  template <class A>
  void getstate(A& ar) const {
    ar("px", px)("py", py)("label", label);
  }
  template <class A>
  void setstate(A& ar) {
    ar("px", px)("py", py)("label", label);
  }
};
struct PolylineV2 {
  BRINE_TYPE("cli.Polyline", 1);
  std::string name;
  std::vector<PointV2> points;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("points", points);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("points", points);
  }
};

const char* kPointMigrations = R"({
  "brine_migrations": 1,
  "type": "cli.Point",
  "version": 2,
  "steps": [
    {"from": 1, "ops": [{"op": "rename_field", "from": "x", "to": "px"},
                        {"op": "rename_field", "from": "y", "to": "py"},
                        {"op": "add_field", "name": "label", "default": "unnamed"}]}
  ]
})";

PolylineV1 make_polyline_v1() {
  PolylineV1 p;
  p.name = "route";
  p.points = {PointV1{1.5, -2}, PointV1{3, 4.25}};
  return p;
}

void expect_polyline_v2(const PolylineV2& p) {
  EXPECT_EQ(p.name, "route");
  ASSERT_EQ(p.points.size(), 2u);
  EXPECT_EQ(p.points[0].px, 1.5);
  EXPECT_EQ(p.points[0].py, -2);
  EXPECT_EQ(p.points[1].px, 3);
  EXPECT_EQ(p.points[1].py, 4.25);
  EXPECT_EQ(p.points[1].label, "unnamed");
}

TEST_F(CliTest, MigrateUpgradesV1ArchiveSoItLoadsIntoV2) {
  brine::Registry v1, v2;
  fs::create_directories(path("migrations"));
  brine::write_file_atomically(path("migrations") / "cli.Point.json", kPointMigrations);
  brine::save_binary(path("v1.brine"), make_polyline_v1(), v1);
  brine::save_stable(path("v1.brines"), make_polyline_v1(), v1);
  brine::save_json(path("v1.json"), make_polyline_v1(), v1);
  // Without the migration, today's program cannot read yesterday's archive.
  EXPECT_THROW(brine::load_binary<PolylineV2>(path("v1.brine"), v2), brine::Error);

  RunResult r = run_brine({"migrate", path("v1.brine").string(), path("v2.brine").string(),
                           "--migrations", path("migrations").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  expect_polyline_v2(brine::load_binary<PolylineV2>(path("v2.brine"), v2));

  // Same format as the input by default; in place works (the output replaces the input).
  r = run_brine({"migrate", path("v1.brines").string(), path("v1.brines").string(), "-m",
                 (path("migrations") / "cli.Point.json").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  expect_polyline_v2(brine::load_stable<PolylineV2>(path("v1.brines"), v2));

  r = run_brine({"migrate", path("v1.json").string(), path("v2.out").string(), "--migrations",
                 path("migrations").string(), "--to", "binary"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  expect_polyline_v2(brine::load_binary<PolylineV2>(path("v2.out"), v2));

  RunResult i = run_brine({"inspect", "--json", path("v2.brine").string()});
  ASSERT_EQ(i.exit_code, 0) << describe(i);
  EXPECT_EQ(
      Json::parse(i.out).at("types"),
      Json::parse(
          R"([{"name": "cli.Point", "version": 2}, {"name": "cli.Polyline", "version": 1}])"));
}

TEST_F(CliTest, MigrateReportsBadMigrationFilesAsInvalidInput) {
  brine::Registry v1;
  brine::save_binary(path("v1.brine"), make_polyline_v1(), v1);
  fs::create_directories(path("migrations"));
  brine::write_file_atomically(path("migrations") / "broken.json",
                               R"({"brine_migrations": 1, "type": "cli.Point", "version": 2,
                                   "steps": [{"from": 1, "ops": [{"op": "rename_feild"}]}]})");
  RunResult r = run_brine({"migrate", path("v1.brine").string(), path("v2.brine").string(),
                           "--migrations", path("migrations").string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  ASSERT_EQ(lines_of(r.err).size(), 1u) << describe(r);
  EXPECT_NE(r.err.find("broken.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rename_feild"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("v2.brine")));

  // A step that fails on the data names the type, the step and the field.
  brine::write_file_atomically(path("migrations") / "broken.json",
                               R"({"brine_migrations": 1, "type": "cli.Point", "version": 2,
                                   "steps": [{"from": 1, "ops": [{"op": "convert", "field": "x", "to": "int"}]}]})");
  r = run_brine({"migrate", path("v1.brine").string(), path("v2.brine").string(), "--migrations",
                 path("migrations").string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.err.find("'cli.Point' v1 -> v2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'x'"), std::string::npos) << r.err;
}

TEST_F(CliTest, MigrateRefusesObjectsNewerThanTheFiles) {
  fs::create_directories(path("migrations"));
  brine::write_file_atomically(path("migrations") / "cli.Point.json", kPointMigrations);
  brine::write_file_atomically(path("v3.json"), R"({"format": "brine-json", "format_version": 1,
                          "values": [{"$type": "cli.Point", "$version": 3, "px": 1.0}]})");
  RunResult r = run_brine({"migrate", path("v3.json").string(), path("out.json").string(),
                           "--migrations", path("migrations").string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(lines_of(r.err).size(), 1u) << describe(r);
  EXPECT_NE(r.err.find("cli.Point"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("out.json")));
}

TEST_F(CliTest, ConvertRefusesBinaryOutputOfTwoVersionsOfOneType) {
  brine::write_file_atomically(path("mixed.json"),
                               R"({"format": "brine-json", "format_version": 1, "values": [[
                              {"$type": "x.Y", "$version": 1, "f": 1}, {"$type": "x.Y", "$version": 2, "f": 1}]]})");
  RunResult r = run_brine({"convert", path("mixed.json").string(), path("mixed.brine").string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.err.find("'x.Y' have versions 1 and 2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("mixed.brine")));
  // The stable encoding records a version per object, so it takes the same tree.
  r = run_brine({"convert", path("mixed.json").string(), path("mixed.brines").string()});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(library_values(path("mixed.brines")), library_values(path("mixed.json")));
}

// Several values of one type whose inferred layouts differ (an optional empty in the first,
// set in the second): the tool writes one layout that fits both.
TEST_F(CliTest, ConvertAndMigrateKeepSeveralValuesOfOneTypeWithDifferentShapes) {
  Note empty, set;
  set.text = "hello";
  set.n = 2;
  {
    brine::AtomicFileSink sink(path("notes.brine"));
    brine::BinaryWriter writer(sink, registry_);
    writer.write(empty);
    writer.write(set);
    writer.finish();
    sink.commit();
  }
  std::vector<brine::Value> original = library_values(path("notes.brine"));
  ASSERT_EQ(original.size(), 2u);
  const char* chain[] = {"notes.brine",  "notes1.brine", "notes.brines",
                         "notes2.brine", "notes.json",   "notes3.brine"};
  for (int i = 0; i + 1 < 6; ++i) {
    RunResult r = run_brine({"convert", path(chain[i]).string(), path(chain[i + 1]).string()});
    ASSERT_EQ(r.exit_code, 0) << chain[i + 1] << ": " << describe(r);
    EXPECT_EQ(library_values(path(chain[i + 1])), original) << chain[i + 1];
  }
  for (const char* out : {"notes1.brine", "notes2.brine", "notes3.brine"}) {
    std::string bytes = brine::read_file(path(out));
    brine::MemorySource source(bytes);
    brine::BinaryReader reader(source, registry_);
    Note a = reader.read<Note>();
    Note b = reader.read<Note>();
    EXPECT_FALSE(a.text.has_value()) << out;
    EXPECT_EQ(b.text, std::optional<std::string>("hello")) << out;
    EXPECT_EQ(b.n, 2) << out;
    EXPECT_TRUE(reader.at_end());
  }
  // migrate writes through the same path.
  fs::create_directories(path("no-migrations"));
  RunResult r = run_brine({"migrate", path("notes.brine").string(), path("migrated.brine").string(),
                           "-m", path("no-migrations").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(library_values(path("migrated.brine")), original);
}

// Documents built around one shared object that every format must take: `verify` accepts
// exactly what `convert` can write.
struct SharedCase {
  const char* name;
  const char* values;  // the "values" list of a brine JSON document
};

const SharedCase kSharedCases[] = {
    // A field holding an object in one instance and a map in another is self-describing;
    // the shared object inside it is referred to from a pointer field (issue 8).
    {"dynamic-target",
     R"([{"$type":"t.L","$version":1,"items":[{"$type":"t.A","$version":1,"b":{"$type":"t.B","$version":1,"$id":0,"n":1}},{"$type":"t.A","$version":1,"b":{"k":1}}],"g":{"$ref":0}}])"},
    // References inside lists and maps, to objects in pointer fields and in
    // self-describing ones, and a cycle.
    {"lists-and-maps",
     R"([{"$type":"t.L","$version":1,"m":{"a":{"$type":"t.B","$version":1,"$id":0,"n":1,"self":null},"b":{"$ref":0}},"items":[{"$ref":0},{"$type":"t.B","$version":1,"$id":1,"n":2,"self":{"$ref":1}},{"$ref":1}],"x":[{"$type":"t.A","$version":1,"b":{"$ref":1}},{"$type":"t.A","$version":1,"b":"text"}]}])"},
    // A self-describing field (a list of a reference and a number) referring to an object
    // in a pointer field.
    {"dynamic-reference",
     R"([{"$type":"t.L","$version":1,"p":{"$type":"t.B","$version":1,"$id":0,"n":1},"d":[{"$ref":0},1]}])"},
};

std::string json_doc(const char* values) {
  return std::string(R"({"format":"brine-json","format_version":1,"values":)") + values + "}";
}

TEST_F(CliTest, SharedObjectsThatVerifyConvertToEveryFormat) {
  for (const SharedCase& c : kSharedCases) {
    SCOPED_TRACE(c.name);
    fs::path in = path(std::string(c.name) + ".json");
    brine::write_file_atomically(in, json_doc(c.values));
    RunResult v = run_brine({"verify", in.string()});
    ASSERT_EQ(v.exit_code, 0) << describe(v);
    for (const char* format : kFormats) {
      SCOPED_TRACE(format);
      fs::path out = path(std::string(c.name) + "-out" + extension_of(format));
      fs::path back = path(std::string(c.name) + "-back-" + format + ".json");
      RunResult r = run_brine({"convert", in.string(), out.string()});
      ASSERT_EQ(r.exit_code, 0) << describe(r);
      EXPECT_EQ(run_brine({"verify", out.string()}).exit_code, 0);
      r = run_brine({"convert", out.string(), back.string()});
      ASSERT_EQ(r.exit_code, 0) << describe(r);
      EXPECT_EQ(brine::json_document(library_values(back)),
                brine::json_document(library_values(in)));
    }
  }
}

// Two instances of one type hold their fields in different orders, so that in the binary
// layout's order a reference comes before the object it names: the reference carries the
// object there, and the result reads back with the same sharing.
TEST_F(CliTest, ConvertToBinaryTakesAReferenceBeforeItsObjectInLayoutOrder) {
  fs::path in = path("reordered.json");
  brine::write_file_atomically(
      in,
      json_doc(
          R"([[{"$type":"t.X","$version":1,"p":{"$type":"t.B","$version":1,"$id":0,"n":1},"q":{"$ref":0}},{"$type":"t.X","$version":1,"q":{"$type":"t.B","$version":1,"$id":1,"n":2},"p":{"$ref":1}}]])"));
  ASSERT_EQ(run_brine({"verify", in.string()}).exit_code, 0);
  RunResult r = run_brine({"convert", in.string(), path("reordered.brine").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(run_brine({"verify", path("reordered.brine").string()}).exit_code, 0);
  // In layout order (p, q) the second instance now defines object 1 in p.
  brine::Value expected = brine::value_from_json(
      R"([{"$type":"t.X","$version":1,"p":{"$type":"t.B","$version":1,"$id":0,"n":1},"q":{"$ref":0}},{"$type":"t.X","$version":1,"p":{"$type":"t.B","$version":1,"$id":1,"n":2},"q":{"$ref":1}}])");
  std::vector<brine::Value> got = library_values(path("reordered.brine"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], expected) << brine::to_json(got[0]);
}

// What no format can hold is refused by verify and by convert to every format, naming it.
TEST_F(CliTest, VerifyRefusesSharedObjectsNoLoaderAccepts) {
  const SharedCase bad[] = {
      {"reference to shared object 0 before its definition",
       R"([{"$type":"t.L","$version":1,"g":{"$ref":0},"h":{"$type":"t.B","$version":1,"$id":0,"n":1}}])"},
      {"reference to shared object 5 before its definition",
       R"([{"$type":"t.L","$version":1,"g":{"$ref":5}}])"},
      {"shared object id 0 is defined twice",
       R"([[{"$type":"t.B","$version":1,"$id":0,"n":1},{"$type":"t.B","$version":1,"$id":0,"n":2}]])"},
      // Each value numbers its own objects: value 1 cannot refer to value 0's.
      {"value 1: reference to shared object 0",
       R"([{"$type":"t.B","$version":1,"$id":0,"n":1},{"$type":"t.L","$version":1,"g":{"$ref":0}}])"},
  };
  for (const SharedCase& c : bad) {
    SCOPED_TRACE(c.name);
    fs::path in = path("bad.json");
    brine::write_file_atomically(in, json_doc(c.values));
    RunResult r = run_brine({"verify", in.string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find(c.name), std::string::npos) << r.err;
    for (const char* format : kFormats) {
      fs::path out = path(std::string("bad-out") + extension_of(format));
      r = run_brine({"convert", in.string(), out.string()});
      EXPECT_EQ(r.exit_code, 1) << format << ": " << describe(r);
      EXPECT_NE(r.err.find(c.name), std::string::npos) << r.err;
      EXPECT_FALSE(fs::exists(out));
    }
  }
}

// ---------------------------------------------------------------------------------------
// usage

TEST_F(CliTest, UsageErrorsExitTwo) {
  write_everything();
  std::string file = path("everything.brine").string();
  // Each bad line, and what its one-line message must name.
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  std::vector<Case> bad = {
      {{}, "no subcommand given"},
      {{"frobnicate", file}, "unknown subcommand 'frobnicate'"},
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{"--frobnicate", "inspect", file}, "unknown option '--frobnicate'"},
      {{"inspect"}, "inspect: FILE is required"},
      {{"inspect", file, "--yaml"}, "unknown option '--yaml' for 'inspect'"},
      {{"verify"}, "verify: FILE is required"},
      {{"convert", file}, "convert: OUT is required"},
      {{"convert", file, path("a.json").string(), "extra"}, "unexpected argument 'extra'"},
      {{"convert", file, path("out.xml").string()}, "out.xml"},
      {{"convert", file, path("out.brines").string(), "--to", "xml"}, "--to: xml"},
      {{"migrate", file, path("out.brine").string()}, "--migrations is required"},
      {{"dump", file, "--indent", "many"}, "--indent"},
  };
  for (const Case& c : bad) {
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    SCOPED_TRACE(line);
    RunResult r = run_brine(c.args);
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_EQ(r.out, "");
    ASSERT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("brine: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--help)"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(path("out.xml")));
  RunResult help = run_brine({"--help"});
  EXPECT_EQ(help.exit_code, 0) << describe(help);
  for (const char* command : {"inspect", "dump", "verify", "convert", "migrate"})
    EXPECT_NE(help.out.find(command), std::string::npos) << command;
  EXPECT_EQ(help.err, "");
  RunResult convert_help = run_brine({"convert", "--help"});
  EXPECT_EQ(convert_help.exit_code, 0) << describe(convert_help);
  EXPECT_NE(convert_help.out.find("--to"), std::string::npos);
  EXPECT_EQ(convert_help.err, "");
  RunResult version = run_brine({"--version"});
  EXPECT_EQ(version.exit_code, 0) << describe(version);
  EXPECT_NE(version.out.find(std::to_string(BRINE_VERSION_MAJOR) + "."), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// golden archives

fs::path golden_dir() { return fs::path(BRINE_SOURCE_DIR) / "tests" / "golden"; }

// The archives under tests/golden/ (the committed files of earlier releases), read when the
// test runs, so files added later are covered without reconfiguring. Expected renderings
// (<case>.json) sit next to them; of the JSON files only brine JSON documents are archives.
std::vector<fs::path> golden_archives() {
  std::vector<fs::path> archives;
  for (const auto& entry : fs::recursive_directory_iterator(golden_dir())) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = brine::read_file(entry.path());
    bool binary = bytes.compare(0, kBinaryMagic.size(), kBinaryMagic) == 0;
    bool stable = bytes.compare(0, 3, "\xD9\xD9\xF7") == 0;
    bool json = false;
    if (!binary && !stable && entry.path().extension() == ".json") {
      Json doc = Json::parse(bytes, nullptr, false);
      json = doc.is_object() && doc.contains("format") && doc["format"] == "brine-json";
    }
    if (binary || stable || json) archives.push_back(entry.path());
  }
  std::sort(archives.begin(), archives.end());
  return archives;
}

// Every golden archive verifies, and no truncation or flipped byte of one makes the tool
// die by a signal.
TEST(CliGolden, VerifiesGoldenArchivesAndSurvivesTheirDamage) {
  if (!fs::is_directory(golden_dir())) GTEST_SKIP() << golden_dir() << " does not exist yet";
  std::vector<fs::path> archives = golden_archives();
  ASSERT_FALSE(archives.empty()) << golden_dir() << " exists but holds no archive";
  RecordProperty("archives", static_cast<int>(archives.size()));

  TempDir damage;
  // Budget: every offset of small files, a stride over large ones, so the test stays at a
  // few launches per file (verify takes 256 files per launch).
  constexpr std::size_t kMaxPerKind = 512;
  std::size_t index = 0;
  for (const fs::path& file : archives) {
    SCOPED_TRACE(file.string());
    RunResult r = run_brine({"verify", file.string()});
    EXPECT_EQ(r.exit_code, 0) << describe(r);

    std::string bytes = brine::read_file(file);
    std::size_t stride = std::max<std::size_t>(1, bytes.size() / kMaxPerKind);
    std::vector<fs::path> damaged;
    std::string ext = file.extension().string();
    for (std::size_t n = 0; n < bytes.size(); n += stride) {
      damaged.push_back(damage / ("g" + std::to_string(index) + "-t" + std::to_string(n) + ext));
      write_bytes(damaged.back(), std::string_view(bytes).substr(0, n));
    }
    for (std::size_t at = 0; at < bytes.size(); at += stride) {
      damaged.push_back(damage / ("g" + std::to_string(index) + "-f" + std::to_string(at) + ext));
      write_bytes(damaged.back(), corrupt(bytes, at));
    }
    expect_all_rejected(damaged, false);
    ++index;
  }
}

// dump --full renders every golden archive as the release rendered it (<case>.json), and migrate
// with the repository's migrations/ brings every type those files describe to its newest
// version, in the archive's own format.
TEST(CliGolden, DumpsAndMigratesGoldenArchives) {
  if (!fs::is_directory(golden_dir())) GTEST_SKIP() << golden_dir() << " does not exist yet";
  std::vector<fs::path> archives = golden_archives();
  ASSERT_FALSE(archives.empty()) << golden_dir() << " exists but holds no archive";
  fs::path migrations = fs::path(BRINE_SOURCE_DIR) / "migrations";
  // What the migration files promise: type -> newest version, and the names retired.
  std::map<std::string, unsigned> newest;
  std::vector<std::string> retired;
  if (fs::is_directory(migrations)) {
    for (const auto& entry : fs::directory_iterator(migrations)) {
      if (entry.path().extension() != ".json") continue;
      Json file = Json::parse(brine::read_file(entry.path()));
      newest[file.at("type")] = file.at("version");
      for (const Json& old : file.value("renamed_from", Json::array())) retired.push_back(old);
    }
  }
  TempDir out;
  std::size_t rendered = 0;
  for (const fs::path& file : archives) {
    SCOPED_TRACE(file.string());
    // --full: a dump that summarizes tensors (the default) is not a loadable document.
    RunResult r = run_brine({"dump", "--full", file.string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    std::vector<brine::Value> values = brine::json_document_values(r.out);
    std::string name = file.filename().string();
    fs::path rendering = file.parent_path() / (name.substr(0, name.find('.')) + ".json");
    if (values.size() == 1 && rendering != file && fs::exists(rendering)) {
      EXPECT_EQ(brine::to_json(values[0]) + "\n", brine::read_file(rendering));
      ++rendered;
    }

    if (newest.empty()) continue;
    fs::path migrated = out / ("migrated-" + std::to_string(rendered) + "-" + name);
    r = run_brine(
        {"migrate", file.string(), migrated.string(), "--migrations", migrations.string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = run_brine({"inspect", "--json", migrated.string()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json inspected = Json::parse(r.out);
    RunResult original = run_brine({"inspect", "--json", file.string()});
    EXPECT_EQ(inspected.at("format"), Json::parse(original.out).at("format"));
    for (const Json& t : inspected.at("types")) {
      std::string type = t.at("name");
      EXPECT_EQ(std::find(retired.begin(), retired.end(), type), retired.end())
          << type << " was renamed";
      auto it = newest.find(type);
      if (it != newest.end()) {
        EXPECT_EQ(t.at("version"), it->second) << type;
      }
    }
  }
  EXPECT_GT(rendered, 0u) << "no golden archive has its <case>.json rendering next to it";
}

}  // namespace

// ---------------------------------------------------------------------------------------
// tensor files: safetensors (single and sharded), .npy, .npz

namespace {

brine::StateDict sample_tensors() {
  brine::StateDict dict;
  dict.insert("encoder.weight",
              brine::Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}));
  dict.insert("encoder.bias", brine::Tensor::from_vector(std::vector<std::int64_t>{-7, 8}));
  dict.insert("head", brine::Tensor(brine::DType::uint8, {4}));
  return dict;
}

// The tensors the library reads from `path`, whatever the tensor format.
brine::StateDict library_tensors(const fs::path& path) {
  std::string ext = path.extension().string();
  if (ext == ".npz") return brine::load_npz(path);
  if (ext == ".npy") {
    brine::StateDict one;
    one.insert("array", brine::load_npy(path));
    return one;
  }
  return brine::load_state_dict(path);
}

void expect_same_tensors(const brine::StateDict& a, const brine::StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    SCOPED_TRACE(name);
    const brine::Tensor* other = b.find(name);
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(*other, tensor);  // dtype, shape and bytes
  }
}

}  // namespace

TEST_F(CliTest, InspectListsTheTensorsOfEveryTensorFormat) {
  brine::StateDict dict = sample_tensors();
  brine::save_safetensors(path("m.safetensors"), dict);
  brine::save_npz(path("m.npz"), dict);
  brine::ShardOptions shards;
  shards.max_shard_size = 30;
  ASSERT_GT(brine::save_state_dict(path("sharded"), dict, shards).shards.size(), 1u);
  for (std::string name :
       {"m.safetensors", "m.npz", "sharded", "sharded/model.safetensors.index.json"}) {
    SCOPED_TRACE(name);
    RunResult r = run_brine({"inspect", path(name).string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json j = Json::parse(r.out);
    EXPECT_EQ(j.at("format"), name == "m.npz" ? "npz" : "safetensors");
    std::map<std::string, Json> tensors;
    for (const Json& t : j.at("tensors")) tensors[t.at("name")] = t;
    ASSERT_EQ(tensors.size(), 3u) << r.out;
    EXPECT_EQ(tensors["encoder.weight"].at("dtype"), "F32");
    EXPECT_EQ(tensors["encoder.weight"].at("shape"), Json::array({2, 3}));
    EXPECT_EQ(tensors["encoder.bias"].at("dtype"), "I64");
    EXPECT_EQ(tensors["head"].at("dtype"), "U8");
  }
  brine::save_npy(path("one.npy"), dict.at("encoder.weight"));
  RunResult r = run_brine({"inspect", path("one.npy").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  Json j = Json::parse(r.out);
  EXPECT_EQ(j.at("format"), "npy");
  EXPECT_EQ(j.at("format_version"), 1);
  EXPECT_EQ(j.at("tensors"),
            Json::array({{{"name", "one"}, {"dtype", "F32"}, {"shape", Json::array({2, 3})}}}));
}

TEST_F(CliTest, InspectAndDumpShowAnObjectNpz) {
  // What brine::save_npz(path, object) writes: the object's type and version, its arrays.
  brine::Object layer;
  layer.type = "cli.Layer";
  layer.version = 3;
  layer.set("weight", brine::Value(sample_tensors().at("encoder.weight")));
  layer.set("units", brine::Value(std::uint64_t{2}));
  brine::save_npz_state(path("obj.npz"), brine::Value(layer));
  RunResult r = run_brine({"inspect", path("obj.npz").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  Json j = Json::parse(r.out);
  EXPECT_EQ(j.at("format"), "npz");
  EXPECT_EQ(j.at("format_version"), 1);
  EXPECT_EQ(j.at("types"), Json::array({{{"name", "cli.Layer"}, {"version", 3}}}));
  EXPECT_EQ(j.at("tensors"),
            Json::array({{{"name", "weight"}, {"dtype", "F32"}, {"shape", Json::array({2, 3})}}}));
  r = run_brine({"dump", path("obj.npz").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  Json value = Json::parse(r.out).at("values").at(0);
  EXPECT_EQ(value.at("$type"), "cli.Layer");
  EXPECT_EQ(value.at("units"), 2);
  EXPECT_EQ(value.at("weight").at("$tensor").at("shape"), Json::array({2, 3}));
  r = run_brine({"verify", path("obj.npz").string()});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(CliTest, AnObjectNpzWithoutTensorsIsAnNpzWhateverItsName) {
  // Its first entry is __brine__.json, the kind of entry a DDUF file starts with: the tool
  // must still read it as an .npz, under its own extension and under another name.
  brine::Object config;
  config.type = "cli.Config";
  config.version = 2;
  config.set("units", brine::Value(std::uint64_t{4}));
  brine::save_npz_state(path("config.npz"), brine::Value(config));
  std::filesystem::copy_file(path("config.npz"), path("config.bin"));
  for (const char* name : {"config.npz", "config.bin"}) {
    RunResult r = run_brine({"inspect", path(name).string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << describe(r);
    Json j = Json::parse(r.out);
    EXPECT_EQ(j.at("format"), "npz") << name;
    EXPECT_EQ(j.at("types"), Json::array({{{"name", "cli.Config"}, {"version", 2}}})) << name;
  }
}

TEST_F(CliTest, InspectListsTheTensorsInsideABrineArchive) {
  brine::Value::Map map;
  map.emplace("w", brine::Value(brine::Tensor(brine::DType::bfloat16, {3, 1})));
  brine::Value value(std::move(map));
  brine::write_file_atomically(path("t.json"), brine::json_document({value}));
  RunResult r = run_brine({"inspect", path("t.json").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(Json::parse(r.out).at("tensors"),
            Json::array({{{"name", "w"}, {"dtype", "BF16"}, {"shape", Json::array({3, 1})}}}));
}

TEST_F(CliTest, ConvertCarriesTensorsBetweenEveryTensorFormatAndBrineArchives) {
  brine::StateDict dict = sample_tensors();
  brine::save_safetensors(path("in.safetensors"), dict);
  // safetensors -> npz -> brine binary -> stable -> JSON -> sharded folder -> safetensors
  const std::vector<std::vector<std::string>> steps = {
      {"in.safetensors", "a.npz"},
      {"a.npz", "b.brine"},
      {"b.brine", "c.brines"},
      {"c.brines", "d.json"},
      {"d.json", "e/", "--max-shard-size", "40"},
      {"e", "f.safetensors"},
  };
  for (const auto& step : steps) {
    SCOPED_TRACE(step[0] + " -> " + step[1]);
    std::vector<std::string> args = {"convert", path(step[0]).string(), path(step[1]).string()};
    args.insert(args.end(), step.begin() + 2, step.end());
    RunResult r = run_brine(args);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  EXPECT_GT(brine::load_state_dict(path("e")).size(), 0u);
  EXPECT_TRUE(fs::exists(path("e") / "model.safetensors.index.json"));
  expect_same_tensors(library_tensors(path("a.npz")), dict);
  // The CLI writes a stored .npz through save_npz: aligned, so every array loads mapped.
  for (const auto& [name, t] : brine::load_npz(path("a.npz"))) {
    if (t.nbytes() != 0) {
      EXPECT_TRUE(t.is_mapped()) << name;
    }
  }
  expect_same_tensors(library_tensors(path("e")), dict);
  expect_same_tensors(library_tensors(path("f.safetensors")), dict);

  // One tensor to .npy and back.
  RunResult r = run_brine({"convert", path("in.safetensors").string(), path("x.npy").string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);  // three tensors do not fit one .npy
  EXPECT_NE(r.err.find("one array"), std::string::npos) << r.err;
  brine::save_npy(path("w.npy"), dict.at("encoder.weight"));
  r = run_brine({"convert", path("w.npy").string(), path("w.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(brine::load_safetensors(path("w.safetensors")).at("w"), dict.at("encoder.weight"));
}

TEST_F(CliTest, DumpSummarizesTensorsUnlessFull) {
  brine::save_safetensors(path("m.safetensors"), sample_tensors());
  RunResult r = run_brine({"dump", path("m.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  Json doc = Json::parse(r.out);
  Json weight = doc.at("values").at(0).at("encoder.weight").at("$tensor");
  EXPECT_EQ(weight.at("dtype"), "float32");
  EXPECT_EQ(weight.at("nbytes"), 24);
  EXPECT_EQ(weight.at("xxh3_64").get<std::string>().size(), 16u);
  EXPECT_FALSE(weight.contains("data"));

  r = run_brine({"dump", "--full", path("m.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  // The full dump is a loadable brine JSON document holding the same tensors.
  std::vector<brine::Value> values = brine::json_document_values(r.out);
  ASSERT_EQ(values.size(), 1u);
  expect_same_tensors(brine::state_dict_of(values[0]), sample_tensors());
}

TEST_F(CliTest, VerifyChecksTensorFilesAndNamesWhatIsWrong) {
  brine::save_safetensors(path("good.safetensors"), sample_tensors());
  brine::save_npz(path("good.npz"), sample_tensors(), /*compress=*/true);
  brine::save_npy(path("good.npy"), sample_tensors().at("encoder.bias"));
  RunResult r = run_brine({"verify", path("good.safetensors").string(), path("good.npz").string(),
                           path("good.npy").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("ok (safetensors, 3 tensors"), std::string::npos) << r.out;

  std::string bytes = brine::read_file(path("good.safetensors"));
  write_bytes(path("cut.safetensors"), bytes.substr(0, bytes.size() - 1));
  std::string npz = brine::read_file(path("good.npz"));
  npz[npz.size() / 2] = static_cast<char>(npz[npz.size() / 2] ^ 0x55);
  write_bytes(path("flipped.npz"), npz);
  std::string npy = brine::read_file(path("good.npy"));
  write_bytes(path("cut.npy"), npy.substr(0, npy.size() - 3));
  for (const char* bad : {"cut.safetensors", "flipped.npz", "cut.npy"}) {
    SCOPED_TRACE(bad);
    r = run_brine({"verify", path(bad).string()});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  }
  // Every truncation of a safetensors file is refused without a crash.
  for (std::size_t cut = 0; cut < bytes.size(); cut += 7) {
    write_bytes(path("t.safetensors"), bytes.substr(0, cut));
    r = run_brine({"verify", "-q", path("t.safetensors").string()});
    EXPECT_EQ(r.exit_code, 1) << cut << ": " << describe(r);
  }
}
