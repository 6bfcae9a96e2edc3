#include "engage/console.h"

#include <gtest/gtest.h>

namespace cf::engage {
namespace {

TEST(ConsoleOptions, ValidateNamesTheField) {
  ConsoleOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.failures_per_email = 0;
  EXPECT_NE(o.Validate().message().find("failures_per_email"), std::string::npos);
}

}  // namespace
}  // namespace cf::engage
