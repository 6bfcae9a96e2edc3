// Internal to the generator: what its files share (generator.cc runs it and writes its files,
// generator_world.cc builds the catalog and stores, generator_customers.cc simulates and writes one
// customer, generator_output.cc buffers the output). Not part of the data module's public face,
// which is generator.h; the rule for `*_internal.h` headers is in docs/architecture.md ("Data path").
//
// The portable math and the random streams are defined here, inline, because the per-customer
// simulation spends most of its time in them.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "data/generator.h"

namespace cf::data::generator_internal {

// ---------------------------------------------------------------------------------------
// Portable math: glibc picks exp/log/cos variants by CPU (FMA or not), which may round
// differently; these use only + - * / and exact scaling, so every machine gets the same bits.

inline constexpr double kLn2Hi = 6.93147180369123816490e-01;
inline constexpr double kLn2Lo = 1.90821492927058770002e-10;

inline double Exp(double x) {
  if (x < -745) {
    return 0;
  }
  if (x > 709) {
    return std::numeric_limits<double>::infinity();
  }
  static constexpr std::array<double, 14> kInverse = {0,        1,        1.0 / 2,  1.0 / 3, 1.0 / 4,
                                                      1.0 / 5,  1.0 / 6,  1.0 / 7,  1.0 / 8, 1.0 / 9,
                                                      1.0 / 10, 1.0 / 11, 1.0 / 12, 1.0 / 13};
  const double k = std::floor(x * std::numbers::log2e + 0.5);
  const double r = x - k * kLn2Hi - k * kLn2Lo;  // |r| <= ln(2) / 2
  double p = 1;                                  // Taylor to r^13 by Horner: error below 1e-16
  for (int f = 13; f >= 1; --f) {
    p = 1 + p * r * kInverse[static_cast<size_t>(f)];
  }
  const auto e = static_cast<int64_t>(k);
  if (e < -1022) {
    return std::ldexp(p, static_cast<int>(e));  // subnormal results: rare, let libm scale
  }
  return p * std::bit_cast<double>(static_cast<uint64_t>(e + 1023) << 52);  // exact: times 2^e
}

inline double Log(double x) {
  int e = 0;
  double m;  // x = m * 2^e, m in [0.5, 1), read from the bits for normal numbers
  const auto bits = std::bit_cast<uint64_t>(x);
  const auto biased = static_cast<int>((bits >> 52) & 0x7ff);
  if (biased == 0) {
    m = std::frexp(x, &e);
  } else {
    e = biased - 1022;
    m = std::bit_cast<double>((bits & ~(0x7ffULL << 52)) | (1022ULL << 52));
  }
  if (m < std::numbers::sqrt2 / 2) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1);  // |s| <= 0.172; log(m) = 2 atanh(s)
  const double s2 = s * s;
  static constexpr std::array<double, 11> kOddInverse = {1.0,      1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9, 1.0 / 11,
                                                         1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21};
  double sum = 0;
  for (size_t k = kOddInverse.size(); k-- > 0;) {
    sum = sum * s2 + kOddInverse[k];
  }
  return e * kLn2Hi + (e * kLn2Lo + 2 * s * sum);
}

inline double Cos(double x) {
  const double q = std::floor(x / (std::numbers::pi / 2) + 0.5);
  const double y = x - q * (std::numbers::pi / 2);  // |y| <= pi / 4
  const double y2 = y * y;
  double c = 1;
  double sn = 1;
  for (int k = 16; k >= 2; k -= 2) {
    c = 1 - c * y2 / (k * (k - 1));  // cos y by Horner on its Taylor series
  }
  for (int k = 17; k >= 3; k -= 2) {
    sn = 1 - sn * y2 / (k * (k - 1));
  }
  sn *= y;
  switch (static_cast<int64_t>(q) & 3) {
    case 0:
      return c;
    case 1:
      return -sn;
    case 2:
      return -c;
    default:
      return sn;
  }
}

// ---------------------------------------------------------------------------------------
// Randomness: our own generators, so output is identical wherever the code is built
// (std:: distributions differ between standard libraries). Seeds are expanded, and unique ids
// drawn, with base/hash.h's splitmix64 (Scramble is a bijection: distinct inputs, distinct ids).

__extension__ using Uint128 = unsigned __int128;  // __extension__: GCC's type, silences -Wpedantic

// xoshiro256**: fast, small state, good statistical quality.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : s_) {
      s = SplitMix64(seed);
    }
  }
  uint64_t Next() {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double Uniform() { return UnitInterval(Next()); }
  // Uniform in (0, 1]: safe under log().
  double UniformOpen() { return (static_cast<double>(Next() >> 11) + 1.0) * 0x1.0p-53; }
  bool Bernoulli(double p) { return Uniform() < p; }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply; the tiny bias is irrelevant here).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<Uint128>(Next()) * n) >> 64); }
  // Marsaglia's polar method: needs only log and sqrt (sqrt is exact in IEEE arithmetic).
  double Normal() {
    while (true) {
      const double u = 2 * Uniform() - 1;
      const double v = 2 * Uniform() - 1;
      const double s = u * u + v * v;
      if (s > 0 && s < 1) {
        return u * std::sqrt(-2 * Log(s) / s);
      }
    }
  }
  double Exponential(double rate) { return -Log(UniformOpen()) / rate; }
  double LogNormal(double median, double sigma) { return median * Exp(sigma * Normal()); }
  // Failures before the first success of a daily Bernoulli(p): a geometric lifetime in days.
  int64_t Geometric(double p) {
    if (p <= 0) {
      return std::numeric_limits<int32_t>::max();
    }
    double v = std::floor(Log(UniformOpen()) / Log(1 - p));
    return v > 1e9 ? 1000000000 : static_cast<int64_t>(v);
  }

 private:
  std::array<uint64_t, 4> s_;
};

// Index into a cumulative weight array (last element = total) by a uniform draw.
inline uint32_t PickCumulative(const std::vector<double>& cum, double u) {
  const double target = u * cum.back();
  auto it = std::upper_bound(cum.begin(), cum.end(), target);
  if (it == cum.end()) {
    --it;
  }
  return static_cast<uint32_t>(it - cum.begin());
}

template <size_t N>
uint32_t PickWeighted(const std::array<double, N>& weights, double u) {
  double total = 0;
  for (double w : weights) {
    total += w;
  }
  double target = u * total;
  for (size_t i = 0; i < N; ++i) {
    if (target < weights[i]) {
      return static_cast<uint32_t>(i);
    }
    target -= weights[i];
  }
  return static_cast<uint32_t>(N - 1);
}

// ---------------------------------------------------------------------------------------
// Output: large buffers and our own number formatting; iostreams would dominate the run.

class OutFile {
 public:
  OutFile() = default;
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  ~OutFile();

  Status Open(const std::string& path);
  void Put(std::string_view s) { buf_.append(s); }
  void Put(char c) { buf_.push_back(c); }
  void PutUint(uint64_t v) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, r.ptr);
  }
  // An amount in cents as "12.34".
  void PutCents(int64_t cents) {
    PutUint(static_cast<uint64_t>(cents / 100));
    const int64_t rest = cents % 100;
    buf_.push_back('.');
    buf_.push_back(static_cast<char>('0' + rest / 10));
    buf_.push_back(static_cast<char>('0' + rest % 10));
  }
  // An RFC 4180 field: quoted only when it holds a comma, a quote or a line break.
  void PutField(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
      buf_.append(s);
      return;
    }
    buf_.push_back('"');
    for (char c : s) {
      if (c == '"') {
        buf_.push_back('"');
      }
      buf_.push_back(c);
    }
    buf_.push_back('"');
  }
  // Call at row ends: writes the buffer out once it is full.
  Status EndRow() {
    buf_.push_back('\n');
    return buf_.size() >= kBufferSize ? Drain() : Status::OK();
  }
  // Appends whole rows (each with its line end), writing the buffer out once it is full.
  Status PutRows(std::string_view rows) {
    buf_.append(rows);
    return buf_.size() >= kBufferSize ? Drain() : Status::OK();
  }
  Status Close();
  uint64_t bytes() const { return bytes_ + buf_.size(); }
  // The buffer, for formatters that append a row themselves (then call EndRow).
  std::string& buffer() { return buf_; }

 private:
  static constexpr size_t kBufferSize = 1 << 20;
  static constexpr size_t kSlack = 1 << 16;  // room for the row that crosses the limit

  Status Drain();

  std::string path_;
  int fd_ = -1;
  std::string buf_;
  uint64_t bytes_ = 0;
};

// ---------------------------------------------------------------------------------------
// The catalog's building blocks: real-looking retail categories with their buying cycles.

struct CategorySpec {
  const char* department;
  const char* name;
  bool consumable;      // re-bought on a cycle; otherwise a durable (a purchase inhibits the next)
  double cycle_days;    // typical re-buy cycle (consumable) or inhibition period (durable)
  double price_median;  // in currency units
  int peak_day;         // day of year of the seasonal peak (0: no season of its own)
  double amplitude;     // yearly multiplier swings in [1 - a, 1 + a]
};

inline constexpr const char* kRegions[] = {"Capital", "North", "South", "East", "West", "Central", "Coast", "Mountain"};
inline constexpr std::array<double, 8> kRegionWeights = {0.22, 0.14, 0.14, 0.12, 0.12, 0.10, 0.10, 0.06};

// Day-of-week multipliers of the purchase rate, Monday first (mean 1).
inline constexpr std::array<double, 7> kWeekly = {0.85, 0.85, 0.90, 0.95, 1.10, 1.30, 1.05};

// Parameters of the behaviour model; written to truth.json so the truth is reproducible.
inline constexpr int kLatentDim = 4;                 // customer × category affinity rank
inline constexpr double kAffinityScale = 1.6;        // spread of category shares between customers
inline constexpr double kDepartmentCoherence = 0.8;  // categories of one department share taste
inline constexpr int kBrandDim = 2;                  // customer × brand taste rank
inline constexpr double kBrandTasteScale = 1.5;
inline constexpr double kRateMedian = 0.12;           // per-day purchase rate when every category is due
inline constexpr double kRateSigma = 1.0;             // log-scale spread of that rate between customers
inline constexpr double kCycleSigma = 0.25;           // household factor on consumable cycles
inline constexpr double kConsumableLowHazard = 0.05;  // rate just after a purchase, relative to the base
inline constexpr double kDurableLowHazard = 0.25;
inline constexpr double kRampStart = 0.6;           // the rate starts to rise at 0.6 × cycle
inline constexpr double kDueMultiplier = 10;        // consumables: rate × this from 1 to 2 cycles after a purchase
inline constexpr double kDueWindow = 2;             // ... then decays back to the base rate (scale: one cycle)
inline constexpr double kLifetimeMedianDays = 900;  // churn: median customer lifetime
inline constexpr double kLifetimeSigma = 0.9;
inline constexpr int32_t kBurnInDays = 120;        // simulated before --start so cycles are in phase
inline constexpr double kShareBeforeStart = 0.65;  // customers who signed up before --start
inline constexpr double kSignupBackMeanDays = 500;
inline constexpr int32_t kSignupBackMaxDays = 3650;
inline constexpr double kIdentifiedShare = 0.56;
inline constexpr double kAliasOnlyShare = 0.04;  // an email alias only: newsletter subscribers without an account
inline constexpr double kAnonymousShare = 0.25;  // the rest were anonymous first, identified later
inline constexpr double kDeviceShareIdentified = 0.4;
inline constexpr double kLoyaltyAliasShare = 0.25;
inline constexpr double kRepeatProductShare = 0.55;  // consumables: same product as last time
inline constexpr double kPromoShare = 0.12;
inline constexpr double kIndependentOnlineShare = 0.4;
inline constexpr double kMaxChurnHazard = 0.5;      // per day; keeps log(1 - hazard) finite for tiny lifetimes
inline constexpr double kFavoriteBrandShare = 0.5;  // otherwise products by popularity
inline constexpr double kExtraUnitChance = 0.22;    // consumables: each further unit in a line
inline constexpr uint32_t kMaxQuantity = 6;
inline constexpr double kPriceSigma = 0.35;  // product prices around the category median
inline constexpr double kBrandPremiumSigma = 0.25;
inline constexpr double kStoreZipf = 0.7;
inline constexpr double kStoreOnlyShare = 0.30;  // identified customers who buy almost only in stores
inline constexpr double kWebOnlyShare = 0.15;    // ... almost only online
inline constexpr double kAnonymousMinOnline = 0.85;
inline constexpr double kEmailOptIn = 0.6;
inline constexpr double kPushOptIn = 0.55;
inline constexpr double kSmsOptIn = 0.3;
inline constexpr double kOtherStoreShare = 0.2;  // offline purchases away from the home store
inline constexpr double kCategoryZipf = 0.9;
inline constexpr double kProductZipf = 1.0;
inline constexpr double kBrandZipf = 0.8;
inline constexpr uint32_t kProductsPerCategory = 15;
inline constexpr uint64_t kCustomersPerStore = 2000;

// ---------------------------------------------------------------------------------------
// The world: everything shared by all customers. O(products + categories × days).

struct Category {
  const CategorySpec* spec;
  uint32_t department;
  double popularity;  // share of the base rate before personal affinity
  std::array<double, kLatentDim> latent;
  std::vector<uint32_t> products;   // product indices
  std::vector<double> product_cum;  // cumulative popularity over `products`
  std::vector<uint32_t> brands;     // brand indices with products here
  std::vector<std::vector<uint32_t>> brand_products;
  std::vector<std::vector<double>> brand_product_cum;
  double season_max = 1;  // max of `season` over the simulated days
};

struct Brand {
  std::string name;
  uint32_t department;
  double popularity;
  double log_popularity;  // Log(popularity), for the favourite-brand draws
  double premium;         // price multiplier
  std::array<double, kBrandDim> latent;
};

struct Product {
  uint32_t category;
  uint32_t brand;
  int64_t price_cents;
};

struct Store {
  std::string id;
  uint32_t region;
};

struct World {
  std::vector<std::string> departments;
  std::vector<Category> categories;
  std::vector<Brand> brands;
  std::vector<Product> products;
  std::vector<Store> stores;
  std::array<std::vector<uint32_t>, std::size(kRegions)> region_stores;
  std::array<std::vector<double>, std::size(kRegions)> region_store_cum;
  std::vector<uint32_t> truth_categories;  // the top-K by popularity
  int64_t first_day = 0;                   // first simulated day (start - burn-in)
  int64_t day_count = 0;                   // simulated days
  std::vector<float> season;               // [category * day_count + (day - first_day)], weekly × yearly
  std::vector<double> category_cum;        // independent mode: cumulative category popularity
};

// Builds the catalog, the stores and the season table from the world stream `rng`.
World BuildWorld(const GeneratorOptions& options, int64_t start_day, Rng& rng);

// ---------------------------------------------------------------------------------------
// Customers: each one is simulated from its own random stream, then written out.

enum class IdentityKind : uint8_t { kIdentified, kAnonymous, kIdentifiedLater, kAliasOnly };

struct Purchase {
  int64_t time;
  uint32_t product;
  uint32_t quantity;
  int64_t revenue_cents;
  int32_t store;  // -1 online
};

// How a customer's rate in one category depends on the days since the last purchase there.
struct Rhythm {
  double cycle;  // days
  double low;    // multiplier just after a purchase
  double due;    // multiplier from 1 to kDueWindow cycles after it
};

inline constexpr int32_t kNever = std::numeric_limits<int32_t>::min() / 2;  // no purchase yet

inline Rhythm RhythmOf(const Category& cat, double household, bool independent) {
  if (independent) {
    return Rhythm{cat.spec->cycle_days, 1, 1};
  }
  if (cat.spec->consumable) {
    return Rhythm{cat.spec->cycle_days * household, kConsumableLowHazard, kDueMultiplier};
  }
  return Rhythm{cat.spec->cycle_days, kDurableLowHazard, 1};
}

// The rate multiplier g days after the last purchase (g huge: never bought, multiplier 1).
// Low just after a purchase, rising from kRampStart cycles to `due` at one cycle, flat to
// kDueWindow cycles, then decaying back to 1: a customer who skipped the due window lapses.
inline double Hazard(double g, const Rhythm& r) {
  const double ramp = kRampStart * r.cycle;
  if (g <= ramp) {
    return r.low;
  }
  if (g < r.cycle) {
    return r.low + (r.due - r.low) * (g - ramp) / (r.cycle - ramp);
  }
  const double due_end = kDueWindow * r.cycle;
  if (g <= due_end) {
    return r.due;
  }
  return 1 + (r.due - 1) * Exp(-(g - due_end) / r.cycle);
}

inline constexpr int64_t kForever = std::numeric_limits<int32_t>::max();
inline constexpr double kLapsedBound = 1.5;

// An upper bound of Hazard over the days [day, end_day), for thinning. `last` is the last
// purchase day (maybe `day` itself), `before` the one before it.
struct HazardBound {
  double value;     // Hazard(g) <= value on every day of the span
  int64_t end_day;  // first day the bound no longer covers
};
inline HazardBound BoundFrom(int32_t day, int32_t last, int32_t before, const Rhythm& r) {
  if (last == day) {
    return {Hazard(static_cast<double>(day - before), r), day + 1};  // same-day rate is fixed
  }
  if (last == kNever) {
    return {1, kForever};
  }
  const int64_t g = day - last;
  const auto low_end = static_cast<int64_t>(std::floor(kRampStart * r.cycle));
  if (g <= low_end) {
    return {r.low, last + low_end + 1};
  }
  const auto due_end = static_cast<int64_t>(std::floor(kDueWindow * r.cycle));
  if (g <= due_end || r.due <= 1) {
    return {std::max(r.due, 1.0), r.due <= 1 ? kForever : last + due_end + 1};
  }
  // Past the due window the rate only decreases: bound it a cycle at a time until it is
  // nearly back to the base rate, then for good (fewer restarts, little wasted thinning).
  const double h = Hazard(static_cast<double>(g), r);
  return {h, h <= kLapsedBound ? kForever : day + static_cast<int64_t>(std::ceil(r.cycle))};
}

// Weekly × yearly multiplier of category `spec`'s rate on `day` (days since 1970-01-01): the
// values of World::season, for any day (the simulator continues past the generated ones).
float SeasonOf(const CategorySpec& spec, int64_t day);

// The product of one purchase of category `cat`: the last product again (consumables), the
// favourite brand's, or one by popularity. Draws from `rng` in the generator's order.
uint32_t ChooseProduct(const Category& cat, bool independent, int32_t last_product, int32_t favorite_brand, Rng& rng);

// The quantity and revenue (in cents, after a promotion on some lines) of a line of `product`.
void DrawLine(const Category& cat, const Product& product, Rng& rng, uint32_t* quantity, int64_t* revenue_cents);

// The customer's favourite brand of `cat` (an index into Category::brands), chosen on first buying it:
// popular brands and the customer's brand taste win (a Gumbel-max draw: softmax of the scores).
int32_t DrawFavoriteBrand(const Category& cat, const std::vector<Brand>& brands,
                          const std::array<double, kBrandDim>& brand_taste, Rng& rng);

// Per-customer working memory, reused across customers: O(categories).
struct CustomerState {
  std::vector<double> rate;  // a_ic: the base rate of category c
  std::vector<Rhythm> rhythm;
  std::vector<int32_t> truth_last;  // last purchase day before the truth cutoff
  std::vector<int32_t> last_day;    // last purchase day (kNever if none) when the history ends
  std::vector<int32_t> before_day;  // the purchase day before last_day
  std::vector<int32_t> last_product;
  std::vector<int32_t> favorite_brand;  // index into Category::brands, -1 unknown yet
  std::vector<Purchase> purchases;
};

// What a customer's first draws decide: identity kind, traits and churn.
struct CustomerTraits {
  IdentityKind kind = IdentityKind::kIdentified;
  bool alias_only = false;
  bool has_external = false;
  bool has_email = false;
  bool has_device = false;
  int32_t signup_day = 0;
  uint32_t age = 0;
  uint32_t region = 0;
  int32_t home_store = 0;
  double online_share = 0;
  std::array<double, kBrandDim> brand_taste{};
  double churn_hazard = 0;
  int64_t churn = 0;      // first day the customer no longer buys (may lie after the history)
  int32_t churn_day = 0;  // churn capped at the day after the history
};

// The customer's identifiers and opt-ins, as customers.csv has them.
struct CustomerIdentity {
  std::string external_id;  // "" if none
  std::string device_id;    // "" if none
  std::string aliases;      // label:name joined by ';', "" if none
  bool email_opt = false;
  bool push_opt = false;
  bool sms_opt = false;
};

// A customer's purchases of one day form one shopping trip: one time, one channel (online with
// probability `online_share`), one store. Sorts `purchases` by day and sets their time and store.
void AssignTrips(const World& world, bool independent, int32_t home_store, uint32_t region, double online_share,
                 Rng& rng, std::vector<Purchase>* purchases);

// Appends a purchases.csv row (without the line end): customer_id,time,product_id,quantity,revenue,channel,store_id.
// `date` is the YYYY-MM-DD of the purchase's day.
void AppendPurchaseRow(std::string& out, uint64_t customer_id, const Purchase& p, std::string_view date,
                       const World& world);

// One run over all customers into the directory `dir`. The constructor, Run and the whole-file
// writers are in generator.cc; Customer and what it calls, in generator_customers.cc.
class Generator {
 public:
  Generator(const GeneratorOptions& options, int64_t start_day, int64_t cutoff_day, const World& world,
            const std::string& dir);

  Status Run(GeneratorReport* report);

  // Customer `index` as Run generates it, without writing anything: its traits, its identity (unless
  // `identity` is null) and state() at the end of the history (the simulator continues from there).
  void Replay(uint64_t index, CustomerTraits* traits, CustomerIdentity* identity);
  const CustomerState& state() const { return state_; }
  // The random stream of customer `index` (its history's draws come from it, in order).
  Rng CustomerRng(uint64_t index) const;

 private:
  std::string_view Date(int64_t day) const {
    return std::string_view(dates_).substr(static_cast<size_t>(day - date_base_) * 10, 10);
  }
  Status Customer(uint64_t index);
  // The identity, traits and the history's purchases (state_) of the customer whose stream is `rng`.
  void SimulateHistory(Rng& rng, CustomerTraits* t);
  void DrawIdentity(uint64_t index, const CustomerTraits& t, Rng& rng, CustomerIdentity* identity);
  void ChoosePurchase(uint32_t c, int32_t day, Rng& rng);
  Status WriteTruth(uint64_t id, int32_t churn_day, double churn_hazard);
  Status WriteProducts();
  Status WriteTruthJson(const GeneratorReport& report);

  const GeneratorOptions& options_;
  const int64_t start_day_;
  const int64_t end_day_;
  const int64_t cutoff_day_;
  const World& world_;
  const std::string& dir_;
  CustomerState state_;
  uint64_t truth_stride_ = 0;
  std::string dates_;  // "YYYY-MM-DD" per day from date_base_, back to back
  int64_t date_base_ = 0;
  OutFile customers_, purchases_, truth_, identified_later_;
  uint64_t purchase_rows_ = 0;
  uint64_t truth_rows_ = 0;
  uint64_t truth_customers_ = 0;
  double truth_sum_ = 0;
  std::array<uint64_t, 4> identity_counts_{};
  uint64_t churned_ = 0;
};

}  // namespace cf::data::generator_internal
