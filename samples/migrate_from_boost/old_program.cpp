// brine sample, step 1: the program as it was before brine. It saves the inventory with
// Boost.Serialization, as it always has; this is the archive your users already hold.
//   old_program <archive.xml>

#include <boost/archive/xml_oarchive.hpp>
#include <cstdio>
#include <fstream>

#include "inventory.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <archive.xml>\n", argv[0]);
    return 2;
  }
  const warehouse::Inventory inventory = warehouse::sample_inventory();
  std::ofstream out(argv[1]);
  {
    boost::archive::xml_oarchive ar(out);
    ar << boost::serialization::make_nvp("inventory", inventory);
  }
  out.close();
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", argv[1]);
    return 1;
  }
  std::printf("old program: saved %zu parts to %s with Boost.Serialization\n",
              inventory.parts.size(), argv[1]);
  return 0;
}
