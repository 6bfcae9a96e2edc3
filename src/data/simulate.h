// `audience simulate`: continues a generated dataset past its last day by the generator's own
// model, with campaign messages that multiply the rate of buying the promoted offer, and computes
// what the messages truly caused (expectations under the model). See docs/simulate.md.
//
// The inputs are plain: the generated dataset (re-created from its truth.json), the campaigns as
// product sets, and the messages as (customer, campaign, window). Reading a plan directory and a
// sends feed is the command's work (apps/audience/simulate_command.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/dataset.h"

namespace cf::data {

// A generated dataset, re-created from the parameters in its truth.json (nothing else is read).
class GeneratedData {
 public:
  // Errors: no truth.json in `dir`, a truth.json that is not the generator's, or one whose counts
  // disagree with the re-created world (written by another version of the generator).
  static Result<std::unique_ptr<GeneratedData>> Open(const std::string& dir);
  ~GeneratedData();
  GeneratedData(const GeneratedData&) = delete;
  GeneratedData& operator=(const GeneratedData&) = delete;

  // The generated products as products.csv has them: product_id "1".."M" (product index p is
  // product_id p + 1) and the attributes department, category, brand, price.
  const Catalog& catalog() const;
  uint64_t customers() const;  // customer index c is CRM customer_id c + 1
  // The identifiers customers.csv gives each customer of `indices` (each < customers()), re-created by
  // replaying them.
  struct Identifiers {
    std::string external_id;  // "" if none
    std::string device_id;    // "" if none
    std::string aliases;      // label:name joined by ';', "" if none
  };
  std::vector<Identifiers> IdentifiersOf(std::span<const uint64_t> indices) const;
  int64_t end_day() const;  // the first day after the history (days since 1970-01-01)

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit GeneratedData(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A campaign whose messages promote an offer.
struct SimulatedCampaign {
  std::string name;
  std::vector<uint8_t> offer;  // offer[p] != 0: product index p is promoted; one entry per product
};

// One message received by one customer (a `sent` record, not held out).
struct Message {
  uint64_t customer = 0;  // customer index
  uint32_t campaign = 0;  // index into the campaigns
  int64_t first_day = 0;  // the window [first_day, end_day), days since 1970-01-01
  int64_t end_day = 0;
};

struct SimulateOptions {
  static constexpr int32_t kMaxDays = 3660;
  static constexpr double kMaxTreatmentEffect = 100;

  int32_t days = 21;              // days simulated after the history: 1 to kMaxDays
  double treatment_effect = 1.3;  // factor on the offer's purchase rate in a window: 1 (none) to kMaxTreatmentEffect
  uint64_t seed = 1;              // the continuation's randomness: any value; same inputs and seed, same bytes
  std::string out;                // directory written (purchases.csv, truth.json); replaced whole on success
  int threads = 0;                // worker threads: 0 (the machine's cores) to 256
  bool progress = true;           // a progress bar when stderr is a terminal

  // OK, or InvalidArgument naming the field, its value and what is valid.
  Status Validate() const;
};

// The truth of one campaign over its treated customers (contract: docs/simulate.md, "truth.json").
struct CampaignTruth {
  std::string name;
  uint64_t treated = 0;                  // customers with a message of the campaign
  double true_incremental_buyers = 0;    // Σ P(buys | message) − P(buys | no message)
  double true_incremental_revenue = 0;   // the same for the revenue of the offer in the window
  double expected_buyers_untreated = 0;  // Σ P(buys | no message) over the treated customers
};

struct SimulateReport {
  std::vector<CampaignTruth> campaigns;  // in the order given
  CampaignTruth total;                   // sums over the campaigns
  uint64_t customers = 0;
  uint64_t purchases = 0;        // rows of purchases.csv
  uint64_t extra_purchases = 0;  // of which the messages caused
  double seconds = 0;
};

// Simulates options.days days after the history and writes options.out/purchases.csv (the
// generator's format) and options.out/truth.json. Messages are checked: customer and campaign in
// range, windows starting within the simulated days (a window is cut at their end).
Result<SimulateReport> Simulate(const GeneratedData& data, const std::vector<SimulatedCampaign>& campaigns,
                                std::vector<Message> messages, const SimulateOptions& options);

}  // namespace cf::data
