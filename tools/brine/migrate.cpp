// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/migrate.cpp: `brine migrate IN OUT --migrations DIR [--to FORMAT]`: upgrades
// every object to the newest version the migration files describe, without the C++ types.

#include <CLI/CLI.hpp>
#include <brine/error.hpp>
#include <brine/migration.hpp>
#include <memory>
#include <string>

#include "cli.hpp"

namespace brine_cli {
namespace {

struct MigrateOptions {
  std::string in;
  std::string out;
  std::string migrations;
  std::string to;
};

int migrate(const MigrateOptions& options) {
  // The migration files first: a typo in one should not cost a read of a large archive.
  const brine::MigrationSet migrations = brine::load_migrations(options.migrations);
  Progress progress;
  Archive archive = read_archive(options.in, progress);
  if (is_tensor_format(archive.format)) {
    brine::ErrorContext where;
    where.source = options.in;
    brine::detail::throw_error(brine::errc::unsupported_content,
                               std::string("a ") + format_name(archive.format) +
                                   " file holds tensors, no objects to migrate",
                               where);
  }
  progress.start_phase("migrating");
  // Objects of types the files do not mention are left as they are: an archive mixes the
  // types of many modules, and only some of them have changed.
  for (brine::Value& value : archive.values) {
    try {
      migrations.upgrade(value);
    } catch (brine::Error& e) {
      brine::detail::note_error_source(e, options.in);
      throw;
    }
  }
  Format format = options.to.empty() ? archive.format : format_from_option(options.to);
  write_archive(options.out, format, archive.values, progress);
  progress.finish();
  return exit_ok;
}

}  // namespace

void add_migrate_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<MigrateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "migrate",
      "Upgrade every object of an archive to the newest version its migration files "
      "describe, without the program's C++ types; OUT is replaced atomically and may "
      "be IN");
  cmd->add_option("IN", options->in, "Archive to read (binary, stable or JSON)")->required();
  cmd->add_option("OUT", options->out, "File to write, in IN's format unless --to is given")
      ->required();
  cmd->add_option("-m,--migrations", options->migrations,
                  "Migration file, or directory whose *.json files are read (docs/migrations.md)")
      ->required();
  cmd->add_option("--to", options->to, "Output format (default: the input's)")
      ->check(CLI::IsMember(kArchiveFormatOptions));
  cmd->callback([options, &run] { run = [options] { return migrate(*options); }; });
}

}  // namespace brine_cli
