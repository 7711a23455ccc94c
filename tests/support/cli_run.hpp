// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// cli_run.hpp: runs a command-line program through the shell with its output captured in
// files, for the tests that check the `brine` tool's exit codes and messages.
#pragma once

#include <sys/wait.h>

#include <brine/io.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace brine_test {

/// How a run ended and what it printed. `signal` is non-zero when a signal ended it, which a
/// test of hostile input must never see.
struct CliRun {
  int exit_code = -1;
  int signal = 0;
  std::string out;
  std::string err;
};

/// Runs `program args` (args as the shell reads them) with stdout and stderr captured in files
/// under `dir`.
inline CliRun run_captured(const std::string& program, const std::filesystem::path& dir,
                           const std::string& args) {
  const std::filesystem::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string command =
      program + " " + args + " > '" + out.string() + "' 2> '" + err.string() + "'";
  const int status = std::system(command.c_str());
  CliRun run;
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  run.out = brine::read_file(out);
  run.err = brine::read_file(err);
  return run;
}

}  // namespace brine_test
