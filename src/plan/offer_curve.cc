#include "plan/offer_curve.h"

#include <fmt/format.h>

#include <numeric>

#include "offer/offer.h"
#include "plan/audience_filter.h"

namespace cf::plan {

Result<OfferCurve> ComputeOfferCurve(const data::Dataset& dataset, const model::UniversalModel& model,
                                     const model::EventLog& log, std::string_view offer, std::string_view audience,
                                     std::optional<int64_t> at, const CurveOptions& options) {
  CF_RETURN_IF_ERROR(options.Validate());
  CF_ASSIGN_OR_RETURN(offer::ProductSet products, offer::CompileOffer(offer, dataset.catalog()));
  // Its errors start with "audience: ", which names the input too.
  CF_ASSIGN_OR_RETURN(const std::vector<uint8_t> eligible, SelectCustomers(audience, dataset.customers()));
  const int64_t cutoff = at.value_or(log.last_time() + 1);
  const model::HistoryView history(log, cutoff);
  std::vector<uint32_t> customers(log.num_customers());
  std::iota(customers.begin(), customers.end(), 0u);
  if (eligible.size() != customers.size()) {
    return Err(Status::Internal(
        fmt::format("{} customers in the dataset's table but {} in its event log", eligible.size(), customers.size())));
  }
  CF_ASSIGN_OR_RETURN(model::OfferScores scores, model.Score(history, products, customers));
  CF_ASSIGN_OR_RETURN(RankedAudience ranked,
                      RankedAudience::Build(scores.probability, scores.expected_revenue, eligible));
  OfferCurve out;
  CF_ASSIGN_OR_RETURN(out.points, ranked.Curve(options));
  out.offer = products.name;
  out.products = products.count;
  out.any_product = products.any;
  out.customers = customers.size();
  out.eligible = ranked.size();
  out.as_of = cutoff;
  out.expected_buyers = ranked.total_buyers();
  out.expected_revenue = ranked.total_revenue();
  return out;
}

}  // namespace cf::plan
