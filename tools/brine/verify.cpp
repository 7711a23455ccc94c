// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/verify.cpp: `brine verify FILE...`: exit 0 when every file is one whole, valid
// archive, 1 with one line per bad file on stderr. Never crashes, whatever the input.

#include <CLI/CLI.hpp>
#include <brine/error.hpp>
#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "cli.hpp"

namespace brine_cli {
namespace {

struct VerifyOptions {
  std::vector<std::string> files;
  bool quiet = false;
};

// Why `file` is not a whole, valid archive, or an empty string when it is one. Decoding
// every value to the end is the check: the readers verify checksums, lengths, limits and
// structure on the way, and read_archive refuses bytes after the end.
std::string problem_with(const std::string& file, bool quiet) {
  try {
    Archive archive;
    {
      Progress progress;
      archive = read_archive(file, progress);
      progress.finish();
    }
    if (!quiet) {
      std::cout << one_line(file) << ": ok (" << format_name(archive.format);
      if (archive.format == Format::dduf)
        std::cout << ", " << archive.entries.size()
                  << (archive.entries.size() == 1 ? " entry" : " entries");
      if (is_tensor_format(archive.format))
        std::cout << (archive.sharded ? " sharded" : "") << ", " << archive.tensors.size()
                  << (archive.tensors.size() == 1 ? " tensor, " : " tensors, ");
      else
        std::cout << " v" << archive.format_version << ", " << archive.values.size()
                  << (archive.values.size() == 1 ? " object, " : " objects, ");
      if (archive.format == Format::bundle)
        std::cout << archive.files.size()
                  << (archive.files.size() == 1 ? " data file, " : " data files, ");
      if (archive.format == Format::model_folder)
        std::cout << archive.variants.size()
                  << (archive.variants.size() == 1 ? " variant, " : " variants, ");
      std::cout << archive.bytes << " bytes)\n";
    }
    return {};
  } catch (const brine::Error& e) {
    return e.what();
  } catch (const std::bad_alloc&) {
    return "out of memory while decoding";
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

int verify(const VerifyOptions& options) {
  int code = exit_ok;
  for (const std::string& file : options.files) {
    std::string problem = problem_with(file, options.quiet);
    if (problem.empty()) continue;
    std::cerr << "brine: " << one_line(file) << ": " << one_line(problem) << '\n';
    code = exit_invalid_input;
  }
  return code;
}

}  // namespace

void add_verify_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Check that each file is one whole, valid archive: every value decodes to the "
      "end and every checksum matches. Exit 0 when all are, 1 otherwise, with one "
      "line per bad file on stderr");
  cmd->add_option("FILE", options->files,
                  "Archives (binary, stable or JSON) or tensor files (safetensors, a sharded "
                  "folder or index, .npy, .npz, .dduf), or bundle or model folders, to verify")
      ->required();
  cmd->add_flag("-q,--quiet", options->quiet, "Print nothing for valid files");
  cmd->callback([options, &run] { run = [options] { return verify(*options); }; });
}

}  // namespace brine_cli
