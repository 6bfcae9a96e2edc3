// `audience top-offers` as a user runs it: separate processes, real files, and the same
// probabilities `audience score` gives for each offer.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

class TopOffersCliTest : public AudienceCliTest {
 protected:
  // A generated dataset and a model trained on it, shared by the tests (training is slow).
  static void SetUpTestSuite() {
    shared_ = new TempDirectory("top-offers-cli");
    ASSERT_TRUE(shared_->ok());
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override {
    AudienceCliTest::SetUp();
    data_ = shared_->path() + "/ds";
    model_ = shared_->path() + "/model";
    if (PathExists(model_ + "/model.json")) {
      return;
    }
    const std::string gen = shared_->path() + "/gen";
    Outcome g = Audience("generate --customers 1200 --products 200 --days 200 --seed 4 --out " + gen);
    ASSERT_EQ(g.code, 0) << g.err;
    Outcome i =
        Audience("ingest --events " + gen + "/purchases.csv --products " + gen + "/products.csv --out " + data_);
    ASSERT_EQ(i.code, 0) << i.err;
    Outcome t = Audience("train --data " + data_ + " --horizon 30 --sample-rows 40000 --out " + model_);
    ASSERT_EQ(t.code, 0) << t.err;
  }

  std::string Offers() {
    return Write("offers.json", R"([
  {"name": "Grocery", "offer": "department = \"GROCERY\""},
  {"name": "Baby, and \"more\"", "offer": "department = \"BABY\""},
  {"name": "Cheap things", "offer": "price < 3"},
  {"name": "Anything", "offer": "any"}
])");
  }

  // Rows of a CSV whose fields hold no line breaks; quoted fields keep their quotes stripped.
  static std::vector<std::vector<std::string>> ReadCsv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    for (std::string_view line : Split(text, '\n')) {
      if (line.empty()) {
        continue;
      }
      std::vector<std::string> fields(1);
      bool quoted = false;
      for (size_t k = 0; k < line.size(); ++k) {
        const char ch = line[k];
        if (ch == '"') {
          if (quoted && k + 1 < line.size() && line[k + 1] == '"') {
            fields.back() += '"';
            ++k;
          } else {
            quoted = !quoted;
          }
        } else if (ch == ',' && !quoted) {
          fields.emplace_back();
        } else {
          fields.back() += ch;
        }
      }
      rows.push_back(std::move(fields));
    }
    return rows;
  }

  static TempDirectory* shared_;
  std::string data_, model_;
};

TempDirectory* TopOffersCliTest::shared_ = nullptr;

TEST_F(TopOffersCliTest, WritesEveryCustomersBestOffersWithScoresAsScoreGivesThem) {
  const std::string offers = Offers();
  Outcome top = Audience("top-offers --data " + data_ + " --model " + model_ + " --offers " + offers +
                         " --top 3 --out " + dir_ + "/top.csv");
  ASSERT_EQ(top.code, 0) << top.err;
  EXPECT_NE(top.out.find("chose the top 3 of 4 offers by expected-revenue"), std::string::npos) << top.out;
  const auto rows = ReadCsv(ReadFile(dir_ + "/top.csv").value());
  ASSERT_GT(rows.size(), 100u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"customer", "offer_1", "probability_1", "expected_revenue_1", "offer_2",
                                               "probability_2", "expected_revenue_2", "offer_3", "probability_3",
                                               "expected_revenue_3"}));

  // `audience score` for each offer: the reference probability of every customer.
  const std::map<std::string, std::string> expressions = {{"Grocery", "department = \\\"GROCERY\\\""},
                                                          {"Baby, and \"more\"", "department = \\\"BABY\\\""},
                                                          {"Cheap things", "price < 3"},
                                                          {"Anything", "any"}};
  std::map<std::string, std::map<std::string, std::pair<std::string, std::string>>> reference;
  for (const auto& [name, expression] : expressions) {
    Outcome s = Audience("score --data " + data_ + " --model " + model_ + " --offer \"" + expression + "\" --out " +
                         dir_ + "/s.csv");
    ASSERT_EQ(s.code, 0) << s.err;
    const auto score_rows = ReadCsv(ReadFile(dir_ + "/s.csv").value());
    for (size_t i = 1; i < score_rows.size(); ++i) {
      reference[name][score_rows[i][0]] = {score_rows[i][1], score_rows[i][2]};
    }
  }
  ASSERT_EQ(rows.size() - 1, reference["Grocery"].size());  // every customer, once
  std::map<std::string, int> chosen;
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string>& r = rows[i];
    ASSERT_EQ(r.size(), 10u) << i;
    double previous = 1e300;
    for (size_t k = 0; k < 3; ++k) {
      const std::string& name = r[1 + 3 * k];
      ASSERT_TRUE(expressions.contains(name)) << name;
      ++chosen[name];
      const auto& [p, revenue] = reference[name][r[0]];
      EXPECT_EQ(r[2 + 3 * k], p) << "customer " << r[0] << " offer " << name;
      EXPECT_EQ(r[3 + 3 * k], revenue) << "customer " << r[0] << " offer " << name;
      const double value = ParseDouble(r[3 + 3 * k]).value();
      EXPECT_LE(value, previous) << "customer " << r[0] << ": slots must be best first";
      previous = value;
    }
    // The offer left out is worth no more than the last one kept.
    for (const auto& [name, expression] : expressions) {
      if (name != r[1] && name != r[4] && name != r[7]) {
        EXPECT_LE(ParseDouble(reference[name][r[0]].second).value(), ParseDouble(r[9]).value()) << r[0];
      }
    }
  }
  EXPECT_GE(chosen.size(), 3u);  // not one offer for everybody
}

TEST_F(TopOffersCliTest, ByProbabilityWithAMinimumLeavesSlotsEmpty) {
  const std::string offers = Offers();
  Outcome top = Audience("top-offers --data " + data_ + " --model " + model_ + " --offers " + offers +
                         " --top 4 --by probability --min-probability 0.5 --out " + dir_ + "/top.csv");
  ASSERT_EQ(top.code, 0) << top.err;
  const auto rows = ReadCsv(ReadFile(dir_ + "/top.csv").value());
  ASSERT_GT(rows.size(), 100u);
  size_t short_rows = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string>& r = rows[i];
    ASSERT_EQ(r.size(), 13u) << i;
    double previous = 2;
    bool empty = false;
    for (size_t k = 0; k < 4; ++k) {
      if (r[1 + 3 * k].empty()) {
        empty = true;
        EXPECT_TRUE(r[2 + 3 * k].empty() && r[3 + 3 * k].empty());
        continue;
      }
      EXPECT_FALSE(empty) << "customer " << r[0] << ": a filled slot after an empty one";
      const double p = ParseDouble(r[2 + 3 * k]).value();
      EXPECT_GE(p, 0.5);
      EXPECT_LE(p, previous);
      previous = p;
    }
    short_rows += empty ? 1 : 0;
  }
  EXPECT_GT(short_rows, 0u);  // the minimum left some slots empty
}

TEST_F(TopOffersCliTest, BadInputIsAnErrorThatNamesItAndWritesNothing) {
  const std::string out = dir_ + "/top.csv";
  const std::string base = "top-offers --data " + data_ + " --model " + model_ + " --out " + out;
  struct Case {
    std::string file, args, want;
  };
  const std::vector<Case> cases = {
      {R"([{"name": "Grocery", "offer": "department = \"GROCERY\""}, {"name": "Typo", "offer": "departmnt = \"X\""}])",
       "", "offer 2 ('Typo'): "},
      {R"([{"name": "Nothing", "offer": "department = \"NO SUCH\""}])", "", "offer 1 ('Nothing'): "},
      {R"([{"name": "A", "offer": "any"}, {"name": "A", "offer": "any"}])", "", "names must be unique"},
      {R"({"name": "A", "offer": "any"})", "", "expected a JSON array of offers"},
      {R"([{"name": "A", "offer": "any"}])", "--top 0", "--top: expected a whole number from 1 to 25, got '0'"},
      {R"([{"name": "A", "offer": "any"}])", "--min-probability 2", "min_probability must be a probability"},
      {R"([{"name": "A", "offer": "any"}])", "--by revenue", "--by: unknown order 'revenue'"},
  };
  for (const Case& c : cases) {
    const std::string offers = Write("offers.json", c.file);
    Outcome r = Audience(base + " --offers " + offers + " " + c.args);
    EXPECT_EQ(r.code, 1) << c.file << " " << c.args;
    EXPECT_NE(r.err.find("audience top-offers: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << "got: " << r.err << "want: " << c.want;
    EXPECT_FALSE(PathExists(out)) << c.file;
  }
  Outcome missing = Audience(base + " --offers " + dir_ + "/nope.json");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace cf
