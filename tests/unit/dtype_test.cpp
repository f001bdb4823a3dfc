#include <gtest/gtest.h>

#include "core/dtype.h"

TEST(DType, SizesAndNames) {
  EXPECT_EQ(osprey::dtype_size(osprey::DType::kFloat16), 2u);
  EXPECT_EQ(osprey::dtype_name(osprey::DType::kInt8), "int8");
  EXPECT_FALSE(osprey::dtype_known(5));
}
