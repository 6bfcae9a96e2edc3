#include "analytics/campaign_report.h"

#include <gtest/gtest.h>

#include "base/files.h"

namespace cf::analytics {
namespace {

TEST(CampaignReportTest, WindowsParseAndNameWhatIsWrong) {
  ReportOptions o;
  ASSERT_TRUE(ParseWindows(" email=7, PUSH=1 ", &o).ok());
  EXPECT_EQ(o.window_days["email"], 7);
  EXPECT_EQ(o.window_days["push"], 1);
  EXPECT_EQ(o.window_days["sms"], 3);  // untouched default
  EXPECT_EQ(ParseWindows("sms=0", &o).message(), "window: 'sms=0': 0 days is not valid; expected 1 .. 366");
  EXPECT_NE(ParseWindows("fax=2", &o).message().find("expected CHANNEL=DAYS"), std::string::npos);
  EXPECT_NE(ParseWindows("email", &o).message().find("'email' is not valid"), std::string::npos);
  o.confidence = 1;
  EXPECT_NE(o.Validate().message().find("confidence: 1 is not valid"), std::string::npos);
}

// A dataset of four customers, each known to engage by another identifier; a campaign with two
// treated customers, one holdout, and one held-out customer engage sent to anyway.
class CampaignReportDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    Write("customers.csv",
          "customer_id,external_id,device_id,aliases\n1,u1,,email:a@x\n2,,d2,\n3,u3,d3,email:c@x\n4,,,email:d@x\n");
    Write("products.csv", "product_id,category\np1,COFFEE\np2,TEA\n");
    Write("history.csv",
          "customer_id,time,product_id,revenue\n1,2025-01-01,p1,1\n2,2025-01-01,p2,1\n"
          "3,2025-01-01,p1,1\n4,2025-01-01,p2,1\n");
    data::IngestOptions in;
    in.events.path = Path("history.csv");
    in.customers.path = Path("customers.csv");
    in.products.path = Path("products.csv");
    in.customer_map = {{"aliases", "aliases"}};
    in.out = Path("ds");
    auto report = data::Ingest(in);
    ASSERT_TRUE(report.has_value()) << report.error().ToString();
    auto ds = data::Dataset::Open(Path("ds"));
    ASSERT_TRUE(ds.has_value());
    ds_ = std::move(*ds);
  }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  void Write(const std::string& name, const std::string& text) { ASSERT_TRUE(WriteFileAtomic(Path(name), text).ok()); }

  TempDirectory dir_{"campaign-report-test"};
  std::unique_ptr<data::Dataset> ds_;
};

TEST_F(CampaignReportDataTest, CountsTreatedAgainstHoldoutInTheWindow) {
  Write("later.csv",
        "customer_id,time,product_id,revenue,channel\n"
        "1,2025-02-03T10:00:00Z,p1,10,online\n"    // treated, offer, window
        "1,2025-02-03T11:00:00Z,p2,5,online\n"     // not the offer
        "1,2025-02-20T00:00:00Z,p1,7,online\n"     // after the 14 days
        "1,2025-02-04T00:00:00Z,pX,2,online\n"     // a product the catalog lacks
        "2,2025-02-01T00:00:00Z,p1,4.5,offline\n"  // the window's first second
        "3,2025-02-14T23:59:59Z,p1,3,\n"           // holdout, its last second, no channel
        "4,2025-02-05T00:00:00Z,p1,50,online\n"    // held out but sent: in neither group
        "9,2025-02-05T00:00:00Z,p1,8,online\n");   // a customer the dataset lacks
  data::IngestOptions o;
  o.events.path = Path("later.csv");
  auto purchases = IngestPurchases(o, dir_.path());
  ASSERT_TRUE(purchases.has_value()) << purchases.error().ToString();

  PlanInputs plan;
  plan.summary.plan = "P";
  sync::PlannedCampaign c;
  c.name = "Coffee";
  c.cohort_id = "cf-1";
  c.channel = "email";
  c.send_date = "2025-02-01";
  c.offer = "category = \"COFFEE\"";
  sync::PlannedCampaign unsent = c;
  unsent.name = "Tea week";
  unsent.offer = "category = \"TEA\"";
  plan.summary.campaigns = {c, unsent};
  plan.rows = {{{.customer = "1", .probability = 0.5, .decile = 1},
                {.customer = "2", .probability = 0.25, .decile = 2},
                {.customer = "3", .probability = 0.5, .decile = 1, .holdout = true},
                {.customer = "4", .probability = 0.1, .decile = 3, .holdout = true}},
               {{.customer = "2", .probability = 0.5, .decile = 1, .holdout = true}}};
  std::vector<SendRecord> sends(5);
  sends[0] = {.campaign_name = "Coffee", .time = 1738400000, .outcome = Outcome::kSent, .external_id = "u1"};
  sends[1] = {.campaign_name = "Coffee", .time = 1738400000, .outcome = Outcome::kSent, .device_id = "d2"};
  sends[2] = {.campaign_name = "Coffee", .time = 1738400000, .outcome = Outcome::kSent, .aliases = {"email:d@x"}};
  sends[3] = {.campaign_name = "Coffee", .time = 1738400000, .outcome = Outcome::kCapped, .external_id = "u3"};
  sends[4] = {.campaign_name = "Tea", .time = 1738400000, .outcome = Outcome::kSent, .external_id = "u3"};

  auto r = BuildCampaignReport(*ds_, plan, sends, *purchases->dataset, {});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const CampaignResult& cr = r->campaigns[0];
  EXPECT_EQ(cr.treated.customers, 2);
  EXPECT_EQ(cr.treated.buyers, 2);
  EXPECT_DOUBLE_EQ(cr.treated.revenue, 14.5);
  EXPECT_DOUBLE_EQ(cr.treated.online_revenue, 10);
  EXPECT_DOUBLE_EQ(cr.treated.offline_revenue, 4.5);
  EXPECT_EQ(cr.treated.online_buyers, 1);
  EXPECT_EQ(cr.holdout.customers, 1);
  EXPECT_EQ(cr.holdout.buyers, 1);
  EXPECT_DOUBLE_EQ(cr.holdout.revenue, 3);
  EXPECT_DOUBLE_EQ(cr.holdout.online_revenue + cr.holdout.offline_revenue, 0);
  EXPECT_EQ(cr.sent_to_holdout, 1);
  EXPECT_EQ(cr.outcomes[static_cast<int>(Outcome::kSent)], 3);
  EXPECT_EQ(cr.outcomes[static_cast<int>(Outcome::kCapped)], 1);
  EXPECT_DOUBLE_EQ(cr.predicted_buyers, 0.75);
  EXPECT_EQ(cr.deciles[0].treated_customers, 1);
  EXPECT_EQ(cr.deciles[0].holdout_buyers, 1);
  EXPECT_DOUBLE_EQ(cr.uplift.buyers.estimate, 0);
  EXPECT_DOUBLE_EQ(cr.uplift.revenue.estimate, 8.5);
  EXPECT_EQ(cr.last_touch_buyers, 2);
  EXPECT_DOUBLE_EQ(cr.last_touch_revenue, 14.5);
  EXPECT_EQ(r->purchases_unknown_customer, 1u);
  EXPECT_EQ(r->purchases_unknown_product, 1u);
  // customers 1, 2, 4 got one message; 3 none
  EXPECT_EQ(r->messages_per_customer.at(1), 3);
  EXPECT_EQ(r->messages_per_customer.at(0), 1);
  bool warned_tea = false, warned_unsent = false;
  for (const std::string& w : r->warnings) {
    warned_tea |= w.find("campaign 'Tea' were ignored") != std::string::npos;
    warned_unsent |= w.find("campaign 'Tea week': no send records name it") != std::string::npos;
  }
  EXPECT_TRUE(warned_tea);
  EXPECT_TRUE(warned_unsent);
  EXPECT_FALSE(r->campaigns[1].uplift.measurable);  // a holdout and nobody treated
  EXPECT_EQ(r->campaigns[1].holdout.customers, 1);
}

TEST_F(CampaignReportDataTest, AnOfferThatDoesNotCompileNamesTheCampaign) {
  data::IngestOptions o;
  Write("later.csv", "customer_id,time,product_id,revenue\n1,2025-02-03,p1,1\n");
  o.events.path = Path("later.csv");
  auto purchases = IngestPurchases(o, dir_.path());
  ASSERT_TRUE(purchases.has_value());
  PlanInputs plan;
  sync::PlannedCampaign c;
  c.name = "Coffee";
  c.channel = "email";
  c.send_date = "2025-02-01";
  c.offer = "colour = \"red\"";
  plan.summary.campaigns = {c};
  plan.rows = {{}};
  auto r = BuildCampaignReport(*ds_, plan, {}, *purchases->dataset, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(
      r.error().message().find(
          "summary.json: campaigns[0].offer 'colour = \"red\"' (campaign 'Coffee'): offer: column 1: unknown product "
          "attribute 'colour'"),
      std::string::npos)
      << r.error().message();
  c.offer = "any";
  c.send_date = "2025-02-30x";
  plan.summary.campaigns = {c};
  r = BuildCampaignReport(*ds_, plan, {}, *purchases->dataset, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("send_date"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace cf::analytics
