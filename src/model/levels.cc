#include "model/levels.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "base/strings.h"

namespace cf::model {
namespace {

constexpr uint32_t kMaxLevelValues = 2000;  // finer attributes are identifiers, not groupings
constexpr double kMinProductsPerValue = 2;  // a grouping groups: fewer products per value is an identifier
constexpr double kMinNestingPurity = 0.95;  // completejourney's category → department is 0.994
constexpr double kMinNumericShare = 0.9;    // share of numeric values that makes an attribute a number
constexpr size_t kMaxChainLevels = 3;       // coarsest levels of a longer chain
constexpr size_t kMaxUnnestedLevels = 2;

// A number written with a decimal point or a decimal comma; `fraction` is set when it has digits
// after it (a price, not a code).
bool ParseNumber(std::string_view s, bool* fraction) {
  std::string t(Trim(s));
  std::replace(t.begin(), t.end(), ',', '.');
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) {
    return false;
  }
  *fraction = value != std::floor(value);
  return true;
}

// Share of products whose `fine` value lies in the most common `coarse` value of that fine value.
double NestingPurity(const data::Attribute& fine, const data::Attribute& coarse, uint32_t products) {
  std::unordered_map<uint64_t, uint32_t> pairs;
  std::vector<uint32_t> best(fine.dict.size(), 0);
  uint64_t total = 0;
  for (uint32_t p = 0; p < products; ++p) {
    const uint32_t f = fine.codes[p], c = coarse.codes[p];
    if (f == data::kMissingCode || c == data::kMissingCode) {
      continue;
    }
    ++total;
    const uint32_t n = ++pairs[(static_cast<uint64_t>(f) << 32) | c];
    best[f] = std::max(best[f], n);
  }
  uint64_t agree = 0;
  for (uint32_t n : best) {
    agree += n;
  }
  return total > 0 ? static_cast<double>(agree) / static_cast<double>(total) : 0;
}

}  // namespace

std::vector<LevelCandidate> LevelCandidates(const data::Catalog& catalog) {
  std::vector<LevelCandidate> out;
  const uint32_t products = catalog.size();
  for (const data::Attribute& attr : catalog.attributes()) {
    std::vector<uint8_t> used(attr.dict.size(), 0);
    for (uint32_t p = 0; p < products; ++p) {
      used[attr.codes[p]] = 1;
    }
    LevelCandidate c;
    c.name = attr.name;
    size_t numeric = 0;
    bool fraction = false;
    for (size_t code = 1; code < attr.dict.size(); ++code) {
      if (used[code] == 0) {
        continue;
      }
      ++c.values;
      bool f = false;
      if (ParseNumber(attr.dict[code], &f)) {
        ++numeric;
        fraction |= f;
      }
    }
    c.continuous = fraction && static_cast<double>(numeric) >= kMinNumericShare * c.values;
    if (c.values < 2 || c.values > kMaxLevelValues || c.continuous ||
        static_cast<double>(products) < kMinProductsPerValue * c.values) {
      continue;
    }
    out.push_back(std::move(c));
  }
  for (LevelCandidate& fine : out) {
    for (const LevelCandidate& coarse : out) {
      if (coarse.values >= fine.values) {
        const double purity =
            NestingPurity(*catalog.FindAttribute(fine.name), *catalog.FindAttribute(coarse.name), products);
        if (purity >= kMinNestingPurity && purity > fine.purity) {
          fine.purity = purity;
          fine.nests_in = coarse.name;
        }
      }
    }
  }
  return out;
}

std::vector<std::string> DetectLevelNames(const data::Catalog& catalog) {
  const std::vector<LevelCandidate> candidates = LevelCandidates(catalog);
  const size_t n = candidates.size();
  // edge[i][j]: candidate i nests in candidate j (strictly coarser).
  std::vector<std::vector<double>> edge(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (candidates[j].values < candidates[i].values) {
        edge[i][j] = NestingPurity(*catalog.FindAttribute(candidates[i].name),
                                   *catalog.FindAttribute(candidates[j].name), catalog.size());
      }
    }
  }
  // Every chain, finest first, by depth-first search over the nesting relation (a DAG: values
  // strictly decrease along it). Candidates are few, so exhaustive search is cheap.
  std::vector<size_t> best, chain;
  double best_purity = 0;
  std::function<void(size_t, double)> extend = [&](size_t at, double purity) {
    chain.push_back(at);
    bool longer = false;
    for (size_t j = 0; j < n; ++j) {
      if (edge[at][j] >= kMinNestingPurity) {
        longer = true;
        extend(j, purity + edge[at][j]);
      }
    }
    if (!longer && chain.size() >= 2) {
      const double mean = purity / static_cast<double>(chain.size() - 1);
      const auto key = [&](const std::vector<size_t>& c, double p) {
        return std::make_tuple(c.size(), p, -static_cast<int64_t>(candidates[c.front()].values));
      };
      if (best.empty() || key(chain, mean) > key(best, best_purity)) {
        best = chain;
        best_purity = mean;
      }
    }
    chain.pop_back();
  };
  for (size_t i = 0; i < n; ++i) {
    extend(i, 0.0);
  }
  std::vector<std::string> names;
  if (!best.empty()) {
    std::reverse(best.begin(), best.end());
    best.resize(std::min(best.size(), kMaxChainLevels));
    for (size_t i : best) {
      names.push_back(candidates[i].name);
    }
    return names;
  }
  // No hierarchy: the candidates with the most values, coarsest first (stable: catalog order).
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) {
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return candidates[a].values > candidates[b].values; });
  order.resize(std::min(order.size(), kMaxUnnestedLevels));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return candidates[a].values < candidates[b].values; });
  for (size_t i : order) {
    names.push_back(candidates[i].name);
  }
  return names;
}

std::vector<Level> LevelsByName(const data::Catalog& catalog, const std::vector<std::string>& names) {
  std::vector<Level> levels;
  for (const std::string& name : names) {
    if (name == kProductLevel) {
      levels.push_back(ProductLevel(catalog.size(), kProductLevel));
    } else {
      std::vector<Level> found = LevelsFromCatalog(catalog, {name});
      levels.insert(levels.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    }
  }
  return levels;
}

Result<std::vector<Level>> LevelsNamed(const data::Catalog& catalog, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (name != kProductLevel && catalog.FindAttribute(name) == nullptr) {
      std::vector<std::string> valid;
      for (const data::Attribute& attr : catalog.attributes()) {
        valid.push_back(attr.name);
      }
      valid.push_back(kProductLevel);
      return Err(Status::InvalidArgument(fmt::format(
          "levels: '{}' is not a product attribute; expected a comma-separated list of {}", name, Join(valid, ", "))));
    }
  }
  if (names.size() > kMaxLevels) {
    return Err(Status::InvalidArgument(
        fmt::format("levels: {} levels named; a model has at most {}", names.size(), kMaxLevels)));
  }
  return LevelsByName(catalog, names);
}

std::vector<Level> ChooseLevels(const data::Catalog& catalog) {
  std::vector<std::string> names = DetectLevelNames(catalog);
  bool embeddable = false;
  for (const std::string& name : names) {
    embeddable |= catalog.FindAttribute(name)->dict.size() <= kMaxEmbeddingGroups;
  }
  if (!embeddable && catalog.size() <= kMaxEmbeddingGroups) {
    names.push_back(kProductLevel);
  }
  return LevelsByName(catalog, names);
}

}  // namespace cf::model
