#include "model/cold_start.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "base/time.h"
#include "model/parallel.h"

namespace cf::model {
namespace {

constexpr uint32_t kMaxProfileValues = 50;  // more values are identifiers or numbers, not segments
constexpr double kMinDateShare = 0.95;      // share of values that must be dates for a signup column
constexpr uint32_t kMinFeatureRows = 20;    // a one-hot feature needs this many training rows
constexpr double kL2 = 1.0;                 // ridge on the weights (not the intercept), in rows
constexpr int kNewtonIterations = 30;
constexpr double kMaxWeight = 30;       // keeps separable data (a bucket where nobody buys) finite
constexpr double kShareSmoothing = 10;  // new buyers of prior weight toward the all-buyers share
// Signup age buckets in days: new customers buy soon after signing up, or not at all.
constexpr int kSignupBuckets[] = {7, 14, 30, 60, 90, 180, 365, 730};

bool LooksLikeDate(std::string_view s) {
  return s.size() >= 10 && s[4] == '-' && s[7] == '-' && ParseIsoTime(s).has_value();
}

double Sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

// Signup age buckets: 0 unknown, then one per edge of kSignupBuckets, then one past the last.
constexpr size_t kSignupBucketCount = std::size(kSignupBuckets) + 2;

size_t SignupBucket(int64_t signup, int64_t cutoff) {
  if (signup == CustomerProfiles::kUnknownTime) {
    return 0;
  }
  const int64_t days = (cutoff - signup) / kSecondsPerDay;
  size_t b = 1;
  for (int edge : kSignupBuckets) {
    if (days < edge) {
      return b;
    }
    ++b;
  }
  return b;
}

std::string SignupBucketName(size_t bucket) {
  if (bucket == 0) {
    return "signup:unknown";
  }
  const int lo = bucket == 1 ? 0 : kSignupBuckets[bucket - 2];
  return bucket - 1 < std::size(kSignupBuckets) ? fmt::format("signup:{}-{}d", lo, kSignupBuckets[bucket - 1])
                                                  : fmt::format("signup:{}d+", lo);
}

std::string IdentityName(uint8_t id) {
  return fmt::format("identity:{}{}", (id & 1) != 0 ? "external_id" : "-", (id & 2) != 0 ? "+device" : "");
}

}  // namespace

CustomerProfiles ProfilesFromCustomers(const data::Customers& customers) {
  CustomerProfiles out;
  const uint32_t n = customers.size();
  out.signup.assign(n, CustomerProfiles::kUnknownTime);
  out.listed.assign(n, 0);
  out.identity.assign(n, 0);
  for (uint32_t c = 0; c < n; ++c) {
    const bool external = !customers.external_id(c).empty();
    const bool device = !customers.device_id(c).empty();
    out.identity[c] = static_cast<uint8_t>((external ? 1 : 0) | (device ? 2 : 0));
    out.listed[c] = external || device || !customers.aliases(c).empty() ? 1 : 0;
  }
  for (const data::Attribute& attr : customers.attributes()) {
    std::vector<uint8_t> used(attr.dict.size(), 0);
    for (uint32_t c = 0; c < n; ++c) {
      used[attr.codes[c]] = 1;
      out.listed[c] |= attr.codes[c] != data::kMissingCode ? 1 : 0;
    }
    uint32_t values = 0, dates = 0, rows = 0;
    for (uint32_t c = 0; c < n; ++c) {
      rows += attr.codes[c] != data::kMissingCode ? 1 : 0;
    }
    for (size_t code = 1; code < attr.dict.size(); ++code) {
      if (used[code] != 0) {
        ++values;
        dates += LooksLikeDate(attr.dict[code]) ? 1 : 0;
      }
    }
    if (values == 0) {
      continue;
    }
    if (out.signup_attribute.empty() && static_cast<double>(dates) >= kMinDateShare * values) {
      out.signup_attribute = attr.name;
      std::vector<int64_t> time_of(attr.dict.size(), CustomerProfiles::kUnknownTime);
      for (size_t code = 1; code < attr.dict.size(); ++code) {
        if (auto t = ParseIsoTime(attr.dict[code]); used[code] != 0 && t.has_value()) {
          time_of[code] = *t;
        }
      }
      for (uint32_t c = 0; c < n; ++c) {
        out.signup[c] = time_of[attr.codes[c]];
      }
      continue;
    }
    // A value per customer identifies rather than segments.
    if (values < 2 || values > kMaxProfileValues || values == rows) {
      continue;
    }
    CustomerProfiles::Attribute a;
    a.name = attr.name;
    a.codes.assign(attr.codes.begin(), attr.codes.end());
    for (size_t code = 0; code < attr.dict.size(); ++code) {
      a.values.emplace_back(attr.dict[code]);
    }
    out.attributes.push_back(std::move(a));
  }
  return out;
}

bool KnownAt(const HistoryView& view, uint32_t c) {
  if (view.HasHistory(c)) {
    return true;
  }
  const CustomerProfiles* profiles = view.profiles();
  if (profiles == nullptr || profiles->listed[c] == 0) {
    return false;
  }
  const int64_t signup = profiles->signup[c];
  return signup == CustomerProfiles::kUnknownTime || signup < view.cutoff();
}

std::vector<std::string> ColdStartModel::Features(const HistoryView& view, uint32_t c) const {
  std::vector<std::string> names;
  const CustomerProfiles* profiles = view.profiles();
  if (profiles == nullptr) {
    return names;
  }
  if (!profiles->signup_attribute.empty()) {
    names.push_back(SignupBucketName(SignupBucket(profiles->signup[c], view.cutoff())));
  }
  names.push_back(IdentityName(profiles->identity[c]));
  for (const CustomerProfiles::Attribute& a : profiles->attributes) {
    names.push_back(a.name + "=" + a.values[a.codes[c]]);
  }
  return names;
}

ColdStartModel ColdStartModel::Fit(const HistoryView& history, const std::vector<int64_t>& cutoffs, int horizon_days) {
  ColdStartModel model;
  model.horizon_days_ = horizon_days;
  const int64_t horizon = static_cast<int64_t>(horizon_days) * kSecondsPerDay;
  // Rows aggregated by their feature set: the few buckets and segments make the logistic
  // regression a small weighted problem whatever the number of customers.
  std::map<std::vector<std::string>, std::pair<double, double>> cells;  // features -> (rows, buyers)
  for (int64_t cutoff : cutoffs) {
    if (cutoff + horizon > history.cutoff()) {
      continue;  // a truncated window would under-count buyers
    }
    const HistoryView view = history.Before(cutoff);
    for (uint32_t c = 0; c < history.num_customers(); ++c) {
      if (view.HasHistory(c) || !KnownAt(view, c)) {
        continue;
      }
      const bool bought = !history.Window(c, cutoff, cutoff + horizon).empty();
      auto& cell = cells[model.Features(view, c)];
      cell.first += 1;
      cell.second += bought ? 1 : 0;
    }
  }
  double rows = 0, buyers = 0;
  std::map<std::string, double> feature_rows;
  for (const auto& [features, cell] : cells) {
    rows += cell.first;
    buyers += cell.second;
    for (const std::string& f : features) {
      feature_rows[f] += cell.first;
    }
  }
  model.rows_ = static_cast<uint64_t>(rows);
  if (rows == 0) {
    return model;
  }
  model.fitted_ = true;
  model.base_rate_ = buyers / rows;
  std::vector<std::string> names;
  for (const auto& [f, n] : feature_rows) {
    if (n >= kMinFeatureRows) {
      names.push_back(f);
    }
  }
  const size_t d = names.size() + 1;  // index 0: the intercept
  std::vector<std::vector<size_t>> x;
  std::vector<double> weight, label;
  for (const auto& [features, cell] : cells) {
    std::vector<size_t> idx = {0};
    for (const std::string& f : features) {
      const auto it = std::lower_bound(names.begin(), names.end(), f);
      if (it != names.end() && *it == f) {
        idx.push_back(static_cast<size_t>(it - names.begin()) + 1);
      }
    }
    x.push_back(std::move(idx));
    weight.push_back(cell.first);
    label.push_back(cell.second / cell.first);
  }
  Eigen::VectorXd w = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(d));
  const double prior = std::clamp(model.base_rate_, 1e-6, 1 - 1e-6);
  w[0] = std::log(prior / (1 - prior));
  // Penalized negative log-likelihood, for the line search: a cell where nobody buys pulls its
  // weight toward −∞, and full Newton steps overshoot there.
  auto loss = [&](const Eigen::VectorXd& v) {
    double l = 0;
    for (size_t r = 0; r < x.size(); ++r) {
      double z = 0;
      for (size_t i : x[r]) {
        z += v[static_cast<Eigen::Index>(i)];
      }
      // log(1 + e^z) − y·z, computed without overflow.
      const double softplus = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
      l += weight[r] * (softplus - label[r] * z);
    }
    return l + kL2 / 2 * (v.squaredNorm() - v[0] * v[0]);
  };
  double current = loss(w);
  for (int it = 0; it < kNewtonIterations; ++it) {
    Eigen::MatrixXd h = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(d));
    Eigen::VectorXd g = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(d));
    for (size_t r = 0; r < x.size(); ++r) {
      double z = 0;
      for (size_t i : x[r]) {
        z += w[static_cast<Eigen::Index>(i)];
      }
      const double p = Sigmoid(z);
      const double gr = weight[r] * (p - label[r]);
      const double hr = weight[r] * std::max(p * (1 - p), 1e-9);
      for (size_t i : x[r]) {
        g[static_cast<Eigen::Index>(i)] += gr;
        for (size_t j : x[r]) {
          h(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) += hr;
        }
      }
    }
    for (size_t i = 1; i < d; ++i) {
      g[static_cast<Eigen::Index>(i)] += kL2 * w[static_cast<Eigen::Index>(i)];
      h(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(i)) += kL2;
    }
    h(0, 0) += 1e-9;
    const Eigen::VectorXd step = h.ldlt().solve(g);
    double t = 1;
    Eigen::VectorXd next = (w - step).cwiseMax(-kMaxWeight).cwiseMin(kMaxWeight);
    double next_loss = loss(next);
    while (next_loss > current && t > 1e-6) {
      t /= 2;
      next = (w - t * step).cwiseMax(-kMaxWeight).cwiseMin(kMaxWeight);
      next_loss = loss(next);
    }
    if (next_loss > current) {
      break;
    }
    const bool converged = current - next_loss < 1e-10 * std::max(1.0, current);
    w = next;
    current = next_loss;
    if (converged) {
      break;
    }
  }
  model.intercept_ = w[0];
  for (size_t i = 0; i < names.size(); ++i) {
    model.weights_[names[i]] = w[static_cast<Eigen::Index>(i) + 1];
  }
  return model;
}

double ColdStartModel::WeightOf(const std::string& feature) const {
  const auto it = weights_.find(feature);
  return it != weights_.end() ? it->second : 0.0;
}

ColdStartModel::OnView ColdStartModel::On(const HistoryView& view, int threads) const {
  OnView on;
  on.view_ = &view;
  on.fitted_ = fitted_;
  on.intercept_ = intercept_;
  if (const CustomerProfiles* profiles = view.profiles(); profiles != nullptr) {
    if (!profiles->signup_attribute.empty()) {
      for (size_t b = 0; b < kSignupBucketCount; ++b) {
        on.signup_.push_back(WeightOf(SignupBucketName(b)));
      }
    }
    for (unsigned id = 0; id < 4; ++id) {
      on.identity_.push_back(WeightOf(IdentityName(static_cast<uint8_t>(id))));
    }
    for (const CustomerProfiles::Attribute& a : profiles->attributes) {
      std::vector<double>& by_code = on.attribute_.emplace_back();
      for (const std::string& value : a.values) {
        by_code.push_back(WeightOf(a.name + "=" + value));
      }
    }
  }
  const int64_t from = view.cutoff() - static_cast<int64_t>(horizon_days_) * kSecondsPerDay;
  std::vector<std::vector<uint32_t>> fresh(static_cast<size_t>(ResolveThreads(threads)));
  ParallelFor(view.num_customers(), threads, [&](size_t t, size_t b, size_t e) {
    for (size_t c = b; c < e; ++c) {
      const CustomerEvents ev = view.Customer(static_cast<uint32_t>(c));
      if (!ev.empty() && ev.time.front() >= from) {
        fresh[t].push_back(static_cast<uint32_t>(c));
      }
    }
  });
  for (const std::vector<uint32_t>& part : fresh) {  // the threads' chunks are in customer order
    on.fresh_.insert(on.fresh_.end(), part.begin(), part.end());
  }
  return on;
}

double ColdStartModel::OnView::BuyProbability(uint32_t c) const {
  if (!fitted_) {
    return 0;
  }
  // The weights in the order Features lists them, so the sum is the same as by name.
  double z = intercept_;
  if (const CustomerProfiles* profiles = view_->profiles(); profiles != nullptr) {
    if (!signup_.empty()) {
      z += signup_[SignupBucket(profiles->signup[c], view_->cutoff())];
    }
    z += identity_[profiles->identity[c] & 3];
    for (size_t a = 0; a < attribute_.size(); ++a) {
      z += attribute_[a][profiles->attributes[a].codes[c]];
    }
  }
  return Sigmoid(z);
}

ColdStartModel::OfferShare ColdStartModel::OnView::Share(const offer::ProductSet& offer,
                                                         const OfferWindows& offer_windows,
                                                         const OfferWindows& any_windows) const {
  double fresh_buyers = 0, fresh_revenue = 0;
  for (uint32_t c : fresh_) {
    const CustomerEvents ev = view_->Customer(c);
    bool bought = false;
    for (size_t k = 0; k < ev.size(); ++k) {
      if (offer.Contains(ev.product[k])) {
        bought = true;
        fresh_revenue += std::max(0.0f, ev.revenue[k]);
      }
    }
    fresh_buyers += bought ? 1 : 0;
  }
  const double fresh = static_cast<double>(fresh_.size());
  // The prior: the offer's share among everyone who bought in the last horizon (monotone too).
  const double all = std::max(1.0, any_windows.buyers[0]);
  const double prior_buyers = offer_windows.buyers[0] / all;
  const double prior_revenue = offer_windows.revenue[0] / all;
  OfferShare s;
  s.buyers = (fresh_buyers + kShareSmoothing * prior_buyers) / (fresh + kShareSmoothing);
  s.revenue = (fresh_revenue + kShareSmoothing * prior_revenue) / (fresh + kShareSmoothing);
  return s;
}

nlohmann::json ColdStartModel::ToJson() const {
  return {{"horizon_days", horizon_days_}, {"fitted", fitted_},       {"rows", rows_},
          {"base_rate", base_rate_},       {"intercept", intercept_}, {"weights", weights_}};
}

Result<ColdStartModel> ColdStartModel::FromJson(const nlohmann::json& j) {
  ColdStartModel m;
  try {
    m.horizon_days_ = j.at("horizon_days").get<int>();
    m.fitted_ = j.at("fitted").get<bool>();
    m.rows_ = j.at("rows").get<uint64_t>();
    m.base_rate_ = j.at("base_rate").get<double>();
    m.intercept_ = j.at("intercept").get<double>();
    m.weights_ = j.at("weights").get<std::map<std::string, double>>();
  } catch (const nlohmann::json::exception& e) {
    return Err(Status::Corruption(std::string("cold_start: ") + e.what()));
  }
  return m;
}

}  // namespace cf::model
