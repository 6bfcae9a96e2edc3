#include "data/ingest.h"

#include <gtest/gtest.h>

#include "base/files.h"
#include "base/time.h"
#include "data/dataset.h"

namespace cf::data {
namespace {

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(scratch_.ok()) << scratch_.status().ToString(); }

  std::string Write(const std::string& name, const std::string& body) {
    std::string p = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(p, body).ok());
    return p;
  }
  IngestOptions Options(const std::string& events) {
    IngestOptions o;
    o.events.path = events;
    o.out = dir_ + "/ds";
    return o;
  }
  std::unique_ptr<Dataset> Open() {
    auto ds = Dataset::Open(dir_ + "/ds");
    EXPECT_TRUE(ds.has_value()) << ds.error().ToString();
    return ds.has_value() ? std::move(*ds) : nullptr;
  }

  TempDirectory scratch_{"ingest-test"};
  const std::string dir_ = scratch_.path();
};

TEST_F(IngestTest, EventsOnlySortedByCustomerThenTime) {
  auto o = Options(Write("e.csv",
                         "customer_id,time,product_id,quantity,revenue,channel,store_id\n"
                         "b,2024-01-03,p1,1,2.5,online,\n"
                         "a,2024-01-05,p2,2,4,offline,s1\n"
                         "b,2024-01-01T10:00:00+02:00,p2,1,2,OFFLINE,s2\n"
                         "a,2024-01-02,p1,1,2.5,,\n"));
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->events, 4u);
  auto ds = Open();
  ASSERT_TRUE(ds);
  const Events& ev = ds->events();
  ASSERT_EQ(ds->customers().size(), 2u);
  EXPECT_EQ(ds->customers().crm_id(0), "b");  // dense in order of first appearance
  EXPECT_EQ(ev.begin(0), 0u);
  EXPECT_EQ(ev.end(0), 2u);
  EXPECT_EQ(ev.time()[0], ParseIsoTime("2024-01-01T08:00:00Z").value());
  EXPECT_EQ(ev.time()[1], ParseIsoTime("2024-01-03").value());
  EXPECT_EQ(ev.time()[2], ParseIsoTime("2024-01-02").value());
  EXPECT_EQ(ev.channel()[0], static_cast<uint8_t>(Channel::kOffline));
  EXPECT_EQ(ev.channel()[2], static_cast<uint8_t>(Channel::kUnknown));
  EXPECT_EQ(ev.stores()[ev.store()[0]], "s2");
  EXPECT_EQ(ev.quantity()[3], 2.0f);
  EXPECT_EQ(ds->catalog().size(), 2u);  // derived from the events
  EXPECT_TRUE(ds->has_products());
  EXPECT_EQ(ds->catalog().product_id(ev.product()[3]), "p2");
  EXPECT_EQ(ds->first_time(), ev.time()[0]);
}

TEST_F(IngestTest, NoProductColumnMeansBarePurchases) {
  auto r = Ingest(Options(Write("e.csv", "customer,date\nx,2024-02-01\ny,2024-02-02\n")));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = Open();
  EXPECT_FALSE(ds->has_products());
  EXPECT_EQ(ds->catalog().size(), 0u);
  EXPECT_EQ(ds->events().product()[0], kNoProduct);
}

TEST_F(IngestTest, ProductsAndCustomersFiles) {
  auto o = Options(Write("e.csv", "cust,ts,item,amount\nc1,01/02/2024,A,3\nc2,02/02/2024,Z,1\n"));
  o.map = {{"customer", "cust"}, {"time", "ts"}, {"product", "item"}, {"revenue", "amount"}};
  o.time_format = "%d/%m/%Y";
  o.products.path = Write("p.csv", "sku,category,brand\nA,drinks,acme\nB,food,\"Smith, Inc\"\n");
  o.product_key = "sku";
  o.customers.path = Write("c.csv",
                           "id,external_id,device_id,aliases,opt_in_email\n"
                           "c1,E1,,email:c1@x.com,true\n"
                           "c3,,d-3,,false\n");
  o.customer_key = "id";
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = Open();
  const Catalog& cat = ds->catalog();
  EXPECT_EQ(cat.size(), 3u);  // A, B, and Z met only in events
  const Attribute* category = cat.FindAttribute("category");
  ASSERT_NE(category, nullptr);
  EXPECT_EQ(category->value(*cat.FindProduct("A")), "drinks");
  EXPECT_EQ(category->value(*cat.FindProduct("Z")), "");
  EXPECT_EQ(cat.FindAttribute("brand")->value(*cat.FindProduct("B")), "Smith, Inc");
  const Customers& cu = ds->customers();
  EXPECT_EQ(cu.size(), 3u);
  uint32_t c1 = *cu.Find("c1");
  EXPECT_EQ(cu.external_id(c1), "E1");
  EXPECT_EQ(cu.aliases(c1), "email:c1@x.com");
  EXPECT_EQ(cu.device_id(*cu.Find("c3")), "d-3");
  EXPECT_EQ(cu.FindAttribute("opt_in_email")->value(c1), "true");
  EXPECT_EQ(ds->events().time()[ds->events().begin(c1)], ParseIsoTime("2024-02-01").value());
}

TEST_F(IngestTest, AppendKeepsWhatWasThere) {
  auto o = Options(Write("e1.csv", "customer_id,time,product_id\na,2024-01-01,p1\n"));
  ASSERT_TRUE(Ingest(o).has_value());
  o.events.path = Write("e2.jsonl", "{\"customer_id\":\"b\",\"time\":\"2024-01-02\",\"product_id\":\"p2\"}\n"
                                    "{\"customer_id\":\"a\",\"time\":\"2023-12-31\",\"product_id\":\"p2\"}\n");
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->events_read, 2u);
  auto ds = Open();
  EXPECT_EQ(ds->events().size(), 3u);
  EXPECT_EQ(ds->customers().size(), 2u);
  EXPECT_EQ(ds->catalog().size(), 2u);
  EXPECT_EQ(ds->events().end(0) - ds->events().begin(0), 2u);
  EXPECT_EQ(ds->events().time()[0], ParseIsoTime("2023-12-31").value());
}

TEST_F(IngestTest, BadRowStopsAndWritesNothing) {
  auto o = Options(Write("e.csv", "customer_id,time,quantity\na,2024-01-01,1\nb,2024-13-01,1\n"));
  auto r = Ingest(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().substr(0, r.error().message().find(",")),
            o.events.path + ":3: column time: not an ISO 8601 date (e.g. 2017-10-01 or 2017-10-01T12:30:00Z; use "
                            "--time-format for other layouts)");
  EXPECT_NE(r.error().message().find("value '2024-13-01'"), std::string::npos);
  EXPECT_FALSE(PathExists(dir_ + "/ds"));
}

TEST_F(IngestTest, FailedAppendLeavesDatasetUntouched) {
  auto o = Options(Write("e1.csv", "customer_id,time\na,2024-01-01\n"));
  ASSERT_TRUE(Ingest(o).has_value());
  o.events.path = Write("e2.csv", "customer_id,time,quantity\nb,2024-01-02,-1\n");
  auto r = Ingest(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find(":2: column quantity: negative quantity"), std::string::npos);
  EXPECT_EQ(Open()->events().size(), 1u);
}

TEST_F(IngestTest, SkipBadRowsCountsAndLoadsTheRest) {
  std::string body = "customer_id,time,quantity,revenue\n";
  for (int i = 0; i < 15; ++i) body += "c" + std::to_string(i) + ",2024-01-01,x,1\n";
  body += "ok,2024-01-01,1,1\n\"broken,2024-01-01,1,1\n";
  auto o = Options(Write("e.csv", body));
  o.skip_bad_rows = true;
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->events_read, 1u);
  EXPECT_EQ(r->bad_rows, 16u);
  ASSERT_EQ(r->first_bad_rows.size(), 10u);
  EXPECT_EQ(r->first_bad_rows[0], o.events.path + ":2: column quantity: not a number, value 'x'");
}

TEST_F(IngestTest, ClearErrorsForColumnsAndMapping) {
  auto missing = Options(Write("a.csv", "who,when\nx,2024-01-01\n"));
  auto r = Ingest(missing);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("no column for the required field 'customer'"), std::string::npos);
  missing.map = {{"customer", "who"}, {"time", "nope"}};
  r = Ingest(missing);
  EXPECT_NE(r.error().message().find("mapped column 'nope' for field 'time' does not exist (columns: who, when)"),
            std::string::npos);
  missing.map = {{"buyer", "who"}};
  r = Ingest(missing);
  EXPECT_NE(r.error().message().find("unknown field 'buyer'"), std::string::npos);
  auto dup = Options(Write("b.csv", "customer_id,time,time\nx,2024-01-01,2024-01-01\n"));
  r = Ingest(dup);
  EXPECT_NE(r.error().message().find("duplicated column name 'time'"), std::string::npos);
  auto channel = Options(Write("c.csv", "customer_id,time,channel\nx,2024-01-01,fax\n"));
  r = Ingest(channel);
  EXPECT_NE(r.error().message().find("column channel: unknown channel (valid: online, offline), value 'fax'"),
            std::string::npos);
  auto alias = Options(Write("d.csv", "customer_id,time\nx,2024-01-01\n"));
  alias.customers.path = Write("cu.csv", "customer_id,aliases\nx,justaname\n");
  r = Ingest(alias);
  EXPECT_NE(r.error().message().find(":2: column aliases: an alias must be label:name"), std::string::npos);
}

TEST_F(IngestTest, DatasetConfigFile) {
  Write("e.csv", "h,t,p\n1,2024-01-01,x\n");
  std::string cfg = Write("dataset.json",
                          "{\"events\":\"e.csv\",\"map\":{\"customer\":\"h\",\"time\":\"t\",\"product\":\"p\"},"
                          "\"out\":\"ds\"}");
  IngestOptions o;
  ASSERT_TRUE(LoadDatasetConfig(cfg, &o).ok());
  EXPECT_EQ(o.out, dir_ + "/ds");
  ASSERT_TRUE(Ingest(o).has_value());
  EXPECT_EQ(Open()->events().size(), 1u);
  std::string bad = Write("bad.json", "{\"event\":\"e.csv\"}");
  Status s = LoadDatasetConfig(bad, &o);
  EXPECT_NE(s.message().find("unknown key 'event'"), std::string::npos);
}

TEST_F(IngestTest, ParallelReadMatchesErrorsAndOrderOfASequentialRead) {
  // Large enough (> 16 MB) to be parsed in parts.
  std::string body = "customer_id,time,product_id,revenue,store_id\n";
  body.reserve(24 << 20);
  int rows = 0;
  while (body.size() < (20 << 20)) {
    body += "cust" + std::to_string((rows * 7919) % 50021) + ",2024-0" + std::to_string(1 + rows % 9) +
            "-1" + std::to_string(rows % 10) + "T10:00:00Z,\"p," + std::to_string(rows % 997) + "\"," +
            std::to_string(rows % 13) + ".5,s" + std::to_string(rows % 5) + "\n";
    ++rows;
  }
  auto o = Options(Write("big.csv", body));
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->events_read, static_cast<uint64_t>(rows));
  auto ds = Open();
  const Customers& cu = ds->customers();
  EXPECT_EQ(cu.crm_id(0), "cust0");  // dense ids in order of first appearance in the file
  EXPECT_EQ(cu.crm_id(1), "cust7919");
  EXPECT_EQ(ds->catalog().product_id(2), "p,2");
  double revenue = 0;
  for (float v : ds->events().revenue()) revenue += v;
  double expected = 0;
  for (int i = 0; i < rows; ++i) expected += i % 13 + 0.5;
  EXPECT_DOUBLE_EQ(revenue, expected);

  // A bad row near the end is reported with its true line number.
  body += "late,not-a-date,x,1,s\n";
  o.events.path = Write("big2.csv", body);
  o.out = dir_ + "/ds2";
  auto bad = Ingest(o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("big2.csv:" + std::to_string(rows + 2) + ": column time"), std::string::npos)
      << bad.error().message();
}

// The acceptance test of the foundation issue: the real completejourney sample.
TEST_F(IngestTest, CompleteJourneySample) {
  const std::string data = std::string(CF_SOURCE_DIR) + "/../shared/data/completejourney/";
  if (!PathExists(data + "transactions_sample.csv")) GTEST_SKIP() << "shared data not present";
  IngestOptions o;
  o.events.path = data + "transactions_sample.csv";
  o.products.path = data + "products.csv";
  o.map = {{"customer", "household_id"}, {"product", "product_id"}, {"time", "transaction_timestamp"},
           {"quantity", "quantity"},     {"revenue", "sales_value"}, {"store", "store_id"}};
  o.out = dir_ + "/ds";
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = Open();
  EXPECT_EQ(ds->events().size(), 75000u);
  EXPECT_EQ(ds->customers().size(), 2377u);
  EXPECT_GE(ds->catalog().size(), 92331u);
  EXPECT_NE(ds->catalog().FindAttribute("product_category"), nullptr);
  EXPECT_EQ(FormatIsoDate(ds->first_time()).substr(0, 4), "2017");
  for (uint32_t c = 0; c < ds->customers().size(); ++c) {
    for (uint64_t i = ds->events().begin(c) + 1; i < ds->events().end(c); ++i) {
      ASSERT_LE(ds->events().time()[i - 1], ds->events().time()[i]);
    }
  }
}

}  // namespace
}  // namespace cf::data
