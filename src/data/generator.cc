#include "data/generator.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numbers>
#include <optional>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/hash.h"
#include "base/progress.h"
#include "base/time.h"

namespace cf::data {
namespace {

// ---------------------------------------------------------------------------------------
// Portable math: glibc picks exp/log/cos variants by CPU (FMA or not), which may round
// differently; these use only + - * / and exact scaling, so every machine gets the same bits.

constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;

double Exp(double x) {
  if (x < -745) {
    return 0;
  }
  if (x > 709) {
    return std::numeric_limits<double>::infinity();
  }
  static constexpr std::array<double, 14> kInverse = {0,     1,       1.0 / 2, 1.0 / 3,  1.0 / 4,  1.0 / 5,  1.0 / 6,
                                                     1.0 / 7, 1.0 / 8, 1.0 / 9, 1.0 / 10, 1.0 / 11, 1.0 / 12, 1.0 / 13};
  const double k = std::floor(x * std::numbers::log2e + 0.5);
  const double r = x - k * kLn2Hi - k * kLn2Lo;  // |r| <= ln(2) / 2
  double p = 1;  // Taylor to r^13 by Horner: error below 1e-16
  for (int f = 13; f >= 1; --f) {
    p = 1 + p * r * kInverse[static_cast<size_t>(f)];
  }
  const auto e = static_cast<int64_t>(k);
  if (e < -1022) {
    return std::ldexp(p, static_cast<int>(e));  // subnormal results: rare, let libm scale
  }
  return p * std::bit_cast<double>(static_cast<uint64_t>(e + 1023) << 52);  // exact: times 2^e
}

double Log(double x) {
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

double Cos(double x) {
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
uint32_t PickCumulative(const std::vector<double>& cum, double u) {
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
  ~OutFile() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  Status Open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
    }
    buf_.reserve(kBufferSize + kSlack);
    return Status::OK();
  }
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
  Status Close() {
    CF_RETURN_IF_ERROR(Drain());
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      return Status::IOError("cannot write " + path_ + ": " + std::strerror(errno));
    }
    fd_ = -1;
    return Status::OK();
  }
  uint64_t bytes() const { return bytes_ + buf_.size(); }

 private:
  static constexpr size_t kBufferSize = 1 << 20;
  static constexpr size_t kSlack = 1 << 16;  // room for the row that crosses the limit

  Status Drain() {
    size_t done = 0;
    while (done < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return Status::IOError("cannot write " + path_ + ": " + std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    bytes_ += buf_.size();
    buf_.clear();
    return Status::OK();
  }

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
  bool consumable;     // re-bought on a cycle; otherwise a durable (a purchase inhibits the next)
  double cycle_days;   // typical re-buy cycle (consumable) or inhibition period (durable)
  double price_median; // in currency units
  int peak_day;        // day of year of the seasonal peak (0: no season of its own)
  double amplitude;    // yearly multiplier swings in [1 - a, 1 + a]
};

// clang-format off
constexpr CategorySpec kCategories[] = {
    {"GROCERY", "SOFT DRINKS", true, 10, 2.5, 190, 0.3},
    {"GROCERY", "COFFEE", true, 21, 6.5, 0, 0},
    {"GROCERY", "TEA", true, 30, 4, 20, 0.2},
    {"GROCERY", "BREAKFAST CEREAL", true, 14, 3.8, 0, 0},
    {"GROCERY", "PASTA", true, 18, 1.6, 0, 0},
    {"GROCERY", "RICE", true, 30, 2.5, 0, 0},
    {"GROCERY", "CANNED SOUP", true, 21, 2, 15, 0.35},
    {"GROCERY", "SNACKS", true, 9, 2.8, 0, 0},
    {"GROCERY", "CHOCOLATE", true, 12, 3, 350, 0.3},
    {"GROCERY", "CONDIMENTS", true, 40, 3.2, 0, 0},
    {"GROCERY", "BAKING", true, 45, 3, 355, 0.4},
    {"GROCERY", "JUICE", true, 10, 3, 0, 0},
    {"PRODUCE", "FRUIT", true, 6, 3, 0, 0},
    {"PRODUCE", "VEGETABLES", true, 6, 2.5, 0, 0},
    {"PRODUCE", "SALADS", true, 7, 2.8, 200, 0.35},
    {"PRODUCE", "POTATOES", true, 12, 3.5, 0, 0},
    {"PRODUCE", "HERBS", true, 20, 1.8, 0, 0},
    {"PRODUCE", "BERRIES", true, 8, 4, 180, 0.5},
    {"DAIRY", "MILK", true, 5, 1.4, 0, 0},
    {"DAIRY", "CHEESE", true, 10, 4.5, 0, 0},
    {"DAIRY", "YOGURT", true, 7, 3.2, 0, 0},
    {"DAIRY", "BUTTER", true, 18, 3, 0, 0},
    {"DAIRY", "EGGS", true, 9, 3.3, 0, 0},
    {"DAIRY", "CREAM", true, 21, 2.2, 0, 0},
    {"MEAT & SEAFOOD", "BEEF", true, 14, 9, 0, 0},
    {"MEAT & SEAFOOD", "POULTRY", true, 9, 7, 0, 0},
    {"MEAT & SEAFOOD", "PORK", true, 18, 7.5, 0, 0},
    {"MEAT & SEAFOOD", "SAUSAGES", true, 14, 4.5, 200, 0.4},
    {"MEAT & SEAFOOD", "FISH", true, 16, 11, 0, 0},
    {"MEAT & SEAFOOD", "DELI MEATS", true, 8, 4, 0, 0},
    {"BAKERY", "BREAD", true, 4, 2.2, 0, 0},
    {"BAKERY", "PASTRIES", true, 10, 3.5, 0, 0},
    {"BAKERY", "CAKES", true, 30, 12, 355, 0.3},
    {"FROZEN", "FROZEN PIZZA", true, 14, 4.5, 0, 0},
    {"FROZEN", "ICE CREAM", true, 14, 5, 200, 0.6},
    {"FROZEN", "FROZEN VEGETABLES", true, 21, 2.5, 0, 0},
    {"FROZEN", "FROZEN MEALS", true, 10, 4, 0, 0},
    {"BEER, WINE & SPIRITS", "BEER", true, 10, 9, 190, 0.35},
    {"BEER, WINE & SPIRITS", "WINE", true, 14, 11, 355, 0.3},
    {"BEER, WINE & SPIRITS", "SPIRITS", true, 45, 22, 355, 0.4},
    {"BEER, WINE & SPIRITS", "SPARKLING WINE", true, 90, 18, 360, 0.8},
    {"HEALTH & BEAUTY", "SHAMPOO", true, 35, 5, 0, 0},
    {"HEALTH & BEAUTY", "TOOTHPASTE", true, 40, 3.2, 0, 0},
    {"HEALTH & BEAUTY", "SKIN CARE", true, 45, 14, 0, 0},
    {"HEALTH & BEAUTY", "COSMETICS", true, 60, 16, 350, 0.25},
    {"HEALTH & BEAUTY", "VITAMINS", true, 45, 12, 15, 0.3},
    {"HEALTH & BEAUTY", "SUNSCREEN", true, 60, 11, 180, 0.8},
    {"HEALTH & BEAUTY", "DEODORANT", true, 35, 4, 0, 0},
    {"HEALTH & BEAUTY", "RAZORS", true, 45, 10, 0, 0},
    {"HOUSEHOLD", "LAUNDRY DETERGENT", true, 30, 9, 0, 0},
    {"HOUSEHOLD", "PAPER TOWELS", true, 21, 6, 0, 0},
    {"HOUSEHOLD", "TOILET PAPER", true, 18, 7, 0, 0},
    {"HOUSEHOLD", "DISH SOAP", true, 35, 3, 0, 0},
    {"HOUSEHOLD", "CLEANING SUPPLIES", true, 45, 5, 100, 0.2},
    {"HOUSEHOLD", "TRASH BAGS", true, 40, 5, 0, 0},
    {"BABY", "DIAPERS", true, 10, 14, 0, 0},
    {"BABY", "BABY FOOD", true, 7, 1.8, 0, 0},
    {"BABY", "BABY WIPES", true, 14, 4, 0, 0},
    {"BABY", "BABY CARE", true, 45, 7, 0, 0},
    {"PET", "DOG FOOD", true, 21, 19, 0, 0},
    {"PET", "CAT FOOD", true, 14, 12, 0, 0},
    {"PET", "CAT LITTER", true, 21, 9, 0, 0},
    {"PET", "PET TREATS", true, 21, 5, 350, 0.2},
    {"PET", "PET ACCESSORIES", false, 120, 15, 0, 0},
    {"ELECTRONICS", "TELEVISIONS", false, 720, 450, 330, 0.5},
    {"ELECTRONICS", "HEADPHONES", false, 365, 60, 350, 0.5},
    {"ELECTRONICS", "PHONE ACCESSORIES", false, 120, 22, 0, 0},
    {"ELECTRONICS", "SMALL APPLIANCES", false, 365, 55, 350, 0.4},
    {"ELECTRONICS", "BATTERIES", true, 60, 8, 350, 0.3},
    {"ELECTRONICS", "VIDEO GAMES", false, 90, 50, 350, 0.7},
    {"ELECTRONICS", "LAPTOPS", false, 900, 700, 240, 0.3},
    {"HOME & KITCHEN", "KITCHENWARE", false, 180, 25, 0, 0},
    {"HOME & KITCHEN", "BEDDING", false, 365, 45, 0, 0},
    {"HOME & KITCHEN", "DECOR", false, 180, 30, 350, 0.3},
    {"HOME & KITCHEN", "STORAGE", false, 180, 18, 0, 0},
    {"HOME & KITCHEN", "LIGHTING", false, 365, 35, 0, 0},
    {"HOME & KITCHEN", "GARDEN", false, 60, 20, 120, 0.8},
    {"HOME & KITCHEN", "BARBECUE", false, 365, 120, 160, 0.9},
    {"APPAREL", "SHOES", false, 120, 65, 0, 0},
    {"APPAREL", "WOMENS CLOTHING", false, 45, 35, 0, 0},
    {"APPAREL", "MENS CLOTHING", false, 60, 38, 0, 0},
    {"APPAREL", "KIDS CLOTHING", false, 60, 22, 240, 0.5},
    {"APPAREL", "SOCKS & UNDERWEAR", false, 90, 12, 0, 0},
    {"APPAREL", "COATS", false, 365, 95, 320, 0.8},
    {"APPAREL", "SWIMWEAR", false, 365, 30, 170, 1.0},
    {"SPORTS & OUTDOORS", "FITNESS", false, 180, 35, 10, 0.6},
    {"SPORTS & OUTDOORS", "CYCLING", false, 365, 80, 130, 0.5},
    {"SPORTS & OUTDOORS", "CAMPING", false, 365, 60, 170, 0.7},
    {"SPORTS & OUTDOORS", "RUNNING", false, 120, 70, 100, 0.3},
    {"TOYS & GAMES", "TOYS", false, 90, 25, 350, 1.0},
    {"TOYS & GAMES", "BOARD GAMES", false, 180, 30, 350, 0.9},
    {"TOYS & GAMES", "PUZZLES", false, 180, 15, 350, 0.6},
    {"STATIONERY", "SCHOOL SUPPLIES", true, 90, 6, 240, 1.0},
    {"STATIONERY", "GREETING CARDS", true, 45, 4, 350, 0.5},
    {"STATIONERY", "BOOKS", false, 45, 15, 350, 0.3},
};
// clang-format on
constexpr uint32_t kCategoryCount = std::size(kCategories);

constexpr const char* kRegions[] = {"Capital", "North", "South", "East", "West", "Central", "Coast", "Mountain"};
constexpr std::array<double, 8> kRegionWeights = {0.22, 0.14, 0.14, 0.12, 0.12, 0.10, 0.10, 0.06};
constexpr const char* kAgeBands[] = {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"};
constexpr std::array<double, 6> kAgeWeights = {0.11, 0.20, 0.20, 0.19, 0.16, 0.14};
constexpr std::array<double, 6> kAgeOnlineShift = {0.15, 0.10, 0.05, 0.0, -0.08, -0.15};
constexpr const char* kFirstNames[] = {
    "jane", "john", "maria", "david", "sophie", "lucas", "emma", "noah", "olivia", "liam",
    "ava", "ethan", "mia", "james", "chloe", "leo", "sarah", "adam", "nina", "omar",
    "yuki", "chen", "fatima", "ivan", "elena", "paul", "lea", "hugo", "alice", "tom"};
constexpr const char* kLastNames[] = {
    "doe", "smith", "martin", "garcia", "muller", "rossi", "dubois", "kim", "nguyen", "silva",
    "brown", "jones", "lopez", "wilson", "moreau", "bernard", "costa", "novak", "sato", "khan",
    "petit", "fischer", "young", "king", "wright", "scott", "green", "baker", "hall", "ward"};
constexpr const char* kEmailDomains[] = {"example.com", "example.net", "example.org", "mail.example"};
constexpr const char* kBrandSyllables[] = {
    "ka", "lo", "mi", "ra", "ve", "to", "su", "ne", "bri", "dor", "fal", "gen", "hal", "jun", "kor",
    "lum", "mar", "nov", "or", "pel", "qui", "ros", "sol", "tav", "ul", "vin", "wex", "yor", "zen", "ax"};
constexpr const char* kBrandSuffixes[] = {"", "", "", "", " Co", " & Sons", " Select", " Naturals", " Labs"};

// Day-of-week multipliers of the purchase rate, Monday first (mean 1).
constexpr std::array<double, 7> kWeekly = {0.85, 0.85, 0.90, 0.95, 1.10, 1.30, 1.05};
// Hour-of-day weights of purchase times.
constexpr std::array<double, 24> kStoreHours = {0, 0, 0, 0, 0, 0, 0, 1, 3, 5, 6, 7,
                                                8, 7, 6, 6, 7, 9, 10, 8, 5, 2, 0, 0};
constexpr std::array<double, 24> kOnlineHours = {1, 0.6, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2, 2.5, 3, 3,
                                                 3.5, 3.5, 3, 3, 3.3, 3.8, 4.5, 5.5, 6.5, 6, 4, 2};

// Parameters of the behaviour model; written to truth.json so the truth is reproducible.
constexpr int kLatentDim = 4;             // customer × category affinity rank
constexpr double kAffinityScale = 1.6;    // spread of category shares between customers
constexpr double kDepartmentCoherence = 0.8;  // categories of one department share taste
constexpr int kBrandDim = 2;              // customer × brand taste rank
constexpr double kBrandTasteScale = 1.5;
constexpr double kRateMedian = 0.12;      // per-day purchase rate when every category is due
constexpr double kRateSigma = 1.0;        // log-scale spread of that rate between customers
constexpr double kCycleSigma = 0.25;      // household factor on consumable cycles
constexpr double kConsumableLowHazard = 0.05;  // rate just after a purchase, relative to the base
constexpr double kDurableLowHazard = 0.25;
constexpr double kRampStart = 0.6;        // the rate starts to rise at 0.6 × cycle
constexpr double kDueMultiplier = 10;     // consumables: rate × this from 1 to 2 cycles after a purchase
constexpr double kDueWindow = 2;          // ... then decays back to the base rate (scale: one cycle)
constexpr double kLifetimeMedianDays = 900;  // churn: median customer lifetime
constexpr double kLifetimeSigma = 0.9;
constexpr int32_t kBurnInDays = 120;      // simulated before --start so cycles are in phase
constexpr double kShareBeforeStart = 0.65;  // customers who signed up before --start
constexpr double kSignupBackMeanDays = 500;
constexpr int32_t kSignupBackMaxDays = 3650;
constexpr double kIdentifiedShare = 0.60;
constexpr double kAnonymousShare = 0.25;  // the rest were anonymous first, identified later
constexpr double kDeviceShareIdentified = 0.4;
constexpr double kLoyaltyAliasShare = 0.25;
constexpr double kRepeatProductShare = 0.55;  // consumables: same product as last time
constexpr double kPromoShare = 0.12;
constexpr double kIndependentOnlineShare = 0.4;
constexpr double kMaxChurnHazard = 0.5;   // per day; keeps log(1 - hazard) finite for tiny lifetimes
constexpr double kFavoriteBrandShare = 0.5;  // otherwise products by popularity
constexpr double kExtraUnitChance = 0.22;    // consumables: each further unit in a line
constexpr uint32_t kMaxQuantity = 6;
constexpr double kPriceSigma = 0.35;         // product prices around the category median
constexpr double kBrandPremiumSigma = 0.25;
constexpr double kStoreZipf = 0.7;
constexpr double kStoreOnlyShare = 0.30;     // identified customers who buy almost only in stores
constexpr double kWebOnlyShare = 0.15;       // ... almost only online
constexpr double kAnonymousMinOnline = 0.85;
constexpr double kEmailOptIn = 0.6;
constexpr double kPushOptIn = 0.55;
constexpr double kSmsOptIn = 0.3;
constexpr double kOtherStoreShare = 0.2;  // offline purchases away from the home store
constexpr double kCategoryZipf = 0.9;
constexpr double kProductZipf = 1.0;
constexpr double kBrandZipf = 0.8;
constexpr uint32_t kProductsPerCategory = 15;
constexpr uint64_t kCustomersPerStore = 2000;

// ---------------------------------------------------------------------------------------
// The world: everything shared by all customers. O(products + categories × days).

struct Category {
  const CategorySpec* spec;
  uint32_t department;
  double popularity;  // share of the base rate before personal affinity
  std::array<double, kLatentDim> latent;
  std::vector<uint32_t> products;    // product indices
  std::vector<double> product_cum;   // cumulative popularity over `products`
  std::vector<uint32_t> brands;      // brand indices with products here
  std::vector<std::vector<uint32_t>> brand_products;
  std::vector<std::vector<double>> brand_product_cum;
  double season_max = 1;             // max of `season` over the simulated days
};

struct Brand {
  std::string name;
  uint32_t department;
  double popularity;
  double premium;  // price multiplier
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
  int64_t first_day = 0;   // first simulated day (start - burn-in)
  int64_t day_count = 0;   // simulated days
  std::vector<float> season;  // [category * day_count + (day - first_day)], weekly × yearly
  std::vector<double> category_cum;  // independent mode: cumulative category popularity
};

std::vector<double> Cumulative(const std::vector<double>& w) {
  std::vector<double> cum(w.size());
  double total = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    total += w[i];
    cum[i] = total;
  }
  return cum;
}

// Zipf weights 1/(rank+1)^s over a random order, so the popular item is not always the first.
std::vector<double> ShuffledZipf(size_t n, double s, Rng& rng) {
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) {
    w[i] = Exp(-s * Log(static_cast<double>(i + 1)));
  }
  for (size_t i = n; i > 1; --i) {
    std::swap(w[i - 1], w[rng.Below(i)]);
  }
  return w;
}

std::string BrandName(Rng& rng) {
  const uint64_t syllables = 2 + rng.Below(2);
  std::string name;
  for (uint64_t i = 0; i < syllables; ++i) {
    name += kBrandSyllables[rng.Below(std::size(kBrandSyllables))];
  }
  name[0] = static_cast<char>(name[0] - 'a' + 'A');
  name += kBrandSuffixes[rng.Below(std::size(kBrandSuffixes))];
  return name;
}

// Shelf prices: cents below 5, .99 endings below 100, 9.99 endings above.
int64_t ShelfPriceCents(double price) {
  if (price < 5) {
    return std::max<int64_t>(19, std::llround(price * 100));
  }
  if (price < 100) {
    return static_cast<int64_t>(std::floor(price)) * 100 + 99;
  }
  return static_cast<int64_t>(std::floor(price / 10)) * 1000 + 999;
}

double Yearly(const CategorySpec& spec, int64_t day) {
  if (spec.amplitude == 0) {
    return 1;
  }
  const CivilDate date = CivilFromDays(day);
  const double doy = static_cast<double>(day - DaysFromCivil(date.year, 1, 1));
  return 1 + spec.amplitude * Cos(2 * std::numbers::pi * (doy - spec.peak_day) / 365.25);
}

World BuildWorld(const GeneratorOptions& options, int64_t start_day, Rng& rng) {
  World w;
  // Categories: a seed-dependent subset of the table, one per ~15 products.
  const uint32_t category_count =
      std::clamp<uint32_t>(options.products / kProductsPerCategory, 1, std::min(kCategoryCount, options.products));
  std::vector<uint32_t> order(kCategoryCount);
  for (uint32_t i = 0; i < kCategoryCount; ++i) {
    order[i] = i;
  }
  for (uint32_t i = kCategoryCount; i > 1; --i) {
    std::swap(order[i - 1], order[rng.Below(i)]);
  }
  order.resize(category_count);
  std::sort(order.begin(), order.end());  // table order keeps departments together

  std::vector<std::array<double, kLatentDim>> department_latent;
  const std::vector<double> popularity = ShuffledZipf(category_count, kCategoryZipf, rng);
  for (uint32_t k = 0; k < category_count; ++k) {
    const CategorySpec& spec = kCategories[order[k]];
    if (w.departments.empty() || w.departments.back() != spec.department) {
      w.departments.emplace_back(spec.department);
      std::array<double, kLatentDim> d;
      for (double& x : d) {
        x = rng.Normal();
      }
      department_latent.push_back(d);
    }
    Category c;
    c.spec = &spec;
    c.department = static_cast<uint32_t>(w.departments.size() - 1);
    c.popularity = popularity[k];
    const double noise = std::sqrt(1 - kDepartmentCoherence * kDepartmentCoherence);
    for (int j = 0; j < kLatentDim; ++j) {
      c.latent[j] = kDepartmentCoherence * department_latent.back()[j] + noise * rng.Normal();
    }
    w.categories.push_back(std::move(c));
  }

  // Products: split over categories (unevenly), brands shared within a department.
  std::vector<double> category_size(category_count);
  for (double& s : category_size) {
    s = 0.5 + rng.Uniform();
  }
  const std::vector<double> size_cum = Cumulative(category_size);
  std::vector<uint32_t> per_category(category_count, 1);
  for (uint32_t p = category_count; p < options.products; ++p) {
    ++per_category[PickCumulative(size_cum, rng.Uniform())];
  }
  std::vector<std::vector<uint32_t>> department_brands(w.departments.size());
  std::vector<uint32_t> department_products(w.departments.size(), 0);
  for (uint32_t k = 0; k < category_count; ++k) {
    department_products[w.categories[k].department] += per_category[k];
  }
  for (uint32_t d = 0; d < w.departments.size(); ++d) {
    const uint32_t n = std::clamp<uint32_t>(department_products[d] / 6, 2, 40);
    const std::vector<double> brand_pop = ShuffledZipf(n, kBrandZipf, rng);
    for (uint32_t b = 0; b < n; ++b) {
      Brand brand;
      brand.name = BrandName(rng);
      for (const uint32_t other : department_brands[d]) {
        if (w.brands[other].name == brand.name) {
          brand.name += " " + std::to_string(b + 1);
          break;
        }
      }
      brand.department = d;
      brand.popularity = brand_pop[b];
      brand.premium = Exp(kBrandPremiumSigma * rng.Normal());
      for (double& x : brand.latent) {
        x = rng.Normal();
      }
      department_brands[d].push_back(static_cast<uint32_t>(w.brands.size()));
      w.brands.push_back(std::move(brand));
    }
  }
  for (uint32_t k = 0; k < category_count; ++k) {
    Category& c = w.categories[k];
    const std::vector<uint32_t>& brands = department_brands[c.department];
    std::vector<double> brand_pop;
    for (uint32_t b : brands) {
      brand_pop.push_back(w.brands[b].popularity);
    }
    const std::vector<double> brand_cum = Cumulative(brand_pop);
    const std::vector<double> product_pop = ShuffledZipf(per_category[k], kProductZipf, rng);
    for (uint32_t j = 0; j < per_category[k]; ++j) {
      const uint32_t brand = brands[PickCumulative(brand_cum, rng.Uniform())];
      const double price = c.spec->price_median * w.brands[brand].premium * Exp(kPriceSigma * rng.Normal());
      const uint32_t index = static_cast<uint32_t>(w.products.size());
      w.products.push_back(Product{k, brand, ShelfPriceCents(price)});
      c.products.push_back(index);
      auto it = std::find(c.brands.begin(), c.brands.end(), brand);
      if (it == c.brands.end()) {
        c.brands.push_back(brand);
        c.brand_products.emplace_back();
        it = c.brands.end() - 1;
      }
      c.brand_products[static_cast<size_t>(it - c.brands.begin())].push_back(index);
    }
    c.product_cum = Cumulative(product_pop);
    for (const auto& list : c.brand_products) {
      std::vector<double> pop;
      for (uint32_t p : list) {
        pop.push_back(product_pop[p - c.products.front()]);
      }
      c.brand_product_cum.push_back(Cumulative(pop));
    }
  }

  // Stores: about one per 2,000 customers, spread over regions by population.
  const uint64_t store_count = std::clamp<uint64_t>(options.customers / kCustomersPerStore, std::size(kRegions), 2000);
  for (uint32_t r = 0; r < std::size(kRegions); ++r) {
    const uint64_t n = std::max<uint64_t>(1, std::llround(static_cast<double>(store_count) * kRegionWeights[r]));
    const std::vector<double> pop = ShuffledZipf(n, kStoreZipf, rng);
    for (uint64_t s = 0; s < n; ++s) {
      char id[16];
      std::snprintf(id, sizeof id, "S%04zu", w.stores.size() + 1);
      w.region_stores[r].push_back(static_cast<uint32_t>(w.stores.size()));
      w.stores.push_back(Store{id, r});
    }
    w.region_store_cum[r] = Cumulative(pop);
  }

  // Truth categories: the most popular ones, most popular first.
  std::vector<uint32_t> by_pop(category_count);
  for (uint32_t k = 0; k < category_count; ++k) {
    by_pop[k] = k;
  }
  std::stable_sort(by_pop.begin(), by_pop.end(), [&](uint32_t a, uint32_t b) {
    return w.categories[a].popularity > w.categories[b].popularity;
  });
  by_pop.resize(std::min(category_count, options.truth_categories));
  w.truth_categories = by_pop;

  // Season table: weekly × yearly per category and day (all ones when independent).
  w.first_day = start_day - kBurnInDays;
  w.day_count = kBurnInDays + options.days;
  w.season.assign(static_cast<size_t>(category_count * w.day_count), 1.0F);
  if (!options.independent) {
    for (uint32_t k = 0; k < category_count; ++k) {
      Category& c = w.categories[k];
      c.season_max = 0;
      for (int64_t i = 0; i < w.day_count; ++i) {
        const int64_t day = w.first_day + i;
        const int64_t dow = ((day % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday
        const float s = static_cast<float>(kWeekly[static_cast<size_t>(dow)] * Yearly(*c.spec, day));
        w.season[k * w.day_count + i] = s;
        c.season_max = std::max(c.season_max, static_cast<double>(s));
      }
    }
  }
  std::vector<double> pop;
  for (const Category& c : w.categories) {
    pop.push_back(c.popularity);
  }
  w.category_cum = Cumulative(pop);
  return w;
}

// ---------------------------------------------------------------------------------------
// Customers: each one is simulated from its own random stream, then written out.

enum class IdentityKind : uint8_t { kIdentified, kAnonymous, kIdentifiedLater };

constexpr int32_t kNever = std::numeric_limits<int32_t>::min() / 2;  // no purchase yet

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

// Per-customer working memory, reused across customers: O(categories).
struct CustomerState {
  std::vector<double> rate;        // a_ic: the base rate of category c
  std::vector<Rhythm> rhythm;
  std::vector<int32_t> truth_last; // last purchase day before the truth cutoff
  std::vector<int32_t> last_product;
  std::vector<int32_t> favorite_brand;  // index into Category::brands, -1 unknown yet
  std::vector<Purchase> purchases;
};

class Generator {
 public:
  Generator(const GeneratorOptions& options, int64_t start_day, int64_t cutoff_day, const World& world,
            const std::string& dir)
      : options_(options), start_day_(start_day), end_day_(start_day + options.days), cutoff_day_(cutoff_day),
        world_(world), dir_(dir) {
    const size_t n = world.categories.size();
    state_.rate.resize(n);
    state_.rhythm.resize(n);
    state_.truth_last.resize(n);
    state_.last_product.resize(n);
    state_.favorite_brand.resize(n);
    truth_stride_ = options.truth_customers == 0
                        ? 0
                        : (options.customers + options.truth_customers - 1) / options.truth_customers;
    const int64_t first = start_day - kSignupBackMaxDays - 1;
    date_base_ = first;
    for (int64_t d = first; d <= end_day_; ++d) {
      std::string s = FormatIsoDate(d * kSecondsPerDay);
      dates_.append(s);
    }
  }

  Status Run(GeneratorReport* report);

 private:
  std::string_view Date(int64_t day) const {
    return std::string_view(dates_).substr(static_cast<size_t>(day - date_base_) * 10, 10);
  }
  Status Customer(uint64_t index);
  void ChoosePurchase(uint32_t c, int32_t day, Rng& rng);
  void AssignTrips(int32_t home_store, uint32_t region, double online_share, Rng& rng);
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
  std::array<uint64_t, 3> identity_counts_{};
  uint64_t churned_ = 0;
};

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
      double survive = 1;   // P(still a customer on day j)
      double none = 0;      // accumulates P(churned on day j and nothing bought before)
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
  const IdentityKind kind = kind_draw < kIdentifiedShare ? IdentityKind::kIdentified
                            : kind_draw < kIdentifiedShare + kAnonymousShare ? IdentityKind::kAnonymous
                                                                             : IdentityKind::kIdentifiedLater;
  ++identity_counts_[static_cast<size_t>(kind)];
  const bool has_external = kind != IdentityKind::kAnonymous;
  const bool has_device = kind != IdentityKind::kIdentified || rng.Bernoulli(kDeviceShareIdentified);

  int32_t signup_day;
  if (independent || rng.Bernoulli(kShareBeforeStart)) {
    const double back = std::min<double>(rng.Exponential(1.0 / kSignupBackMeanDays), kSignupBackMaxDays);
    signup_day = static_cast<int32_t>(start_day_ - 1 - static_cast<int64_t>(back));
  } else {
    signup_day = static_cast<int32_t>(start_day_ + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(options_.days))));
  }
  const uint32_t age = PickWeighted(kAgeWeights, rng.Uniform());
  const uint32_t region = PickWeighted(kRegionWeights, rng.Uniform());
  const auto home_store =
      static_cast<int32_t>(world_.region_stores[region][PickCumulative(world_.region_store_cum[region], rng.Uniform())]);

  // Channel mix: app-only anonymous customers buy online; the others range from store-only
  // to web-only, younger ones more online.
  double online_share;
  if (independent) {
    online_share = kIndependentOnlineShare;
  } else if (kind == IdentityKind::kAnonymous) {
    online_share = kAnonymousMinOnline + (1 - kAnonymousMinOnline) * rng.Uniform();
  } else {
    const double u = rng.Uniform();
    online_share = u < kStoreOnlyShare                   ? 0.02
                   : u < kStoreOnlyShare + kWebOnlyShare ? 0.95
                                                         : 0.1 + 0.8 * rng.Uniform();
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
      const double accept = season[day - world_.first_day] / cat.season_max * Hazard(static_cast<double>(day - lp), rhythm) / bound.value;
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
  if (has_external) {
    customers_.Put("email:");
    customers_.Put(kFirstNames[rng.Below(std::size(kFirstNames))]);
    customers_.Put('.');
    customers_.Put(kLastNames[rng.Below(std::size(kLastNames))]);
    customers_.PutUint(id);
    customers_.Put('@');
    customers_.Put(kEmailDomains[rng.Below(std::size(kEmailDomains))]);
    if (rng.Bernoulli(kLoyaltyAliasShare)) {
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
  const bool email_opt = has_external && rng.Bernoulli(kEmailOptIn);
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
      {"identified", identity_counts_[static_cast<size_t>(IdentityKind::kIdentified)]},
      {"anonymous", identity_counts_[static_cast<size_t>(IdentityKind::kAnonymous)]},
      {"identified_later", identity_counts_[static_cast<size_t>(IdentityKind::kIdentifiedLater)]},
      {"churned_before_end", churned_},
  };
  j["identities"] = {
      {"identified", "external_id and an email alias (sometimes a loyalty alias); some also a device_id"},
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
      {"customer_rule", "customers whose (customer_id - 1) is a multiple of customer_stride and who signed up "
                        "before the cutoff"},
      {"customers", truth_customers_},
      {"rows", truth_rows_},
      {"mean_probability", truth_rows_ == 0 ? 0.0 : truth_sum_ / static_cast<double>(truth_rows_)},
  };
  return WriteFileAtomic(dir_ + "/truth.json", j.dump(2) + "\n");
}

Result<int64_t> ParseDay(std::string_view flag, const std::string& text) {
  Result<int64_t> t = ParseIsoTime(text);
  if (!t.has_value() || *t % kSecondsPerDay != 0) {
    return Err(Status::InvalidArgument(std::string(flag) + " '" + text + "' is not a date like 2025-01-01"));
  }
  return *t / kSecondsPerDay;
}

constexpr uint64_t kMaxCustomers = 2'000'000'000;
constexpr uint32_t kMaxProducts = 10'000'000;
constexpr int32_t kMaxDays = 3660;

// Refuses to replace anything that is not an earlier generator output or an empty directory.
Status CheckReplaceable(const std::string& out) {
  if (!PathExists(out)) {
    return Status::OK();
  }
  if (!IsDirectory(out)) {
    return Status::AlreadyExists("--out " + out + " exists and is not a directory");
  }
  if (PathExists(out + "/truth.json")) {
    return Status::OK();
  }
  std::error_code ec;
  if (!std::filesystem::is_empty(out, ec) || ec) {
    return Status::AlreadyExists("--out " + out +
                                 " is a non-empty directory that is not a generated dataset; choose another "
                                 "directory");
  }
  return Status::OK();
}

}  // namespace

Result<GeneratorReport> Generate(const GeneratorOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.customers < 1 || options.customers > kMaxCustomers) {
    return Err(Status::InvalidArgument("--customers " + std::to_string(options.customers) +
                                       " is out of range: use 1 to " + std::to_string(kMaxCustomers)));
  }
  if (options.products < 1 || options.products > kMaxProducts) {
    return Err(Status::InvalidArgument("--products " + std::to_string(options.products) +
                                       " is out of range: use 1 to " + std::to_string(kMaxProducts)));
  }
  if (options.days < 1 || options.days > kMaxDays) {
    return Err(Status::InvalidArgument("--days " + std::to_string(options.days) + " is out of range: use 1 to " +
                                       std::to_string(kMaxDays)));
  }
  if (options.out.empty()) {
    return Err(Status::InvalidArgument("--out is required: the directory to write the dataset to"));
  }
  if (options.truth_horizon < 1 || options.truth_horizon > options.days) {
    return Err(Status::InvalidArgument("--truth-horizon " + std::to_string(options.truth_horizon) +
                                       " is out of range: use 1 to --days (" + std::to_string(options.days) + ")"));
  }
  if (options.truth_categories < 1) {
    return Err(Status::InvalidArgument("--truth-categories must be at least 1"));
  }
  CF_ASSIGN_OR_RETURN(const int64_t start_day, ParseDay("--start", options.start));
  const int64_t end_day = start_day + options.days;
  int64_t cutoff_day = end_day - options.truth_horizon;
  if (!options.truth_cutoff.empty()) {
    CF_ASSIGN_OR_RETURN(cutoff_day, ParseDay("--truth-cutoff", options.truth_cutoff));
    if (cutoff_day < start_day || cutoff_day + options.truth_horizon > end_day) {
      return Err(Status::InvalidArgument(
          "--truth-cutoff " + options.truth_cutoff + " with --truth-horizon " + std::to_string(options.truth_horizon) +
          " must lie within the generated days [" + FormatIsoDate(start_day * kSecondsPerDay) + ", " +
          FormatIsoDate(end_day * kSecondsPerDay) + ")"));
    }
  }
  CF_RETURN_IF_ERROR(CheckReplaceable(options.out));

  Rng world_rng(Scramble(options.seed ^ 0xC0407F10ULL));
  const World world = BuildWorld(options, start_day, world_rng);
  CF_ASSIGN_OR_RETURN(const std::string tmp, MakeTempDirBeside(options.out));
  GeneratorReport report;
  Status status;
  {
    Generator generator(options, start_day, cutoff_day, world, tmp);
    status = generator.Run(&report);
  }
  if (status.ok()) {
    for (const char* name : {"products.csv", "customers.csv", "purchases.csv", "truth.json",
                             "truth_probabilities.csv", "truth_identified_later.csv"}) {
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
