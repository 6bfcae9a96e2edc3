// `audience export` across processes: the real binary against a real `engage serve`, directly
// and through a fault-injecting proxy, killed at random moments, and after re-planning.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "base/files.h"
#include "export_world.h"
#include "fault_proxy.h"

namespace cf::sync_test {
namespace {

using nlohmann::json;

std::vector<std::string> Names(const std::string& prefix, int from, int to, const std::string& suffix = "") {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(prefix + std::to_string(i) + suffix);
  return out;
}

// prefix + i + suffix, appended rather than concatenated: GCC 12 warns (-Wrestrict, a false
// positive) on chains of operator+ over std::to_string inlined here.
std::string N(const char* prefix, int i, const char* suffix = "") {
  std::string s = prefix;
  s.append(std::to_string(i)).append(suffix);
  return s;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.running());
    world_.AddIdentified(Names("u", 0, 1500));
    world_.AddAliasOnly(Names("a", 0, 100, "@x.io"));
    world_.AddAnonymous(Names("d", 0, 30));
    for (int i = 0; i < 5; ++i) world_.IdentifyLater("dl" + std::to_string(i), "late" + std::to_string(i));
    plan_dir_ = world_.dir() + "/plan";
  }

  // Coffee: identified (every 10th a holdout), alias-only, anonymous, identified-later (with
  // both ids), customers without identifier, unknown ids. Tea: overlaps Coffee.
  std::vector<PlanCampaign> Plan(int first_user = 0, int last_user = 1200) {
    PlanCampaign coffee{"Coffee lovers", "Coffee - week 49", "cf-coffee", {}};
    for (int i = first_user; i < last_user; ++i) {
      coffee.rows.push_back({N("c", i), N("u", i), N("email:u", i, "@x.io"), "", i % 10 == 3 ? 1 : 0});
    }
    for (int i = 0; i < 60; ++i) coffee.rows.push_back({N("ca", i), "", N("email:a", i, "@x.io"), "", 0});
    for (int i = 0; i < 20; ++i) coffee.rows.push_back({N("cd", i), "", "", N("d", i), 0});
    for (int i = 0; i < 5; ++i) {
      coffee.rows.push_back({N("cl", i), N("late", i), "", N("dl", i), 0});
    }
    for (int i = 0; i < 10; ++i) coffee.rows.push_back({N("cn", i), "", "", "", 0});
    for (int i = 0; i < 7; ++i) coffee.rows.push_back({N("cg", i), N("ghost", i), "", "", 0});
    PlanCampaign tea{"Tea", "Tea / week 49", "cf-tea", {}};
    for (int i = 1000; i < 1500; ++i) tea.rows.push_back({N("c", i), N("u", i), "", "", 0});
    for (int i = 50; i < 100; ++i) tea.rows.push_back({N("ca", i), "", N("email:a", i, "@x.io"), "", 0});
    return {coffee, tea};
  }

  // What engage should hold: the non-holdout rows' identifiers that name a profile.
  static std::set<std::string> Expected(const PlanCampaign& c) {
    std::set<std::string> out;
    for (const Row& r : c.rows) {
      const std::string key = KeyOf(r);
      if (r.holdout == 0 && !key.empty() && key.rfind("u:ghost", 0) != 0) out.insert(key);
    }
    return out;
  }

  std::vector<std::string> Args(const std::string& endpoint, std::vector<std::string> more = {}) {
    std::vector<std::string> a = {"export", "--plan-dir",  plan_dir_,          "--endpoint",
                                  endpoint, "--keys-file", world_.keys_file(), "--quiet"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }

  json ExportJson(const std::string& endpoint, std::vector<std::string> more = {}, int want_code = 0) {
    more.push_back("--json");
    Outcome o = RunAudience(world_.dir(), Args(endpoint, more));
    EXPECT_EQ(o.code, want_code) << o.err;
    try {
      return json::parse(o.out);
    } catch (const json::exception&) {
      ADD_FAILURE() << "not JSON: " << o.out << "\n" << o.err;
      return json::object();
    }
  }

  EngageWorld world_;
  std::string plan_dir_;
};

// Identifiers in the cohort requests a proxy saw for `cohort_id`: adds and removes.
std::pair<std::set<std::string>, std::set<std::string>> SentIds(const std::vector<FaultProxy::Seen>& seen,
                                                                const std::string& cohort_id, size_t* requests) {
  std::set<std::string> adds, removes;
  *requests = 0;
  for (const FaultProxy::Seen& s : seen) {
    if (s.path != "/partners/tinyclues/cohorts/users") continue;
    const json b = json::parse(s.body);
    if (b["cohort_id"] != cohort_id) continue;
    ++*requests;
    for (const json& change : b["cohort_changes"]) {
      std::set<std::string>& into = change.value("should_remove", false) ? removes : adds;
      for (const json& u : change.value("user_ids", json::array())) into.insert("u:" + u.get<std::string>());
      for (const json& d : change.value("device_ids", json::array())) into.insert("d:" + d.get<std::string>());
      for (const json& a : change.value("aliases", json::array())) {
        into.insert("a:" + a["alias_label"].get<std::string>() + ":" + a["alias_name"].get<std::string>());
      }
    }
  }
  return {adds, removes};
}

TEST_F(ExportTest, MembershipEqualsThePlanAndARePlanSendsOnlyTheDifference) {
  std::vector<PlanCampaign> plan = Plan();
  WritePlanDir(plan_dir_, "Week 49", plan);
  FaultProxy proxy(world_.base_url(), [](int, const std::string&, const std::string&) { return Fault::kNone; });

  Outcome dry = RunAudience(world_.dir(), Args(proxy.base_url(), {"--dry-run"}));
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("'Coffee - week 49' (cohort cf-coffee): would add 1172, remove 0"), std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("add: external_id u0, external_id u1, external_id u2, external_id u4, external_id u5, ..."),
            std::string::npos)
      << dry.out;
  EXPECT_TRUE(proxy.seen().empty()) << "a dry run sends nothing";
  EXPECT_FALSE(PathExists(plan_dir_ + "/export")) << "a dry run writes no journal";

  json first = ExportJson(proxy.base_url());
  ASSERT_EQ(first["campaigns"].size(), 2u);
  const json& coffee = first["campaigns"][0];
  // 1080 identified + 60 alias-only + 20 anonymous + 5 identified later + 7 unknown.
  EXPECT_EQ(coffee["planned"], 1172);
  EXPECT_EQ(coffee["sent"], 1172);
  EXPECT_EQ(coffee["added"], 1165);
  EXPECT_EQ(coffee["unmatched"], 7);
  EXPECT_EQ(coffee["skipped"], 10);
  EXPECT_EQ(coffee["holdout"], 120);
  EXPECT_EQ(coffee["requests"], 3);  // the cohort, then 1000 + 172 identifiers
  EXPECT_EQ(first["campaigns"][1]["added"], 550);
  EXPECT_EQ(world_.Members("cf-coffee"), Expected(plan[0]));
  EXPECT_EQ(world_.Members("cf-tea"), Expected(plan[1]));

  json again = ExportJson(proxy.base_url());
  EXPECT_EQ(again["campaigns"][0]["sent"], 0);
  EXPECT_EQ(again["campaigns"][0]["requests"], 1) << "only the cohort's (idempotent) creation";

  // Re-plan: Coffee loses u0..u99, gains u1200..u1249; d20 was anonymous, is identified now.
  std::vector<PlanCampaign> replan = Plan(100, 1250);
  replan[0].rows.push_back({"cd20", "", "", "d20", 0});
  WritePlanDir(plan_dir_, "Week 49", replan);
  ASSERT_EQ(ExportJson(proxy.base_url())["campaigns"][0]["sent"], 45 + 90 + 1);
  world_.IdentifyLater("d20", "ident-d20");
  replan[0].rows.back().external_id = "ident-d20";
  WritePlanDir(plan_dir_, "Week 49", replan);
  const size_t before = proxy.seen().size();
  json third = ExportJson(proxy.base_url());
  size_t requests = 0;
  const std::vector<FaultProxy::Seen> all = proxy.seen();
  auto [adds, removes] = SentIds({all.begin() + before, all.end()}, "cf-coffee", &requests);
  EXPECT_EQ(adds, (std::set<std::string>{"u:ident-d20"}));
  EXPECT_EQ(removes, (std::set<std::string>{"d:d20"}));
  EXPECT_EQ(requests, 2u);
  EXPECT_EQ(third["campaigns"][0]["sent"], 2);
  EXPECT_EQ(third["campaigns"][1]["sent"], 0);
  std::set<std::string> want = Expected(replan[0]);
  want.erase("d:d20");  // its profile is identified now: engage matches it by external id only
  EXPECT_EQ(world_.Members("cf-coffee"), want);
  EXPECT_EQ(world_.Members("cf-tea"), Expected(replan[1]));
}

TEST_F(ExportTest, ReplanAddsAndRemovesExactlyTheDifference) {
  WritePlanDir(plan_dir_, "Week 49", Plan(0, 1200));
  FaultProxy proxy(world_.base_url(), [](int, const std::string&, const std::string&) { return Fault::kNone; });
  ASSERT_EQ(ExportJson(proxy.base_url())["campaigns"][0]["status"], "ok");
  const std::vector<PlanCampaign> replan = Plan(300, 1400);  // volumes changed: 300 out, 200 in
  WritePlanDir(plan_dir_, "Week 49", replan);
  const size_t before = proxy.seen().size();
  json j = ExportJson(proxy.base_url());
  const std::vector<FaultProxy::Seen> all = proxy.seen();
  size_t requests = 0;
  auto [adds, removes] = SentIds({all.begin() + before, all.end()}, "cf-coffee", &requests);
  std::set<std::string> want_adds, want_removes;
  for (int i = 1200; i < 1400; ++i) {
    if (i % 10 != 3) want_adds.insert("u:u" + std::to_string(i));
  }
  for (int i = 0; i < 300; ++i) {
    if (i % 10 != 3) want_removes.insert("u:u" + std::to_string(i));
  }
  EXPECT_EQ(adds, want_adds);
  EXPECT_EQ(removes, want_removes);
  EXPECT_EQ(requests, 2u);  // 180 adds, then 270 removes
  EXPECT_EQ(j["campaigns"][0]["added"], 180);
  EXPECT_EQ(j["campaigns"][0]["removed"], 270);
  EXPECT_EQ(world_.Members("cf-coffee"), Expected(replan[0]));
}

TEST_F(ExportTest, FaultsStillEndWithThePlannedMembership) {
  const std::vector<PlanCampaign> plan = Plan();
  WritePlanDir(plan_dir_, "Week 49", plan);
  // Per path, the k-th request: the cohort creation fails once, then each kind of fault once.
  std::atomic<int> creates{0}, changes{0};
  FaultProxy proxy(
      world_.base_url(),
      [&](int, const std::string& path, const std::string&) {
        if (path == "/partners/tinyclues/cohorts") return creates++ == 0 ? Fault::k500 : Fault::kNone;
        switch (changes++) {
          case 0:
            return Fault::k429;
          case 1:
            return Fault::k500;
          case 2:
            return Fault::kCloseMidAnswer;
          case 3:
            return Fault::kSlowAnswer;
          case 4:
            return Fault::kCloseBeforeForward;
          case 6:
            return Fault::kCloseMidAnswer;
          default:
            return Fault::kNone;
        }
      },
      /*slow_seconds=*/2.5);
  const auto start = std::chrono::steady_clock::now();
  json j = ExportJson(proxy.base_url(), {"--ids-per-request", "200", "--timeout-seconds", "1"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(j["campaigns"][0]["status"], "ok") << j.dump();
  EXPECT_EQ(j["campaigns"][1]["status"], "ok") << j.dump();
  int faults = 0;
  for (const FaultProxy::Seen& s : proxy.seen()) faults += s.fault != Fault::kNone;
  EXPECT_EQ(faults, 7);
  // A connection closed before any answer byte is retried by libcurl itself on a new
  // connection; the others (429, both 500s, the timeout) are the exporter's own retries.
  EXPECT_GE(j["campaigns"][0]["retries"].get<int>() + j["campaigns"][1]["retries"].get<int>(), 4);
  EXPECT_GE(seconds, 1.0) << "the 429's Retry-After: 1 was honoured";
  EXPECT_EQ(world_.Members("cf-coffee"), Expected(plan[0]));
  EXPECT_EQ(world_.Members("cf-tea"), Expected(plan[1]));
}

TEST_F(ExportTest, BrazeAnswersWithoutCountsPrintNotAvailable) {
  const std::vector<PlanCampaign> plan = Plan();
  WritePlanDir(plan_dir_, "Week 49", plan);
  FaultProxy proxy(world_.base_url(), [](int, const std::string&, const std::string&) { return Fault::kBrazeAnswer; });
  Outcome o = RunAudience(world_.dir(), Args(proxy.base_url(), {"--campaign", "Tea"}));
  ASSERT_EQ(o.code, 0) << o.err;
  char line[256];
  std::snprintf(line, sizeof line, "%-32s %10s %10s %10s %10s %10s %10s %10s  %s", "Tea / week 49", "550", "550", "n/a",
                "n/a", "n/a", "0", "0", "ok");
  EXPECT_NE(o.out.find(line), std::string::npos) << o.out;
  json j = ExportJson(proxy.base_url());
  EXPECT_TRUE(j["campaigns"][0]["added"].is_null());
  EXPECT_EQ(j["campaigns"][0]["sent"], 1172);
  EXPECT_EQ(world_.Members("cf-coffee"), Expected(plan[0]));
  EXPECT_EQ(world_.Members("cf-tea"), Expected(plan[1]));
}

TEST_F(ExportTest, ARefusalStopsOnlyThatCampaignWithTheServersMessage) {
  const std::vector<PlanCampaign> plan = Plan();
  WritePlanDir(plan_dir_, "Week 49", plan);
  FaultProxy proxy(world_.base_url(), [](int, const std::string& path, const std::string& body) {
    return path == "/partners/tinyclues/cohorts/users" && body.find("\"cf-coffee\"") != std::string::npos
               ? Fault::k400
               : Fault::kNone;
  });
  Outcome o = RunAudience(world_.dir(), Args(proxy.base_url()));
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("campaign 'Coffee lovers': POST " + proxy.base_url() +
                       "/partners/tinyclues/cohorts/users answered 400: injected refusal of this cohort"),
            std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("1 campaign failed"), std::string::npos) << o.err;
  EXPECT_NE(o.out.find("Tea / week 49"), std::string::npos);
  EXPECT_TRUE(world_.Members("cf-coffee").empty());
  EXPECT_EQ(world_.Members("cf-tea"), Expected(plan[1]));
}

TEST_F(ExportTest, RetriesStopAfterMaxRetrySeconds) {
  WritePlanDir(plan_dir_, "Week 49", Plan());
  FaultProxy proxy(world_.base_url(), [](int, const std::string&, const std::string&) { return Fault::k500; });
  const auto start = std::chrono::steady_clock::now();
  Outcome o = RunAudience(world_.dir(), Args(proxy.base_url(), {"--max-retry-seconds", "2", "--campaign", "Tea"}));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(o.code, 1);
  EXPECT_LT(seconds, 8.0);
  EXPECT_NE(o.err.find("answered 500: internal error (injected); gave up after"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("max_retry_seconds is 2"), std::string::npos) << o.err;
  EXPECT_GE(proxy.seen().size(), 3u);
}

TEST_F(ExportTest, SigkillAtRandomMomentsConvergesToTheExactMembership) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(30, 700);
  int killed_running = 0;
  for (int round = 0; round < 8; ++round) {
    // Rounds 0-3 export one plan, 4-7 a re-plan with 300 customers out and 200 in.
    const std::vector<PlanCampaign> plan = round < 4 ? Plan(0, 1200) : Plan(300, 1400);
    WritePlanDir(plan_dir_, "Week 49", plan);
    const pid_t pid = StartAudience(Args(world_.base_url(), {"--ids-per-request", "10"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    if (::kill(pid, SIGKILL) == 0) ++killed_running;
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) continue;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "round " << round;
  }
  EXPECT_GT(killed_running, 0);
  const std::vector<PlanCampaign> plan = Plan(300, 1400);
  json j = ExportJson(world_.base_url(), {"--ids-per-request", "10"});
  EXPECT_EQ(j["campaigns"][0]["status"], "ok");
  EXPECT_EQ(world_.Members("cf-coffee"), Expected(plan[0]));
  EXPECT_EQ(world_.Members("cf-tea"), Expected(plan[1]));
  EXPECT_EQ(ExportJson(world_.base_url())["campaigns"][0]["sent"], 0) << "the journal agrees with engage";
}

TEST_F(ExportTest, AnotherEndpointStartsFromScratch) {
  const std::vector<PlanCampaign> plan = Plan();
  WritePlanDir(plan_dir_, "Week 49", plan);
  ASSERT_EQ(ExportJson(world_.base_url(), {"--campaign", "Tea"})["campaigns"][0]["sent"], 550);
  FaultProxy proxy(world_.base_url(), [](int, const std::string&, const std::string&) { return Fault::kNone; });
  EXPECT_EQ(ExportJson(proxy.base_url(), {"--campaign", "Tea"})["campaigns"][0]["sent"], 550)
      << "a journal of one endpoint says nothing of another";
  EXPECT_EQ(ExportJson(world_.base_url() + "/", {"--campaign", "Tea"})["campaigns"][0]["sent"], 0)
      << "the same endpoint written differently";
  size_t journals = 0;
  for (const auto& e : std::filesystem::directory_iterator(plan_dir_ + "/export"))
    journals += e.path().extension() == ".journal";
  EXPECT_EQ(journals, 2u);
}

TEST_F(ExportTest, CsvFilesKeysAndCampaignErrors) {
  const std::vector<PlanCampaign> plan = Plan();
  WritePlanDir(plan_dir_, "Week 49", plan);
  const std::string csv_dir = world_.dir() + "/csv";
  Outcome o = RunAudience(world_.dir(), {"export", "--plan-dir", plan_dir_, "--csv-dir", csv_dir});
  ASSERT_EQ(o.code, 0) << o.err;
  const std::string tea = ReadFile(csv_dir + "/Tea _ week 49.csv").value_or("");
  EXPECT_EQ(tea.rfind("customer,external_id,alias_label,alias_name,device_id\nc1000,u1000,,,\n", 0), 0u) << tea;
  EXPECT_NE(tea.find("\nca50,,email,a50@x.io,\n"), std::string::npos);
  EXPECT_EQ(std::count(tea.begin(), tea.end(), '\n'), 551);
  EXPECT_TRUE(PathExists(csv_dir + "/Coffee - week 49.csv"));

  o = RunAudience(world_.dir(), {"export", "--plan-dir", plan_dir_, "--endpoint", world_.base_url()});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("CF_PARTNER_API_KEY"), std::string::npos) << o.err;
  o = RunAudience(world_.dir(), Args(world_.base_url(), {"--campaign", "Nope"}));
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("has no campaign named 'Nope'; its campaigns: 'Coffee lovers', 'Tea'"), std::string::npos)
      << o.err;
  o = RunAudience(world_.dir(), {"export", "--plan-dir", plan_dir_, "--endpoint", "rest.braze.com", "--keys-file",
                                 world_.keys_file()});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("endpoint 'rest.braze.com' is not an http:// or https:// URL"), std::string::npos) << o.err;
  EXPECT_FALSE(PathExists(plan_dir_ + "/export"));
}

}  // namespace
}  // namespace cf::sync_test
