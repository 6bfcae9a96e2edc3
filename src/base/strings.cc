#include "base/strings.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace cf {

std::string_view Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  out += s.substr(0, kMax);
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string CsvField(std::string_view s) {
  std::string out;
  AppendCsvField(&out, s);
  return out;
}

void AppendCsvField(std::string* out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(s);
    return;
  }
  *out += '"';
  for (char c : s) {
    *out += c;
    if (c == '"') {
      *out += '"';
    }
  }
  *out += '"';
}

void AppendFixed(std::string* out, double value, int decimals) {
  static constexpr std::array<double, 10> kPow10 = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  static constexpr std::array<uint64_t, 10> kIntPow10 = {1,      10,      100,      1000,      10000,
                                                         100000, 1000000, 10000000, 100000000, 1000000000};
  const auto slow = [&] { fmt::format_to(std::back_inserter(*out), "{:.{}f}", value, decimals); };
  if (decimals < 0 || decimals > 9 || !std::isfinite(value)) {
    slow();
    return;
  }
  const double magnitude = std::abs(value);
  const double scaled = magnitude * kPow10[decimals];
  // The product carries a rounding error of at most half an ulp (2^-53 relative), so unless
  // it lies within a few ulps of a half, rounding it rounds the exact decimal value the same
  // way. Near halves (and beyond 2^50, where ulps approach 1) fmt decides.
  if (!(scaled < 0x1p50)) {
    slow();
    return;
  }
  const double floor = std::floor(scaled);
  const double frac = scaled - floor;
  if (std::abs(frac - 0.5) <= std::max(1.0, scaled) * 0x1p-48) {
    slow();
    return;
  }
  const uint64_t units = static_cast<uint64_t>(floor) + (frac > 0.5 ? 1 : 0);
  if (std::signbit(value)) {
    *out += '-';
  }
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, units / kIntPow10[decimals]);
  out->append(digits, end);
  if (decimals == 0) {
    return;
  }
  *out += '.';
  uint64_t rest = units % kIntPow10[decimals];
  char fraction[9];
  for (int k = decimals - 1; k >= 0; --k) {
    fraction[k] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  out->append(fraction, static_cast<size_t>(decimals));
}

}  // namespace cf
