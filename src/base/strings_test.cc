#include "base/strings.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace cf {
namespace {

std::string Fixed(double value, int decimals) {
  std::string s;
  AppendFixed(&s, value, decimals);
  return s;
}

std::string Reference(double value, int decimals) { return fmt::format("{:.{}f}", value, decimals); }

TEST(AppendFixedTest, WritesWhatFmtWritesAtTheEdges) {
  const double edges[] = {0.0,     -0.0,   0.5,     1.5,   2.5,         0.125,     0.0625,  1e-7,   -1e-7,
                          5e-7,    4.5e-6, 0.9999995, 9.99995, 123456.5, 1e15,      -1e15,   3e19,   1e300,
                          -2.5e-5, 1.0,    0.1,     0.2,   0.3,         1.0 / 3.0, 2.0 / 3.0, 1e-300, 4503599627370495.5,
                          std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                          std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::denorm_min()};
  for (double v : edges) {
    for (int d = 0; d <= 9; ++d) {
      EXPECT_EQ(Fixed(v, d), Reference(v, d)) << "value " << v << " decimals " << d;
    }
  }
}

TEST(AppendFixedTest, WritesWhatFmtWritesForRandomValues) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> exponent(-12, 16);
  std::uniform_int_distribution<int> decimals(0, 9);
  int mismatches = 0;
  for (int i = 0; i < 500000 && mismatches < 5; ++i) {
    double v = unit(rng) * std::pow(10.0, exponent(rng));
    if (i % 3 == 0) {
      v = -v;
    }
    if (i % 5 == 0) {  // values on a decimal grid, where halves are common
      v = std::round(v * 1000.0) / 1000.0 + 0.0005;
    }
    const int d = decimals(rng);
    if (Fixed(v, d) != Reference(v, d)) {
      ADD_FAILURE() << fmt::format("{:.17g} with {} decimals: {} but fmt writes {}", v, d, Fixed(v, d), Reference(v, d));
      ++mismatches;
    }
  }
}

TEST(AppendFixedTest, Appends) {
  std::string s = "p=";
  AppendFixed(&s, 0.1234567, 6);
  s += ',';
  AppendFixed(&s, 12.0, 4);
  EXPECT_EQ(s, "p=0.123457,12.0000");
}

}  // namespace
}  // namespace cf
