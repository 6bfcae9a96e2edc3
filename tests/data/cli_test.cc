// `audience generate / ingest / inspect` as a user runs them: separate processes, real files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/files.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

using DataCliTest = AudienceCliTest;

TEST_F(DataCliTest, GenerateIngestInspect) {
  Outcome gen = Audience("generate --customers 300 --products 80 --days 60 --seed 3 --quiet --out " + dir_ + "/raw");
  ASSERT_EQ(gen.code, 0) << gen.err;
  Outcome ing = Audience("ingest --quiet --events " + dir_ + "/raw/purchases.csv --products " + dir_ +
                         "/raw/products.csv --customers " + dir_ + "/raw/customers.csv --out " + dir_ + "/ds");
  ASSERT_EQ(ing.code, 0) << ing.err;
  EXPECT_NE(ing.out.find("customers"), std::string::npos);
  Outcome insp = Audience("inspect " + dir_ + "/ds --json");
  ASSERT_EQ(insp.code, 0) << insp.err;
  auto j = nlohmann::json::parse(insp.out);
  EXPECT_EQ(j["customers"].get<int>(), 300);  // customers who never bought are kept
  EXPECT_EQ(j["products"].get<int>(), 80);
  const std::string purchases = ReadFile(dir_ + "/raw/purchases.csv").value();
  EXPECT_EQ(j["events"].get<size_t>(), static_cast<size_t>(std::count(purchases.begin(), purchases.end(), '\n') - 1));
  EXPECT_EQ(j["first_event"].get<std::string>().substr(0, 4), "2025");
  EXPECT_GT(j["online_events"].get<int>(), 0);
  EXPECT_GT(j["offline_events"].get<int>(), 0);
  EXPECT_GT(j["identified_customers"].get<int>(), 0);
  EXPECT_GT(j["anonymous_customers"].get<int>(), 0);
  EXPECT_TRUE(j["product_attributes"].contains("category"));
  Outcome text = Audience("inspect --data " + dir_ + "/ds");
  ASSERT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("product attribute department"), std::string::npos);
}

TEST_F(DataCliTest, BadRowFailsCleanlyAndSkipBadRowsLoadsTheRest) {
  std::string events = Write("e.csv", "customer_id,time,revenue\na,2024-01-01,3\nb,yesterday,2\nc,2024-01-03,x\n");
  Outcome bad = Audience("ingest --events " + events + " --out " + dir_ + "/ds");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("audience ingest: " + events + ":3: column time: not an ISO 8601 date"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("value 'yesterday'"), std::string::npos);
  EXPECT_FALSE(PathExists(dir_ + "/ds"));
  Outcome skip = Audience("ingest --skip-bad-rows --events " + events + " --out " + dir_ + "/ds");
  EXPECT_EQ(skip.code, 0) << skip.err;
  EXPECT_NE(skip.err.find("skipped 2 bad rows"), std::string::npos) << skip.err;
  EXPECT_NE(skip.err.find(":4: column revenue: not a number, value 'x'"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(Audience("inspect --json " + dir_ + "/ds").out)["events"], 1);
}

TEST_F(DataCliTest, GzipJsonLinesTimeFormatAndConfig) {
  const std::string body = "{\"who\":\"h1\",\"when\":\"03/02/2024\",\"what\":\"x\"}\n"
                           "{\"who\":\"h2\",\"when\":\"04/02/2024\",\"what\":\"y\"}\n";
  const std::string gz = dir_ + "/e.jsonl.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
  gzclose(f);
  Outcome ok = Audience("ingest --events " + gz + " --map customer=who,time=when,product=what --time-format %d/%m/%Y"
                        " --out " + dir_ + "/ds");
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto j = nlohmann::json::parse(Audience("inspect --json " + dir_ + "/ds").out);
  EXPECT_EQ(j["first_event"], "2024-02-03T00:00:00Z");
  EXPECT_EQ(j["last_event"], "2024-02-04T00:00:00Z");

  // The same settings once, in a config file; appending the same file doubles the events.
  Write("dataset.json", "{\"events\":\"e.jsonl.gz\",\"map\":{\"customer\":\"who\",\"time\":\"when\",\"product\":\"what\"},"
                        "\"time_format\":\"%d/%m/%Y\",\"out\":\"ds\"}");
  Outcome cfg = Audience("ingest --config " + dir_ + "/dataset.json");
  ASSERT_EQ(cfg.code, 0) << cfg.err;
  EXPECT_EQ(nlohmann::json::parse(Audience("inspect --json " + dir_ + "/ds").out)["events"], 4);
}

TEST_F(DataCliTest, HelpAndUsageErrors) {
  for (const char* cmd : {"ingest", "inspect", "generate"}) {
    Outcome help = Audience(std::string(cmd) + " --help");
    EXPECT_EQ(help.code, 0) << cmd;
    EXPECT_NE(help.out.find("--log-level"), std::string::npos) << cmd;
  }
  Outcome missing = Audience("ingest --out " + dir_ + "/ds");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no events file given; pass --events FILE"), std::string::npos);
  Outcome map = Audience("ingest --events x.csv --map customer --out " + dir_ + "/ds");
  EXPECT_NE(map.err.find("--map: 'customer' is not FIELD=COLUMN"), std::string::npos) << map.err;
}

}  // namespace
}  // namespace cf
