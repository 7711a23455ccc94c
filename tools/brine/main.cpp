// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/main.cpp: the `brine` command: inspect, dump, verify, convert and migrate
// archives of any program, without its C++ types. See docs/cli.md.

#include <CLI/CLI.hpp>
#include <brine/error.hpp>
#include <brine/version.hpp>
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include "cli.hpp"

namespace {

using namespace brine_cli;

int fail(int code, const std::string& message) {
  std::cerr << "brine: " << one_line(message) << '\n';
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Inspects, verifies, converts and migrates brine archives (binary, stable CBOR, "
      "JSON) of any program, without its C++ types.",
      "brine"};
  app.set_version_flag("--version", std::to_string(BRINE_VERSION_MAJOR) + "." +
                                        std::to_string(BRINE_VERSION_MINOR) + "." +
                                        std::to_string(BRINE_VERSION_PATCH));
  app.require_subcommand(1, 1);
  app.footer("Exit status: 0 success, 1 invalid input, 2 usage error. Documentation: docs/cli.md.");

  Runner run;
  add_inspect_command(app, run);
  add_dump_command(app, run);
  add_verify_command(app, run);
  add_convert_command(app, run);
  add_migrate_command(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help and version to stdout (exit 0) and parse errors to stderr; its own
    // exit numbers are not ours, every parse error is a usage error.
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }

  // Whatever the input does, the tool ends with a message and an exit code: never an
  // uncaught exception (which would abort with a signal).
  int code;
  try {
    code = run();
  } catch (const UsageError& e) {
    return fail(exit_usage, std::string(e.what()) + " (see brine --help)");
  } catch (const brine::Error& e) {
    return fail(exit_invalid_input, e.what());
  } catch (const std::bad_alloc&) {
    // The readers check every length against the input before allocating, so this means an
    // archive (or a migration's result) too large for this machine's memory.
    return fail(exit_invalid_input, "out of memory while processing the input");
  } catch (const std::exception& e) {
    return fail(exit_invalid_input, e.what());
  } catch (...) {
    return fail(exit_invalid_input, "unknown error");
  }
  // Output to a full disk or a closed pipe fails silently in iostreams; say so instead of
  // exiting 0 with truncated output.
  if (!std::cout.flush()) return fail(exit_invalid_input, "cannot write to standard output");
  return code;
}
