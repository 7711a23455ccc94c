// brine sample, step 2: the program after adopting brine. inventory.hpp is unchanged; four lines
// declare its classes to brine. It imports the old Boost archive, saves it as a stable brine
// archive (self-describing CBOR, readable without this program), loads that back, and checks
// that every value survived the move.
//   migrate <old archive.xml> <new archive.brine>

#include <brine/brine.hpp>
#include <brine/interop/boost.hpp>
#include <cstdio>

#include "inventory.hpp"

// The whole adoption: a stable name per class (the version comes from BOOST_CLASS_VERSION).
BRINE_BOOST_TYPE(warehouse::Supplier, "warehouse.Supplier");
BRINE_BOOST_TYPE(warehouse::Part, "warehouse.Part");
BRINE_BOOST_TYPE(warehouse::Inventory, "warehouse.Inventory");
BRINE_REGISTER(warehouse::Supplier);
BRINE_REGISTER(warehouse::Part);
BRINE_REGISTER(warehouse::Inventory);

namespace {

bool same(const warehouse::Inventory& a, const warehouse::Inventory& b) {
  if (a.site != b.site || a.bins != b.bins || a.parts.size() != b.parts.size()) return false;
  for (std::size_t i = 0; i < a.parts.size(); ++i) {
    const warehouse::Part& p = a.parts[i];
    const warehouse::Part& q = b.parts[i];
    if (p.sku != q.sku || p.quantity != q.quantity || p.unit_price != q.unit_price) return false;
    if (!p.supplier || !q.supplier || p.supplier->name != q.supplier->name ||
        p.supplier->country != q.supplier->country)
      return false;
  }
  // Boost kept the shared supplier shared; so must brine.
  return b.parts[0].supplier == b.parts[1].supplier && b.parts[0].supplier != b.parts[2].supplier;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <old archive.xml> <new archive.brine>\n", argv[0]);
    return 2;
  }
  try {
    // 1. The old archive in, read by the class's own Boost serialize.
    brine::interop::BoostImportOptions options;
    options.name = "inventory";
    const auto imported = brine::interop::import_boost_file<warehouse::Inventory>(
        argv[1], brine::interop::BoostFormat::xml, options);
    std::printf("imported %zu parts from the Boost archive %s\n", imported.parts.size(), argv[1]);

    // 2. A stable brine archive out (written atomically).
    brine::save_stable(argv[2], imported);
    std::printf("saved the stable brine archive %s\n", argv[2]);

    // 3. The same values back.
    const auto loaded = brine::load_stable<warehouse::Inventory>(argv[2]);
    if (!same(warehouse::sample_inventory(), imported) ||
        !same(warehouse::sample_inventory(), loaded)) {
      std::fprintf(stderr, "the values changed in the move\n");
      return 1;
    }
    std::printf("loaded it back: the same %zu parts, suppliers still shared\n",
                loaded.parts.size());
    std::printf("as JSON:\n%s\n", brine::to_json_archive(loaded).c_str());
  } catch (const brine::Error& e) {
    std::fprintf(stderr, "migrate: %s\n", e.what());
    return 1;
  }
  return 0;
}
