// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// Customers without a purchase yet: who they are (the customers file) and how likely they are
// to buy an offer within the horizon.
//
// The trees learn from purchase histories, so a customer without one is a row of zeros to them
// (≤ 0.0011 for every offer on generated data, where about one in ten such customers buys
// within 30 days). These customers get a separate, calibrated estimate instead:
//   P(buys O) = P(buys anything | no purchase yet, signup age, attributes) × s(O)
// The first factor is a logistic regression fitted at past cutoffs on the customers who had not
// bought yet; s(O) is the offer's share among the customers whose first purchases fell in the
// last horizon (smoothed toward its share among all buyers). Both factors are monotone in the
// offer, so expected buyers and revenue of new customers never grow when products are removed.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/offer_totals.h"
#include "offer/product_set.h"

namespace cf::model {

// What the customers file says about each customer, as the model reads it.
struct CustomerProfiles {
  static constexpr int64_t kUnknownTime = std::numeric_limits<int64_t>::min();
  struct Attribute {
    std::string name;
    std::vector<uint32_t> codes;      // per customer; 0 = empty
    std::vector<std::string> values;  // values[code]; values[0] = ""
  };
  std::vector<int64_t> signup;        // per customer: signup time, kUnknownTime when none
  std::vector<uint8_t> listed;        // per customer: 1 when the customers file lists it
  std::vector<uint8_t> identity;      // per customer: bit 0 external_id, bit 1 device_id
  std::vector<Attribute> attributes;  // categorical attributes with few values
  std::string signup_attribute;       // the attribute read as the signup date, or empty
};

// Reads the profiles from the dataset's customers: the signup date is the first attribute whose
// values are dates (names play no part), the attributes those with 2 to kMaxProfileValues values.
CustomerProfiles ProfilesFromCustomers(const data::Customers& customers);

// A customer the CRM knew at the view's cutoff: with a purchase before it, or listed in the
// customers file with a signup before it (or no signup date at all).
bool KnownAt(const HistoryView& view, uint32_t c);

class ColdStartModel {
 public:
  // Fits P(buys anything within H) on the customers known at each cutoff without a purchase
  // before it, labelled by [cutoff, cutoff + H), for the cutoffs whose window is inside history.
  static ColdStartModel Fit(const HistoryView& history, const std::vector<int64_t>& cutoffs, int horizon_days);

  // Whether any customer was cold at a training cutoff; without, every probability is 0.
  bool fitted() const { return fitted_; }
  uint64_t training_rows() const { return rows_; }
  double base_rate() const { return base_rate_; }  // P(buys anything) over the training rows

  // s(O) (share of new buyers who buy the offer) and the offer's revenue per new buyer.
  struct OfferShare {
    double buyers = 0;   // per new buyer
    double revenue = 0;  // per new buyer
  };

  // The model applied to one view: its weights looked up once per attribute value and signup
  // bucket (not by feature name per customer), and the customers whose first purchase lies in
  // [cutoff − H, cutoff), found once. Offer-independent; valid while the view lives.
  class OnView {
   public:
    // P(customer c, without purchases before the cutoff, buys anything within H).
    double BuyProbability(uint32_t c) const;
    // `offer_windows` and `any_windows` are MeasureOfferWindows of the offer and of every
    // purchase on the view.
    OfferShare Share(const offer::ProductSet& offer, const OfferWindows& offer_windows,
                     const OfferWindows& any_windows) const;

   private:
    friend class ColdStartModel;
    const HistoryView* view_ = nullptr;
    bool fitted_ = false;
    double intercept_ = 0;
    std::vector<double> signup_;                  // per signup bucket (SignupBucket); empty without a signup date
    std::vector<double> identity_;                // per identity bits (CustomerProfiles::identity)
    std::vector<std::vector<double>> attribute_;  // per profile attribute, per value code
    std::vector<uint32_t> fresh_;                 // first purchase in the last horizon, in customer order
  };
  OnView On(const HistoryView& view, int threads) const;

  nlohmann::json ToJson() const;
  static Result<ColdStartModel> FromJson(const nlohmann::json& j);

 private:
  // Names of the features of customer c at `cutoff` (one-hot: signup age bucket, attributes).
  std::vector<std::string> Features(const HistoryView& view, uint32_t c) const;
  double WeightOf(const std::string& feature) const;  // 0 for a feature not kept

  int horizon_days_ = 30;
  bool fitted_ = false;
  uint64_t rows_ = 0;
  double base_rate_ = 0;
  double intercept_ = 0;
  std::map<std::string, double> weights_;
};

}  // namespace cf::model
