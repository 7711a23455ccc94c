// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_boost_import_corpus.cpp: seeds for fuzz_boost_import, the committed legacy Boost
// archives (tests/golden/legacy/boost), each behind the selector byte that makes the fuzzer read
// it as its format and object.
//   fuzz_boost_import_corpus <directory>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path legacy =
      std::filesystem::path(BRINE_SOURCE_DIR) / "tests/golden/legacy/boost";
  const char* extensions[] = {".txt", ".xml", ".bin"};  // the fuzzer's format order
  int written = 0;
  for (const auto& entry : std::filesystem::directory_iterator(legacy)) {
    const std::string name = entry.path().filename().string();
    const std::string extension = entry.path().extension().string();
    int format = -1;
    for (int i = 0; i < 3; ++i)
      if (extension == extensions[i]) format = i;
    if (format < 0) continue;
    const int object = name.rfind("network", 0) == 0 ? 1 : 0;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(std::filesystem::path(argv[1]) / name, std::ios::binary);
    out.put(static_cast<char>(format + 3 * object));
    out << bytes;
    if (!out) return 1;
    ++written;
  }
  return written == 18 ? 0 : 1;
}
