// The generator's customers: one customer's identity, behaviour and purchases, simulated from its
// own random stream, and its rows of customers.csv, purchases.csv and the truth files.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "base/time.h"
#include "data/generator_internal.h"

namespace cf::data::generator_internal {
namespace {

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

}  // namespace

uint32_t ChooseProduct(const Category& cat, bool independent, int32_t last_product, int32_t favorite_brand, Rng& rng) {
  if (independent) {
    return cat.products[PickCumulative(cat.product_cum, rng.Uniform())];
  }
  if (cat.spec->consumable && last_product >= 0 && rng.Bernoulli(kRepeatProductShare)) {
    return static_cast<uint32_t>(last_product);
  }
  if (favorite_brand >= 0 && rng.Bernoulli(kFavoriteBrandShare)) {
    const auto b = static_cast<size_t>(favorite_brand);
    return cat.brand_products[b][PickCumulative(cat.brand_product_cum[b], rng.Uniform())];
  }
  return cat.products[PickCumulative(cat.product_cum, rng.Uniform())];
}

void DrawLine(const Category& cat, const Product& product, Rng& rng, uint32_t* quantity, int64_t* revenue_cents) {
  uint32_t q = 1;
  if (cat.spec->consumable) {
    while (q < kMaxQuantity && rng.Bernoulli(kExtraUnitChance)) {
      ++q;
    }
  }
  int64_t revenue = product.price_cents * q;
  if (rng.Bernoulli(kPromoShare)) {
    revenue = revenue * (10 - 1 - static_cast<int64_t>(rng.Below(3))) / 10;  // 10, 20 or 30% off
  }
  *quantity = q;
  *revenue_cents = revenue;
}

int32_t DrawFavoriteBrand(const Category& cat, const std::vector<Brand>& brands,
                          const std::array<double, kBrandDim>& brand_taste, Rng& rng) {
  double best = -std::numeric_limits<double>::infinity();
  int32_t favorite = -1;
  for (size_t b = 0; b < cat.brands.size(); ++b) {
    const Brand& brand = brands[cat.brands[b]];
    double score = brand.log_popularity - Log(-Log(rng.UniformOpen()));
    for (int j = 0; j < kBrandDim; ++j) {
      score += kBrandTasteScale * brand_taste[j] * brand.latent[j] / std::sqrt(static_cast<double>(kBrandDim));
    }
    if (score > best) {
      best = score;
      favorite = static_cast<int32_t>(b);
    }
  }
  return favorite;
}

void Generator::ChoosePurchase(uint32_t c, int32_t day, Rng& rng) {
  const Category& cat = world_.categories[c];
  const uint32_t product =
      ChooseProduct(cat, options_.independent, state_.last_product[c], state_.favorite_brand[c], rng);
  state_.last_product[c] = static_cast<int32_t>(product);
  if (day < start_day_) {
    return;  // burn-in: shapes the state, never written
  }
  Purchase purchase{day * kSecondsPerDay, product, 1, 0, -1};
  DrawLine(cat, world_.products[product], rng, &purchase.quantity, &purchase.revenue_cents);
  state_.purchases.push_back(purchase);
}

// A customer's purchases of one day form one shopping trip: one time, one channel, one store.
// Trips only place purchases within their day, so the day-level truth is unaffected.
void AssignTrips(const World& world, bool independent, int32_t home_store, uint32_t region, double online_share,
                 Rng& rng, std::vector<Purchase>* purchases) {
  std::vector<Purchase>& list = *purchases;
  std::stable_sort(list.begin(), list.end(), [](const Purchase& a, const Purchase& b) { return a.time < b.time; });
  for (size_t first = 0; first < list.size();) {
    const int64_t day_start = list[first].time;
    size_t last = first;
    while (last < list.size() && list[last].time == day_start) {
      ++last;
    }
    const bool online = rng.Bernoulli(online_share);
    int32_t store = -1;
    if (!online) {
      store = home_store;
      if (rng.Bernoulli(kOtherStoreShare)) {
        store = static_cast<int32_t>(
            world.region_stores[region][PickCumulative(world.region_store_cum[region], rng.Uniform())]);
      }
    }
    int64_t second;
    if (independent) {
      second = static_cast<int64_t>(rng.Below(kSecondsPerDay));
    } else {
      const uint32_t hour = PickWeighted(online ? kOnlineHours : kStoreHours, rng.Uniform());
      second = hour * 3600 + static_cast<int64_t>(rng.Below(3600));
    }
    for (size_t i = first; i < last; ++i) {
      list[i].time = day_start + second;
      list[i].store = store;
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

Rng Generator::CustomerRng(uint64_t index) const {
  return Rng(Scramble(options_.seed * 0x9E3779B97F4A7C15ULL + index + 1));
}

void Generator::SimulateHistory(Rng& rng, CustomerTraits* t) {
  const bool independent = options_.independent;

  // Identity.
  const double kind_draw = rng.Uniform();
  t->kind = kind_draw < kIdentifiedShare                                       ? IdentityKind::kIdentified
            : kind_draw < kIdentifiedShare + kAliasOnlyShare                   ? IdentityKind::kAliasOnly
            : kind_draw < kIdentifiedShare + kAliasOnlyShare + kAnonymousShare ? IdentityKind::kAnonymous
                                                                               : IdentityKind::kIdentifiedLater;
  ++identity_counts_[static_cast<size_t>(t->kind)];
  t->alias_only = t->kind == IdentityKind::kAliasOnly;
  t->has_external = t->kind != IdentityKind::kAnonymous && !t->alias_only;
  t->has_email = t->has_external || t->alias_only;
  t->has_device = t->kind == IdentityKind::kAnonymous || t->kind == IdentityKind::kIdentifiedLater ||
                  (t->kind == IdentityKind::kIdentified && rng.Bernoulli(kDeviceShareIdentified));

  if (independent || rng.Bernoulli(kShareBeforeStart)) {
    const double back = std::min<double>(rng.Exponential(1.0 / kSignupBackMeanDays), kSignupBackMaxDays);
    t->signup_day = static_cast<int32_t>(start_day_ - 1 - static_cast<int64_t>(back));
  } else {
    t->signup_day =
        static_cast<int32_t>(start_day_ + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(options_.days))));
  }
  t->age = PickWeighted(kAgeWeights, rng.Uniform());
  t->region = PickWeighted(kRegionWeights, rng.Uniform());
  t->home_store = static_cast<int32_t>(
      world_.region_stores[t->region][PickCumulative(world_.region_store_cum[t->region], rng.Uniform())]);

  // Channel mix: app-only anonymous customers buy online; the others range from store-only
  // to web-only, younger ones more online.
  if (independent) {
    t->online_share = kIndependentOnlineShare;
  } else if (t->kind == IdentityKind::kAnonymous) {
    t->online_share = kAnonymousMinOnline + (1 - kAnonymousMinOnline) * rng.Uniform();
  } else {
    const double u = rng.Uniform();
    const double share = u < kStoreOnlyShare                   ? 0.02
                         : u < kStoreOnlyShare + kWebOnlyShare ? 0.95
                                                               : 0.1 + 0.8 * rng.Uniform();
    t->online_share = std::clamp(share + kAgeOnlineShift[t->age], 0.0, 1.0);
  }

  // Behaviour: overall rate, category affinities, cycles, churn.
  const double base_rate = independent ? kRateMedian : rng.LogNormal(kRateMedian, kRateSigma);
  std::array<double, kLatentDim> taste;
  for (double& x : taste) {
    x = rng.Normal();
  }
  for (double& x : t->brand_taste) {
    x = rng.Normal();
  }
  const double household = independent ? 1.0 : Exp(kCycleSigma * rng.Normal());
  const double lifetime = rng.LogNormal(kLifetimeMedianDays, kLifetimeSigma);
  t->churn_hazard = independent ? 0.0 : std::min(1.0 / lifetime, kMaxChurnHazard);
  t->churn = t->signup_day + 1 + rng.Geometric(t->churn_hazard);
  t->churn_day = static_cast<int32_t>(std::min<int64_t>(t->churn, end_day_ + 1));
  if (t->churn_day < end_day_) {
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
  const double t_begin = static_cast<double>(std::max<int64_t>(t->signup_day, world_.first_day));
  const double t_end = static_cast<double>(std::min<int64_t>(t->churn_day, end_day_));
  for (uint32_t c = 0; c < n; ++c) {
    const Category& cat = world_.categories[c];
    const Rhythm& rhythm = state_.rhythm[c];
    const double base = state_.rate[c] * cat.season_max;
    const float* season = world_.season.data() + c * world_.day_count;
    int32_t last = kNever;
    int32_t before = kNever;
    double time = t_begin;
    while (time < t_end) {
      const HazardBound bound = BoundFrom(static_cast<int32_t>(std::floor(time)), last, before, rhythm);
      const double bound_end = std::min(static_cast<double>(bound.end_day), t_end);
      const double next = time + rng.Exponential(base * bound.value);
      if (next >= bound_end) {
        time = bound_end;
        continue;
      }
      time = next;
      const auto day = static_cast<int32_t>(std::floor(time));
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
        state_.favorite_brand[c] = DrawFavoriteBrand(cat, world_.brands, t->brand_taste, rng);
      }
      ChoosePurchase(c, day, rng);
    }
    state_.last_day[c] = last;
    state_.before_day[c] = before;
  }
}

void Generator::DrawIdentity(uint64_t index, const CustomerTraits& t, Rng& rng, CustomerIdentity* identity) {
  const uint64_t id = index + 1;
  char hex[40];
  identity->external_id.clear();
  identity->device_id.clear();
  identity->aliases.clear();
  if (t.has_external) {
    std::snprintf(hex, sizeof hex, "u_%016llx",
                  static_cast<unsigned long long>(Scramble(index ^ (options_.seed << 40))));
    identity->external_id = hex;
  }
  if (t.has_device) {
    // The first half is a bijection of the index (unique per seed), the rest is random.
    const uint64_t hi = Scramble(index + (options_.seed << 36) + 0x5151);
    const uint64_t lo = rng.Next();
    std::snprintf(hex, sizeof hex, "%08llx-%04llx-4%03llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xffff), static_cast<unsigned long long>(hi & 0xfff),
                  static_cast<unsigned long long>(0x8000 | ((lo >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    identity->device_id = hex;
  }
  if (t.has_email) {
    std::string& a = identity->aliases;
    a += "email:";
    a += kFirstNames[rng.Below(std::size(kFirstNames))];
    a += '.';
    a += kLastNames[rng.Below(std::size(kLastNames))];
    a += std::to_string(id);
    a += '@';
    a += kEmailDomains[rng.Below(std::size(kEmailDomains))];
    // A loyalty card comes with an account.
    if (t.has_external && rng.Bernoulli(kLoyaltyAliasShare)) {
      a += ";loyalty:L";
      a += std::to_string(1000000000ULL + id);
    }
  }
  // Alias-only customers are on the list because they subscribed to the newsletter.
  identity->email_opt = t.alias_only || (t.has_external && rng.Bernoulli(kEmailOptIn));
  identity->push_opt = t.has_device && rng.Bernoulli(kPushOptIn);
  identity->sms_opt = t.has_external && rng.Bernoulli(kSmsOptIn);
}

void Generator::Replay(uint64_t index, CustomerTraits* traits, CustomerIdentity* identity) {
  Rng rng = CustomerRng(index);
  SimulateHistory(rng, traits);
  if (identity != nullptr) {
    DrawIdentity(index, *traits, rng, identity);
  }
}

void AppendPurchaseRow(std::string& out, uint64_t customer_id, const Purchase& p, std::string_view date,
                       const World& world) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, customer_id).ptr);
  out += ',';
  const int64_t sec = p.time % kSecondsPerDay;
  const char clock[11] = {'T',
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
  out.append(date);
  out.append(clock, sizeof clock);
  out.append(digits, std::to_chars(digits, digits + sizeof digits, p.product + 1).ptr);
  out += ',';
  out.append(digits, std::to_chars(digits, digits + sizeof digits, p.quantity).ptr);
  out += ',';
  out.append(digits, std::to_chars(digits, digits + sizeof digits, p.revenue_cents / 100).ptr);
  const int64_t cents = p.revenue_cents % 100;
  out += '.';
  out += static_cast<char>('0' + cents / 10);
  out += static_cast<char>('0' + cents % 10);
  if (p.store < 0) {
    out += ",online,";
  } else {
    out += ",offline,";
    out += world.stores[static_cast<size_t>(p.store)].id;
  }
}

Status Generator::Customer(uint64_t index) {
  Rng rng = CustomerRng(index);
  const uint64_t id = index + 1;
  CustomerTraits t;
  SimulateHistory(rng, &t);
  if (truth_stride_ != 0 && index % truth_stride_ == 0 && t.signup_day < cutoff_day_) {
    CF_RETURN_IF_ERROR(WriteTruth(id, t.churn_day, t.churn_hazard));
  }

  // customers.csv
  CustomerIdentity identity;
  DrawIdentity(index, t, rng, &identity);
  customers_.PutUint(id);
  customers_.Put(',');
  customers_.Put(identity.external_id);
  customers_.Put(',');
  customers_.Put(identity.device_id);
  customers_.Put(',');
  customers_.Put(identity.aliases);
  customers_.Put(',');
  customers_.Put(Date(t.signup_day));
  customers_.Put(',');
  if (t.has_external) {
    customers_.Put(kAgeBands[t.age]);
  }
  customers_.Put(',');
  customers_.Put(kRegions[t.region]);
  customers_.Put(identity.email_opt ? ",true" : ",false");
  customers_.Put(identity.push_opt ? ",true" : ",false");
  customers_.Put(identity.sms_opt ? ",true" : ",false");
  CF_RETURN_IF_ERROR(customers_.EndRow());

  if (t.kind == IdentityKind::kIdentifiedLater) {
    const int64_t from = std::max<int64_t>(t.signup_day, start_day_ - 365);
    const int64_t identified = from + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(end_day_ - from)));
    identified_later_.PutUint(id);
    identified_later_.Put(',');
    identified_later_.Put(identity.device_id);
    identified_later_.Put(',');
    identified_later_.Put(Date(t.signup_day));
    identified_later_.Put(',');
    identified_later_.Put(Date(identified));
    CF_RETURN_IF_ERROR(identified_later_.EndRow());
  }

  // purchases.csv, sorted by time (trips keep the day order).
  AssignTrips(world_, options_.independent, t.home_store, t.region, t.online_share, rng, &state_.purchases);
  for (const Purchase& p : state_.purchases) {
    AppendPurchaseRow(purchases_.buffer(), id, p, Date(p.time / kSecondsPerDay), world_);
    CF_RETURN_IF_ERROR(purchases_.EndRow());
  }
  purchase_rows_ += state_.purchases.size();
  return Status::OK();
}

}  // namespace cf::data::generator_internal
