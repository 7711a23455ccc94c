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
#include <vector>

#include "cli.hpp"

namespace {

using namespace brine_cli;

int fail(int code, const std::string& message) {
  std::cerr << "brine: " << one_line(message) << '\n';
  return code;
}

bool is_option(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

// The one-line message for a command line CLI11 refused: what was wrong, naming the
// argument, and where to look (the subcommand's help when one was selected).
std::string usage_message(CLI::App& app, const CLI::ParseError& e) {
  // The subcommand being parsed, if any: CLI11 records it before its options.
  CLI::App* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
  const std::string help =
      sub ? " (see brine " + sub->get_name() + " --help)" : std::string(" (see brine --help)");
  // Arguments nothing took: an unknown subcommand, option or extra operand. CLI11 checks
  // the required subcommand before it reports those, so look at them first.
  const std::vector<std::string> top_left = app.remaining(false);
  if (!top_left.empty()) {
    const std::string& first = top_left.front();
    return (is_option(first) ? "unknown option '" : "unknown subcommand '") + first +
           "' (see brine --help)";
  }
  const std::vector<std::string> left = sub ? sub->remaining(false) : std::vector<std::string>();
  if (!left.empty()) {
    const std::string& first = left.front();
    return (is_option(first) ? "unknown option '" : "unexpected argument '") + first + "' for '" +
           sub->get_name() + "'" + help;
  }
  if (sub == nullptr && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr)
    return "no subcommand given: one of inspect, dump, verify, convert, migrate" + help;
  // CLI11's message names the option ("--to: xml not in {binary,stable,json}", "OUT is
  // required"); keep its first line only.
  std::string what = e.what();
  what = what.substr(0, what.find('\n'));
  return (sub ? sub->get_name() + ": " : std::string()) + what + help;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Inspects, verifies, converts and migrates brine archives (binary, stable CBOR, "
      "JSON) of any program, without its C++ types.",
      "brine"};
  app.set_version_flag("--version", BRINE_VERSION_STRING);
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
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // prints help on stdout, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own wording is two lines, and its exit numbers are not ours: every parse
    // error is a usage error, one line naming what was wrong.
    return fail(exit_usage, usage_message(app, e));
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
