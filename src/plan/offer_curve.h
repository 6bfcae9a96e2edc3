// An offer's audience curve from a loaded dataset and model: compile the offer, select the
// audience, score every customer, rank (curve.h). What `audience curve` prints and what the
// console's slider reads, from one function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/universal.h"
#include "plan/curve.h"

namespace cf::plan {

struct OfferCurve {
  std::string offer;            // the offer's name (its expression)
  uint64_t products = 0;        // products in the offer (0 when it is `any`)
  bool any_product = false;     // the offer is `any`
  uint64_t customers = 0;       // customers in the dataset
  uint64_t eligible = 0;        // customers the audience expression keeps
  int64_t as_of = 0;            // scores as of this UTC time
  double expected_buyers = 0;   // over every eligible customer
  double expected_revenue = 0;  // likewise
  std::vector<CurvePoint> points;
};

// `audience` is an expression over customer attributes ("" = everyone); `at` nullopt scores just
// after the log's last event, as `audience score` does. Errors name the offer or the audience.
Result<OfferCurve> ComputeOfferCurve(const data::Dataset& dataset, const model::UniversalModel& model,
                                     const model::EventLog& log, std::string_view offer, std::string_view audience,
                                     std::optional<int64_t> at, const CurveOptions& options);

}  // namespace cf::plan
