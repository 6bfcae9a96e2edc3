// `audience export` to an engage that speaks only HTTPS (a throwaway CA and server certificate,
// tests/engage/tls_certs.h): with --ca-cert it converges to the planned membership; without it
// the certificate is refused, the error says so, and engage is left as it was.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "export_world.h"
#include "tls_certs.h"

namespace cf::sync_test {
namespace {

class TlsExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ok()) << certs_.log();
    ASSERT_TRUE(world_.running());
    ASSERT_EQ(world_.base_url().rfind("https://", 0), 0u) << world_.base_url();
    std::vector<std::string> ids;
    for (int i = 0; i < 300; ++i) ids.push_back(std::string("u").append(std::to_string(i)));
    world_.AddIdentified(ids);
    plan_dir_ = world_.dir() + "/plan";
    PlanCampaign c{"Coffee lovers", "Coffee - week 49", "cf-coffee", {}};
    for (int i = 0; i < 250; ++i) {
      c.rows.push_back({std::string("c").append(std::to_string(i)), std::string("u").append(std::to_string(i)), "", "",
                        i % 10 == 3 ? 1 : 0});
    }
    for (const Row& r : c.rows) {
      if (r.holdout == 0) expected_.insert(KeyOf(r));
    }
    WritePlanDir(plan_dir_, "Week 49", {c});
  }

  Outcome Export(const std::vector<std::string>& more) {
    std::vector<std::string> args = {"export",          "--plan-dir",  plan_dir_,          "--endpoint",
                                     world_.base_url(), "--keys-file", world_.keys_file(), "--quiet"};
    args.insert(args.end(), more.begin(), more.end());
    return RunAudience(world_.dir(), args);
  }

  engage_test::TestCertificates certs_;  // before world_: its server needs them at start
  EngageWorld world_{WorldTls{certs_.server_cert(), certs_.server_key(), certs_.ca_cert()}};
  std::string plan_dir_;
  std::set<std::string> expected_;
};

TEST_F(TlsExportTest, WithTheCaCertConvergesToThePlannedMembership) {
  ASSERT_EQ(expected_.size(), 225u);
  Outcome first = Export({"--ca-cert", certs_.ca_cert()});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(world_.Members("cf-coffee"), expected_);
  // Run again: nothing left to send, the same membership.
  Outcome again = Export({"--ca-cert", certs_.ca_cert(), "--json"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(world_.Members("cf-coffee"), expected_);
}

TEST_F(TlsExportTest, WithoutTheCaCertFailsNamingTheCertificateAndChangesNothing) {
  for (const std::vector<std::string>& trust :
       {std::vector<std::string>{}, std::vector<std::string>{"--ca-cert", certs_.other_ca_cert()}}) {
    const auto start = std::chrono::steady_clock::now();
    Outcome o = Export(trust);
    EXPECT_NE(o.code, 0) << o.out;
    // At once: an untrusted certificate is not retried (max_retry_seconds is 300 s).
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20.0);
    EXPECT_NE(o.err.find("certificate"), std::string::npos) << o.err;
    EXPECT_TRUE(world_.Members("cf-coffee").empty()) << "nothing reached engage";
  }
  // The same plan then exports in full once the CA is given.
  Outcome ok = Export({"--ca-cert", certs_.ca_cert()});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(world_.Members("cf-coffee"), expected_);
}

}  // namespace
}  // namespace cf::sync_test
