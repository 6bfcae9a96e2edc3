// The generator's customers: one customer's identity, behaviour and purchases, simulated from its
// own random stream, and its rows of customers.csv, purchases.csv and the truth files.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "base/time.h"
#include "data/generator_internal.h"

namespace cf::data::generator_internal {
namespace {

constexpr int32_t kNever = std::numeric_limits<int32_t>::min() / 2;  // no purchase yet

// Age bands with their shares and their shift of the online share (younger buys more online).
constexpr const char* kAgeBands[] = {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"};
constexpr std::array<double, 6> kAgeWeights = {0.11, 0.20, 0.20, 0.19, 0.16, 0.14};
constexpr std::array<double, 6> kAgeOnlineShift = {0.15, 0.10, 0.05, 0.0, -0.08, -0.15};
// Email aliases: first.lastN@domain.
constexpr const char* kFirstNames[] = {"jane",   "john", "maria", "david", "sophie", "lucas", "emma",   "noah",
                                       "olivia", "liam", "ava",   "ethan", "mia",    "james", "chloe",  "leo",
                                       "sarah",  "adam", "nina",  "omar",  "yuki",   "chen",  "fatima", "ivan",
                                       "elena",  "paul", "lea",   "hugo",  "alice",  "tom"};
constexpr const char* kLastNames[] = {"doe",    "smith", "martin", "garcia", "muller", "rossi",   "dubois", "kim",
                                      "nguyen", "silva", "brown",  "jones",  "lopez",  "wilson",  "moreau", "bernard",
                                      "costa",  "novak", "sato",   "khan",   "petit",  "fischer", "young",  "king",
                                      "wright", "scott", "green",  "baker",  "hall",   "ward"};
constexpr const char* kEmailDomains[] = {"example.com", "example.net", "example.org", "mail.example"};
// Hour-of-day weights of purchase times.
constexpr std::array<double, 24> kStoreHours = {0, 0, 0, 0, 0, 0, 0,  1, 3, 5, 6, 7,
                                                8, 7, 6, 6, 7, 9, 10, 8, 5, 2, 0, 0};
constexpr std::array<double, 24> kOnlineHours = {1,   0.6, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2,   2.5, 3, 3,
                                                 3.5, 3.5, 3,   3,   3.3, 3.8, 4.5, 5.5, 6.5, 6,   4, 2};

Rhythm RhythmOf(const Category& cat, double household, bool independent) {
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
double Hazard(double g, const Rhythm& r) {
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

constexpr int64_t kForever = std::numeric_limits<int32_t>::max();
constexpr double kLapsedBound = 1.5;

// An upper bound of Hazard over the days [day, end_day), for thinning. `last` is the last
// purchase day (maybe `day` itself), `before` the one before it.
struct HazardBound {
  double value;     // Hazard(g) <= value on every day of the span
  int64_t end_day;  // first day the bound no longer covers
};
HazardBound BoundFrom(int32_t day, int32_t last, int32_t before, const Rhythm& r) {
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

}  // namespace

void Generator::ChoosePurchase(uint32_t c, int32_t day, Rng& rng) {
  const Category& cat = world_.categories[c];
  uint32_t product;
  if (options_.independent) {
    product = cat.products[PickCumulative(cat.product_cum, rng.Uniform())];
  } else if (cat.spec->consumable && state_.last_product[c] >= 0 && rng.Bernoulli(kRepeatProductShare)) {
    product = static_cast<uint32_t>(state_.last_product[c]);
  } else if (state_.favorite_brand[c] >= 0 && rng.Bernoulli(kFavoriteBrandShare)) {
    const auto b = static_cast<size_t>(state_.favorite_brand[c]);
    product = cat.brand_products[b][PickCumulative(cat.brand_product_cum[b], rng.Uniform())];
  } else {
    product = cat.products[PickCumulative(cat.product_cum, rng.Uniform())];
  }
  state_.last_product[c] = static_cast<int32_t>(product);
  if (day < start_day_) {
    return;  // burn-in: shapes the state, never written
  }
  const Product& p = world_.products[product];
  uint32_t quantity = 1;
  if (cat.spec->consumable) {
    while (quantity < kMaxQuantity && rng.Bernoulli(kExtraUnitChance)) {
      ++quantity;
    }
  }
  int64_t revenue = p.price_cents * quantity;
  if (rng.Bernoulli(kPromoShare)) {
    revenue = revenue * (10 - 1 - static_cast<int64_t>(rng.Below(3))) / 10;  // 10, 20 or 30% off
  }
  state_.purchases.push_back(Purchase{day * kSecondsPerDay, product, quantity, revenue, -1});
}

// A customer's purchases of one day form one shopping trip: one time, one channel, one store.
// Trips only place purchases within their day, so the day-level truth is unaffected.
void Generator::AssignTrips(int32_t home_store, uint32_t region, double online_share, Rng& rng) {
  std::stable_sort(state_.purchases.begin(), state_.purchases.end(),
                   [](const Purchase& a, const Purchase& b) { return a.time < b.time; });
  for (size_t first = 0; first < state_.purchases.size();) {
    const int64_t day_start = state_.purchases[first].time;
    size_t last = first;
    while (last < state_.purchases.size() && state_.purchases[last].time == day_start) {
      ++last;
    }
    const bool online = rng.Bernoulli(online_share);
    int32_t store = -1;
    if (!online) {
      store = home_store;
      if (rng.Bernoulli(kOtherStoreShare)) {
        store = static_cast<int32_t>(
            world_.region_stores[region][PickCumulative(world_.region_store_cum[region], rng.Uniform())]);
      }
    }
    int64_t second;
    if (options_.independent) {
      second = static_cast<int64_t>(rng.Below(kSecondsPerDay));
    } else {
      const uint32_t hour = PickWeighted(online ? kOnlineHours : kStoreHours, rng.Uniform());
      second = hour * 3600 + static_cast<int64_t>(rng.Below(3600));
    }
    for (size_t i = first; i < last; ++i) {
      state_.purchases[i].time = day_start + second;
      state_.purchases[i].store = store;
    }
    first = last;
  }
}

// P(at least one purchase of each truth category in [cutoff, cutoff + horizon)) given the
// state at the cutoff. Until the first purchase in the window the rate is a known function of
// the day, so P(none) = E[exp(-integral)], the expectation over the memoryless churn day.
Status Generator::WriteTruth(uint64_t id, int32_t churn_day, double churn_hazard) {
  ++truth_customers_;
  const bool alive = churn_day >= cutoff_day_;
  for (uint32_t c : world_.truth_categories) {
    double p = 0;
    if (alive) {
      const int32_t lp = state_.truth_last[c];
      const float* season = &world_.season[c * world_.day_count + (cutoff_day_ - world_.first_day)];
      double integral = 0;
      double survive = 1;  // P(still a customer on day j)
      double none = 0;     // accumulates P(churned on day j and nothing bought before)
      for (int32_t j = 0; j < options_.truth_horizon; ++j) {
        none += survive * churn_hazard * Exp(-integral);
        survive *= 1 - churn_hazard;
        const double g = static_cast<double>(cutoff_day_ + j - lp);
        const double h = Hazard(g, state_.rhythm[c]);
        integral += state_.rate[c] * season[j] * h;
      }
      none += survive * Exp(-integral);
      p = 1 - none;
    }
    truth_sum_ += p;
    truth_.PutUint(id);
    truth_.Put(',');
    truth_.PutField(world_.categories[c].spec->name);
    // Six decimals, rounded half up, without printf.
    const auto micros = static_cast<int64_t>(std::floor(p * 1e6 + 0.5));
    truth_.Put(',');
    truth_.PutUint(static_cast<uint64_t>(micros / 1000000));
    truth_.Put('.');
    char digits[6];
    int64_t rest = micros % 1000000;
    for (int k = 5; k >= 0; --k) {
      digits[k] = static_cast<char>('0' + rest % 10);
      rest /= 10;
    }
    truth_.Put(std::string_view(digits, 6));
    CF_RETURN_IF_ERROR(truth_.EndRow());
    ++truth_rows_;
  }
  return Status::OK();
}

Status Generator::Customer(uint64_t index) {
  Rng rng(Scramble(options_.seed * 0x9E3779B97F4A7C15ULL + index + 1));
  const uint64_t id = index + 1;
  const bool independent = options_.independent;

  // Identity.
  const double kind_draw = rng.Uniform();
  const IdentityKind kind = kind_draw < kIdentifiedShare                     ? IdentityKind::kIdentified
                            : kind_draw < kIdentifiedShare + kAliasOnlyShare ? IdentityKind::kAliasOnly
                            : kind_draw < kIdentifiedShare + kAliasOnlyShare + kAnonymousShare
                                ? IdentityKind::kAnonymous
                                : IdentityKind::kIdentifiedLater;
  ++identity_counts_[static_cast<size_t>(kind)];
  const bool alias_only = kind == IdentityKind::kAliasOnly;
  const bool has_external = kind != IdentityKind::kAnonymous && !alias_only;
  const bool has_email = has_external || alias_only;
  const bool has_device = kind == IdentityKind::kAnonymous || kind == IdentityKind::kIdentifiedLater ||
                          (kind == IdentityKind::kIdentified && rng.Bernoulli(kDeviceShareIdentified));

  int32_t signup_day;
  if (independent || rng.Bernoulli(kShareBeforeStart)) {
    const double back = std::min<double>(rng.Exponential(1.0 / kSignupBackMeanDays), kSignupBackMaxDays);
    signup_day = static_cast<int32_t>(start_day_ - 1 - static_cast<int64_t>(back));
  } else {
    signup_day =
        static_cast<int32_t>(start_day_ + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(options_.days))));
  }
  const uint32_t age = PickWeighted(kAgeWeights, rng.Uniform());
  const uint32_t region = PickWeighted(kRegionWeights, rng.Uniform());
  const auto home_store = static_cast<int32_t>(
      world_.region_stores[region][PickCumulative(world_.region_store_cum[region], rng.Uniform())]);

  // Channel mix: app-only anonymous customers buy online; the others range from store-only
  // to web-only, younger ones more online.
  double online_share;
  if (independent) {
    online_share = kIndependentOnlineShare;
  } else if (kind == IdentityKind::kAnonymous) {
    online_share = kAnonymousMinOnline + (1 - kAnonymousMinOnline) * rng.Uniform();
  } else {
    const double u = rng.Uniform();
    online_share = u < kStoreOnlyShare ? 0.02 : u < kStoreOnlyShare + kWebOnlyShare ? 0.95 : 0.1 + 0.8 * rng.Uniform();
    online_share = std::clamp(online_share + kAgeOnlineShift[age], 0.0, 1.0);
  }

  // Behaviour: overall rate, category affinities, cycles, churn.
  const double base_rate = independent ? kRateMedian : rng.LogNormal(kRateMedian, kRateSigma);
  std::array<double, kLatentDim> taste;
  for (double& x : taste) {
    x = rng.Normal();
  }
  std::array<double, kBrandDim> brand_taste;
  for (double& x : brand_taste) {
    x = rng.Normal();
  }
  const double household = independent ? 1.0 : Exp(kCycleSigma * rng.Normal());
  const double lifetime = rng.LogNormal(kLifetimeMedianDays, kLifetimeSigma);
  const double churn_hazard = independent ? 0.0 : std::min(1.0 / lifetime, kMaxChurnHazard);
  const int64_t churn = signup_day + 1 + rng.Geometric(churn_hazard);
  const auto churn_day = static_cast<int32_t>(std::min<int64_t>(churn, end_day_ + 1));
  if (churn_day < end_day_) {
    ++churned_;
  }

  const size_t n = world_.categories.size();
  double total = 0;
  for (size_t c = 0; c < n; ++c) {
    const Category& cat = world_.categories[c];
    double share = cat.popularity;
    if (!independent) {
      double dot = 0;
      for (int j = 0; j < kLatentDim; ++j) {
        dot += taste[j] * cat.latent[j];
      }
      share *= Exp(kAffinityScale * dot / std::sqrt(static_cast<double>(kLatentDim)));
    }
    state_.rate[c] = share;
    total += share;
  }
  for (size_t c = 0; c < n; ++c) {
    const Category& cat = world_.categories[c];
    state_.rate[c] *= base_rate / total;
    state_.rhythm[c] = RhythmOf(cat, household, independent);
    state_.truth_last[c] = kNever;
    state_.last_product[c] = -1;
    state_.favorite_brand[c] = -1;
  }
  state_.purchases.clear();

  // Purchases: each category is an independent process whose rate depends only on its own
  // history, simulated by thinning under a piecewise-constant bound (restarting the
  // exponential clock at each bound change is exact: it is memoryless).
  const double t_begin = static_cast<double>(std::max<int64_t>(signup_day, world_.first_day));
  const double t_end = static_cast<double>(std::min<int64_t>(churn_day, end_day_));
  for (uint32_t c = 0; c < n; ++c) {
    const Category& cat = world_.categories[c];
    const Rhythm& rhythm = state_.rhythm[c];
    const double base = state_.rate[c] * cat.season_max;
    const float* season = world_.season.data() + c * world_.day_count;
    int32_t last = kNever;
    int32_t before = kNever;
    double t = t_begin;
    while (t < t_end) {
      const HazardBound bound = BoundFrom(static_cast<int32_t>(std::floor(t)), last, before, rhythm);
      const double bound_end = std::min(static_cast<double>(bound.end_day), t_end);
      const double next = t + rng.Exponential(base * bound.value);
      if (next >= bound_end) {
        t = bound_end;
        continue;
      }
      t = next;
      const auto day = static_cast<int32_t>(std::floor(t));
      const int32_t lp = last < day ? last : before;
      const double accept =
          season[day - world_.first_day] / cat.season_max * Hazard(static_cast<double>(day - lp), rhythm) / bound.value;
      if (rng.Uniform() >= accept) {
        continue;
      }
      if (last < day) {
        before = last;
        last = day;
      }
      if (day < cutoff_day_) {
        state_.truth_last[c] = day;
      }
      if (!independent && state_.favorite_brand[c] < 0) {
        // The favourite brand of a category: popular brands and the customer's taste win.
        double best = -std::numeric_limits<double>::infinity();
        for (size_t b = 0; b < cat.brands.size(); ++b) {
          const Brand& brand = world_.brands[cat.brands[b]];
          double score = Log(brand.popularity) - Log(-Log(rng.UniformOpen()));
          for (int j = 0; j < kBrandDim; ++j) {
            score += kBrandTasteScale * brand_taste[j] * brand.latent[j] / std::sqrt(static_cast<double>(kBrandDim));
          }
          if (score > best) {
            best = score;
            state_.favorite_brand[c] = static_cast<int32_t>(b);
          }
        }
      }
      ChoosePurchase(c, day, rng);
    }
  }
  if (truth_stride_ != 0 && index % truth_stride_ == 0 && signup_day < cutoff_day_) {
    CF_RETURN_IF_ERROR(WriteTruth(id, churn_day, churn_hazard));
  }

  // customers.csv
  customers_.PutUint(id);
  customers_.Put(',');
  char hex[40];
  if (has_external) {
    std::snprintf(hex, sizeof hex, "u_%016llx",
                  static_cast<unsigned long long>(Scramble(index ^ (options_.seed << 40))));
    customers_.Put(hex);
  }
  customers_.Put(',');
  std::string device;
  if (has_device) {
    // The first half is a bijection of the index (unique per seed), the rest is random.
    const uint64_t hi = Scramble(index + (options_.seed << 36) + 0x5151);
    const uint64_t lo = rng.Next();
    std::snprintf(hex, sizeof hex, "%08llx-%04llx-4%03llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xffff), static_cast<unsigned long long>(hi & 0xfff),
                  static_cast<unsigned long long>(0x8000 | ((lo >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    device = hex;
    customers_.Put(device);
  }
  customers_.Put(',');
  if (has_email) {
    customers_.Put("email:");
    customers_.Put(kFirstNames[rng.Below(std::size(kFirstNames))]);
    customers_.Put('.');
    customers_.Put(kLastNames[rng.Below(std::size(kLastNames))]);
    customers_.PutUint(id);
    customers_.Put('@');
    customers_.Put(kEmailDomains[rng.Below(std::size(kEmailDomains))]);
    // A loyalty card comes with an account.
    if (has_external && rng.Bernoulli(kLoyaltyAliasShare)) {
      customers_.Put(";loyalty:L");
      customers_.PutUint(1000000000ULL + id);
    }
  }
  customers_.Put(',');
  customers_.Put(Date(signup_day));
  customers_.Put(',');
  if (has_external) {
    customers_.Put(kAgeBands[age]);
  }
  customers_.Put(',');
  customers_.Put(kRegions[region]);
  // Alias-only customers are on the list because they subscribed to the newsletter.
  const bool email_opt = alias_only || (has_external && rng.Bernoulli(kEmailOptIn));
  const bool push_opt = has_device && rng.Bernoulli(kPushOptIn);
  const bool sms_opt = has_external && rng.Bernoulli(kSmsOptIn);
  customers_.Put(email_opt ? ",true" : ",false");
  customers_.Put(push_opt ? ",true" : ",false");
  customers_.Put(sms_opt ? ",true" : ",false");
  CF_RETURN_IF_ERROR(customers_.EndRow());

  if (kind == IdentityKind::kIdentifiedLater) {
    const int64_t from = std::max<int64_t>(signup_day, start_day_ - 365);
    const int64_t identified = from + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(end_day_ - from)));
    identified_later_.PutUint(id);
    identified_later_.Put(',');
    identified_later_.Put(device);
    identified_later_.Put(',');
    identified_later_.Put(Date(signup_day));
    identified_later_.Put(',');
    identified_later_.Put(Date(identified));
    CF_RETURN_IF_ERROR(identified_later_.EndRow());
  }

  // purchases.csv, sorted by time (trips keep the day order).
  AssignTrips(home_store, region, online_share, rng);
  for (const Purchase& p : state_.purchases) {
    purchases_.PutUint(id);
    purchases_.Put(',');
    const int64_t day = p.time / kSecondsPerDay;
    const int64_t sec = p.time % kSecondsPerDay;
    char clock[12] = {'T',
                      static_cast<char>('0' + sec / 36000),
                      static_cast<char>('0' + sec / 3600 % 10),
                      ':',
                      static_cast<char>('0' + sec % 3600 / 600),
                      static_cast<char>('0' + sec % 3600 / 60 % 10),
                      ':',
                      static_cast<char>('0' + sec % 60 / 10),
                      static_cast<char>('0' + sec % 10),
                      'Z',
                      ','};
    purchases_.Put(Date(day));
    purchases_.Put(std::string_view(clock, 11));
    purchases_.PutUint(p.product + 1);
    purchases_.Put(',');
    purchases_.PutUint(p.quantity);
    purchases_.Put(',');
    purchases_.PutCents(p.revenue_cents);
    if (p.store < 0) {
      purchases_.Put(",online,");
    } else {
      purchases_.Put(",offline,");
      purchases_.Put(world_.stores[static_cast<size_t>(p.store)].id);
    }
    CF_RETURN_IF_ERROR(purchases_.EndRow());
  }
  purchase_rows_ += state_.purchases.size();
  return Status::OK();
}

}  // namespace cf::data::generator_internal
