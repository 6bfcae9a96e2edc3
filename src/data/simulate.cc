// The simulator: the generator's customers replayed to the end of their history, then continued
// day by day with the generator's own model; messages add purchases of the promoted offer.
//
// A message multiplies the rate at which the customer buys each product of the offer by the
// treatment effect f during its window: on top of the generator's purchases (which stay exactly
// the generator's), the customer makes extra purchases of offer products at (f − 1) times the
// generator's rate for them at that moment. Extra purchases are promotion-driven additions: they
// do not reset the customer's buying cycle or change the last product bought. That keeps the world
// without a message the generator's own, and makes the truth exact (docs/simulate.md, "Truth").
//
// Compiled with -ffp-contract=off like the generator (src/data/CMakeLists.txt) and using its
// portable math, so the output bytes do not depend on the build.
#include "data/simulate.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "base/files.h"
#include "base/hash.h"
#include "base/progress.h"
#include "base/time.h"
#include "data/generator_internal.h"

namespace cf::data {

namespace gi = generator_internal;

struct GeneratedData::Impl {
  GeneratorOptions options;
  int64_t start_day = 0;
  int64_t end_day = 0;
  int64_t cutoff_day = 0;
  gi::World world;
  Catalog catalog;
  std::string dir;
};

GeneratedData::GeneratedData(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GeneratedData::~GeneratedData() = default;
const Catalog& GeneratedData::catalog() const { return impl_->catalog; }
uint64_t GeneratedData::customers() const { return impl_->options.customers; }
int64_t GeneratedData::end_day() const { return impl_->end_day; }

std::vector<GeneratedData::Identifiers> GeneratedData::IdentifiersOf(std::span<const uint64_t> indices) const {
  gi::Generator generator(impl_->options, impl_->start_day, impl_->cutoff_day, impl_->world, impl_->dir);
  std::vector<Identifiers> out;
  for (uint64_t index : indices) {
    gi::CustomerTraits traits;
    gi::CustomerIdentity identity;
    generator.Replay(index, &traits, &identity);
    out.push_back(Identifiers{identity.external_id, identity.device_id, identity.aliases});
  }
  return out;
}

namespace {

using Json = nlohmann::json;

Result<int64_t> DayOf(const std::string& file, std::string_view field, const std::string& text) {
  Result<int64_t> t = ParseIsoTime(text);
  if (!t.has_value() || *t % kSecondsPerDay != 0) {
    return Err(
        Status::InvalidArgument(file + ": " + std::string(field) + " '" + text + "' is not a date like 2025-01-01"));
  }
  return *t / kSecondsPerDay;
}

// A field of truth.json's "options", of type T; the error names the file and the field.
template <typename T>
Result<T> OptionField(const Json& options, const std::string& file, const char* name) {
  const auto it = options.find(name);
  if (it == options.end()) {
    return Err(Status::InvalidArgument(file + ": options." + name + " is missing"));
  }
  try {
    return it->get<T>();
  } catch (const Json::exception&) {
    return Err(Status::InvalidArgument(file + ": options." + name + " has the wrong type: " + it->dump()));
  }
}

std::string PriceText(int64_t cents) {
  std::string s = std::to_string(cents / 100) + ".";
  s += static_cast<char>('0' + cents % 100 / 10);
  s += static_cast<char>('0' + cents % 10);
  return s;
}

}  // namespace

Result<std::unique_ptr<GeneratedData>> GeneratedData::Open(const std::string& dir) {
  const std::string file = dir + "/truth.json";
  if (!PathExists(file)) {
    return Err(Status::NotFound("raw directory " + dir +
                                " has no truth.json: give the directory `audience generate` wrote (the simulator "
                                "re-creates the dataset from the parameters in its truth.json)"));
  }
  CF_ASSIGN_OR_RETURN(const std::string text, ReadFile(file));
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    return Err(Status::InvalidArgument(file + ": not JSON: " + e.what()));
  }
  if (!j.is_object() || j.value("generator", "") != "audience generate" || j.value("format_version", 0) != 1) {
    return Err(Status::InvalidArgument(file + " is not the truth.json of `audience generate` (format_version 1)"));
  }
  const auto opts = j.find("options");
  if (opts == j.end() || !opts->is_object()) {
    return Err(Status::InvalidArgument(file + ": options is missing"));
  }
  auto impl = std::make_unique<Impl>();
  GeneratorOptions& o = impl->options;
  CF_ASSIGN_OR_RETURN(o.customers, OptionField<uint64_t>(*opts, file, "customers"));
  CF_ASSIGN_OR_RETURN(o.products, OptionField<uint32_t>(*opts, file, "products"));
  CF_ASSIGN_OR_RETURN(o.days, OptionField<int32_t>(*opts, file, "days"));
  CF_ASSIGN_OR_RETURN(o.seed, OptionField<uint64_t>(*opts, file, "seed"));
  CF_ASSIGN_OR_RETURN(o.start, OptionField<std::string>(*opts, file, "start"));
  CF_ASSIGN_OR_RETURN(o.independent, OptionField<bool>(*opts, file, "independent"));
  CF_ASSIGN_OR_RETURN(o.truth_cutoff, OptionField<std::string>(*opts, file, "truth_cutoff"));
  CF_ASSIGN_OR_RETURN(o.truth_horizon, OptionField<int32_t>(*opts, file, "truth_horizon_days"));
  CF_ASSIGN_OR_RETURN(o.truth_categories, OptionField<uint32_t>(*opts, file, "truth_categories"));
  CF_ASSIGN_OR_RETURN(o.truth_customers, OptionField<uint64_t>(*opts, file, "truth_customers"));
  o.out = dir;
  o.progress = false;
  if (Status s = o.Validate(); !s.ok()) {
    return Err(Status::InvalidArgument(file + ": " + s.message()));
  }
  CF_ASSIGN_OR_RETURN(impl->start_day, DayOf(file, "options.start", o.start));
  CF_ASSIGN_OR_RETURN(impl->cutoff_day, DayOf(file, "options.truth_cutoff", o.truth_cutoff));
  impl->end_day = impl->start_day + o.days;
  impl->dir = dir;

  // The same stream and builder as Generate, so products, prices and stores are the generated ones.
  gi::Rng world_rng(Scramble(o.seed ^ 0xC0407F10ULL));
  impl->world = gi::BuildWorld(o, impl->start_day, world_rng);
  const gi::World& w = impl->world;
  const Json counts = j.value("counts", Json::object());
  if (counts.value("products", uint64_t{0}) != w.products.size() ||
      counts.value("categories", uint64_t{0}) != w.categories.size() ||
      counts.value("stores", uint64_t{0}) != w.stores.size()) {
    return Err(Status::InvalidArgument(
        file + ": its counts (products, categories, stores) disagree with the dataset re-created from its options (" +
        std::to_string(w.products.size()) + ", " + std::to_string(w.categories.size()) + ", " +
        std::to_string(w.stores.size()) + "): it was written by another version of the generator"));
  }

  std::vector<std::string> ids, department, category, brand, price;
  for (size_t p = 0; p < w.products.size(); ++p) {
    const gi::Product& product = w.products[p];
    const gi::Category& c = w.categories[product.category];
    ids.push_back(std::to_string(p + 1));
    department.push_back(w.departments[c.department]);
    category.push_back(c.spec->name);
    brand.push_back(w.brands[product.brand].name);
    price.push_back(PriceText(product.price_cents));
  }
  impl->catalog = Catalog::FromColumns(std::move(ids), {{"department", std::move(department)},
                                                        {"category", std::move(category)},
                                                        {"brand", std::move(brand)},
                                                        {"price", std::move(price)}});
  return std::unique_ptr<GeneratedData>(new GeneratedData(std::move(impl)));
}

Status SimulateOptions::Validate() const {
  if (days < 1 || days > kMaxDays) {
    return Status::InvalidArgument("days " + std::to_string(days) + " is out of range: use 1 to " +
                                   std::to_string(kMaxDays));
  }
  if (!(treatment_effect >= 1 && treatment_effect <= kMaxTreatmentEffect)) {
    char text[32];
    const std::string value(text, std::to_chars(text, text + sizeof text, treatment_effect).ptr);
    return Status::InvalidArgument("treatment_effect " + value + " is out of range: use 1 (no effect) to " +
                                   std::to_string(static_cast<int>(kMaxTreatmentEffect)));
  }
  if (out.empty()) {
    return Status::InvalidArgument("out is required: the directory to write purchases.csv and truth.json to");
  }
  if (threads < 0 || threads > 256) {
    return Status::InvalidArgument("threads " + std::to_string(threads) + " is out of range: use 0 (all cores) to 256");
  }
  return Status::OK();
}

namespace {

constexpr const char* kSimulatorMark = "audience simulate";
constexpr uint64_t kBaseSalt = 0x5113A7E0B45EULL;  // the continued purchases
constexpr uint64_t kExtraSalt = 0xE7A0F1E55ULL;    // the purchases messages add
constexpr uint64_t kTripSalt = 0x7219C0DEULL;      // trips: time, channel, store
constexpr uint64_t kBrandSalt = 0xFAB0B2A4DULL;    // favourite brands of categories first bought now
constexpr uint32_t kChunk = 1024;                  // customers per unit of work

// The generator's popularity weights of a category's products, with their expected line revenue,
// restricted to a set of products: what an offer weighs when a product of the category is chosen.
struct OfferMass {
  double pop = 0;                        // P(a product chosen by popularity is in the set)
  double pop_rho = 0;                    // E[revenue of that line, in cents, counting 0 outside the set]
  std::vector<double> brand, brand_rho;  // the same among each brand's products (Category::brands order)
};

template <typename In>
OfferMass MassOf(const gi::Category& cat, const std::vector<double>& rho, const In& in) {
  OfferMass m;
  const double total = cat.product_cum.back();
  for (size_t j = 0; j < cat.products.size(); ++j) {
    const uint32_t p = cat.products[j];
    if (in(p)) {
      const double w = (cat.product_cum[j] - (j == 0 ? 0 : cat.product_cum[j - 1])) / total;
      m.pop += w;
      m.pop_rho += w * rho[p];
    }
  }
  m.brand.assign(cat.brands.size(), 0);
  m.brand_rho.assign(cat.brands.size(), 0);
  for (size_t b = 0; b < cat.brands.size(); ++b) {
    const std::vector<double>& cum = cat.brand_product_cum[b];
    for (size_t j = 0; j < cat.brand_products[b].size(); ++j) {
      const uint32_t p = cat.brand_products[b][j];
      if (in(p)) {
        const double w = (cum[j] - (j == 0 ? 0 : cum[j - 1])) / cum.back();
        m.brand[b] += w;
        m.brand_rho[b] += w * rho[p];
      }
    }
  }
  return m;
}

// Expected revenue in cents of a line of product p: the generator's quantity and promotion draws.
double ExpectedLineRevenue(const gi::Category& cat, const gi::Product& product) {
  double expected = 0;
  double p_at_least = 1;  // P(quantity >= q)
  for (uint32_t q = 1; q <= (cat.spec->consumable ? gi::kMaxQuantity : 1); ++q) {
    const bool last = !cat.spec->consumable || q == gi::kMaxQuantity;
    const double p_q = last ? p_at_least : p_at_least * (1 - gi::kExtraUnitChance);
    const int64_t full = product.price_cents * q;
    double promo = 0;
    for (int64_t k = 0; k < 3; ++k) {
      promo += static_cast<double>(full * (10 - 1 - k) / 10) / 3;
    }
    expected += p_q * ((1 - gi::kPromoShare) * static_cast<double>(full) + gi::kPromoShare * promo);
    p_at_least *= gi::kExtraUnitChance;
  }
  return expected;
}

// (1 - e^-x) / x, continuous at 0.
double OneMinusExpOver(double x) {
  if (x > -1e-9 && x < 1e-9) {
    return 1 - x / 2;
  }
  return (1 - gi::Exp(-x)) / x;
}

// Poisson(mean) by products of uniforms (means are small here).
uint32_t Poisson(double mean, gi::Rng& rng) {
  const double limit = gi::Exp(-mean);
  uint32_t n = 0;
  double product = rng.UniformOpen();
  while (product > limit) {
    ++n;
    product *= rng.UniformOpen();
  }
  return n;
}

// What every worker shares: the continuation's days and the campaigns' offers per category.
struct Tables {
  const GeneratedData::Impl* g = nullptr;
  const std::vector<SimulatedCampaign>* campaigns = nullptr;
  double effect = 1;
  uint64_t seed = 0;
  int64_t begin = 0;                                      // first simulated day
  int64_t end = 0;                                        // first day after them
  std::vector<float> season;                              // [category * days + (day - begin)]
  std::vector<double> season_max;                         // per category, over the simulated days
  std::vector<double> rho;                                // expected line revenue per product, cents
  std::vector<std::vector<uint32_t>> touched;             // per campaign: categories holding offer products
  std::vector<std::vector<OfferMass>> mass;               // [campaign][category] (empty if not touched)
  std::vector<std::vector<std::vector<OfferMass>>> both;  // [campaign][other][category]: products in both offers
  std::string dates;                                      // YYYY-MM-DD per simulated day, back to back

  int64_t days() const { return end - begin; }
  float Season(uint32_t c, int64_t day) const {
    return season[static_cast<size_t>(c) * static_cast<size_t>(days()) + static_cast<size_t>(day - begin)];
  }
  bool In(uint32_t k, uint32_t p) const { return (*campaigns)[k].offer[p] != 0; }
};

// One base purchase of a category in the continuation (kept where an offer needs the path).
struct PathEvent {
  double time;  // days since 1970-01-01, fractional
  int32_t day;
  uint32_t product;
};

struct MessageResult {
  double buyers = 0;     // P(buys | message) - P(buys | no message)
  double revenue = 0;    // the same for revenue, currency units
  double untreated = 0;  // P(buys | no message)
};

// One worker: a generator to replay customers with, and its working memory.
class Worker {
 public:
  explicit Worker(const Tables& t)
      : t_(t), g_(*t.g), generator_(g_.options, g_.start_day, g_.cutoff_day, g_.world, g_.dir) {
    const size_t n = g_.world.categories.size();
    last_product_.resize(n);
    favorite_.resize(n);
    path_.resize(n);
    on_path_.resize(n);
  }

  // Simulates customer `index` with its messages; appends its rows to `out` and one result per message.
  void Customer(uint64_t index, std::span<const Message> messages, std::string* out,
                std::vector<MessageResult>* results, uint64_t* rows, uint64_t* extra_rows);

 private:
  struct Start {  // a category's state on the first day of a window
    int32_t last_day;
    int32_t last_product;
    size_t next_event;  // first path event on or after that day
  };
  Start StateAt(uint32_t c, int64_t day) const;
  double Rate(uint32_t c, int64_t day, int32_t last_day) const;
  // P(no purchase of the message's offer in category c during its window). `with` counts the message's
  // own extra purchases; the customer's other messages add theirs in both worlds.
  double NoPurchase(uint32_t c, const Message& m, std::span<const Message> others, bool with) const;
  // E[revenue in cents of the generator's purchases of the offer in category c during the window].
  double BaseOfferRevenue(uint32_t c, const Message& m) const;
  // Adds the message's extra purchases of category c.
  uint64_t AddExtraPurchases(uint32_t c, const Message& m, gi::Rng& rng);
  double Fresh(const OfferMass& mass, int32_t favorite, bool revenue) const;
  double Repeat(uint32_t c, int32_t last_product) const;

  const Tables& t_;
  const GeneratedData::Impl& g_;
  gi::Generator generator_;
  gi::CustomerTraits traits_;
  int64_t active_end_ = 0;  // first day the customer no longer buys (within the simulation)
  std::vector<int32_t> last_product_;
  std::vector<int32_t> favorite_;
  std::vector<std::vector<PathEvent>> path_;  // categories of this customer's offers
  std::vector<uint8_t> on_path_;
  std::vector<gi::Purchase> purchases_;
};

double Worker::Repeat(uint32_t c, int32_t last_product) const {
  const gi::Category& cat = g_.world.categories[c];
  return !g_.options.independent && cat.spec->consumable && last_product >= 0 ? gi::kRepeatProductShare : 0;
}

// The chance (or, with `revenue`, the expected cents) that a product chosen afresh — not the last one
// again — is in the offer: the favourite brand's products half the time, else by popularity.
double Worker::Fresh(const OfferMass& mass, int32_t favorite, bool revenue) const {
  const double pop = revenue ? mass.pop_rho : mass.pop;
  if (g_.options.independent || favorite < 0) {
    return pop;
  }
  const double brand =
      revenue ? mass.brand_rho[static_cast<size_t>(favorite)] : mass.brand[static_cast<size_t>(favorite)];
  return gi::kFavoriteBrandShare * brand + (1 - gi::kFavoriteBrandShare) * pop;
}

Worker::Start Worker::StateAt(uint32_t c, int64_t day) const {
  Start s{generator_.state().last_day[c], generator_.state().last_product[c], 0};
  const std::vector<PathEvent>& path = path_[c];
  while (s.next_event < path.size() && path[s.next_event].day < day) {
    s.last_day = path[s.next_event].day;
    s.last_product = static_cast<int32_t>(path[s.next_event].product);
    ++s.next_event;
  }
  return s;
}

double Worker::Rate(uint32_t c, int64_t day, int32_t last_day) const {
  if (day >= active_end_) {
    return 0;
  }
  const gi::CustomerState& st = generator_.state();
  return st.rate[c] * t_.Season(c, day) * gi::Hazard(static_cast<double>(day - last_day), st.rhythm[c]);
}

// The chain until the first offer purchase: its state is the last purchase day and whether the last
// product is still the one at the window's start ("initial") or one outside the offer bought since.
// Within a day the rate is fixed (it depends on the last purchase before the day), so each day is a
// two-state chain solved in closed form.
double Worker::NoPurchase(uint32_t c, const Message& m, std::span<const Message> others, bool with) const {
  const uint32_t k = m.campaign;
  const OfferMass& mass = t_.mass[k][c];
  const Start s = StateAt(c, m.first_day);
  const int32_t fav = favorite_[c];
  const double rep_initial = Repeat(c, s.last_product);
  const double rep_outside = Repeat(c, 0);  // the last product is one bought outside the offer
  const bool initial_in = s.last_product >= 0 && t_.In(k, static_cast<uint32_t>(s.last_product));
  const double fresh = Fresh(mass, fav, false);
  const double q_initial = rep_initial * (initial_in ? 1 : 0) + (1 - rep_initial) * fresh;
  const double q_outside = (1 - rep_outside) * fresh;
  // Extra purchases of the offer's products that other messages add: their own offer within this one.
  struct Overlap {
    int64_t first, end;
    double initial, outside;
  };
  std::vector<Overlap> overlaps;
  for (const Message& o : others) {
    const OfferMass& both = t_.both[k][o.campaign][c];
    if (o.end_day <= m.first_day || o.first_day >= m.end_day || both.brand.empty()) {
      continue;
    }
    const bool initial_both = initial_in && t_.In(o.campaign, static_cast<uint32_t>(s.last_product));
    const double f = Fresh(both, fav, false);
    overlaps.push_back(
        {o.first_day, o.end_day, rep_initial * (initial_both ? 1 : 0) + (1 - rep_initial) * f, (1 - rep_outside) * f});
  }
  const double extra = t_.effect - 1;
  const int64_t end = std::min({m.end_day, t_.end, active_end_});
  double initial = 1;
  std::vector<double> outside;  // by the day of the last purchase, from m.first_day
  for (int64_t d = m.first_day; d < end; ++d) {
    double x_initial = with ? q_initial : 0;
    double x_outside = with ? q_outside : 0;
    for (const Overlap& o : overlaps) {
      if (d >= o.first && d < o.end) {
        x_initial += o.initial;
        x_outside += o.outside;
      }
    }
    const double kill_initial_per = q_initial + extra * x_initial;
    const double kill_outside_per = q_outside + extra * x_outside;
    double bought_today = 0;  // mass that bought outside the offer today and is still without it
    for (size_t j = 0; j < outside.size(); ++j) {
      const double lambda = Rate(c, d, static_cast<int32_t>(m.first_day + static_cast<int64_t>(j)));
      const double kill = lambda * kill_outside_per;
      const double move = lambda * (1 - q_outside);
      const double none = gi::Exp(-(kill + move));
      bought_today += outside[j] * (gi::Exp(-kill) - none);
      outside[j] *= none;
    }
    const double lambda = Rate(c, d, s.last_day);
    const double kill_i = lambda * kill_initial_per;
    const double move_i = lambda * (1 - q_initial);
    const double kill_o = lambda * kill_outside_per;
    bought_today += initial * move_i * gi::Exp(-kill_o) * OneMinusExpOver(kill_i + move_i - kill_o);
    initial *= gi::Exp(-(kill_i + move_i));
    outside.push_back(bought_today);
  }
  double none = initial;
  for (double v : outside) {
    none += v;
  }
  return none;
}

// E[Σ over the generator's purchases in the window of the offer revenue of each]. Purchase counts do
// not depend on the products, and the k-th purchase is the start's last product again with probability
// r^k (r: the repeat share), else a fresh choice; so the sum is C·E[N] + (ρ0 − C)·E[Σ_{i≤N} r^i] with
// C a fresh line's expected offer revenue and ρ0 the start product's, and E[N], E[r^N] come from the
// chain over the last purchase day.
double Worker::BaseOfferRevenue(uint32_t c, const Message& m) const {
  const uint32_t k = m.campaign;
  const Start s = StateAt(c, m.first_day);
  const double fresh = Fresh(t_.mass[k][c], favorite_[c], true);
  const double r = Repeat(c, s.last_product);
  const double rho0 = s.last_product >= 0 && t_.In(k, static_cast<uint32_t>(s.last_product))
                          ? t_.rho[static_cast<size_t>(s.last_product)]
                          : 0;
  struct Moments {
    double mass, count, pgf;  // P(state), E[N; state], E[r^N; state]
  };
  Moments initial{1, 0, 1};
  std::vector<Moments> since;  // by the day of the last purchase, from m.first_day
  const int64_t end = std::min({m.end_day, t_.end, active_end_});
  for (int64_t d = m.first_day; d < end; ++d) {
    Moments today{0, 0, 0};
    auto step = [&](Moments& st, int32_t last_day) {
      const double lambda = Rate(c, d, last_day);
      const double none = gi::Exp(-lambda);
      today.mass += st.mass * (1 - none);
      today.count += st.count * (1 - none) + st.mass * lambda;
      today.pgf += st.pgf * (gi::Exp(-lambda * (1 - r)) - none);
      st.mass *= none;
      st.count *= none;
      st.pgf *= none;
    };
    for (size_t j = 0; j < since.size(); ++j) {
      step(since[j], static_cast<int32_t>(m.first_day + static_cast<int64_t>(j)));
    }
    step(initial, s.last_day);
    since.push_back(today);
  }
  double count = initial.count;
  double pgf = initial.pgf;
  for (const Moments& st : since) {
    count += st.count;
    pgf += st.pgf;
  }
  const double repeat_part = r > 0 ? r / (1 - r) * (1 - pgf) : 0;
  return fresh * count + (rho0 - fresh) * repeat_part;
}

uint64_t Worker::AddExtraPurchases(uint32_t c, const Message& m, gi::Rng& rng) {
  const uint32_t k = m.campaign;
  const OfferMass& mass = t_.mass[k][c];
  const gi::Category& cat = g_.world.categories[c];
  const int32_t fav = favorite_[c];
  Start s = StateAt(c, m.first_day);
  const std::vector<PathEvent>& path = path_[c];
  const double extra = t_.effect - 1;
  uint64_t added = 0;
  // n extra purchases while the last product is `last`: the offer's share of the generator's choice.
  auto add = [&](uint32_t n, int32_t last, int64_t day) {
    const double rep = Repeat(c, last);
    const bool last_in = last >= 0 && t_.In(k, static_cast<uint32_t>(last));
    const double w_repeat = last_in ? rep : 0;
    const bool use_brand = !g_.options.independent && fav >= 0;
    const double w_brand = use_brand ? (1 - rep) * gi::kFavoriteBrandShare * mass.brand[static_cast<size_t>(fav)] : 0;
    const double w_pop = (1 - rep) * (use_brand ? 1 - gi::kFavoriteBrandShare : 1) * mass.pop;
    for (uint32_t i = 0; i < n; ++i) {
      double u = rng.Uniform() * (w_repeat + w_brand + w_pop);
      uint32_t product = 0;
      const std::vector<uint32_t>* list = &cat.products;
      const std::vector<double>* cum = &cat.product_cum;
      if (u < w_repeat) {
        product = static_cast<uint32_t>(last);
        list = nullptr;
      } else if (u < w_repeat + w_brand) {
        list = &cat.brand_products[static_cast<size_t>(fav)];
        cum = &cat.brand_product_cum[static_cast<size_t>(fav)];
      }
      if (list != nullptr) {
        double total = 0;
        for (size_t j = 0; j < list->size(); ++j) {
          if (t_.In(k, (*list)[j])) {
            total += (*cum)[j] - (j == 0 ? 0 : (*cum)[j - 1]);
          }
        }
        double target = rng.Uniform() * total;
        for (size_t j = 0; j < list->size(); ++j) {
          if (!t_.In(k, (*list)[j])) {
            continue;
          }
          product = (*list)[j];
          target -= (*cum)[j] - (j == 0 ? 0 : (*cum)[j - 1]);
          if (target < 0) {
            break;
          }
        }
      }
      gi::Purchase p{day * kSecondsPerDay, product, 1, 0, -1};
      gi::DrawLine(cat, g_.world.products[product], rng, &p.quantity, &p.revenue_cents);
      purchases_.push_back(p);
      ++added;
    }
  };
  auto rate_share = [&](int32_t last) {
    const double rep = Repeat(c, last);
    const bool last_in = last >= 0 && t_.In(k, static_cast<uint32_t>(last));
    return rep * (last_in ? 1 : 0) + (1 - rep) * Fresh(mass, fav, false);
  };
  const int64_t end = std::min({m.end_day, t_.end, active_end_});
  for (int64_t d = m.first_day; d < end; ++d) {
    const double lambda = Rate(c, d, s.last_day);
    double from = static_cast<double>(d);
    bool bought = false;
    while (s.next_event < path.size() && path[s.next_event].day == d) {
      const PathEvent& e = path[s.next_event];
      add(Poisson(extra * lambda * rate_share(s.last_product) * (e.time - from), rng), s.last_product, d);
      s.last_product = static_cast<int32_t>(e.product);
      from = e.time;
      bought = true;
      ++s.next_event;
    }
    add(Poisson(extra * lambda * rate_share(s.last_product) * (static_cast<double>(d + 1) - from), rng), s.last_product,
        d);
    if (bought) {
      s.last_day = static_cast<int32_t>(d);
    }
  }
  return added;
}

void Worker::Customer(uint64_t index, std::span<const Message> messages, std::string* out,
                      std::vector<MessageResult>* results, uint64_t* rows, uint64_t* extra_rows) {
  generator_.Replay(index, &traits_, nullptr);  // the continuation's draws come from its own streams
  const gi::CustomerState& st = generator_.state();
  const gi::World& w = g_.world;
  const bool independent = g_.options.independent;
  gi::Rng base(Scramble(Scramble(t_.seed ^ kBaseSalt) + index));
  gi::Rng extra(Scramble(Scramble(t_.seed ^ kExtraSalt) + index));
  gi::Rng trips(Scramble(Scramble(t_.seed ^ kTripSalt) + index));
  const size_t n = w.categories.size();
  std::copy(st.last_product.begin(), st.last_product.end(), last_product_.begin());
  std::copy(st.favorite_brand.begin(), st.favorite_brand.end(), favorite_.begin());
  std::fill(on_path_.begin(), on_path_.end(), 0);
  for (const Message& m : messages) {
    for (uint32_t c : t_.touched[m.campaign]) {
      on_path_[c] = 1;
    }
  }
  // The favourite brand of a category not bought yet comes from a stream of its own (customer and
  // category): the same brand whether it is drawn at the first purchase or earlier for the truth, which
  // conditions on it, and the other draws do not depend on which messages the customer got.
  auto favorite_of = [&](uint32_t c) {
    gi::Rng rng(Scramble(Scramble(Scramble(t_.seed ^ kBrandSalt) + index) + c));
    return gi::DrawFavoriteBrand(w.categories[c], w.brands, traits_.brand_taste, rng);
  };
  if (!independent) {
    for (const Message& m : messages) {
      for (uint32_t c : t_.touched[m.campaign]) {
        if (favorite_[c] < 0) favorite_[c] = favorite_of(c);
      }
    }
  }
  purchases_.clear();
  active_end_ = std::min<int64_t>(traits_.churn, t_.end);
  const double t_end = static_cast<double>(active_end_);
  for (uint32_t c = 0; c < n; ++c) {
    path_[c].clear();
    const gi::Category& cat = w.categories[c];
    const gi::Rhythm& rhythm = st.rhythm[c];
    const double bound_base = st.rate[c] * t_.season_max[c];
    int32_t last = st.last_day[c];
    int32_t before = st.before_day[c];
    double time = static_cast<double>(t_.begin);
    // The generator's thinning, continued from its state at the end of the history.
    while (time < t_end) {
      const gi::HazardBound bound = gi::BoundFrom(static_cast<int32_t>(std::floor(time)), last, before, rhythm);
      const double bound_end = std::min(static_cast<double>(bound.end_day), t_end);
      const double next = time + base.Exponential(bound_base * bound.value);
      if (next >= bound_end) {
        time = bound_end;
        continue;
      }
      time = next;
      const auto day = static_cast<int32_t>(std::floor(time));
      const int32_t lp = last < day ? last : before;
      const double accept =
          t_.Season(c, day) / t_.season_max[c] * gi::Hazard(static_cast<double>(day - lp), rhythm) / bound.value;
      if (base.Uniform() >= accept) {
        continue;
      }
      if (last < day) {
        before = last;
        last = day;
      }
      if (!independent && favorite_[c] < 0) {
        favorite_[c] = favorite_of(c);
      }
      const uint32_t product = gi::ChooseProduct(cat, independent, last_product_[c], favorite_[c], base);
      last_product_[c] = static_cast<int32_t>(product);
      gi::Purchase p{day * kSecondsPerDay, product, 1, 0, -1};
      gi::DrawLine(cat, w.products[product], base, &p.quantity, &p.revenue_cents);
      purchases_.push_back(p);
      if (on_path_[c] != 0) {
        path_[c].push_back(PathEvent{time, day, product});
      }
    }
  }

  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    std::vector<Message> others;
    for (size_t o = 0; o < messages.size(); ++o) {
      if (o != i) {
        others.push_back(messages[o]);
      }
    }
    double none_with = 1;
    double none_without = 1;
    double revenue = 0;
    for (uint32_t c : t_.touched[m.campaign]) {
      const double without = NoPurchase(c, m, others, false);
      none_without *= without;
      none_with *= t_.effect == 1 ? without : NoPurchase(c, m, others, true);
      revenue += BaseOfferRevenue(c, m);
    }
    MessageResult r;
    r.untreated = 1 - none_without;
    r.buyers = t_.effect == 1 ? 0 : none_without - none_with;
    r.revenue = (t_.effect - 1) * revenue / 100;
    results->push_back(r);
    if (t_.effect > 1) {
      for (uint32_t c : t_.touched[m.campaign]) {
        *extra_rows += AddExtraPurchases(c, m, extra);
      }
    }
  }

  gi::AssignTrips(w, independent, traits_.home_store, traits_.region, traits_.online_share, trips, &purchases_);
  for (const gi::Purchase& p : purchases_) {
    const int64_t day = p.time / kSecondsPerDay;
    gi::AppendPurchaseRow(*out, index + 1, p,
                          std::string_view(t_.dates).substr(static_cast<size_t>(day - t_.begin) * 10, 10), w);
    out->push_back('\n');
  }
  *rows += purchases_.size();
}

// An earlier simulate output (its truth.json says so), an empty directory, or a new path.
Status CheckReplaceable(const std::string& out) {
  if (!PathExists(out)) {
    return Status::OK();
  }
  if (!IsDirectory(out)) {
    return Status::AlreadyExists("out " + out + " exists and is not a directory");
  }
  std::error_code ec;
  if (std::filesystem::is_empty(out, ec) && !ec) {
    return Status::OK();
  }
  Result<std::string> truth = ReadFile(out + "/truth.json");
  if (truth.has_value()) {
    try {
      if (Json::parse(*truth).value("simulator", "") == kSimulatorMark) {
        return Status::OK();
      }
    } catch (const Json::exception&) {
    }
  }
  return Status::AlreadyExists("out " + out +
                               " is a non-empty directory that is not a simulate output; choose another directory");
}

nlohmann::ordered_json TruthJson(const CampaignTruth& t, bool with_name) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (with_name) {
    j["name"] = t.name;
  }
  j["treated"] = t.treated;
  j["true_incremental_buyers"] = t.true_incremental_buyers;
  j["true_incremental_revenue"] = t.true_incremental_revenue;
  j["expected_buyers_untreated"] = t.expected_buyers_untreated;
  return j;
}

}  // namespace

Result<SimulateReport> Simulate(const GeneratedData& data, const std::vector<SimulatedCampaign>& campaigns,
                                std::vector<Message> messages, const SimulateOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  CF_RETURN_IF_ERROR(options.Validate());
  const GeneratedData::Impl& g = data.impl();
  const gi::World& w = g.world;
  Tables t;
  t.g = &g;
  t.campaigns = &campaigns;
  t.effect = options.treatment_effect;
  t.seed = options.seed;
  t.begin = g.end_day;
  t.end = g.end_day + options.days;
  for (size_t k = 0; k < campaigns.size(); ++k) {
    if (campaigns[k].offer.size() != w.products.size()) {
      return Err(Status::InvalidArgument("campaign '" + campaigns[k].name + "': its offer covers " +
                                         std::to_string(campaigns[k].offer.size()) + " products, the dataset has " +
                                         std::to_string(w.products.size())));
    }
  }
  const std::string first_date = FormatIsoDate(t.begin * kSecondsPerDay);
  const std::string end_date = FormatIsoDate(t.end * kSecondsPerDay);
  for (const Message& m : messages) {
    if (m.customer >= g.options.customers || m.campaign >= campaigns.size()) {
      return Err(Status::InvalidArgument("message for customer index " + std::to_string(m.customer) + " and campaign " +
                                         std::to_string(m.campaign) + ": out of range (" +
                                         std::to_string(g.options.customers) + " customers, " +
                                         std::to_string(campaigns.size()) + " campaigns)"));
    }
    if (m.first_day < t.begin || m.first_day >= t.end || m.end_day <= m.first_day) {
      return Err(Status::InvalidArgument("campaign '" + campaigns[m.campaign].name + "': the window starting " +
                                         FormatIsoDate(m.first_day * kSecondsPerDay) +
                                         " does not start within the simulated days [" + first_date + ", " + end_date +
                                         ")"));
    }
  }
  // One message per customer and campaign: a campaign's window starts on its plan date, however often sent.
  std::sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
    return std::tie(a.customer, a.campaign, a.first_day, a.end_day) <
           std::tie(b.customer, b.campaign, b.first_day, b.end_day);
  });
  messages.erase(std::unique(messages.begin(), messages.end(),
                             [](const Message& a, const Message& b) {
                               return a.customer == b.customer && a.campaign == b.campaign;
                             }),
                 messages.end());

  const size_t nc = w.categories.size();
  const auto days = static_cast<size_t>(t.days());
  t.season.assign(nc * days, 1.0F);
  t.season_max.assign(nc, 1.0);
  if (!g.options.independent) {
    for (size_t c = 0; c < nc; ++c) {
      t.season_max[c] = 0;
      for (size_t i = 0; i < days; ++i) {
        const float s = gi::SeasonOf(*w.categories[c].spec, t.begin + static_cast<int64_t>(i));
        t.season[c * days + i] = s;
        t.season_max[c] = std::max(t.season_max[c], static_cast<double>(s));
      }
    }
  }
  t.rho.resize(w.products.size());
  for (size_t p = 0; p < w.products.size(); ++p) {
    t.rho[p] = ExpectedLineRevenue(w.categories[w.products[p].category], w.products[p]);
  }
  t.touched.resize(campaigns.size());
  t.mass.resize(campaigns.size());
  for (uint32_t k = 0; k < campaigns.size(); ++k) {
    t.mass[k].resize(nc);
    for (uint32_t c = 0; c < nc; ++c) {
      const gi::Category& cat = w.categories[c];
      const bool any = std::any_of(cat.products.begin(), cat.products.end(), [&](uint32_t p) { return t.In(k, p); });
      if (any) {
        t.touched[k].push_back(c);
        t.mass[k][c] = MassOf(cat, t.rho, [&](uint32_t p) { return t.In(k, p); });
      }
    }
  }
  // Products two offers share, per category: what one campaign's messages add to another's offer.
  t.both.assign(campaigns.size(), std::vector<std::vector<OfferMass>>(campaigns.size()));
  for (uint32_t k = 0; k < campaigns.size(); ++k) {
    for (uint32_t o = 0; o < campaigns.size(); ++o) {
      t.both[k][o].resize(nc);
      if (o == k) {
        continue;
      }
      for (uint32_t c : t.touched[k]) {
        const gi::Category& cat = w.categories[c];
        auto in_both = [&](uint32_t p) { return t.In(k, p) && t.In(o, p); };
        if (std::any_of(cat.products.begin(), cat.products.end(), in_both)) {
          t.both[k][o][c] = MassOf(cat, t.rho, in_both);
        }
      }
    }
  }
  for (int64_t d = t.begin; d < t.end; ++d) {
    t.dates += FormatIsoDate(d * kSecondsPerDay);
  }

  CF_RETURN_IF_ERROR(CheckReplaceable(options.out));
  CF_ASSIGN_OR_RETURN(const std::string tmp, MakeTempDirBeside(options.out));
  auto fail = [&](Status s) -> Result<SimulateReport> {
    (void)RemoveAll(tmp);
    return Err(std::move(s));
  };

  const unsigned hardware = std::max(1U, std::thread::hardware_concurrency());
  const size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads) : hardware;
  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(t));
  }
  struct Chunk {
    std::string rows;
    std::vector<MessageResult> results;
    uint64_t count = 0;
    uint64_t extra = 0;
  };
  std::vector<Chunk> chunks(threads);
  SimulateReport report;
  report.customers = g.options.customers;
  report.campaigns.resize(campaigns.size());
  for (size_t k = 0; k < campaigns.size(); ++k) {
    report.campaigns[k].name = campaigns[k].name;
  }
  for (const Message& m : messages) {
    ++report.campaigns[m.campaign].treated;
  }

  gi::OutFile out;
  if (Status s = out.Open(tmp + "/purchases.csv"); !s.ok()) {
    return fail(s);
  }
  out.Put("customer_id,time,product_id,quantity,revenue,channel,store_id");
  if (Status s = out.EndRow(); !s.ok()) {
    return fail(s);
  }
  std::optional<Progress> progress;
  if (options.progress) {
    progress.emplace("simulate", g.options.customers, "customers");
  }
  const uint64_t customers = g.options.customers;
  size_t message_at = 0;  // the first message of the round's first customer
  for (uint64_t round = 0; round < customers; round += kChunk * threads) {
    // Each worker takes one chunk of consecutive customers; the chunks are written in order.
    std::vector<std::pair<size_t, size_t>> spans(threads);  // messages of each chunk
    size_t at = message_at;
    for (size_t i = 0; i < threads; ++i) {
      const uint64_t hi = std::min<uint64_t>(customers, round + (i + 1) * kChunk);
      const size_t from = at;
      while (at < messages.size() && messages[at].customer < hi) {
        ++at;
      }
      spans[i] = {from, at};
    }
    message_at = at;
    std::vector<std::thread> pool;
    for (size_t i = 0; i < threads; ++i) {
      pool.emplace_back([&, i] {
        Chunk& chunk = chunks[i];
        chunk.rows.clear();
        chunk.results.clear();
        chunk.count = 0;
        chunk.extra = 0;
        const uint64_t lo = std::min<uint64_t>(customers, round + i * kChunk);
        const uint64_t hi = std::min<uint64_t>(customers, lo + kChunk);
        size_t mi = spans[i].first;
        for (uint64_t c = lo; c < hi; ++c) {
          const size_t from = mi;
          while (mi < spans[i].second && messages[mi].customer == c) {
            ++mi;
          }
          workers[i]->Customer(c, std::span<const Message>(messages.data() + from, mi - from), &chunk.rows,
                               &chunk.results, &chunk.count, &chunk.extra);
        }
      });
    }
    for (std::thread& th : pool) {
      th.join();
    }
    for (size_t i = 0; i < threads; ++i) {
      Chunk& chunk = chunks[i];
      if (Status s = out.PutRows(chunk.rows); !s.ok()) {
        return fail(s);
      }
      for (size_t r = 0; r < chunk.results.size(); ++r) {
        const Message& m = messages[spans[i].first + r];
        CampaignTruth& truth = report.campaigns[m.campaign];
        truth.true_incremental_buyers += chunk.results[r].buyers;
        truth.true_incremental_revenue += chunk.results[r].revenue;
        truth.expected_buyers_untreated += chunk.results[r].untreated;
      }
      report.purchases += chunk.count;
      report.extra_purchases += chunk.extra;
    }
    if (progress) {
      progress->Update(std::min<uint64_t>(customers, round + kChunk * threads));
    }
  }
  if (progress) {
    progress->Finish();
  }
  if (Status s = out.Close(); !s.ok()) {
    return fail(s);
  }

  report.total.name = "total";
  for (const CampaignTruth& c : report.campaigns) {
    report.total.treated += c.treated;
    report.total.true_incremental_buyers += c.true_incremental_buyers;
    report.total.true_incremental_revenue += c.true_incremental_revenue;
    report.total.expected_buyers_untreated += c.expected_buyers_untreated;
  }
  nlohmann::ordered_json truth;
  truth["simulator"] = kSimulatorMark;
  truth["raw"] = std::filesystem::path(g.dir).filename().string();
  truth["days"] = options.days;
  truth["first_day"] = first_date;
  truth["end_exclusive"] = end_date;
  truth["treatment_effect"] = options.treatment_effect;
  truth["seed"] = options.seed;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const CampaignTruth& c : report.campaigns) {
    list.push_back(TruthJson(c, true));
  }
  truth["campaigns"] = std::move(list);
  truth["total"] = TruthJson(report.total, false);
  if (Status s = WriteFileAtomic(tmp + "/truth.json", truth.dump(2) + "\n"); !s.ok()) {
    return fail(s);
  }
  if (Status s = ReplaceDirectory(tmp, options.out); !s.ok()) {
    return fail(s);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace cf::data
