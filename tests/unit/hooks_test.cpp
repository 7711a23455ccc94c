// Hook styles: member hooks (private, through BRINE_TYPE's friend), free hooks for types
// that cannot be edited, and base classes flattened into derived ones.

#include <brine/brine.hpp>

#include "test_util.hpp"

namespace thirdparty {
// A type we pretend we cannot edit: no brine declarations inside.
struct Point {
  double x = 0, y = 0;
};
}  // namespace thirdparty

BRINE_EXTERNAL_TYPE(thirdparty::Point, "geo.Point", 1);

// Free hooks placed in namespace brine: found through the archive's namespace.
namespace brine {
template <class Archive>
void getstate(Archive& ar, const thirdparty::Point& p) {
  ar("x", p.x)("y", p.y);
}
template <class Archive>
void setstate(Archive& ar, thirdparty::Point& p) {
  ar("x", p.x)("y", p.y);
}
}  // namespace brine

namespace {

class Account {
 public:
  BRINE_TYPE("bank.Account", 1);
  Account() = default;
  Account(std::string owner, long cents) : owner_(std::move(owner)), cents_(cents) {}
  const std::string& owner() const { return owner_; }
  long cents() const { return cents_; }

 private:
  // Private hooks: BRINE_TYPE befriends brine::Access.
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("owner", owner_)("cents", cents_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("owner", owner_)("cents", cents_);
  }
  std::string owner_;
  long cents_ = 0;
};

TEST(Hooks, FreeHooksSaveThirdPartyType) {
  brine::Registry registry;
  std::vector<thirdparty::Point> points{{1, 2}, {3, 4}};
  auto loaded = brine::from_binary<std::vector<thirdparty::Point>>(
      brine::to_binary(points, registry).view(), registry);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[1].y, 4);
  brine::Value state = brine::to_state(points[0], registry);
  EXPECT_EQ(state.as_object().type, "geo.Point");
}

TEST(Hooks, PrivateMemberHooksWork) {
  brine::Registry registry;
  Account a("ada", 1234);
  Account b = brine::from_binary<Account>(brine::to_binary(a, registry).view(), registry);
  EXPECT_EQ(b.owner(), "ada");
  EXPECT_EQ(b.cents(), 1234);
}

TEST(Hooks, LayoutRecordsFieldNamesAndDescriptors) {
  brine::Registry registry;
  const brine::TypeInfo& info = registry.add<Account>().info();
  const brine::Layout& layout = info.layout();
  EXPECT_EQ(layout.field_count, 2u);
  EXPECT_NE(layout.bytes.find("owner"), std::string::npos);
  EXPECT_NE(layout.bytes.find("cents"), std::string::npos);
  EXPECT_EQ(layout.min_binary_size, 1u + 8u);  // a text length byte + an 8-byte long
  EXPECT_NE(layout.fingerprint, 0u);
}

}  // namespace
