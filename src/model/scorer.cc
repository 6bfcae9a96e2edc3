#include "model/scorer.h"

#include <fmt/format.h>

#include "base/strings.h"
#include "model/baselines.h"
#include "model/universal.h"

namespace cf::model {
namespace {

// The registry: a new scorer is one file plus one line here.
// name, calibrated (probabilities), blendable (a baseline the safeguard may use), factory
constexpr ScorerInfo kScorers[] = {
    {"random", false, false, MakeRandomScorer},
    {"popularity", false, true, MakePopularityScorer},
    {"topic_rfm", false, true, MakeTopicRfmScorer},
    {"decay", false, true, MakeDecayScorer},
    {"item_cf", false, false, MakeItemCfScorer},
    {"universal", true, false, MakeUniversalScorer},  // trained by Fit; the one calibrated scorer
};

}  // namespace

std::span<const ScorerInfo> RegisteredScorers() { return kScorers; }

std::vector<std::string> ScorerNames() {
  std::vector<std::string> names;
  for (const ScorerInfo& s : kScorers) {
    names.emplace_back(s.name);
  }
  return names;
}

Result<const ScorerInfo*> FindScorer(std::string_view name) {
  for (const ScorerInfo& s : kScorers) {
    if (s.name == name) {
      return &s;
    }
  }
  return Err(
      Status::InvalidArgument(fmt::format("unknown model '{}'; expected one of {}", name, Join(ScorerNames(), ", "))));
}

Result<std::unique_ptr<Scorer>> MakeScorer(std::string_view name, const ScorerContext& context) {
  CF_ASSIGN_OR_RETURN(const ScorerInfo* info, FindScorer(name));
  return info->make(context);
}

Level FinestLevel(const std::vector<Level>& levels, uint32_t num_products) {
  const Level* best = nullptr;
  for (const Level& level : levels) {
    if (best == nullptr || level.values.size() > best->values.size()) {
      best = &level;
    }
  }
  if (best != nullptr) {
    return *best;
  }
  return ProductLevel(num_products, "product");
}

}  // namespace cf::model
