// `audience campaign` and `audience curve` as a user runs them: separate processes, real files.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

using Json = nlohmann::json;

class CampaignCliTest : public AudienceCliTest {
 protected:
  // A plan of two campaigns written by the commands themselves.
  std::string NewPlan() {
    const std::string plan = dir_ + "/plan.json";
    Outcome init = Audience("campaign init --plan " + plan +
                            " --name 'Week 49' --start 2026-12-07 --pressure email:max=2/7d --pressure any:gap=1d");
    EXPECT_EQ(init.code, 0) << init.err;
    Outcome a =
        Audience("campaign add --plan " + plan +
                 " --name 'Coffee lovers' --offer 'category = \"COFFEE\"' --channel email --send-date "
                 "2026-12-08 --fixed 5000 --priority high --holdout-share 0.2 --export-file-name 'Coffee - week "
                 "49' --audience 'region != \"North\"' --exclude-recent-buyers-days 30");
    EXPECT_EQ(a.code, 0) << a.err;
    Outcome b = Audience("campaign add --plan " + plan +
                         " --name Tea --offer 'category = \"TEA\"' --channel push --send-date 2026-12-13 "
                         "--capture-share 0.5");
    EXPECT_EQ(b.code, 0) << b.err;
    return plan;
  }

  Json ListJson(const std::string& plan) {
    Outcome l = Audience("campaign list --plan " + plan + " --json");
    EXPECT_EQ(l.code, 0) << l.err;
    return Json::parse(l.out, nullptr, false);
  }
};

TEST_F(CampaignCliTest, WritesEveryFieldGiven) {
  const std::string plan = NewPlan();
  const Json j = ListJson(plan);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["name"], "Week 49");
  EXPECT_EQ(j["days"], 7);
  EXPECT_EQ(j["objective"], "revenue");
  EXPECT_EQ(j["pressure"], Json::parse(R"([{"channel":"email","max_messages":2,"window_days":7},
                                           {"channel":"any","min_gap_days":1}])"));
  ASSERT_EQ(j["campaigns"].size(), 2u);
  const Json& c = j["campaigns"][0];
  EXPECT_EQ(c["name"], "Coffee lovers");
  EXPECT_EQ(c["offer"], "category = \"COFFEE\"");
  EXPECT_EQ(c["channel"], "email");
  EXPECT_EQ(c["send_date"], "2026-12-08");
  EXPECT_EQ(c["volume"], Json::parse(R"({"fixed":5000})"));
  EXPECT_EQ(c["priority"], "high");
  EXPECT_EQ(c["holdout_share"], 0.2);
  EXPECT_EQ(c["export_file_name"], "Coffee - week 49");
  EXPECT_EQ(c["audience"], "region != \"North\"");
  EXPECT_EQ(c["exclude_recent_buyers_days"], 30);
  EXPECT_EQ(c["cohort_id"].get<std::string>().substr(0, 3), "cf-");
  const Json& t = j["campaigns"][1];
  EXPECT_EQ(t["volume"], Json::parse(R"({"capture_share":0.5})"));
  EXPECT_EQ(t["priority"], "medium");
  EXPECT_EQ(t["holdout_share"], 0.1);
  EXPECT_EQ(t["export_file_name"], "Tea");
  EXPECT_NE(t["cohort_id"], c["cohort_id"]);

  Outcome table = Audience("campaign list --plan " + plan);
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("pressure email:max=2/7d; any:gap=1d"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("Coffee - week 49"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(c["cohort_id"].get<std::string>()), std::string::npos) << table.out;
}

TEST_F(CampaignCliTest, EditRenameAndRemove) {
  const std::string plan = NewPlan();
  const std::string old_id = ListJson(plan)["campaigns"][1]["cohort_id"];
  Outcome e =
      Audience("campaign edit --plan " + plan + " --name Tea --min-probability 0.25 --priority low --audience ''");
  ASSERT_EQ(e.code, 0) << e.err;
  Json j = ListJson(plan);
  EXPECT_EQ(j["campaigns"][1]["volume"], Json::parse(R"({"min_probability":0.25})"));
  EXPECT_EQ(j["campaigns"][1]["priority"], "low");
  EXPECT_EQ(j["campaigns"][1]["cohort_id"], old_id);  // same name, same cohort
  EXPECT_EQ(j["campaigns"][1]["channel"], "push");    // untouched fields stay

  Outcome r = Audience("campaign edit --plan " + plan + " --name Tea --rename 'Green tea'");
  ASSERT_EQ(r.code, 0) << r.err;
  j = ListJson(plan);
  EXPECT_EQ(j["campaigns"][1]["name"], "Green tea");
  EXPECT_EQ(j["campaigns"][1]["export_file_name"], "Green tea");  // a defaulted export name follows
  EXPECT_NE(j["campaigns"][1]["cohort_id"], old_id);
  EXPECT_NE(r.out.find(old_id), std::string::npos) << r.out;  // says the cohort changes

  Outcome rm = Audience("campaign remove --plan " + plan + " --name 'Coffee lovers'");
  ASSERT_EQ(rm.code, 0) << rm.err;
  j = ListJson(plan);
  ASSERT_EQ(j["campaigns"].size(), 1u);
  EXPECT_EQ(j["campaigns"][0]["name"], "Green tea");

  Outcome s = Audience("campaign settings --plan " + plan + " --days 10 --objective buyers --no-pressure");
  ASSERT_EQ(s.code, 0) << s.err;
  j = ListJson(plan);
  EXPECT_EQ(j["days"], 10);
  EXPECT_EQ(j["objective"], "buyers");
  EXPECT_TRUE(j["pressure"].empty());
}

TEST_F(CampaignCliTest, ABadEditLeavesTheFileByteIdentical) {
  const std::string plan = NewPlan();
  const std::string before = ReadFile(plan).value();
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"add --name Late --offer any --channel sms --send-date 2026-12-14 --fixed 10",
       "campaigns[2].send_date: 2026-12-14 is outside the plan; valid: 2026-12-07 .. 2026-12-13"},
      {"add --name Late --offer any --channel sms --send-date 2026-02-30 --fixed 10", "\"2026-02-30\" is not a date"},
      {"add --name Tea --offer any --channel sms --send-date 2026-12-09 --fixed 10", "has a campaign of that name"},
      {"add --name X --offer any --channel sms --send-date 2026-12-09 --fixed 10 --export-file-name Tea",
       "campaigns[2].export_file_name: \"Tea\" is used by an earlier campaign"},
      {"add --name X --offer 'category =' --channel sms --send-date 2026-12-09 --fixed 10",
       "campaigns[2].offer: \"category =\": offer: column 11: expected a value"},
      {"add --name X --offer any --channel fax --send-date 2026-12-09 --fixed 10",
       "--channel 'fax' is not valid; valid: email, push, sms"},
      {"add --name X --offer any --channel sms --send-date 2026-12-09", "give the campaign's volume"},
      {"add --name X --offer any --channel sms --send-date 2026-12-09 --fixed 3 --min-probability 0.2",
       "give one volume"},
      {"edit --name Tea --holdout-share 1", "campaigns[1].holdout_share: 1 is not valid; expected a share in [0, 1)"},
      {"edit --name Tea --capture-share 0", "campaigns[1].volume.capture_share: 0 is not valid"},
      {"edit --name Tea --audience 'region = '", "campaigns[1].audience"},
      {"edit --name Tea --rename 'Coffee lovers'", "campaigns[1].name: \"Coffee lovers\" is the name of an earlier"},
      {"edit --name Coffee --priority high", "--name 'Coffee': " + dir_ +
                                                 "/plan.json has no such campaign; its campaigns: \"Coffee lovers\", "
                                                 "\"Tea\""},
      {"edit --name Tea --priority urgent", "--priority 'urgent' is not valid; valid: high, medium, low"},
      {"remove --name Nope", "has no such campaign"},
      {"settings --start 2026-12-10", "campaigns[0].send_date: 2026-12-08 is outside the plan"},
      {"settings --pressure email:max=2", "--pressure 'email:max=2': 'max=2': expected CHANNEL:max=N/DAYSd"},
      {"settings --pressure emial:gap=1d", "channel 'emial' is not valid; valid: email, push, sms, any"},
      {"init --name X --start 2026-12-07", "exists and was left untouched"},
  };
  for (const Case& c : cases) {
    const std::string sub = c.args.substr(0, c.args.find(' '));
    Outcome o = Audience("campaign " + sub + " --plan " + plan + c.args.substr(sub.size()));
    EXPECT_EQ(o.code, 1) << c.args;
    EXPECT_NE(o.err.find("audience campaign " + sub + ": "), std::string::npos) << o.err;
    EXPECT_NE(o.err.find(c.message), std::string::npos) << c.args << "\n" << o.err;
    EXPECT_EQ(ReadFile(plan).value(), before) << c.args;
  }
  // A plan the user broke by hand is reported by line and key, and not rewritten.
  const std::string broken = Write("broken.json", R"({"name": "W", "start": "2026-12-07", "campaigns": [
  {"name": "A", "offer": "any", "channel": "email", "send_date": "2026-12-07", "volumn": {"fixed": 1}}]})");
  Outcome o = Audience("campaign add --plan " + broken +
                       " --name B --offer any --channel sms --send-date 2026-12-08 "
                       "--fixed 1");
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("broken.json: campaigns[0]: unknown key \"volumn\"; valid: name, offer"), std::string::npos)
      << o.err;
  Outcome missing = Audience("campaign list --plan " + dir_ + "/none.json");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no such file; write a new plan with 'audience campaign init"), std::string::npos)
      << missing.err;
  Outcome flag = Audience("campaign add --plan " + plan + " --name X --bogus");
  EXPECT_EQ(flag.code, 1);
  EXPECT_NE(flag.err.find("audience campaign add: unknown flag '--bogus'; see 'audience campaign add --help'"),
            std::string::npos)
      << flag.err;
}

TEST_F(CampaignCliTest, ConcurrentEditsAllLand) {
  const std::string plan = NewPlan();
  // Twelve processes add a campaign each at the same time; every one must be in the file.
  std::string script;
  for (int i = 0; i < 12; ++i) {
    script += fmt::format(
        "{} campaign add --plan {} --name 'C{}' --offer any --channel sms --send-date 2026-12-09 --fixed {} "
        ">/dev/null 2>>{}/concurrent.err &\n",
        audience_, plan, i, i + 1, dir_);
  }
  script += "wait\n";
  Write("concurrent.sh", script);
  ASSERT_EQ(std::system(("sh " + dir_ + "/concurrent.sh").c_str()), 0);
  EXPECT_EQ(ReadFile(dir_ + "/concurrent.err").value_or(""), "");
  const Json j = ListJson(plan);
  ASSERT_EQ(j["campaigns"].size(), 14u) << j.dump(1);
  std::set<std::string> names;
  for (const Json& c : j["campaigns"]) names.insert(c["name"].get<std::string>());
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(names.contains(fmt::format("C{}", i))) << i;
}

class CurveCliTest : public AudienceCliTest {
 protected:
  // The customers file's column `name` by crm id.
  static std::map<std::string, std::string> CustomerColumn(const std::string& csv, const std::string& name) {
    std::map<std::string, std::string> out;
    const std::vector<std::string_view> lines = Split(csv, '\n');
    const std::vector<std::string> header = CsvFields(lines[0]);
    const size_t k = std::find(header.begin(), header.end(), name) - header.begin();
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      const std::vector<std::string> f = CsvFields(lines[i]);
      out[f[0]] = k < f.size() ? f[k] : "";
    }
    return out;
  }
};

TEST_F(CurveCliTest, MonotoneAndSumsToTheScores) {
  const std::string ds = GeneratedDataset();
  Outcome t = Audience("train --quiet --data " + ds + " --horizon 30 --sample-rows 40000 --out " + dir_ + "/model");
  ASSERT_EQ(t.code, 0) << t.err;
  const std::string offer = "'department = \"GROCERY\"'";
  Outcome s = Audience("score --quiet --data " + ds + " --model " + dir_ + "/model --offer " + offer + " --out " +
                       dir_ + "/scores.csv");
  ASSERT_EQ(s.code, 0) << s.err;
  const std::map<std::string, std::string> region =
      CustomerColumn(ReadFile(dir_ + "/raw/customers.csv").value(), "region");
  // Per customer: probability and expected revenue from `audience score`, best first.
  struct Row {
    double p, rev;
    std::string region;
  };
  std::vector<Row> rows;
  const std::string scores = ReadFile(dir_ + "/scores.csv").value();
  for (std::string_view line : Split(scores, '\n')) {
    if (line.empty() || StartsWith(line, "customer,")) continue;
    const std::vector<std::string> f = CsvFields(line);
    rows.push_back({ParseDouble(f[1]).value(), ParseDouble(f[2]).value(), region.at(f[0])});
  }
  ASSERT_EQ(rows.size(), 400u);

  for (const std::string audience : {"", "region != \"Capital\""}) {
    Outcome c = Audience("curve --quiet --data " + ds + " --model " + dir_ + "/model --offer " + offer +
                         " --points 8 --json" + (audience.empty() ? "" : " --audience '" + audience + "'"));
    ASSERT_EQ(c.code, 0) << c.err;
    const Json j = Json::parse(c.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << c.out;
    std::vector<Row> eligible;
    for (const Row& r : rows) {
      if (audience.empty() || r.region != "Capital") eligible.push_back(r);
    }
    ASSERT_GT(eligible.size(), 0u);
    EXPECT_EQ(j["customers"], 400);
    EXPECT_EQ(j["eligible"], eligible.size());
    const Json& points = j["points"];
    ASSERT_EQ(points.size(), 8u);
    EXPECT_EQ(points.back()["size"], eligible.size());
    double total = 0;
    for (const Row& r : eligible) total += r.p;
    // The scores file rounds to 6 decimals: 400 of them are within 400 * 5e-7.
    EXPECT_NEAR(j["expected_buyers"].get<double>(), total, 1e-3);
    EXPECT_NEAR(points.back()["expected_buyers"].get<double>(), total, 1e-3);
    EXPECT_NEAR(points.back()["buyer_share"].get<double>(), 1.0, 1e-12);
    for (size_t i = 0; i < points.size(); ++i) {
      const Json& p = points[i];
      const size_t size = p["size"];
      double buyers = 0, revenue = 0;
      for (size_t k = 0; k < size; ++k) {
        buyers += eligible[k].p;  // the scores file is ranked best first, as the curve is
        revenue += eligible[k].rev;
      }
      EXPECT_NEAR(p["expected_buyers"].get<double>(), buyers, 1e-3) << i;
      EXPECT_NEAR(p["expected_revenue"].get<double>(), revenue, 5e-2) << i;
      EXPECT_NEAR(p["threshold"].get<double>(), eligible[size - 1].p, 1e-6) << i;
      EXPECT_NEAR(p["buyer_share"].get<double>(), buyers / total, 1e-5) << i;
      EXPECT_NEAR(p["lift"].get<double>(), (buyers / size) / (total / eligible.size()), 1e-4) << i;
      if (i > 0) {
        const Json& q = points[i - 1];
        EXPECT_GT(p["size"], q["size"]);
        EXPECT_GE(p["expected_buyers"], q["expected_buyers"]);
        EXPECT_GE(p["expected_revenue"], q["expected_revenue"]);
        EXPECT_GE(p["buyer_share"], q["buyer_share"]);
        EXPECT_LE(p["threshold"], q["threshold"]);
        EXPECT_LE(p["lift"].get<double>(), q["lift"].get<double>() + 1e-12);
      }
    }
  }

  // --at scores as of that date, as score --at does.
  Outcome sa = Audience("score --quiet --data " + ds + " --model " + dir_ + "/model --offer " + offer +
                        " --at 2025-04-01 --out " + dir_ + "/scores-at.csv");
  ASSERT_EQ(sa.code, 0) << sa.err;
  double at_total = 0;
  const std::string scores_at = ReadFile(dir_ + "/scores-at.csv").value();  // Split's views point into it
  for (std::string_view line : Split(scores_at, '\n')) {
    if (!line.empty() && !StartsWith(line, "customer,")) at_total += ParseDouble(CsvFields(line)[1]).value();
  }
  Outcome ca = Audience("curve --quiet --data " + ds + " --model " + dir_ + "/model --offer " + offer +
                        " --at 2025-04-01 --json");
  ASSERT_EQ(ca.code, 0) << ca.err;
  const Json ja = Json::parse(ca.out);
  EXPECT_EQ(ja["as_of"], "2025-04-01T00:00:00Z");
  EXPECT_NEAR(ja["expected_buyers"].get<double>(), at_total, 1e-3);

  // The table, the JSON file and the chart, and the errors.
  Outcome c = Audience("curve --quiet --data " + ds + " --model " + dir_ + "/model --offer " + offer +
                       " --points 4 --json-out " + dir_ + "/curve.json --svg " + dir_ + "/curve.svg");
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_NE(c.out.find("buyer_share"), std::string::npos) << c.out;
  EXPECT_EQ(Json::parse(ReadFile(dir_ + "/curve.json").value())["points"].size(), 4u);
  EXPECT_NE(ReadFile(dir_ + "/curve.svg").value().find("<svg"), std::string::npos);
  Write("notes.txt", "mine");
  Outcome refuse =
      Audience("curve --data " + ds + " --model " + dir_ + "/model --offer any --svg " + dir_ + "/notes.txt");
  EXPECT_EQ(refuse.code, 1);
  EXPECT_NE(refuse.err.find("notes.txt exists and is not an SVG chart written by audience curve"), std::string::npos)
      << refuse.err;
  EXPECT_EQ(ReadFile(dir_ + "/notes.txt").value(), "mine");
  Outcome bad = Audience("curve --data " + ds + " --model " + dir_ + "/model --offer any --audience 'regoin = x'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("audience curve: audience: column 1: unknown customer attribute 'regoin'; valid: "),
            std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("region"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace cf
