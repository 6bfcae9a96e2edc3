#include "analytics/report_output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cf::analytics {
namespace {

TEST(ReportOutputTest, MoneyAndCountsReadAsPeopleWriteThem) {
  EXPECT_EQ(FormatMoney(9870, "€", true), "+€9,870");
  EXPECT_EQ(FormatMoney(-50, "€", true), "-€50.00");
  EXPECT_EQ(FormatMoney(1.254, "$"), "$1.25");
  EXPECT_EQ(FormatMoney(1234567.4, "SEK"), "1,234,567 SEK");
  EXPECT_EQ(FormatMoney(0, "€", true), "€0.00");
  EXPECT_EQ(FormatMoney(-93.96, "€", true, 393), "-€94");  // beside a larger amount, one precision
  EXPECT_EQ(FormatCount(312.4, true), "+312");
  EXPECT_EQ(FormatCount(-1234.6), "-1,235");
  EXPECT_EQ(FormatCount(-0.4, true), "0");
  EXPECT_FALSE(OutputOptions{.currency = ""}.Validate().ok());
  EXPECT_TRUE(OutputOptions{.currency = "EUR"}.Validate().ok());
}

CampaignResult Measured() {
  CampaignResult r;
  r.campaign.name = "Coffee";
  r.treated.customers = 4500;
  r.holdout.customers = 500;
  r.uplift.measurable = true;
  r.uplift.buyers = {312, 180, 440};
  r.uplift.revenue = {9870, 2100, 17600};
  r.uplift.online_revenue = {3849.3, -100, 8000};
  r.uplift.offline_revenue = {6020.7, 900, 11000};
  return r;
}

TEST(ReportOutputTest, HeadlineInPlainWords) {
  EXPECT_EQ(Headline(Measured(), 0.95, {}),
            "+312 buyers (95% CI 180 to 440), +€9,870 revenue (€2,100 to €17,600), 61% of it in stores.");
  CampaignResult r = Measured();
  r.uplift.buyers = {20, -5, 45};
  r.uplift.revenue = {149, -93.96, 393};
  r.uplift.offline_revenue.estimate = -10;  // no meaningful share of a lift that stores lost
  EXPECT_EQ(Headline(r, 0.95, {.currency = "$"}),
            "+20 buyers (95% CI -5 to 45), +$149 revenue (-$94 to $393) — not significant: the buyers' interval "
            "includes 0.");
  r.uplift.measurable = false;
  r.holdout.customers = 0;
  EXPECT_EQ(Headline(r, 0.95, {}), "Not measurable: 4,500 treated and 0 holdout customers (both are needed).");
}

TEST(ReportOutputTest, JsonHasTheIssuesKeysAndNullsWhatCannotBeMeasured) {
  CampaignReport report;
  report.plan = "Week";
  report.campaigns = {Measured(), Measured()};
  report.campaigns[1].uplift.measurable = false;
  report.uplift = report.campaigns[0].uplift;
  const nlohmann::json j = nlohmann::json::parse(ReportJson(report, {}));
  const nlohmann::json& c = j["campaigns"][0];
  for (const char* key : {"customers", "buyers", "revenue", "online_revenue", "offline_revenue"}) {
    EXPECT_TRUE(c["treated"].contains(key)) << key;
    EXPECT_TRUE(c["holdout"].contains(key)) << key;
  }
  EXPECT_EQ(c["incremental_buyers"]["estimate"], 312);
  EXPECT_EQ(c["incremental_buyers"]["ci_low"], 180);
  EXPECT_EQ(c["incremental_revenue"]["ci_high"], 17600);
  EXPECT_EQ(c["significant"], true);
  EXPECT_TRUE(c.contains("predicted_buyers"));
  EXPECT_TRUE(j["campaigns"][1]["incremental_buyers"]["estimate"].is_null());
  EXPECT_EQ(j["campaigns"][1]["significant"], false);
  EXPECT_EQ(j["total"]["incremental_buyers"]["estimate"], 312);
  const std::string html = ReportHtml(report, {});
  EXPECT_NE(html.find("61% of it in stores"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace cf::analytics
