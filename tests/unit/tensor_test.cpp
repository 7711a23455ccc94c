// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor_test.cpp: Tensor's dtypes, storage kinds, views and storage identity.

#include <gtest/gtest.h>

#include <brine/error.hpp>
#include <brine/io.hpp>
#include <brine/state_dict.hpp>
#include <brine/tensor.hpp>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

TEST(DType, NamesAndSizesRoundTrip) {
  for (std::uint8_t i = 0; i < brine::kDTypeCount; ++i) {
    auto d = static_cast<brine::DType>(i);
    EXPECT_EQ(brine::dtype_from_name(brine::dtype_name(d)), d);
    EXPECT_EQ(brine::dtype_from_safetensors_name(brine::safetensors_dtype_name(d)), d);
    EXPECT_GT(brine::dtype_size(d), 0u);
  }
  EXPECT_FALSE(brine::is_valid_dtype(brine::kDTypeCount));
  EXPECT_EQ(brine::dtype_size(brine::DType::bfloat16), 2u);
  EXPECT_EQ(brine::dtype_size(brine::DType::complex128), 16u);
  EXPECT_STREQ(brine::safetensors_dtype_name(brine::DType::float8_e4m3fn), "F8_E4M3");
  EXPECT_FALSE(brine::dtype_from_safetensors_name("F32 "));
  EXPECT_EQ(brine::dtype_of_v<long long>, brine::DType::int64);
  EXPECT_EQ(brine::dtype_of_v<long>, brine::DType::int64);
}

TEST(Tensor, OwnedMemoryIsZeroedAlignedAndWritable) {
  brine::Tensor t(brine::DType::float32, {3, 5});
  EXPECT_EQ(t.numel(), 15u);
  EXPECT_EQ(t.nbytes(), 60u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.bytes()) % 64, 0u);
  for (float x : t.values<float>()) EXPECT_EQ(x, 0.0f);
  t.mutable_values<float>()[7] = 2.5f;
  EXPECT_EQ(t.values<float>()[7], 2.5f);
  EXPECT_THROW(t.values<double>(), brine::SchemaError);
}

TEST(Tensor, CopiesShareStorageAndCloneDoesNot) {
  brine::Tensor a =
      brine::Tensor::from_values<std::int32_t>(std::vector<std::int32_t>{1, 2, 3}.data(), 3);
  brine::Tensor b = a;
  EXPECT_EQ(a.storage_id(), b.storage_id());
  b.mutable_values<std::int32_t>()[0] = 9;
  EXPECT_EQ(a.values<std::int32_t>()[0], 9);
  brine::Tensor c = a.clone();
  EXPECT_NE(c.storage_id(), a.storage_id());
  EXPECT_EQ(c, a);
}

TEST(Tensor, FromVectorAdoptsWithoutCopyAndGivesItBack) {
  std::vector<double> v(1000, 1.5);
  const double* where = v.data();
  brine::Tensor t = brine::Tensor::from_vector(std::move(v), {10, 100});
  EXPECT_EQ(reinterpret_cast<const double*>(t.bytes()), where);
  EXPECT_EQ(t.storage_kind(), brine::Tensor::StorageKind::vector);
  std::vector<double> back = std::move(t).to_vector<double>();
  EXPECT_EQ(back.data(), where);  // moved out, not copied
  EXPECT_EQ(back.size(), 1000u);
}

TEST(Tensor, ToVectorCopiesWhenTheStorageIsShared) {
  brine::Tensor t = brine::Tensor::from_vector(std::vector<float>{1, 2, 3});
  brine::Tensor other = t;
  std::vector<float> back = std::move(t).to_vector<float>();
  EXPECT_NE(back.data(), reinterpret_cast<const float*>(other.bytes()));
  EXPECT_EQ(back, (std::vector<float>{1, 2, 3}));
}

TEST(Tensor, ViewsOfOneStorageShareItsIdentity) {
  brine::Tensor whole(brine::DType::float32, {4, 4});
  brine::Tensor row2 = whole.view_storage(brine::DType::float32, {4}, 2 * 4 * sizeof(float));
  EXPECT_EQ(row2.storage_id(), whole.storage_id());
  EXPECT_EQ(row2.storage_offset(), 32u);
  EXPECT_EQ(row2.storage_nbytes(), 64u);
  whole.mutable_values<float>()[9] = 7.0f;
  EXPECT_EQ(row2.values<float>()[1], 7.0f);
  EXPECT_THROW(whole.view_storage(brine::DType::float32, {5}, 48), brine::FormatError);
}

TEST(Tensor, SizesAreCheckedForOverflowAndNegativeDimensions) {
  EXPECT_THROW(brine::Tensor(brine::DType::float32, {-1}), brine::FormatError);
  std::int64_t big = std::numeric_limits<std::int64_t>::max();
  EXPECT_THROW(brine::Tensor::checked_size(brine::DType::float64, {big, big}), brine::LimitError);
  EXPECT_THROW(brine::Tensor::checked_size(brine::DType::float64, {big}), brine::LimitError);
  EXPECT_EQ(brine::Tensor::checked_size(brine::DType::float64, {}).second, 8u);  // rank 0
  EXPECT_EQ(brine::Tensor::checked_size(brine::DType::float64, {0, big}).second, 0u);
  EXPECT_THROW(brine::Tensor::copy_of(brine::DType::int16, {3}, "abcd", 4), brine::FormatError);
}

TEST(Tensor, MappedViewsKeepTheMappingAliveAndAreReadOnly) {
  fs::path path = fs::temp_directory_path() / "brine_tensor_test_mapped.bin";
  std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8};
  brine::write_file_atomically(
      path, std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * 4));
  brine::Tensor a, b;
  {
    auto file = brine::MappedFile::open(path);
    ASSERT_TRUE(file->is_mapped());
    a = brine::Tensor::view(brine::DType::float32, {2, 2}, file, 0);
    b = brine::Tensor::view(brine::DType::float32, {4}, file, 16);
    EXPECT_THROW(brine::Tensor::view(brine::DType::float32, {3}, file, 24), brine::FormatError);
  }
  fs::remove(path);  // the mapping outlives the name and the MappedFile handle
  EXPECT_TRUE(a.is_mapped());
  EXPECT_EQ(a.storage_id(), b.storage_id());
  EXPECT_EQ(b.storage_offset(), 16u);
  EXPECT_EQ(a.storage_nbytes(), 32u);
  EXPECT_EQ(b.values<float>()[3], 8.0f);
  EXPECT_FALSE(a.is_writable());
  EXPECT_THROW(a.mutable_bytes(), brine::InternalError);
  a.make_writable();
  a.mutable_values<float>()[0] = 42;
  EXPECT_EQ(a.values<float>()[0], 42.0f);
  EXPECT_EQ(b.values<float>()[0], 5.0f);
  EXPECT_NE(a.storage_id(), b.storage_id());
}

TEST(Tensor, MisalignedViewsRefuseTypedAccessButKeepTheirBytes) {
  alignas(8) std::uint8_t raw[9] = {};
  brine::Tensor t = brine::Tensor::view(brine::DType::float64, {1}, nullptr,
                                        reinterpret_cast<const std::byte*>(raw + 1), 8);
  ASSERT_NE(reinterpret_cast<std::uintptr_t>(t.bytes()) % alignof(double), 0u);
  EXPECT_THROW(t.values<double>(), brine::FormatError);
  EXPECT_EQ(t.nbytes(), 8u);
  brine::Tensor copy = t.clone();
  EXPECT_EQ(copy.values<double>()[0], 0.0);
}

}  // namespace

namespace {

TEST(StateDict, KeepsInsertionOrderAndRefusesDuplicateNames) {
  brine::StateDict dict;
  dict.insert("b.weight", brine::Tensor(brine::DType::float32, {2}));
  dict.insert("a.bias", brine::Tensor(brine::DType::int8, {3}));
  dict.insert("c", brine::Tensor(brine::DType::float64, {}));
  EXPECT_THROW(dict.insert("a.bias", brine::Tensor()), brine::FormatError);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : dict) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"b.weight", "a.bias", "c"}));
  EXPECT_EQ(dict.at("a.bias").dtype(), brine::DType::int8);
  EXPECT_THROW(dict.at("missing"), brine::SchemaError);
  EXPECT_TRUE(dict.erase("b.weight"));
  EXPECT_FALSE(dict.erase("b.weight"));
  EXPECT_EQ(dict.at("c").dtype(), brine::DType::float64);  // the index followed the erase
  dict.insert_or_assign("a.bias", brine::Tensor(brine::DType::uint8, {1}));
  EXPECT_EQ(dict.begin()->second.dtype(), brine::DType::uint8);
  EXPECT_EQ(dict.size(), 2u);
}

}  // namespace
