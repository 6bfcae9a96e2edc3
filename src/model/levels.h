// The catalog's product levels (e.g. department → category), detected from the data itself so
// that a catalog with headers in any language groups products the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/dataset.h"
#include "model/event_log.h"

namespace cf::model {

// Most levels a model has: features grow by three columns a level, and the offer pass keeps a
// product's levels as bits of one word.
inline constexpr size_t kMaxLevels = 16;
inline constexpr uint32_t kMaxEmbeddingGroups = 1500;     // the Gram matrix is groups²; its eigensolve groups³
inline constexpr const char* kProductLevel = "@product";  // the level of single products

// Why an attribute is or is not a level, for `train` and `inspect` to explain the choice.
struct LevelCandidate {
  std::string name;
  uint32_t values = 0;      // distinct non-empty values
  bool continuous = false;  // numbers with decimals (a price, a weight): not a grouping
  std::string nests_in;     // the coarser attribute each of its values falls in, or empty
  double purity = 0;        // share of products whose value agrees with its nesting (0..1)
};

// The attributes that could be levels, in catalog order: between 2 and kMaxLevelValues values,
// at least two products per value on average, and not continuous numbers.
std::vector<LevelCandidate> LevelCandidates(const data::Catalog& catalog);

// Level names, coarsest first. Attributes whose values nest into each other (each value of the
// finer one lies in one value of the coarser for at least kMinNestingPurity of the products)
// form a hierarchy; the longest chain wins (ties: purer, then coarser finest level, then catalog
// order). Without a chain, the one or two candidates with the most values. Names play no part.
std::vector<std::string> DetectLevelNames(const data::Catalog& catalog);

// The levels named (attribute names or kProductLevel), coarsest first; an unknown name is an
// error that lists the attributes the catalog has.
Result<std::vector<Level>> LevelsNamed(const data::Catalog& catalog, const std::vector<std::string>& names);

// The detected levels, plus the single products when no level is small enough to embed and
// the catalog is.
std::vector<Level> ChooseLevels(const data::Catalog& catalog);

// The levels named in a saved model; names the catalog lacks are left out (the caller checks).
std::vector<Level> LevelsByName(const data::Catalog& catalog, const std::vector<std::string>& names);

}  // namespace cf::model
