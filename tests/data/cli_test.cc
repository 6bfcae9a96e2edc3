// `audience generate / ingest / inspect` as a user runs them: separate processes, real files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
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
  const std::string body =
      "{\"who\":\"h1\",\"when\":\"03/02/2024\",\"what\":\"x\"}\n"
      "{\"who\":\"h2\",\"when\":\"04/02/2024\",\"what\":\"y\"}\n";
  const std::string gz = dir_ + "/e.jsonl.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
  gzclose(f);
  Outcome ok = Audience("ingest --events " + gz +
                        " --map customer=who,time=when,product=what --time-format %d/%m/%Y"
                        " --out " +
                        dir_ + "/ds");
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto j = nlohmann::json::parse(Audience("inspect --json " + dir_ + "/ds").out);
  EXPECT_EQ(j["first_event"], "2024-02-03T00:00:00Z");
  EXPECT_EQ(j["last_event"], "2024-02-04T00:00:00Z");

  // The same settings once, in a config file; the same file again adds nothing (a re-run
  // nightly job must not double the history).
  Write("dataset.json",
        "{\"events\":\"e.jsonl.gz\",\"map\":{\"customer\":\"who\",\"time\":\"when\",\"product\":\"what\"},"
        "\"time_format\":\"%d/%m/%Y\",\"out\":\"ds\"}");
  Outcome cfg = Audience("ingest --config " + dir_ + "/dataset.json");
  ASSERT_EQ(cfg.code, 0) << cfg.err;
  EXPECT_NE(cfg.out.find("was already ingested into"), std::string::npos) << cfg.out;
  EXPECT_EQ(nlohmann::json::parse(Audience("inspect --json " + dir_ + "/ds").out)["events"], 2);
}

TEST_F(DataCliTest, Latin1ProductsAreRefusedOrConvertedAndInspectNeverAborts) {
  std::string events = Write("e.csv", "customer_id,time,product_id\na,2024-01-01,p1\n");
  std::string products = Write("p.csv",
                               "product_id,name\np1,Cr\xE8me br\xFBl\xE9"
                               "e\n");
  Outcome bad = Audience("ingest --events " + events + " --products " + products + " --out " + dir_ + "/ds");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find(products + ":2: column name: byte 0xE8 at character 6 of the line is not valid UTF-8"),
            std::string::npos)
      << bad.err;
  EXPECT_FALSE(PathExists(dir_ + "/ds"));
  Outcome ok =
      Audience("ingest --encoding latin1 --events " + events + " --products " + products + " --out " + dir_ + "/ds");
  ASSERT_EQ(ok.code, 0) << ok.err;
  Outcome insp = Audience("inspect --json " + dir_ + "/ds");
  ASSERT_EQ(insp.code, 0) << insp.err;
  EXPECT_EQ(nlohmann::json::parse(insp.out)["product_attributes"]["name"]["top"][0]["value"],
            "Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
            "e");

  // A dataset written before ingest checked encodings may hold any bytes: inspect shows them.
  Outcome plain = Audience("ingest --events " + events + " --products " +
                           Write("q.csv", "product_id,name\np1,Creme\n") + " --out " + dir_ + "/old");
  ASSERT_EQ(plain.code, 0) << plain.err;
  std::string dict = ReadFile(dir_ + "/old/products.attr.0.dict.str").value();
  const size_t at = dict.rfind("Creme");
  ASSERT_NE(at, std::string::npos);
  dict[at + 2] = '\xE8';
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/old/products.attr.0.dict.str", dict).ok());
  Outcome old = Audience("inspect --json " + dir_ + "/old");
  ASSERT_EQ(old.code, 0) << old.err;
  EXPECT_EQ(nlohmann::json::parse(old.out)["product_attributes"]["name"]["top"][0]["value"], "Cr\xEF\xBF\xBDme");
}

TEST_F(DataCliTest, BadRowLimitReasonsAndRejectsFile) {
  std::string events =
      Write("e.csv", "customer_id;time;revenue\na;2024-01-01;3\nb;yesterday;2\nc;2024-01-03;x\nd;2024-01-04;1\n");
  Outcome over = Audience("ingest --max-bad-rows 1 --rejects " + dir_ + "/rejects.csv --events " + events + " --out " +
                          dir_ + "/ds");
  EXPECT_EQ(over.code, 1);
  EXPECT_NE(over.err.find("2 bad rows, more than the limit of 1"), std::string::npos) << over.err;
  EXPECT_FALSE(PathExists(dir_ + "/ds"));
  EXPECT_NE(ReadFile(dir_ + "/rejects.csv").value().find(events + ",3,"), std::string::npos);
  Outcome ok = Audience("ingest --max-bad-rows 50% --rejects " + dir_ + "/rejects.csv --events " + events + " --out " +
                        dir_ + "/ds");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.err.find("skipped 2 bad rows of 4; by reason:"), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find("1 x column revenue: not a number"), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find("all rejected rows are in " + dir_ + "/rejects.csv"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(Audience("inspect --json " + dir_ + "/ds").out)["events"], 2);
  Outcome nonsense = Audience("ingest --max-bad-rows many --events " + events + " --out " + dir_ + "/ds2");
  EXPECT_EQ(nonsense.code, 1);
  EXPECT_NE(nonsense.err.find("bad-row limit 'many' is not a count"), std::string::npos) << nonsense.err;
}

// Runs docs/data-formats.md's "bring your own data" walkthrough as written: its files and its
// commands, so that the documentation cannot drift from what the binary does.
TEST_F(DataCliTest, WalkthroughOfDataFormatsRuns) {
  auto doc = ReadFile("docs/data-formats.md");
  if (!doc.has_value()) GTEST_SKIP() << "docs/data-formats.md not found (run from the source directory)";
  const std::string& md = *doc;
  const auto block_after = [&](size_t from) {
    size_t open = md.find("```", from);
    size_t start = md.find('\n', open) + 1;
    size_t close = md.find("\n```", start);
    return md.substr(start, close - start + 1);
  };
  int files = 0;
  for (size_t at = md.find("<!-- file: "); at != std::string::npos; at = md.find("<!-- file: ", at + 1)) {
    const size_t name_start = at + 11;
    const std::string name = md.substr(name_start, md.find(" -->", name_start) - name_start);
    Write(name, block_after(at));
    ++files;
  }
  ASSERT_EQ(files, 4);
  const size_t cmds_at = md.find("<!-- commands -->");
  ASSERT_NE(cmds_at, std::string::npos);
  std::vector<std::string> commands;
  std::string current;
  const std::string block = block_after(cmds_at);
  for (std::string_view line : Split(block, '\n')) {
    std::string l(Trim(line));
    if (l.empty()) continue;
    const bool more = l.back() == '\\';
    if (more) l.pop_back();
    current += l + " ";
    if (!more) {
      commands.push_back(current);
      current.clear();
    }
  }
  ASSERT_EQ(commands.size(), 3u);
  const std::string bin = std::filesystem::absolute(audience_).string();
  const auto run = [&](const std::string& command) {
    EXPECT_EQ(command.rfind("audience ", 0), 0u) << command;
    const std::string cmd =
        "cd " + dir_ + " && " + bin + command.substr(8) + " >" + dir_ + "/stdout 2>" + dir_ + "/stderr";
    const int status = std::system(cmd.c_str());
    Outcome r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(dir_ + "/stdout").value_or("");
    r.err = ReadFile(dir_ + "/stderr").value_or("");
    return r;
  };
  for (const std::string& c : commands) {
    Outcome r = run(c);
    if (r.err.find("not found in the tz database") != std::string::npos) GTEST_SKIP() << "no tz database (tzdata)";
    ASSERT_EQ(r.code, 0) << c << "\n" << r.err;
  }
  Outcome again = run(commands[1]);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("already ingested"), std::string::npos) << again.out;

  // What the walkthrough says the dataset holds.
  auto j = nlohmann::json::parse(Audience("inspect --json " + dir_ + "/shop").out);
  EXPECT_EQ(j["customers"], 4);
  EXPECT_EQ(j["products"], 3);
  EXPECT_EQ(j["events"], 6);
  EXPECT_EQ(j["online_events"], 2);
  EXPECT_EQ(j["offline_events"], 4);
  EXPECT_EQ(j["first_event"], "2024-03-02T08:15:00Z");
  EXPECT_EQ(j["last_event"], "2024-03-30T22:30:00Z");
  EXPECT_NEAR(j["revenue"].get<double>(), 2.58 + 3.49 + 1.29 + 1047.00 + 6.98 + 1.29, 1e-3);
  ASSERT_TRUE(j["product_attributes"].contains("preis.betrag")) << j.dump();
  std::vector<std::string> prices;
  for (const auto& v : j["product_attributes"]["preis.betrag"]["top"]) prices.push_back(v["value"]);
  std::sort(prices.begin(), prices.end());
  EXPECT_EQ(prices, (std::vector<std::string>{"1.29", "3.49", "349.00"}));
  EXPECT_TRUE(j["product_attributes"].contains("info.Abteilung"));
  EXPECT_FALSE(PathExists(dir_ + "/kasse-rejects.csv"));  // nothing was rejected
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
