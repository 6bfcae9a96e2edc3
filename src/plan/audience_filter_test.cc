#include "plan/audience_filter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "base/files.h"
#include "data/ingest.h"

namespace cf::plan {
namespace {

class AudienceFilterTest : public ::testing::Test {
 protected:
  // Ingests `customers_csv` (customer_id first) with one purchase per customer.
  std::unique_ptr<data::Dataset> Ingest(const std::string& customers_csv) {
    EXPECT_TRUE(scratch_.ok()) << scratch_.status().ToString();
    const std::string dir = scratch_.path() + "/" + std::to_string(++runs_);
    EXPECT_TRUE(CreateDirectories(dir).ok());
    std::string events = "customer_id,time,product_id\n";
    size_t line_start = customers_csv.find('\n') + 1;
    while (line_start < customers_csv.size()) {
      const size_t end = customers_csv.find('\n', line_start);
      const std::string line = customers_csv.substr(line_start, end - line_start);
      events += line.substr(0, line.find(',')) + ",2024-01-01,p1\n";
      line_start = end == std::string::npos ? customers_csv.size() : end + 1;
    }
    EXPECT_TRUE(WriteFileAtomic(dir + "/customers.csv", customers_csv).ok());
    EXPECT_TRUE(WriteFileAtomic(dir + "/events.csv", events).ok());
    data::IngestOptions o;
    o.events.path = dir + "/events.csv";
    o.customers.path = dir + "/customers.csv";
    o.out = dir + "/ds";
    auto r = data::Ingest(o);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    auto ds = data::Dataset::Open(o.out);
    EXPECT_TRUE(ds.has_value()) << ds.error().ToString();
    return ds.has_value() ? std::move(*ds) : nullptr;
  }

  // The crm ids an expression selects, joined by spaces, in customer order.
  std::string Selected(const data::Dataset& ds, std::string_view expr) {
    Result<std::vector<uint8_t>> m = SelectCustomers(expr, ds.customers());
    EXPECT_TRUE(m.has_value()) << expr << ": " << m.error().ToString();
    if (!m.has_value()) return "<error>";
    EXPECT_EQ(m->size(), ds.customers().size());
    std::vector<std::string> ids;
    for (uint32_t c = 0; c < m->size(); ++c) {
      if ((*m)[c]) ids.emplace_back(ds.customers().crm_id(c));
    }
    std::sort(ids.begin(), ids.end());
    std::string out;
    for (const std::string& id : ids) out += (out.empty() ? "" : " ") + id;
    return out;
  }

  TempDirectory scratch_{"audience-filter-test"};
  int runs_ = 0;
};

constexpr const char* kCustomers =
    "customer_id,region,age,opt_in_email,Push_Opt_In\n"
    "a,North,25,true,YES\n"
    "b,South,41,false,no\n"
    "c,North,67,1,y\n"
    "d,,33,Y, Yes \n"
    "e,East,old,0,\n";

TEST_F(AudienceFilterTest, EvaluatesTheGrammarOverCustomerAttributes) {
  auto ds = Ingest(kCustomers);
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(Selected(*ds, ""), "a b c d e");
  EXPECT_EQ(Selected(*ds, "any"), "a b c d e");
  EXPECT_EQ(Selected(*ds, "region = \"North\""), "a c");
  EXPECT_EQ(Selected(*ds, "region == North"), "a c");
  EXPECT_EQ(Selected(*ds, "region != \"North\""), "b d e");  // a missing region is not North
  EXPECT_EQ(Selected(*ds, "region in (South, East)"), "b e");
  EXPECT_EQ(Selected(*ds, "region not in (South, East)"), "a c d");
  EXPECT_EQ(Selected(*ds, "region = North and age >= 30"), "c");
  EXPECT_EQ(Selected(*ds, "region = South or age < 30"), "a b");
  EXPECT_EQ(Selected(*ds, "not (region = North or region = South)"), "d e");
  EXPECT_EQ(Selected(*ds, "age > 30"), "b c d");  // "old" is not a number
  EXPECT_EQ(Selected(*ds, "age <= 33"), "a d");
  EXPECT_EQ(Selected(*ds, "region = \"\""), "d");
}

TEST_F(AudienceFilterTest, ErrorsNameTheAttributeAndTheValidOnes) {
  auto ds = Ingest(kCustomers);
  ASSERT_NE(ds, nullptr);
  auto error = [&](std::string_view expr) {
    Result<std::vector<uint8_t>> m = SelectCustomers(expr, ds->customers());
    EXPECT_FALSE(m.has_value()) << expr;
    return m.has_value() ? std::string() : m.error().message();
  };
  EXPECT_EQ(error("regoin = North"),
            "audience: column 1: unknown customer attribute 'regoin'; valid: region, age, opt_in_email, Push_Opt_In");
  EXPECT_EQ(error("region = Nroth"),
            "audience: column 1: no customer has region \"Nroth\"; values: \"North\", \"South\", \"East\"");
  EXPECT_EQ(error("age > old"), "audience: column 1: expected a number to compare age with, found 'old'");
  EXPECT_NE(error("region = ").find("audience: column 10: expected a value"), std::string::npos);
}

TEST_F(AudienceFilterTest, FindsOptInColumnsAndReadsYes) {
  auto ds = Ingest(kCustomers);
  ASSERT_NE(ds, nullptr);
  const data::Customers& people = ds->customers();
  const data::Attribute* email = OptInColumn(people, Channel::kEmail);
  const data::Attribute* push = OptInColumn(people, Channel::kPush);
  ASSERT_NE(email, nullptr);
  ASSERT_NE(push, nullptr);
  EXPECT_EQ(email->name, "opt_in_email");
  EXPECT_EQ(push->name, "Push_Opt_In");  // the email_opt_in style, in any case
  EXPECT_EQ(OptInColumn(people, Channel::kSms), nullptr);
  std::string email_yes, push_yes;
  for (uint32_t c = 0; c < people.size(); ++c) {
    if (IsOptedIn(*email, c)) email_yes += people.crm_id(c);
    if (IsOptedIn(*push, c)) push_yes += people.crm_id(c);
  }
  std::sort(email_yes.begin(), email_yes.end());
  std::sort(push_yes.begin(), push_yes.end());
  EXPECT_EQ(email_yes, "acd");
  EXPECT_EQ(push_yes, "acd");
}

TEST_F(AudienceFilterTest, NoCustomerAttributesIsNamedInTheError) {
  auto ds = Ingest("customer_id\nx\ny\n");
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(Selected(*ds, ""), "x y");
  Result<std::vector<uint8_t>> m = SelectCustomers("region = North", ds->customers());
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("valid: none"), std::string::npos) << m.error().message();
}

}  // namespace
}  // namespace cf::plan
