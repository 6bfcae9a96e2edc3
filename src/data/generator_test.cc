#include "data/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"

namespace cf::data {
namespace {

// A whole CSV file parsed by RFC 4180 rules, independently of the generator's writer.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  size_t Column(std::string_view name) const {
    auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << "no column " << name;
    return static_cast<size_t>(it - header.begin());
  }
};

Table ReadCsv(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.has_value()) << path;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  const std::string& s = *text;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty()) << path << ": quote inside an unquoted field";
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field.push_back(c);
    }
  }
  EXPECT_FALSE(quoted) << path << ": unterminated quote";
  EXPECT_TRUE(field.empty() && row.empty()) << path << ": last line has no newline";
  Table t;
  EXPECT_FALSE(rows.empty()) << path;
  if (!rows.empty()) {
    t.header = rows.front();
    t.rows.assign(rows.begin() + 1, rows.end());
  }
  for (const auto& r : t.rows) {
    EXPECT_EQ(r.size(), t.header.size()) << path << ": a row has the wrong number of fields";
  }
  return t;
}

nlohmann::json ReadJson(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.has_value()) << path;
  return nlohmann::json::parse(*text);
}

int64_t Day(std::string_view iso) {
  Result<int64_t> t = ParseIsoTime(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.has_value() ? *t / kSecondsPerDay : 0;
}

// One realistic dataset shared by the tests that only read it.
class GeneratedData : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new TempDirectory("generator-test");
    ASSERT_TRUE(scratch_->ok()) << scratch_->status().ToString();
    options_ = new GeneratorOptions();
    options_->customers = 4000;
    options_->products = 600;
    options_->days = 240;
    options_->seed = 11;
    options_->progress = false;
    options_->out = scratch_->path() + "/realistic";
    Result<GeneratorReport> r = Generate(*options_);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    report_ = new GeneratorReport(*r);
  }
  static void TearDownTestSuite() {
    delete options_;
    delete report_;
    delete scratch_;
  }
  static std::string File(const char* name) { return options_->out + "/" + name; }

  static TempDirectory* scratch_;
  static GeneratorOptions* options_;
  static GeneratorReport* report_;
};
TempDirectory* GeneratedData::scratch_ = nullptr;
GeneratorOptions* GeneratedData::options_ = nullptr;
GeneratorReport* GeneratedData::report_ = nullptr;

TEST_F(GeneratedData, FilesHaveTheIngestHeadersAndValidRows) {
  const Table products = ReadCsv(File("products.csv"));
  const Table customers = ReadCsv(File("customers.csv"));
  const Table purchases = ReadCsv(File("purchases.csv"));
  const nlohmann::json truth = ReadJson(File("truth.json"));
  EXPECT_EQ(products.header, (std::vector<std::string>{"product_id", "department", "category", "brand", "price"}));
  EXPECT_EQ(customers.header,
            (std::vector<std::string>{"customer_id", "external_id", "device_id", "aliases", "signup_date", "age_band",
                                      "region", "opt_in_email", "opt_in_push", "opt_in_sms"}));
  EXPECT_EQ(purchases.header, (std::vector<std::string>{"customer_id", "time", "product_id", "quantity", "revenue",
                                                        "channel", "store_id"}));
  ASSERT_EQ(products.rows.size(), options_->products);
  ASSERT_EQ(customers.rows.size(), options_->customers);
  ASSERT_EQ(purchases.rows.size(), report_->purchases);
  EXPECT_EQ(truth["counts"]["purchases"], report_->purchases);

  std::unordered_map<std::string, double> price;
  for (const auto& r : products.rows) {
    EXPECT_FALSE(r[1].empty() || r[2].empty() || r[3].empty());
    std::optional<double> p = ParseDouble(r[4]);
    ASSERT_TRUE(p.has_value() && *p > 0) << r[4];
    price[r[0]] = *p;
  }
  for (const auto& r : customers.rows) {
    for (size_t c = 7; c <= 9; ++c) {
      EXPECT_TRUE(r[c] == "true" || r[c] == "false") << r[c];
    }
    Day(r[4]);
    for (std::string_view alias : Split(r[3], ';')) {
      if (!r[3].empty()) {
        EXPECT_NE(alias.find(':'), std::string_view::npos) << alias;
      }
    }
  }
  std::set<std::string> stores;
  for (const auto& s : truth["stores"]) {
    stores.insert(s["store_id"].get<std::string>());
  }

  const int64_t start = Day(options_->start);
  const int64_t end = start + options_->days;
  int64_t last_customer = 0;
  int64_t last_time = 0;
  for (const auto& r : purchases.rows) {
    const int64_t customer = ParseInt64(r[0]).value_or(0);
    ASSERT_GE(customer, 1);
    ASSERT_LE(customer, static_cast<int64_t>(options_->customers));
    Result<int64_t> t = ParseIsoTime(r[1]);
    ASSERT_TRUE(t.has_value()) << r[1];
    EXPECT_EQ(FormatIsoTime(*t), r[1]);  // canonical "YYYY-MM-DDThh:mm:ssZ"
    EXPECT_GE(*t / kSecondsPerDay, start);
    EXPECT_LT(*t / kSecondsPerDay, end);
    EXPECT_TRUE(customer > last_customer || (customer == last_customer && *t >= last_time))
        << "purchases must be sorted by customer, then time";
    last_customer = customer;
    last_time = *t;
    ASSERT_TRUE(price.contains(r[2])) << r[2];
    const int64_t quantity = ParseInt64(r[3]).value_or(0);
    EXPECT_GE(quantity, 1);
    const double revenue = ParseDouble(r[4]).value_or(-1);
    const double full = price[r[2]] * static_cast<double>(quantity);
    EXPECT_LE(revenue, full + 0.005);
    EXPECT_GE(revenue, 0.7 * full - 0.01);  // promotions take at most 30% off
    if (r[5] == "online") {
      EXPECT_EQ(r[6], "");
    } else {
      EXPECT_EQ(r[5], "offline");
      EXPECT_TRUE(stores.contains(r[6])) << r[6];
    }
  }
}

TEST_F(GeneratedData, LooksLikeRetailData) {
  const Table products = ReadCsv(File("products.csv"));
  const Table customers = ReadCsv(File("customers.csv"));
  const Table purchases = ReadCsv(File("purchases.csv"));
  const Table later = ReadCsv(File("truth_identified_later.csv"));

  // Popularity is skewed: the top tenth of products sells far more than a tenth.
  // A customer's lines of one day are one trip: same time, channel and store.
  std::map<std::string, uint64_t> sold;
  uint64_t online = 0;
  uint64_t basket_lines = 0;
  std::array<uint64_t, 7> weekday{};
  const std::vector<std::string>* previous = nullptr;
  for (const auto& r : purchases.rows) {
    if (previous != nullptr && (*previous)[0] == r[0] && (*previous)[1].substr(0, 10) == r[1].substr(0, 10)) {
      EXPECT_EQ((*previous)[1], r[1]);
      EXPECT_EQ((*previous)[5], r[5]);
      EXPECT_EQ((*previous)[6], r[6]);
      ++basket_lines;
    }
    previous = &r;
    ++sold[r[2]];
    online += r[5] == "online" ? 1 : 0;
    const int64_t day = Day(r[1]);
    ++weekday[static_cast<size_t>((day + 3) % 7)];  // Monday = 0
  }
  std::vector<uint64_t> counts;
  for (const auto& [p, n] : sold) {
    counts.push_back(n);
  }
  std::sort(counts.rbegin(), counts.rend());
  uint64_t top = 0;
  for (size_t i = 0; i < products.rows.size() / 10; ++i) {
    top += counts[i];
  }
  EXPECT_GT(static_cast<double>(top) / static_cast<double>(purchases.rows.size()), 0.35);

  // Both channels, and Saturdays busier than Tuesdays.
  const double online_share = static_cast<double>(online) / static_cast<double>(purchases.rows.size());
  EXPECT_GT(online_share, 0.15);
  EXPECT_LT(online_share, 0.85);
  EXPECT_GT(static_cast<double>(weekday[5]), 1.2 * static_cast<double>(weekday[1]));
  EXPECT_GT(static_cast<double>(basket_lines) / static_cast<double>(purchases.rows.size()), 0.05)
      << "some trips hold several lines";

  // The four kinds of identity, each a real share of the base.
  std::unordered_map<std::string, const std::vector<std::string>*> by_id;
  uint64_t anonymous = 0;
  uint64_t identified = 0;
  uint64_t alias_only = 0;
  for (const auto& r : customers.rows) {
    by_id[r[0]] = &r;
    if (r[1].empty() && !r[3].empty()) {
      // Alias-only: a newsletter subscriber without an account, reachable by email alone.
      EXPECT_TRUE(r[2].empty()) << "an alias-only customer has no device_id";
      EXPECT_TRUE(StartsWith(r[3], "email:")) << r[3];
      EXPECT_EQ(r[3].find(';'), std::string::npos) << "an alias-only customer has one alias: " << r[3];
      EXPECT_EQ(r[7], "true") << "an alias-only customer is opted in to email";
      EXPECT_EQ(r[8], "false");
      EXPECT_EQ(r[9], "false");
      ++alias_only;
    } else if (r[1].empty()) {
      EXPECT_TRUE(r[3].empty());
      EXPECT_FALSE(r[2].empty()) << "an anonymous customer needs a device_id";
      ++anonymous;
    } else {
      EXPECT_TRUE(StartsWith(r[3], "email:")) << r[3];
      ++identified;
    }
  }
  EXPECT_EQ(later.header, (std::vector<std::string>{"customer_id", "device_id", "first_seen_date", "identified_date"}));
  const double n = static_cast<double>(customers.rows.size());
  EXPECT_GT(static_cast<double>(anonymous) / n, 0.1);
  EXPECT_GT(static_cast<double>(identified - later.rows.size()) / n, 0.3);
  EXPECT_GT(static_cast<double>(later.rows.size()) / n, 0.05);
  EXPECT_GT(static_cast<double>(alias_only) / n, 0.02);
  EXPECT_LT(static_cast<double>(alias_only) / n, 0.07);
  // The report and truth.json count every kind, and the kinds add up to the customers.
  EXPECT_EQ(report_->alias_only, alias_only);
  EXPECT_EQ(report_->anonymous, anonymous);
  EXPECT_EQ(report_->identified + report_->identified_later, identified);
  EXPECT_EQ(report_->identified_later, later.rows.size());
  EXPECT_EQ(report_->identified + report_->alias_only + report_->anonymous + report_->identified_later,
            options_->customers);
  const nlohmann::json kinds = ReadJson(File("truth.json"))["counts"];
  EXPECT_EQ(kinds["alias_only"], alias_only);
  EXPECT_EQ(kinds["anonymous"], anonymous);
  for (const auto& r : later.rows) {
    const auto& c = *by_id.at(r[0]);
    EXPECT_FALSE(c[1].empty()) << "identified later: has an external_id";
    EXPECT_EQ(c[2], r[1]) << "identified later: keeps the device_id it was first seen with";
    EXPECT_LE(Day(r[2]), Day(r[3])) << "identified after being first seen";
  }
  std::set<std::string> devices;
  for (const auto& r : customers.rows) {
    if (!r[2].empty()) {
      EXPECT_TRUE(devices.insert(r[2]).second) << "duplicate device_id " << r[2];
    }
  }
}

TEST_F(GeneratedData, ConsumablesAreReboughtAroundTheirCycle) {
  const Table products = ReadCsv(File("products.csv"));
  const Table purchases = ReadCsv(File("purchases.csv"));
  const nlohmann::json truth = ReadJson(File("truth.json"));
  std::unordered_map<std::string, double> cycle;  // consumable categories only
  for (const auto& c : truth["categories"]) {
    if (c["consumable"].get<bool>()) {
      cycle[c["category"].get<std::string>()] = c["cycle_days"].get<double>();
    }
  }
  std::unordered_map<std::string, std::string> category;
  for (const auto& r : products.rows) {
    category[r[0]] = r[2];
  }
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> days;
  for (const auto& r : purchases.rows) {
    const std::string& c = category[r[2]];
    if (cycle.contains(c)) {
      days[{r[0], c}].push_back(Day(r[1]));
    }
  }
  std::vector<double> ratios;  // gap / cycle, for regular buyers of a consumable
  for (auto& [key, d] : days) {
    d.erase(std::unique(d.begin(), d.end()), d.end());
    if (d.size() < 4) {
      continue;
    }
    for (size_t i = 1; i < d.size(); ++i) {
      ratios.push_back(static_cast<double>(d[i] - d[i - 1]) / cycle[key.second]);
    }
  }
  ASSERT_GT(ratios.size(), 1000U);
  std::sort(ratios.begin(), ratios.end());
  const double median = ratios[ratios.size() / 2];
  EXPECT_GT(median, 0.8);
  EXPECT_LT(median, 2.0);
  const auto early = std::lower_bound(ratios.begin(), ratios.end(), 0.5) - ratios.begin();
  EXPECT_LT(static_cast<double>(early) / static_cast<double>(ratios.size()), 0.1) << "few re-buys before half a cycle";
}

// The truth is exact, so over many (customer, category) pairs the number of buyers in the
// window must match the sum of probabilities within sampling noise, also per probability band.
TEST_F(GeneratedData, TruthProbabilitiesMatchTheSimulatedWindow) {
  const Table products = ReadCsv(File("products.csv"));
  const Table purchases = ReadCsv(File("purchases.csv"));
  const Table truth = ReadCsv(File("truth_probabilities.csv"));
  const nlohmann::json meta = ReadJson(File("truth.json"));
  EXPECT_EQ(truth.header, (std::vector<std::string>{"customer_id", "category", "probability"}));
  const int64_t cutoff = Day(meta["truth"]["cutoff"].get<std::string>());
  const int64_t horizon = meta["truth"]["horizon_days"].get<int64_t>();
  EXPECT_EQ(cutoff, Day(options_->start) + options_->days - options_->truth_horizon);
  EXPECT_EQ(meta["truth"]["categories"].size(), options_->truth_categories);
  EXPECT_EQ(truth.rows.size(), report_->truth_rows);
  EXPECT_EQ(truth.rows.size(), meta["truth"]["customers"].get<uint64_t>() * options_->truth_categories);

  std::unordered_map<std::string, std::string> category;
  for (const auto& r : products.rows) {
    category[r[0]] = r[2];
  }
  std::set<std::pair<std::string, std::string>> bought;
  for (const auto& r : purchases.rows) {
    const int64_t day = Day(r[1]);
    if (day >= cutoff && day < cutoff + horizon) {
      bought.insert({r[0], category[r[2]]});
    }
  }
  constexpr int kBands = 4;
  constexpr std::array<double, kBands + 1> kEdges = {0, 0.05, 0.2, 0.5, 1.0001};
  std::array<double, kBands> expected{}, variance{}, observed{};
  for (const auto& r : truth.rows) {
    const double p = ParseDouble(r[2]).value_or(-1);
    ASSERT_GE(p, 0);
    ASSERT_LE(p, 1);
    const size_t band = static_cast<size_t>(std::upper_bound(kEdges.begin(), kEdges.end(), p) - kEdges.begin() - 1);
    expected[band] += p;
    variance[band] += p * (1 - p);
    observed[band] += bought.contains({r[0], r[1]}) ? 1 : 0;
  }
  double all_expected = 0, all_variance = 0, all_observed = 0;
  for (int b = 0; b < kBands; ++b) {
    EXPECT_NEAR(observed[b], expected[b], 4 * std::sqrt(variance[b]) + 3) << "band " << b;
    all_expected += expected[b];
    all_variance += variance[b];
    all_observed += observed[b];
  }
  EXPECT_GT(all_observed, 500) << "the window needs enough buyers for the check to mean something";
  EXPECT_NEAR(all_observed, all_expected, 4 * std::sqrt(all_variance));
}

class GeneratorRun : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(scratch_.ok()) << scratch_.status().ToString(); }

  GeneratorOptions Small(const std::string& name) const {
    GeneratorOptions o;
    o.customers = 600;
    o.products = 200;
    o.days = 90;
    o.seed = 5;
    o.truth_horizon = 14;
    o.progress = false;
    o.out = scratch_.path() + "/" + name;
    return o;
  }

  TempDirectory scratch_{"generator-test"};
};

constexpr const char* kFiles[] = {"products.csv", "customers.csv",           "purchases.csv",
                                  "truth.json",   "truth_probabilities.csv", "truth_identified_later.csv"};

TEST_F(GeneratorRun, SameOptionsGiveByteIdenticalFiles) {
  GeneratorOptions a = Small("a");
  GeneratorOptions b = Small("b");
  ASSERT_TRUE(Generate(a).has_value());
  ASSERT_TRUE(Generate(b).has_value());
  for (const char* f : kFiles) {
    EXPECT_EQ(ReadFile(a.out + "/" + f).value(), ReadFile(b.out + "/" + f).value()) << f;
  }
  GeneratorOptions c = Small("c");
  c.seed = 6;
  ASSERT_TRUE(Generate(c).has_value());
  EXPECT_NE(ReadFile(a.out + "/purchases.csv").value(), ReadFile(c.out + "/purchases.csv").value());
}

TEST_F(GeneratorRun, IndependentModeGivesEveryCustomerTheSameProbabilities) {
  GeneratorOptions o = Small("independent");
  o.customers = 3000;
  o.independent = true;
  ASSERT_TRUE(Generate(o).has_value());
  const Table truth = ReadCsv(o.out + "/truth_probabilities.csv");
  const Table customers = ReadCsv(o.out + "/customers.csv");
  const size_t categories = ReadJson(o.out + "/truth.json")["truth"]["categories"].size();
  EXPECT_EQ(categories, 13U) << "200 products make 13 categories, fewer than the 20 asked for";
  ASSERT_EQ(truth.rows.size(), customers.rows.size() * categories) << "every customer is in the truth";
  std::map<std::string, std::set<std::string>> values;
  for (const auto& r : truth.rows) {
    values[r[1]].insert(r[2]);
  }
  ASSERT_EQ(values.size(), categories);
  for (const auto& [category, v] : values) {
    EXPECT_EQ(v.size(), 1U) << category << " has different probabilities for different customers";
  }
  // Time is uniform: per occurrence in the period, no weekday is much busier than another.
  const Table purchases = ReadCsv(o.out + "/purchases.csv");
  std::array<double, 7> weekday{};
  for (const auto& r : purchases.rows) {
    ++weekday[static_cast<size_t>((Day(r[1]) + 3) % 7)];
  }
  std::array<double, 7> occurrences{};
  for (int64_t d = Day(o.start); d < Day(o.start) + o.days; ++d) {
    ++occurrences[static_cast<size_t>((d + 3) % 7)];
  }
  for (size_t i = 0; i < 7; ++i) {
    weekday[i] /= occurrences[i];
  }
  const auto [lo, hi] = std::minmax_element(weekday.begin(), weekday.end());
  EXPECT_LT(*hi / *lo, 1.1);
}

TEST_F(GeneratorRun, TruthCoversAnEvenSampleOfCustomersWhenAsked) {
  GeneratorOptions o = Small("sample");
  o.truth_customers = 50;
  o.truth_categories = 3;
  o.truth_cutoff = "2025-02-01";
  o.truth_horizon = 10;
  Result<GeneratorReport> r = Generate(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const Table truth = ReadCsv(o.out + "/truth_probabilities.csv");
  std::set<std::string> ids;
  for (const auto& row : truth.rows) {
    ids.insert(row[0]);
    EXPECT_EQ((ParseInt64(row[0]).value_or(0) - 1) % 12, 0) << "stride is 600 / 50 = 12";
  }
  EXPECT_LE(ids.size(), 50U);
  EXPECT_GT(ids.size(), 25U);
  EXPECT_EQ(truth.rows.size(), ids.size() * 3);
  const nlohmann::json meta = ReadJson(o.out + "/truth.json");
  EXPECT_EQ(meta["truth"]["cutoff"], "2025-02-01");
  EXPECT_EQ(meta["truth"]["customer_stride"], 12);
}

TEST_F(GeneratorRun, BadOptionsAreRejectedAndWriteNothing) {
  auto rejects = [](GeneratorOptions o, std::string_view words) {
    Result<GeneratorReport> r = Generate(o);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
    EXPECT_FALSE(PathExists(o.out));
  };
  GeneratorOptions o = Small("bad");
  o.customers = 0;
  rejects(o, "customers 0");
  o = Small("bad");
  o.start = "01/02/2025";
  rejects(o, "start '01/02/2025' is not a date like 2025-01-01");
  o = Small("bad");
  o.truth_cutoff = "2025-03-25";  // + 14 days passes the end (2025-04-01)
  rejects(o,
          "truth_cutoff 2025-03-25 with truth_horizon 14 must lie within the generated days [2025-01-01, 2025-04-01)");
  o = Small("bad");
  o.truth_horizon = 91;
  rejects(o, "truth_horizon 91 is out of range: use 1 to days (90)");
  o = Small("bad");
  o.out.clear();
  rejects(o, "out is required");
}

// The library speaks of its fields: a message naming a command-line flag would mean nothing to a
// caller that is not the CLI. Each field out of its range is named with its value and the range.
TEST(GeneratorOptionsTest, ValidateNamesTheFieldItsValueAndTheValidRange) {
  GeneratorOptions valid;
  valid.out = "anywhere";
  EXPECT_TRUE(valid.Validate().ok()) << valid.Validate().ToString();
  auto message = [&](auto change) {
    GeneratorOptions o = valid;
    change(o);
    const Status s = o.Validate();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message().find("--"), std::string::npos) << s.message();
    return s.message();
  };
  EXPECT_EQ(message([](GeneratorOptions& o) { o.customers = GeneratorOptions::kMaxCustomers + 1; }),
            "customers 2000000001 is out of range: use 1 to 2000000000");
  EXPECT_EQ(message([](GeneratorOptions& o) { o.products = 0; }), "products 0 is out of range: use 1 to 10000000");
  EXPECT_EQ(message([](GeneratorOptions& o) { o.days = -5; }), "days -5 is out of range: use 1 to 3660");
  EXPECT_EQ(message([](GeneratorOptions& o) { o.truth_horizon = 0; }),
            "truth_horizon 0 is out of range: use 1 to days (365)");
  EXPECT_EQ(message([](GeneratorOptions& o) { o.truth_categories = 0; }),
            "truth_categories 0 is out of range: use at least 1");
  EXPECT_EQ(message([](GeneratorOptions& o) { o.truth_cutoff = "2025-13-01"; }),
            "truth_cutoff '2025-13-01' is not a date like 2025-01-01");
  EXPECT_EQ(message([](GeneratorOptions& o) { o.truth_cutoff = "2024-12-31"; }),
            "truth_cutoff 2024-12-31 with truth_horizon 30 must lie within the generated days [2025-01-01, "
            "2026-01-01)");
  GeneratorOptions edge = valid;
  edge.truth_cutoff = "2025-12-02";  // the last 30 days exactly
  EXPECT_TRUE(edge.Validate().ok()) << edge.Validate().ToString();
}

TEST_F(GeneratorRun, ReplacesAnEarlierDatasetButNeverOtherFiles) {
  GeneratorOptions o = Small("replace");
  ASSERT_TRUE(Generate(o).has_value());
  o.customers = 100;
  ASSERT_TRUE(Generate(o).has_value());
  EXPECT_EQ(ReadCsv(o.out + "/customers.csv").rows.size(), 100U);
  for (const auto& entry : std::filesystem::directory_iterator(scratch_.path())) {
    EXPECT_EQ(entry.path().filename(), "replace") << "a temporary directory was left behind";
  }

  GeneratorOptions foreign = Small("foreign");
  ASSERT_TRUE(CreateDirectories(foreign.out).ok());
  ASSERT_TRUE(WriteFileAtomic(foreign.out + "/precious.txt", "keep me").ok());
  Result<GeneratorReport> r = Generate(foreign);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(foreign.out + "/precious.txt").value(), "keep me");
}

}  // namespace
}  // namespace cf::data
