// brine sample: the class of a code base that used Boost.Serialization, exactly as it was. The
// migration adds nothing to this file: brine reads its serialize as it is.
#pragma once

#include <boost/serialization/map.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/shared_ptr.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

// clang-format off
namespace warehouse {

struct Supplier {
  std::string name;
  std::string country;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_NVP(name) & BOOST_SERIALIZATION_NVP(country);
  }
};

struct Part {
  std::string sku;
  std::int32_t quantity = 0;
  double unit_price = 0;
  std::shared_ptr<Supplier> supplier;  // several parts share one supplier
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_NVP(sku) & BOOST_SERIALIZATION_NVP(quantity) &
        BOOST_SERIALIZATION_NVP(unit_price) & BOOST_SERIALIZATION_NVP(supplier);
  }
};

// Version 1 added the bin locations.
struct Inventory {
  std::string site;
  std::vector<Part> parts;
  std::map<std::string, std::string> bins;  // sku -> bin, since version 1
  template <class Archive>
  void serialize(Archive& ar, const unsigned int version) {
    ar & BOOST_SERIALIZATION_NVP(site) & BOOST_SERIALIZATION_NVP(parts);
    if (version >= 1) ar & BOOST_SERIALIZATION_NVP(bins);
  }
};

/// What the old program saved, so that the new one can check it got the same values.
inline Inventory sample_inventory() {
  auto acme = std::make_shared<Supplier>(Supplier{"Acme", "FR"});
  Inventory inv;
  inv.site = "Lyon-2";
  inv.parts = {{"bolt-m8", 1200, 0.08, acme}, {"nut-m8", 950, 0.03, acme},
               {"gear-40", 12, 17.5, std::make_shared<Supplier>(Supplier{"Zahnrad", "DE"})}};
  inv.bins = {{"bolt-m8", "A3"}, {"gear-40", "C1"}};
  return inv;
}

}  // namespace warehouse
// clang-format on

BOOST_CLASS_VERSION(warehouse::Inventory, 1)
