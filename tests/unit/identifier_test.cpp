// Identifiers: stable content hashes of an object's state.

#include <brine/brine.hpp>

#include "test_util.hpp"

namespace {

struct Config {
  BRINE_TYPE("exp.Config", 2);
  std::string model = "mlp";
  double learning_rate = 0.001;
  std::vector<int> layers{64, 32};
  std::string cache_dir = "/tmp/cache";  // not part of the identity
  template <class A>
  void getstate(A& ar) const {
    ar("model", model)("learning_rate", learning_rate)("layers", layers)("cache_dir", cache_dir);
  }
  template <class A>
  void setstate(A& ar) {
    ar("model", model)("learning_rate", learning_rate)("layers", layers)("cache_dir", cache_dir);
  }
};

// The same type as another build might write it: fields in another order, another version.
struct ConfigReordered {
  BRINE_TYPE("exp.Config", 3);
  std::string model = "mlp";
  double learning_rate = 0.001;
  std::vector<int> layers{64, 32};
  std::string cache_dir = "/elsewhere";
  template <class A>
  void getstate(A& ar) const {
    ar("layers", layers)("cache_dir", cache_dir)("learning_rate", learning_rate)("model", model);
  }
  template <class A>
  void setstate(A& ar) {
    ar("layers", layers)("cache_dir", cache_dir)("learning_rate", learning_rate)("model", model);
  }
};

TEST(Identifier, IsStableGoldenValue) {
  brine::Registry registry;
  registry.add<Config>().exclude_from_identifier("cache_dir");
  // Frozen: an identifier that changes breaks every cache keyed by it. Cross-checked with an
  // independent encoder: Python's cbor2.dumps(CBORTag(27, ["exp.Config", {...}]),
  // canonical=True) hashed with hashlib.sha256 gives the same digest.
  EXPECT_EQ(brine::identifier(Config{}, registry),
            "d98b6776c04e0b45b2a1547f12e3001ee7cbfbdd32283f5cea1ac1138e1ad7a5");
}

TEST(Identifier, IgnoresFieldOrderVersionAndExcludedFields) {
  brine::Registry a;
  a.add<Config>().exclude_from_identifier("cache_dir");
  brine::Registry b;
  b.add<ConfigReordered>().exclude_from_identifier("cache_dir");
  EXPECT_EQ(brine::identifier(Config{}, a), brine::identifier(ConfigReordered{}, b));
}

TEST(Identifier, ChangesWithState) {
  brine::Registry registry;
  registry.add<Config>().exclude_from_identifier("cache_dir");
  Config other;
  other.learning_rate = 0.002;
  EXPECT_NE(brine::identifier(Config{}, registry), brine::identifier(other, registry));
  Config same_but_cache;
  same_but_cache.cache_dir = "/x";
  EXPECT_EQ(brine::identifier(Config{}, registry), brine::identifier(same_but_cache, registry));
}

}  // namespace
