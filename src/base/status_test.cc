#include "base/status.h"

#include <gtest/gtest.h>

namespace cf {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Err(Status::InvalidArgument("odd: " + std::to_string(x)));
  return x / 2;
}

Result<int> Quarter(int x) {
  CF_ASSIGN_OR_RETURN(int h, Half(x));
  CF_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkIsCheapAndPrintable) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(sizeof(Status), sizeof(void*));
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::NotFound("user u1");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: user u1");
  Status copy = s;
  EXPECT_EQ(copy.message(), "user u1");
  EXPECT_EQ(s.WithPrefix("export").message(), "export: user u1");
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).error().message(), "odd: 3");
}

}  // namespace
}  // namespace cf
