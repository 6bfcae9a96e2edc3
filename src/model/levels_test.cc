#include "model/levels.h"

#include <gtest/gtest.h>

#include "base/files.h"
#include "base/time.h"
#include "data/generator.h"
#include "data/ingest.h"
#include "model/backtest.h"
#include "model/test_data.h"

namespace cf::model {
namespace {

// A catalog from CSV text, with events that name a few of its products.
std::unique_ptr<data::Dataset> IngestCatalog(const std::string& dir, const std::string& products_csv) {
  EXPECT_TRUE(CreateDirectories(dir).ok());
  EXPECT_TRUE(WriteFileAtomic(dir + "/products.csv", products_csv).ok());
  EXPECT_TRUE(WriteFileAtomic(dir + "/events.csv", "customer_id,timestamp,product_id\n1,2024-01-01,1\n").ok());
  data::IngestOptions o;
  o.events.path = dir + "/events.csv";
  o.products.path = dir + "/products.csv";
  o.out = dir + "/ds";
  auto r = data::Ingest(o);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = data::Dataset::Open(o.out);
  EXPECT_TRUE(ds.has_value()) << ds.error().ToString();
  return ds.has_value() ? std::move(*ds) : nullptr;
}

// Twelve products: 2 departments ⊃ 4 categories (nested), 3 brands across them, a price.
std::string Catalog(const std::string& header) {
  std::string csv = header + "\n";
  const char* dept[] = {"D1", "D1", "D2", "D2"};
  for (int p = 0; p < 12; ++p) {
    const int cat = p % 4;
    csv += std::to_string(p + 1) + "," + dept[cat] + ",C" + std::to_string(cat) + ",B" + std::to_string(p % 3) + "," +
           std::to_string(p + 1) + "." + std::to_string(10 + p) + "\n";
  }
  return csv;
}

TEST(LevelsTest, DetectsTheNestedAttributesWhateverTheirNames) {
  const TempDirectory scratch("model-levels-names");
  const std::string dir = scratch.path();
  auto english = IngestCatalog(dir + "/en", Catalog("product_id,department,category,brand,price"));
  auto german = IngestCatalog(dir + "/de", Catalog("product_id,Abteilung,Warengruppe,Marke,Preis"));
  ASSERT_TRUE(english && german);
  EXPECT_EQ(DetectLevelNames(english->catalog()), (std::vector<std::string>{"department", "category"}));
  EXPECT_EQ(DetectLevelNames(german->catalog()), (std::vector<std::string>{"Abteilung", "Warengruppe"}));
  // The price is a continuous number, never a level, although it has a value per product.
  for (const LevelCandidate& c : LevelCandidates(german->catalog())) {
    EXPECT_NE(c.name, "Preis");
  }
}

TEST(LevelsTest, WithoutANestingTheAttributesWithTheMostValuesAreLevels) {
  const TempDirectory scratch("model-levels-flat");
  const std::string dir = scratch.path();
  // Colour (3 values) and size (4 values) cross each other: no hierarchy; the weight is continuous.
  std::string csv = "product_id,Farbe,Groesse,Gewicht\n";
  for (int p = 0; p < 24; ++p) {
    csv += std::to_string(p + 1) + ",F" + std::to_string(p % 3) + ",G" + std::to_string(p % 4) + "," +
           std::to_string(p % 7) + ".25\n";
  }
  auto ds = IngestCatalog(dir, csv);
  ASSERT_TRUE(ds);
  EXPECT_EQ(DetectLevelNames(ds->catalog()), (std::vector<std::string>{"Farbe", "Groesse"}));
}

TEST(LevelsTest, IntegerCodesCanBeLevels) {
  const TempDirectory scratch("model-levels-codes");
  const std::string dir = scratch.path();
  std::string csv = "product_id,abt,wg\n";
  for (int p = 0; p < 20; ++p) {
    csv += std::to_string(p + 1) + "," + std::to_string(10 * (p % 2 + 1)) + "," + std::to_string(100 + p % 4) + "\n";
  }
  auto ds = IngestCatalog(dir, csv);
  ASSERT_TRUE(ds);
  EXPECT_EQ(DetectLevelNames(ds->catalog()), (std::vector<std::string>{"abt", "wg"}));
}

TEST(LevelsTest, AnUnknownLevelNameListsTheAttributes) {
  const TempDirectory scratch("model-levels-unknown");
  const std::string dir = scratch.path();
  auto ds = IngestCatalog(dir, Catalog("product_id,Abteilung,Warengruppe,Marke,Preis"));
  ASSERT_TRUE(ds);
  auto levels = LevelsNamed(ds->catalog(), {"Abteilung", "department"});
  ASSERT_FALSE(levels.has_value());
  EXPECT_NE(levels.error().message().find("'department'"), std::string::npos) << levels.error().message();
  EXPECT_NE(levels.error().message().find("Abteilung, Warengruppe, Marke, Preis"), std::string::npos);
  auto named = LevelsNamed(ds->catalog(), {"Marke", "Warengruppe"});
  ASSERT_TRUE(named.has_value());
  ASSERT_EQ(named->size(), 2u);
  EXPECT_EQ((*named)[0].name, "Marke");
}

// Renames the header of a generated products.csv (department,category,brand,price).
Status WriteGermanCatalog(const std::string& from, const std::string& to) {
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(from));
  const size_t eol = text.find('\n');
  return WriteFileAtomic(to, "product_id,Abteilung,Warengruppe,Marke,Preis" + text.substr(eol));
}

TEST(LevelsTest, AGermanCatalogDoesAsWellAsTheEnglishOne) {
  const TempDirectory scratch("model-levels-german");
  const std::string dir = scratch.path();
  data::GeneratorOptions g;
  g.customers = 2000;
  g.products = 300;
  g.days = 240;
  g.seed = 5;
  auto english = testing::GenerateAndIngest(g, dir);
  ASSERT_TRUE(english);
  ASSERT_TRUE(WriteGermanCatalog(dir + "/gen/products.csv", dir + "/produkte.csv").ok());
  data::IngestOptions o;
  o.events.path = dir + "/gen/purchases.csv";
  o.products.path = dir + "/produkte.csv";
  o.out = dir + "/de";
  ASSERT_TRUE(data::Ingest(o).has_value());
  auto german = data::Dataset::Open(o.out);
  ASSERT_TRUE(german.has_value());

  auto run = [&](const data::Dataset& ds, const std::string& topics_by) {
    const EventLog log = EventLog::FromDataset(ds);
    EvaluateOptions options;
    options.run.horizon_days = 30;
    options.cutoff = log.last_time() - 30 * kSecondsPerDay;
    options.min_positives = 20;
    options.models = {"topic_rfm", "universal"};
    options.train.depths = {3};
    options.train.max_rounds = 60;
    options.train.eval_every = 20;
    options.train.max_rows = 40000;
    auto topics = BacktestOffers(ds.catalog(), topics_by);
    EXPECT_TRUE(topics.has_value());
    const std::vector<Level> levels = ChooseLevels(ds.catalog());
    EXPECT_EQ(levels.size(), 2u);
    auto result = RunBacktest(log, levels, *topics, topics_by, options);
    EXPECT_TRUE(result.has_value()) << result.error().ToString();
    return result.has_value() ? result->models.back().macro.lift_quality : -100.0;
  };
  const double en = run(*english, "category");
  const double de = run(**german, "Warengruppe");
  EXPECT_GT(en, 10.0);
  // The same data grouped the same way: the same figure, not merely a close one.
  EXPECT_NEAR(de, en, 1e-9);
}

}  // namespace
}  // namespace cf::model
