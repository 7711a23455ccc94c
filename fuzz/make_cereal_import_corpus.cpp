// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_cereal_import_corpus.cpp: seeds for fuzz_cereal_import, every legacy cereal archive of
// tests/golden/legacy/cereal behind the selector byte fuzz_cereal_import.cpp reads.

#include <brine/io.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  const std::filesystem::path legacy =
      std::filesystem::path(BRINE_SOURCE_DIR) / "tests/golden/legacy/cereal";
  for (const auto& entry : std::filesystem::directory_iterator(legacy)) {
    const std::string ext = entry.path().extension().string();
    int format = -1;
    if (ext == ".bin") format = 0;
    if (ext == ".pbin") format = 1;
    if (ext == ".json") format = 2;
    if (ext == ".xml") format = 3;
    if (format < 0) continue;
    const bool station = entry.path().filename().string().rfind("station", 0) == 0;
    std::ofstream out(dir / entry.path().filename(), std::ios::binary);
    out.put(static_cast<char>(format + (station ? 4 : 0)));
    out << brine::read_file(entry.path());
  }
  return 0;
}
