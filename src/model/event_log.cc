#include "model/event_log.h"

#include <algorithm>
#include <limits>

#include "model/cold_start.h"

namespace cf::model {

EventLog EventLog::FromDataset(const data::Dataset& dataset) {
  EventLog log;
  const data::Events& ev = dataset.events();
  log.num_customers_ = dataset.customers().size();
  log.num_products_ = dataset.catalog().size();
  log.offsets_.resize(static_cast<size_t>(log.num_customers_) + 1);
  for (uint32_t c = 0; c < log.num_customers_; ++c) {
    log.offsets_[c] = ev.begin(c);
  }
  log.offsets_[log.num_customers_] = log.num_customers_ == 0 ? 0 : ev.end(log.num_customers_ - 1);
  log.time_ = ev.time();
  log.product_ = ev.product();
  log.revenue_ = ev.revenue();
  log.channel_ = ev.channel();
  log.profiles_ = std::make_shared<const CustomerProfiles>(ProfilesFromCustomers(dataset.customers()));
  log.Finish();
  return log;
}

EventLog EventLog::FromOwned(OwnedEvents events) {
  EventLog log;
  log.owned_ = std::make_shared<OwnedEvents>(std::move(events));
  OwnedEvents& o = *log.owned_;
  const size_t n = o.time.size();
  o.product.resize(n, data::kNoProduct);
  o.revenue.resize(n, 0.0f);
  o.channel.resize(n, 0);
  log.num_customers_ = o.num_customers;
  log.num_products_ = o.num_products;
  log.offsets_.assign(static_cast<size_t>(o.num_customers) + 1, 0);
  for (uint32_t c : o.customer) {
    ++log.offsets_[c + 1];
  }
  for (uint32_t c = 0; c < o.num_customers; ++c) {
    log.offsets_[c + 1] += log.offsets_[c];
  }
  log.time_ = o.time;
  log.product_ = o.product;
  log.revenue_ = o.revenue;
  log.channel_ = o.channel;
  log.Finish();
  return log;
}

void EventLog::Finish() {
  min_time_ = std::numeric_limits<int64_t>::max();
  max_time_ = std::numeric_limits<int64_t>::min();
  for (int64_t t : time_) {
    min_time_ = std::min(min_time_, t);
    max_time_ = std::max(max_time_, t);
  }
}

CustomerEvents EventLog::Slice(uint64_t from, uint64_t to) const {
  const size_t n = to - from;
  return {time_.subspan(from, n), product_.subspan(from, n), revenue_.subspan(from, n), channel_.subspan(from, n)};
}

HistoryView::HistoryView(const EventLog& log, int64_t cutoff) : log_(&log), cutoff_(cutoff), first_time_(cutoff) {
  const uint32_t n = log.num_customers();
  ends_.resize(n);
  const std::span<const int64_t> times = log.times();
  for (uint32_t c = 0; c < n; ++c) {
    const auto first = times.begin() + static_cast<std::ptrdiff_t>(log.begin(c));
    const auto last = times.begin() + static_cast<std::ptrdiff_t>(log.end(c));
    const auto it = std::lower_bound(first, last, cutoff);
    ends_[c] = static_cast<uint64_t>(it - times.begin());
    if (it != first) {
      first_time_ = std::min(first_time_, *first);
    }
  }
}

HistoryView HistoryView::Before(int64_t earlier) const { return HistoryView(*log_, std::min(earlier, cutoff_)); }

CustomerEvents HistoryView::Window(uint32_t c, int64_t from, int64_t to) const {
  const CustomerEvents all = Customer(c);
  to = std::min(to, cutoff_);
  const auto lo = std::lower_bound(all.time.begin(), all.time.end(), from) - all.time.begin();
  auto hi = std::lower_bound(all.time.begin(), all.time.end(), to) - all.time.begin();
  hi = std::max(hi, lo);
  const uint64_t base = log_->begin(c);
  return log_->Slice(base + static_cast<uint64_t>(lo), base + static_cast<uint64_t>(hi));
}

Level ProductLevel(uint32_t num_products, std::string name) {
  Level level;
  level.name = std::move(name);
  level.values.reserve(static_cast<size_t>(num_products) + 1);
  level.values.emplace_back();
  level.code_of_product.resize(num_products);
  for (uint32_t p = 0; p < num_products; ++p) {
    level.code_of_product[p] = p + 1;
    level.values.push_back(std::to_string(p));
  }
  return level;
}

std::vector<Level> LevelsFromCatalog(const data::Catalog& catalog, const std::vector<std::string>& names) {
  std::vector<Level> levels;
  for (const std::string& name : names) {
    for (const data::Attribute& attr : catalog.attributes()) {
      if (attr.name != name) {
        continue;
      }
      Level level;
      level.name = name;
      level.code_of_product.assign(attr.codes.begin(), attr.codes.end());
      level.values.reserve(attr.dict.size());
      for (size_t i = 0; i < attr.dict.size(); ++i) {
        level.values.emplace_back(attr.dict[i]);
      }
      levels.push_back(std::move(level));
    }
  }
  return levels;
}

}  // namespace cf::model
