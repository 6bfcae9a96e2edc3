#include "plan/audience_filter.h"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <string>
#include <unordered_set>

#include "base/strings.h"
#include "offer/offer.h"

namespace cf::plan {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The values of a column for an error message: the first few, then how many more.
std::string SomeValues(const data::Attribute& a) {
  std::vector<std::string> shown;
  for (size_t code = 1; code < a.dict.size() && shown.size() < 12; ++code) {
    shown.push_back(fmt::format("\"{}\"", a.dict[code]));
  }
  std::string out = shown.empty() ? "none (the column is empty)" : Join(shown, ", ");
  if (a.dict.size() > 1 + shown.size()) out += fmt::format(" and {} more", a.dict.size() - 1 - shown.size());
  return out;
}

// Evaluates an expression bottom-up: each comparison is decided once per distinct value of its
// column (a table over the dictionary), then looked up per customer by code.
class Evaluator {
 public:
  explicit Evaluator(const data::Customers& customers) : customers_(customers) {}

  Result<std::vector<uint8_t>> Eval(const offer::Expr& e) {
    const uint32_t n = customers_.size();
    switch (e.kind) {
      case offer::Expr::Kind::kAny:
        return std::vector<uint8_t>(n, 1);
      case offer::Expr::Kind::kNot: {
        CF_ASSIGN_OR_RETURN(std::vector<uint8_t> m, Eval(e.children[0]));
        for (uint8_t& x : m) x ^= 1;
        return m;
      }
      case offer::Expr::Kind::kAnd:
      case offer::Expr::Kind::kOr: {
        CF_ASSIGN_OR_RETURN(std::vector<uint8_t> m, Eval(e.children[0]));
        const bool conj = e.kind == offer::Expr::Kind::kAnd;
        for (size_t k = 1; k < e.children.size(); ++k) {
          CF_ASSIGN_OR_RETURN(const std::vector<uint8_t> o, Eval(e.children[k]));
          if (conj) {
            for (uint32_t c = 0; c < n; ++c) m[c] &= o[c];
          } else {
            for (uint32_t c = 0; c < n; ++c) m[c] |= o[c];
          }
        }
        return m;
      }
      case offer::Expr::Kind::kCompare:
        return Compare(e);
    }
    return Err(Status::Internal("unknown audience expression kind"));
  }

 private:
  Result<std::vector<uint8_t>> Compare(const offer::Expr& e) {
    const data::Attribute* attr = customers_.FindAttribute(e.column);
    if (attr == nullptr) {
      std::vector<std::string> valid;
      for (const data::Attribute& a : customers_.attributes()) valid.push_back(a.name);
      return Err(Status::InvalidArgument(fmt::format(
          "audience: column {}: unknown customer attribute '{}'; valid: {}", e.position, e.column,
          valid.empty() ? std::string("none (the dataset has no customer attributes)") : Join(valid, ", "))));
    }
    std::vector<uint8_t> hit(attr->dict.size(), 0);
    const bool ordering =
        e.op == offer::Op::kLt || e.op == offer::Op::kLe || e.op == offer::Op::kGt || e.op == offer::Op::kGe;
    if (ordering) {
      const std::optional<double> bound = ParseDouble(e.values[0]);
      if (!bound.has_value()) {
        return Err(
            Status::InvalidArgument(fmt::format("audience: column {}: expected a number to compare {} with, "
                                                "found '{}'",
                                                e.position, e.column, e.values[0])));
      }
      for (size_t code = 1; code < attr->dict.size(); ++code) {
        const std::optional<double> v = ParseDouble(attr->dict[code]);
        if (!v.has_value()) continue;
        hit[code] = e.op == offer::Op::kLt   ? *v < *bound
                    : e.op == offer::Op::kLe ? *v <= *bound
                    : e.op == offer::Op::kGt ? *v > *bound
                                             : *v >= *bound;
      }
    } else {
      const std::unordered_set<std::string_view> values(e.values.begin(), e.values.end());
      std::unordered_set<std::string_view> seen;
      for (size_t code = 0; code < attr->dict.size(); ++code) {
        if (values.contains(attr->dict[code])) {
          hit[code] = 1;
          seen.insert(attr->dict[code]);
        }
      }
      // A value no customer has is almost always a typo ("Nroth"), and would silently select
      // nobody (=) or everybody (!=).
      for (const std::string& v : e.values) {
        if (!v.empty() && !seen.contains(v)) {
          return Err(Status::InvalidArgument(fmt::format("audience: column {}: no customer has {} \"{}\"; values: {}",
                                                         e.position, e.column, v, SomeValues(*attr))));
        }
      }
      if (e.op == offer::Op::kNe || e.op == offer::Op::kNotIn) {
        for (uint8_t& x : hit) x ^= 1;
      }
    }
    const uint32_t n = customers_.size();
    const size_t rows = std::min<size_t>(n, attr->codes.size());
    std::vector<uint8_t> m(n, hit.empty() ? 0 : hit[data::kMissingCode]);  // rows past the column are missing
    for (size_t c = 0; c < rows; ++c) m[c] = hit[attr->codes[c]];
    return m;
  }

  const data::Customers& customers_;
};

}  // namespace

Result<std::vector<uint8_t>> SelectCustomers(std::string_view expr, const data::Customers& customers) {
  if (Trim(expr).empty()) return std::vector<uint8_t>(customers.size(), 1);
  Result<offer::Expr> e = offer::ParseOffer(expr);
  if (!e.has_value()) {
    std::string message = e.error().message();
    // The grammar is the offer's, but the words should be the audience's.
    if (message.rfind("offer: ", 0) == 0) message = "audience: " + message.substr(7);
    return Err(Status::InvalidArgument(message));
  }
  return Evaluator(customers).Eval(*e);
}

const data::Attribute* OptInColumn(const data::Customers& customers, Channel channel) {
  const std::string_view ch = ChannelName(channel);
  const std::array<std::string, 4> names = {fmt::format("opt_in_{}", ch), fmt::format("{}_opt_in", ch),
                                            fmt::format("optin_{}", ch), fmt::format("{}_optin", ch)};
  for (const std::string& name : names) {
    for (const data::Attribute& a : customers.attributes()) {
      if (EqualsIgnoreCase(a.name, name)) return &a;
    }
  }
  return nullptr;
}

bool IsOptedIn(const data::Attribute& column, uint32_t customer) {
  if (customer >= column.codes.size()) return false;
  const std::string_view v = Trim(column.value(customer));
  return EqualsIgnoreCase(v, "true") || EqualsIgnoreCase(v, "yes") || EqualsIgnoreCase(v, "y") || v == "1";
}

}  // namespace cf::plan
