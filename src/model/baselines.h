// Internal to src/model: the factories of the baselines, which scorer.cc registers. Callers
// create scorers by name through MakeScorer (scorer.h).
#pragma once

#include <memory>

#include "model/scorer.h"

namespace cf::model {

std::unique_ptr<Scorer> MakeRandomScorer(const ScorerContext& context);
std::unique_ptr<Scorer> MakePopularityScorer(const ScorerContext& context);
std::unique_ptr<Scorer> MakeTopicRfmScorer(const ScorerContext& context);
std::unique_ptr<Scorer> MakeDecayScorer(const ScorerContext& context);
std::unique_ptr<Scorer> MakeItemCfScorer(const ScorerContext& context);

}  // namespace cf::model
