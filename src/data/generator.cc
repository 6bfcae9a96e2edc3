#include "data/generator.h"

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/files.h"
#include "base/hash.h"
#include "base/progress.h"
#include "base/time.h"
#include "data/generator_internal.h"

namespace cf::data::generator_internal {

Generator::Generator(const GeneratorOptions& options, int64_t start_day, int64_t cutoff_day, const World& world,
                     const std::string& dir)
    : options_(options),
      start_day_(start_day),
      end_day_(start_day + options.days),
      cutoff_day_(cutoff_day),
      world_(world),
      dir_(dir) {
  const size_t n = world.categories.size();
  state_.rate.resize(n);
  state_.rhythm.resize(n);
  state_.truth_last.resize(n);
  state_.last_day.resize(n);
  state_.before_day.resize(n);
  state_.last_product.resize(n);
  state_.favorite_brand.resize(n);
  truth_stride_ =
      options.truth_customers == 0 ? 0 : (options.customers + options.truth_customers - 1) / options.truth_customers;
  const int64_t first = start_day - kSignupBackMaxDays - 1;
  date_base_ = first;
  for (int64_t d = first; d <= end_day_; ++d) {
    std::string s = FormatIsoDate(d * kSecondsPerDay);
    dates_.append(s);
  }
}

Status Generator::WriteProducts() {
  OutFile out;
  CF_RETURN_IF_ERROR(out.Open(dir_ + "/products.csv"));
  out.Put("product_id,department,category,brand,price");
  CF_RETURN_IF_ERROR(out.EndRow());
  for (size_t p = 0; p < world_.products.size(); ++p) {
    const Product& product = world_.products[p];
    const Category& c = world_.categories[product.category];
    out.PutUint(p + 1);
    out.Put(',');
    out.PutField(world_.departments[c.department]);
    out.Put(',');
    out.PutField(c.spec->name);
    out.Put(',');
    out.PutField(world_.brands[product.brand].name);
    out.Put(',');
    out.PutCents(product.price_cents);
    CF_RETURN_IF_ERROR(out.EndRow());
  }
  return out.Close();
}

Status Generator::Run(GeneratorReport* report) {
  CF_RETURN_IF_ERROR(WriteProducts());
  CF_RETURN_IF_ERROR(customers_.Open(dir_ + "/customers.csv"));
  CF_RETURN_IF_ERROR(purchases_.Open(dir_ + "/purchases.csv"));
  CF_RETURN_IF_ERROR(truth_.Open(dir_ + "/truth_probabilities.csv"));
  CF_RETURN_IF_ERROR(identified_later_.Open(dir_ + "/truth_identified_later.csv"));
  customers_.Put(
      "customer_id,external_id,device_id,aliases,signup_date,age_band,region,opt_in_email,opt_in_push,opt_in_sms");
  CF_RETURN_IF_ERROR(customers_.EndRow());
  purchases_.Put("customer_id,time,product_id,quantity,revenue,channel,store_id");
  CF_RETURN_IF_ERROR(purchases_.EndRow());
  truth_.Put("customer_id,category,probability");
  CF_RETURN_IF_ERROR(truth_.EndRow());
  identified_later_.Put("customer_id,device_id,first_seen_date,identified_date");
  CF_RETURN_IF_ERROR(identified_later_.EndRow());

  std::optional<Progress> progress;
  if (options_.progress) {
    progress.emplace("generate", options_.customers, "customers");
  }
  constexpr uint64_t kProgressEvery = 4096;
  for (uint64_t i = 0; i < options_.customers; ++i) {
    CF_RETURN_IF_ERROR(Customer(i));
    if (progress && i % kProgressEvery == 0) {
      progress->Update(i);
    }
  }
  if (progress) {
    progress->Update(options_.customers);
    progress->Finish();
  }

  report->customers = options_.customers;
  report->products = static_cast<uint32_t>(world_.products.size());
  report->categories = static_cast<uint32_t>(world_.categories.size());
  report->purchases = purchase_rows_;
  report->truth_rows = truth_rows_;
  report->identified = identity_counts_[static_cast<size_t>(IdentityKind::kIdentified)];
  report->alias_only = identity_counts_[static_cast<size_t>(IdentityKind::kAliasOnly)];
  report->anonymous = identity_counts_[static_cast<size_t>(IdentityKind::kAnonymous)];
  report->identified_later = identity_counts_[static_cast<size_t>(IdentityKind::kIdentifiedLater)];
  CF_RETURN_IF_ERROR(customers_.Close());
  CF_RETURN_IF_ERROR(purchases_.Close());
  CF_RETURN_IF_ERROR(truth_.Close());
  CF_RETURN_IF_ERROR(identified_later_.Close());
  return WriteTruthJson(*report);
}

Status Generator::WriteTruthJson(const GeneratorReport& report) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["generator"] = "audience generate";
  j["format_version"] = 1;
  j["options"] = {{"customers", options_.customers},
                  {"products", options_.products},
                  {"days", options_.days},
                  {"seed", options_.seed},
                  {"start", std::string(Date(start_day_))},
                  {"end_exclusive", std::string(Date(end_day_))},
                  {"independent", options_.independent},
                  {"truth_cutoff", std::string(Date(cutoff_day_))},
                  {"truth_horizon_days", options_.truth_horizon},
                  {"truth_categories", options_.truth_categories},
                  {"truth_customers", options_.truth_customers}};
  j["counts"] = {
      {"customers", report.customers},
      {"products", report.products},
      {"categories", report.categories},
      {"departments", world_.departments.size()},
      {"brands", world_.brands.size()},
      {"stores", world_.stores.size()},
      {"purchases", report.purchases},
      {"identified", report.identified},
      {"alias_only", report.alias_only},
      {"anonymous", report.anonymous},
      {"identified_later", report.identified_later},
      {"churned_before_end", churned_},
  };
  j["identities"] = {
      {"identified", "external_id and an email alias (sometimes a loyalty alias); some also a device_id"},
      {"alias_only",
       "an email alias only (newsletter subscribers who never created an account): empty external_id and "
       "device_id, opted in to email. Match them by alias"},
      {"anonymous", "device_id only: empty external_id and aliases"},
      {"identified_later",
       "anonymous first (device_id), identified later (external_id, email alias); listed in "
       "truth_identified_later.csv. Match them by external_id, never by device_id"},
      {"file", "truth_identified_later.csv"},
  };
  j["model"] = {
      {"independent", options_.independent},
      {"latent_dim", kLatentDim},
      {"affinity_scale", kAffinityScale},
      {"department_coherence", kDepartmentCoherence},
      {"brand_dim", kBrandDim},
      {"brand_taste_scale", kBrandTasteScale},
      {"rate_median_per_day", kRateMedian},
      {"rate_log_sigma", options_.independent ? 0.0 : kRateSigma},
      {"cycle_household_log_sigma", options_.independent ? 0.0 : kCycleSigma},
      {"hazard_low_consumable", kConsumableLowHazard},
      {"hazard_low_durable", kDurableLowHazard},
      {"hazard_ramp_start", kRampStart},
      {"hazard_due_consumable", kDueMultiplier},
      {"hazard_due_window_cycles", kDueWindow},
      {"lifetime_median_days", options_.independent ? 0.0 : kLifetimeMedianDays},
      {"lifetime_log_sigma", kLifetimeSigma},
      {"churn_hazard_max_per_day", kMaxChurnHazard},
      {"burn_in_days", kBurnInDays},
      {"weekly", kWeekly},
      {"repeat_product_share", kRepeatProductShare},
      {"promo_share", kPromoShare},
      {"intensity",
       options_.independent
           ? "rate(c) = rate_median_per_day * popularity(c) / sum(popularity): same for every customer, "
             "uniform in time"
           : "rate(i,c,d) = r_i * share(i,c) * weekly(dow d) * yearly(c,d) * hazard(c, d - last purchase day "
             "of c before d); share(i,c) = popularity(c) * exp(affinity_scale * <taste_i, latent_c> / "
             "sqrt(latent_dim)), normalised over categories; purchases of c on day d ~ Poisson(rate) "
             "while the customer is active (signup <= d < churn day)"},
  };
  Json categories = Json::array();
  for (const Category& c : world_.categories) {
    categories.push_back({{"category", c.spec->name},
                          {"department", world_.departments[c.department]},
                          {"consumable", c.spec->consumable},
                          {"cycle_days", c.spec->cycle_days},
                          {"popularity", c.popularity},
                          {"products", c.products.size()},
                          {"price_median", c.spec->price_median},
                          {"season_peak_day_of_year", c.spec->peak_day},
                          {"season_amplitude", options_.independent ? 0.0 : c.spec->amplitude},
                          {"latent", c.latent}});
  }
  j["categories"] = std::move(categories);
  Json stores = Json::array();
  for (const Store& s : world_.stores) {
    stores.push_back({{"store_id", s.id}, {"region", kRegions[s.region]}});
  }
  j["stores"] = std::move(stores);
  Json truth_categories = Json::array();
  for (uint32_t c : world_.truth_categories) {
    truth_categories.push_back(world_.categories[c].spec->name);
  }
  j["truth"] = {
      {"file", "truth_probabilities.csv"},
      {"columns", "customer_id,category,probability"},
      {"definition",
       "probability that the customer buys at least one product of the category in [cutoff, cutoff + "
       "horizon), computed exactly from the generator's intensity given the customer's latent traits, "
       "whether the customer is still active on the day before the cutoff, and the purchase history before "
       "the cutoff (including unwritten burn-in days before start); future churn is integrated out"},
      {"cutoff", std::string(Date(cutoff_day_))},
      {"horizon_days", options_.truth_horizon},
      {"categories", std::move(truth_categories)},
      {"customer_stride", truth_stride_},
      {"customer_rule",
       "customers whose (customer_id - 1) is a multiple of customer_stride and who signed up "
       "before the cutoff"},
      {"customers", truth_customers_},
      {"rows", truth_rows_},
      {"mean_probability", truth_rows_ == 0 ? 0.0 : truth_sum_ / static_cast<double>(truth_rows_)},
  };
  return WriteFileAtomic(dir_ + "/truth.json", j.dump(2) + "\n");
}

}  // namespace cf::data::generator_internal

namespace cf::data {
namespace {

Result<int64_t> ParseDay(std::string_view field, const std::string& text) {
  Result<int64_t> t = ParseIsoTime(text);
  if (!t.has_value() || *t % kSecondsPerDay != 0) {
    return Err(Status::InvalidArgument(std::string(field) + " '" + text + "' is not a date like 2025-01-01"));
  }
  return *t / kSecondsPerDay;
}

// The days of a run, as day numbers since 1970-01-01.
struct RunDays {
  int64_t start = 0;
  int64_t cutoff = 0;  // first day of the truth window
};

// Needs the fields Validate() checks before the dates.
Result<RunDays> DaysOf(const GeneratorOptions& options) {
  RunDays days;
  CF_ASSIGN_OR_RETURN(days.start, ParseDay("start", options.start));
  const int64_t end = days.start + options.days;
  days.cutoff = end - options.truth_horizon;
  if (!options.truth_cutoff.empty()) {
    CF_ASSIGN_OR_RETURN(days.cutoff, ParseDay("truth_cutoff", options.truth_cutoff));
    if (days.cutoff < days.start || days.cutoff + options.truth_horizon > end) {
      return Err(Status::InvalidArgument(
          "truth_cutoff " + options.truth_cutoff + " with truth_horizon " + std::to_string(options.truth_horizon) +
          " must lie within the generated days [" + FormatIsoDate(days.start * kSecondsPerDay) + ", " +
          FormatIsoDate(end * kSecondsPerDay) + ")"));
    }
  }
  return days;
}

// Refuses to replace anything that is not an earlier generator output or an empty directory.
Status CheckReplaceable(const std::string& out) {
  if (!PathExists(out)) {
    return Status::OK();
  }
  if (!IsDirectory(out)) {
    return Status::AlreadyExists("out " + out + " exists and is not a directory");
  }
  if (PathExists(out + "/truth.json")) {
    return Status::OK();
  }
  std::error_code ec;
  if (!std::filesystem::is_empty(out, ec) || ec) {
    return Status::AlreadyExists("out " + out +
                                 " is a non-empty directory that is not a generated dataset; choose another "
                                 "directory");
  }
  return Status::OK();
}

}  // namespace

Status GeneratorOptions::Validate() const {
  if (customers < 1 || customers > kMaxCustomers) {
    return Status::InvalidArgument("customers " + std::to_string(customers) + " is out of range: use 1 to " +
                                   std::to_string(kMaxCustomers));
  }
  if (products < 1 || products > kMaxProducts) {
    return Status::InvalidArgument("products " + std::to_string(products) + " is out of range: use 1 to " +
                                   std::to_string(kMaxProducts));
  }
  if (days < 1 || days > kMaxDays) {
    return Status::InvalidArgument("days " + std::to_string(days) + " is out of range: use 1 to " +
                                   std::to_string(kMaxDays));
  }
  if (out.empty()) {
    return Status::InvalidArgument("out is required: the directory to write the dataset to");
  }
  if (truth_horizon < 1 || truth_horizon > days) {
    return Status::InvalidArgument("truth_horizon " + std::to_string(truth_horizon) +
                                   " is out of range: use 1 to days (" + std::to_string(days) + ")");
  }
  if (truth_categories < 1) {
    return Status::InvalidArgument("truth_categories 0 is out of range: use at least 1");
  }
  Result<RunDays> run_days = DaysOf(*this);
  return run_days.has_value() ? Status::OK() : run_days.error();
}

Result<GeneratorReport> Generate(const GeneratorOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  CF_RETURN_IF_ERROR(options.Validate());
  CF_ASSIGN_OR_RETURN(const RunDays days, DaysOf(options));
  CF_RETURN_IF_ERROR(CheckReplaceable(options.out));

  generator_internal::Rng world_rng(Scramble(options.seed ^ 0xC0407F10ULL));
  const generator_internal::World world = generator_internal::BuildWorld(options, days.start, world_rng);
  CF_ASSIGN_OR_RETURN(const std::string tmp, MakeTempDirBeside(options.out));
  GeneratorReport report;
  Status status;
  {
    generator_internal::Generator generator(options, days.start, days.cutoff, world, tmp);
    status = generator.Run(&report);
  }
  if (status.ok()) {
    for (const char* name : {"products.csv", "customers.csv", "purchases.csv", "truth.json", "truth_probabilities.csv",
                             "truth_identified_later.csv"}) {
      Result<uint64_t> size = FileSize(tmp + "/" + name);
      if (!size.has_value()) {
        status = size.error();
        break;
      }
      report.bytes_written += *size;
    }
  }
  if (status.ok()) {
    status = ReplaceDirectory(tmp, options.out);
  }
  if (!status.ok()) {
    (void)RemoveAll(tmp);
    return Err(std::move(status));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace cf::data
