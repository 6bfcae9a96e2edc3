// The purchase history the model reads, and the views that make leakage impossible.
//
// EventLog is a read-only copy-free view of a dataset's event columns (or owned vectors in
// tests). Models never see an EventLog: they receive a HistoryView, which can only expose the
// events strictly before its cutoff. Training derives earlier cutoffs and their label windows
// from the same view, so nothing at or after the cutoff can reach a feature or a label.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace cf::model {

struct CustomerProfiles;  // cold_start.h: what the customers file says about each customer

// One grouping of products by an attribute (e.g. department): code_of_product[p] in
// [0, values.size()); code 0 is the missing value "".
struct Level {
  std::string name;
  std::vector<uint32_t> code_of_product;
  std::vector<std::string> values;
};

// Events of one customer, oldest first. All spans have the same length.
struct CustomerEvents {
  std::span<const int64_t> time;
  std::span<const uint32_t> product;  // data::kNoProduct when the event names none
  std::span<const float> revenue;
  std::span<const uint8_t> channel;
  size_t size() const { return time.size(); }
  bool empty() const { return time.empty(); }
};

// Owned columns, for tests and generated data; events sorted by customer then time.
struct OwnedEvents {
  uint32_t num_customers = 0;
  uint32_t num_products = 0;
  std::vector<uint32_t> customer;
  std::vector<int64_t> time;
  std::vector<uint32_t> product;
  std::vector<float> revenue;
  std::vector<uint8_t> channel;
};

class EventLog {
 public:
  // Views the dataset's columns; the dataset must outlive the log.
  static EventLog FromDataset(const data::Dataset& dataset);
  // Takes ownership of `events` (sorted by customer, then time).
  static EventLog FromOwned(OwnedEvents events);

  uint32_t num_customers() const { return num_customers_; }
  uint32_t num_products() const { return num_products_; }
  uint64_t num_events() const { return time_.size(); }
  int64_t first_time() const { return time_.empty() ? 0 : min_time_; }
  int64_t last_time() const { return time_.empty() ? 0 : max_time_; }
  // All events of customer c, including the future: only the evaluator and the scorer of
  // the present use this directly.
  CustomerEvents All(uint32_t c) const { return Slice(offsets_[c], offsets_[c + 1]); }
  uint64_t begin(uint32_t c) const { return offsets_[c]; }
  uint64_t end(uint32_t c) const { return offsets_[c + 1]; }
  CustomerEvents Slice(uint64_t from, uint64_t to) const;
  std::span<const int64_t> times() const { return time_; }
  // Signup dates and attributes of the customers file (FromDataset), or null.
  const CustomerProfiles* profiles() const { return profiles_.get(); }
  void set_profiles(std::shared_ptr<const CustomerProfiles> profiles) { profiles_ = std::move(profiles); }

 private:
  void Finish();

  uint32_t num_customers_ = 0;
  uint32_t num_products_ = 0;
  std::vector<uint64_t> offsets_;
  std::span<const int64_t> time_;
  std::span<const uint32_t> product_;
  std::span<const float> revenue_;
  std::span<const uint8_t> channel_;
  int64_t min_time_ = 0;
  int64_t max_time_ = 0;
  std::shared_ptr<OwnedEvents> owned_;
  std::shared_ptr<const CustomerProfiles> profiles_;
};

// The events of every customer strictly before `cutoff`, and nothing else.
class HistoryView {
 public:
  HistoryView(const EventLog& log, int64_t cutoff);

  int64_t cutoff() const { return cutoff_; }
  uint32_t num_customers() const { return log_->num_customers(); }
  uint32_t num_products() const { return log_->num_products(); }
  // Events of customer c with time < cutoff().
  CustomerEvents Customer(uint32_t c) const { return log_->Slice(log_->begin(c), ends_[c]); }
  bool HasHistory(uint32_t c) const { return ends_[c] > log_->begin(c); }
  // What the customers file says about customers (null without one); see KnownAt.
  const CustomerProfiles* profiles() const { return log_->profiles(); }
  // Time of the earliest event in the view (cutoff() when empty).
  int64_t first_time() const { return first_time_; }
  // A view of the same events before an earlier cutoff; `earlier` is clamped to cutoff().
  HistoryView Before(int64_t earlier) const;
  // Events of customer c in [from, to) with `to` clamped to cutoff(): the label window of a
  // training cutoff, which therefore never reaches past what this view may show.
  CustomerEvents Window(uint32_t c, int64_t from, int64_t to) const;

 private:
  const EventLog* log_;
  int64_t cutoff_;
  int64_t first_time_;
  std::vector<uint64_t> ends_;  // per customer: first event index at or after cutoff_
};

// The finest level: every product its own group (code p + 1, value "p").
Level ProductLevel(uint32_t num_products, std::string name);

// The levels (product groupings) of a catalog, one per attribute named in `names`.
std::vector<Level> LevelsFromCatalog(const data::Catalog& catalog, const std::vector<std::string>& names);

}  // namespace cf::model
