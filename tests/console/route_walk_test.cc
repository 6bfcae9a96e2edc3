// `audience serve` across processes, on one small generated and trained retailer: the route walk
// (tests/engage/route_walk.h) against the real process's route table, with nothing written by
// the refused requests; and the console over TLS (--tls-cert, --tls-key) with a throwaway CA.
#include "route_walk.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "tests/audience_cli.h"
#include "tls_certs.h"

namespace cf {
namespace {

using engage_test::Access;
using engage_test::WalkedRoute;

// Every route `audience serve` registers (src/console/*.cc), exactly as registered, with what it
// needs. A new route fails the walk until it is added here.
std::vector<WalkedRoute> AudienceRoutes() {
  using A = Access;
  auto api = [](const char* method, const char* pattern, const char* sample) {
    return WalkedRoute{
        method, std::string("/console/api") + pattern, {{std::string("/console/api") + sample, A::kSession}}};
  };
  return {
      {"GET", "/", {{"/", A::kPage}}},
      {"GET", "/signin", {{"/signin", A::kPublic}}},
      // One route for every script and style sheet; only what the sign-in page loads is public.
      {"GET",
       "/console/([a-z0-9_-]+\\.(js|css))",
       {{"/console/signin.js", A::kPublic},
        {"/console/style.css", A::kPublic},
        {"/console/app.js", A::kPage},
        {"/console/audience.css", A::kPage},
        {"/console/plan.js", A::kPage},
        {"/console/editor.js", A::kPage},
        {"/console/settings.js", A::kPage},
        {"/console/export.js", A::kPage},
        {"/console/opportunities.js", A::kPage},
        {"/console/analytics.js", A::kPage}}},
      {"POST", "/console/api/signin", {{"/console/api/signin", A::kSignIn}}},
      {"POST", "/console/api/signout", {{"/console/api/signout", A::kSession}}},
      api("GET", "/session", "/session"),
      api("GET", "/settings/console", "/settings/console"),
      api("GET", "/jobs/([0-9a-f]+)", "/jobs/0123456789abcdef0123456789abcdef"),
      api("GET", "/plan", "/plan"),
      api("GET", "/campaigns/([^/]+)", "/campaigns/Existing"),
      api("POST", "/campaigns", "/campaigns"),
      api("POST", "/campaigns/([^/]+)", "/campaigns/Existing"),
      api("POST", "/campaigns/([^/]+)/remove", "/campaigns/Existing/remove"),
      api("GET", "/attributes", "/attributes"),
      api("GET", "/offer/count", "/offer/count?offer=any"),
      api("GET", "/audience/count", "/audience/count?audience="),
      api("GET", "/curve", "/curve?offer=any"),
      api("POST", "/plan/run", "/plan/run"),
      api("GET", "/export/settings", "/export/settings"),
      api("POST", "/export/settings", "/export/settings"),
      api("GET", "/export/campaigns", "/export/campaigns"),
      api("GET", "/export/campaigns/([^/]+)", "/export/campaigns/cf-x"),
      api("POST", "/export/run", "/export/run"),
      api("GET", "/opportunities/attributes", "/opportunities/attributes"),
      api("POST", "/opportunities", "/opportunities"),
      api("GET", "/analytics/report", "/analytics/report"),
      api("GET", "/analytics/model", "/analytics/model"),
  };
}

// Every file under `dir` and its bytes: equal before and after means nothing was written.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[e.path().string()] = ReadFile(e.path().string()).value_or("<unreadable>");
  }
  return out;
}

// A small retailer, generated, ingested and trained once for the program (the slow part).
struct World {
  TempDirectory dir{"audience-walk"};
  bool ok = false;
};

World& TheWorld() {
  static World* w = [] {
    auto* world = new World;
    const char* bin = std::getenv("CF_BIN_DIR");
    const std::string audience = std::string(bin != nullptr ? bin : "build/bin") + "/audience";
    const std::string d = world->dir.path();
    auto run = [&](const std::string& args) {
      const int status = std::system((audience + " " + args + " >>" + d + "/setup.out 2>&1").c_str());
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    };
    world->ok = run("generate --quiet --customers 600 --products 40 --days 120 --seed 3 --out " + d + "/raw") &&
                run("ingest --quiet --events " + d + "/raw/purchases.csv --products " + d +
                    "/raw/products.csv --customers " + d + "/raw/customers.csv --out " + d + "/ds") &&
                run("train --quiet --data " + d + "/ds --horizon 30 --train-cutoffs 2 --sample-rows 20000 --out " + d +
                    "/model");
    return world;
  }();
  return *w;
}

class AudienceServeTest : public AudienceCliTest {
 protected:
  void SetUp() override {
    AudienceCliTest::SetUp();
    ASSERT_TRUE(TheWorld().ok) << ReadFile(TheWorld().dir.path() + "/setup.out").value_or("");
    state_ = dir_ + "/state";
    ASSERT_TRUE(CreateDirectories(state_).ok());
    plan_ = state_ + "/plan.json";
    users_ = state_ + "/users.json";
    Outcome init = Audience("campaign init --plan " + plan_ + " --name 'Walk week' --start 2026-12-07");
    ASSERT_EQ(init.code, 0) << init.err;
    Outcome add = Audience("campaign add --plan " + plan_ +
                           " --name Existing --offer any --channel email --send-date 2026-12-08 --fixed 100");
    ASSERT_EQ(add.code, 0) << add.err;
    Outcome user = Audience("user create --users " + users_ + " --email ann@example.com");
    ASSERT_EQ(user.code, 0) << user.err;
    password_ = user.out.substr(user.out.rfind('\n', user.out.size() - 2) + 1);
    while (!password_.empty() && password_.back() == '\n') password_.pop_back();
    ASSERT_EQ(password_.size(), 24u) << user.out;
  }

  std::vector<std::string> ServeArgs(const std::vector<std::string>& extra = {}) const {
    const std::string d = TheWorld().dir.path();
    std::vector<std::string> args = {audience_,    "serve",          "--data",   d + "/ds",     "--model",
                                     d + "/model", "--plan",         plan_,      "--plan-dir",  state_ + "/plandir",
                                     "--users",    users_,           "--listen", "127.0.0.1:0", "--threads",
                                     "2",          "--curve-points", "20",       "--log-level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::string state_, plan_, users_, password_;
};

TEST_F(AudienceServeTest, RouteWalkRefusesMissingAndWrongCredentialsAndWritesNothing) {
  const std::string routes_file = dir_ + "/routes.txt";
  std::unique_ptr<engage_test::ServerProcess> server;
  {
    engage_test::RoutesFileEnv env(routes_file);
    server = std::make_unique<engage_test::ServerProcess>(ServeArgs());
  }
  ASSERT_TRUE(server->running());
  const std::vector<WalkedRoute> table = AudienceRoutes();
  engage_test::ExpectTableIsTheServedTable(engage_test::ReadServedRoutes(routes_file), table);

  http::Client client(server->base_url());
  engage_test::WalkCredentials creds;
  creds.cookie_name = "audience_session";
  creds.email = "ann@example.com";
  creds.api_key = "an-engage-rest-api-key-is-nothing-here";
  std::tie(creds.cookie, creds.csrf) = engage_test::ConsoleSignIn(client, creds.email, password_);
  const auto before = Files(state_);
  const int sent = engage_test::WalkWithoutCredentials(client, table, creds);
  EXPECT_GT(sent, 100);
  const auto after = Files(state_);
  for (const auto& [path, bytes] : before) {
    if (path.ends_with("security-log.jsonl")) continue;  // below
    ASSERT_EQ(after.count(path), 1u) << "the walk removed " << path;
    EXPECT_EQ(after.at(path), bytes) << "the walk changed " << path;
  }
  for (const auto& [path, bytes] : after) {
    EXPECT_EQ(before.count(path), 1u) << "the walk wrote " << path;
  }
  // The security log gained only the failed sign-ins of the walk.
  const std::string log_before = before.at(state_ + "/security-log.jsonl");
  const std::string log_after = after.at(state_ + "/security-log.jsonl");
  ASSERT_EQ(log_after.compare(0, log_before.size(), log_before), 0) << "the log is append-only";
  std::string added = log_after.substr(log_before.size());
  for (size_t at = 0; at < added.size();) {
    const size_t nl = added.find('\n', at);
    const std::string line = added.substr(at, nl - at);
    EXPECT_NE(line.find("console.signin_failed"), std::string::npos) << line;
    at = nl == std::string::npos ? added.size() : nl + 1;
  }
}

TEST_F(AudienceServeTest, ServesItsSignInPageOverTls) {
  engage_test::TestCertificates certs;
  ASSERT_TRUE(certs.ok()) << certs.log();
  engage_test::ServerProcess server(ServeArgs(certs.ServeArgs()));
  ASSERT_TRUE(server.running());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  http::ClientOptions trusting;
  trusting.ca_cert_file = certs.ca_cert();
  trusting.timeout_ms = 5000;
  http::Client client(url, trusting);
  auto page = client.Get("/signin");
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find(">Sign in</button>"), std::string::npos);
  auto signin =
      client.Post("/console/api/signin", nlohmann::json{{"email", "ann@example.com"}, {"password", password_}}.dump(),
                  {{"Content-Type", "application/json"}});
  ASSERT_TRUE(signin.has_value());
  EXPECT_EQ(signin->status, 200) << signin->body;
  EXPECT_NE(signin->Header("set-cookie").find("Secure"), std::string::npos) << signin->Header("set-cookie");
  // A client that does not trust the CA is refused the handshake.
  http::ClientOptions other;
  other.ca_cert_file = certs.other_ca_cert();
  other.timeout_ms = 5000;
  http::Client untrusting(url, other);
  auto refused = untrusting.Get("/signin");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("certificate"), std::string::npos) << refused.error().ToString();
}

}  // namespace
}  // namespace cf
