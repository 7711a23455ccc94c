// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// write_boost_archives.cpp: wrote the legacy Boost.Serialization archives of
// tests/golden/legacy/boost once, with Debian's Boost 1.74, at the class version it is compiled
// with (BRINE_LEGACY_BOOST_VERSION). Built with the tests, never run by them; the archives are
// never regenerated (tests/golden/legacy/boost/README.md).
//
//   write_boost_archives_v<N> <directory>

#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "boost_legacy_types.hpp"

BOOST_CLASS_EXPORT_IMPLEMENT(legacy::Sensor)
BOOST_CLASS_EXPORT_IMPLEMENT(legacy::Relay)

namespace {

template <class Archive, class T>
void write(const std::string& path, const T& value) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  {
    Archive ar(out);
    ar << boost::serialization::make_nvp("data", value);
  }
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

template <class T>
void write_all(const std::string& stem, const T& value) {
  write<boost::archive::text_oarchive>(stem + ".txt", value);
  write<boost::archive::xml_oarchive>(stem + ".xml", value);
  write<boost::archive::binary_oarchive>(stem + ".bin", value);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  const unsigned version = BRINE_LEGACY_BOOST_VERSION;
  const std::string dir = argv[1];
  const std::string suffix = "_v" + std::to_string(version);
  write_all(dir + "/sensor" + suffix, legacy::sample_sensor(version));
  write_all(dir + "/network" + suffix, legacy::sample_network(version));
  return 0;
}
