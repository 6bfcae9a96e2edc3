#include "data/ingest.h"

#include <gtest/gtest.h>
#include <zlib.h>

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
  o.events.path = Write("e2.jsonl",
                        "{\"customer_id\":\"b\",\"time\":\"2024-01-02\",\"product_id\":\"p2\"}\n"
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
            o.events.path +
                ":3: column time: not an ISO 8601 date (e.g. 2017-10-01 or 2017-10-01T12:30:00Z; use "
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
  EXPECT_NE(r.error().message().find("column channel: unknown channel (valid: online, offline;"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("value 'fax'"), std::string::npos);
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
  // Every setting of the command line has a key.
  Write("l.csv", "h;t;r;c\n1;01.07.2024 10:00;2,5;web\n");
  std::string full = Write("full.json",
                           "{\"events\":{\"path\":\"l.csv\",\"encoding\":\"latin1\"},\"map\":{\"customer\":\"h\","
                           "\"time\":\"t\",\"revenue\":\"r\",\"channel\":\"c\"},\"time_format\":\"%d.%m.%Y %H:%M\","
                           "\"timezone\":\"UTC\",\"decimal\":\",\",\"channel_values\":{\"online\":[\"web\"]},"
                           "\"max_bad_rows\":\"1%\",\"rejects\":\"rej.csv\",\"out\":\"full\"}");
  IngestOptions f;
  ASSERT_TRUE(LoadDatasetConfig(full, &f).ok());
  EXPECT_EQ(f.events.encoding, "latin1");
  EXPECT_EQ(f.decimal, ',');
  EXPECT_EQ(f.max_bad_share.value_or(-1), 0.01);
  EXPECT_EQ(f.rejects, dir_ + "/rej.csv");
  ASSERT_EQ(f.channel_values.size(), 1u);
  auto fr = Ingest(f);
  ASSERT_TRUE(fr.has_value()) << fr.error().ToString();
  auto fd = Dataset::Open(dir_ + "/full").value();
  EXPECT_FLOAT_EQ(fd->events().revenue()[0], 2.5f);
  EXPECT_EQ(fd->events().channel()[0], static_cast<uint8_t>(Channel::kOnline));
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
    body += "cust" + std::to_string((int64_t{rows} * 7919) % 50021) + ",2024-0" + std::to_string(1 + rows % 9) + "-1" +
            std::to_string(rows % 10) + "T10:00:00Z,\"p," + std::to_string(rows % 997) + "\"," +
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
TEST_F(IngestTest, DecimalCommasSemicolonsAndNumericAttributes) {
  // A German spreadsheet export: ';'-delimited, decimal commas, thousands points.
  auto o = Options(
      Write("e.csv", "Kunde;Datum;Artikel;Menge;Umsatz\nk1;2024-03-01;a1;1;4,99\nk2;2024-03-02;a2;2;1.234,50\n"));
  o.map = {
      {"customer", "Kunde"}, {"time", "Datum"}, {"product", "Artikel"}, {"quantity", "Menge"}, {"revenue", "Umsatz"}};
  o.products.path = Write("p.csv", "product_id;Preis;Marke\na1;4,99;X\na2;617,25;Y\na3;n/a;Y\na4;1,5;Z\na5;2;Z\n");
  auto plain = Ingest(o);
  ASSERT_FALSE(plain.has_value());  // without the decimal mark, "4,99" is not a number
  EXPECT_NE(plain.error().message().find("e.csv:2: column Umsatz: not a number (it has a decimal comma: set the "
                                         "decimal mark to ',')"),
            std::string::npos)
      << plain.error().message();
  o.decimal = ',';
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = Open();
  const Events& ev = ds->events();
  EXPECT_FLOAT_EQ(ev.revenue()[0], 4.99f);
  EXPECT_FLOAT_EQ(ev.revenue()[1], 1234.5f);
  // The numeric attribute is stored with a decimal point; the one text value is reported.
  const Attribute* price = nullptr;
  for (const Attribute& a : ds->catalog().attributes()) {
    if (a.name == "Preis") price = &a;
  }
  ASSERT_NE(price, nullptr);
  EXPECT_EQ(price->value(0), "4.99");
  EXPECT_EQ(price->value(3), "1.5");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("column Preis holds numbers, but 1 of 5 values are not numbers ('n/a' for product "
                                "'a3')"),
            std::string::npos)
      << r->warnings[0];
}

TEST_F(IngestTest, DecimalCommaAttributesWithoutTheSettingAreReported) {
  auto o = Options(Write("e.csv", "customer_id,time,product_id\nc,2024-01-01,a\n"));
  o.products.path = Write("p.csv", "product_id;price\na;4,99\nb;5,49\nc;3\n");
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("column price: 2 of 3 values are numbers with a decimal comma"), std::string::npos)
      << r->warnings[0];
  EXPECT_NE(r->warnings[0].find("set the decimal mark to ','"), std::string::npos);
}

TEST_F(IngestTest, EpochTwelveHourClocksAndTimeZones) {
  auto epoch = Options(Write("s.csv", "customer_id,time\na,1709251200\nb,1709251200.9\n"));
  epoch.time_format = "epoch";
  ASSERT_TRUE(Ingest(epoch).has_value());
  EXPECT_EQ(Open()->events().time()[0], ParseIsoTime("2024-03-01T00:00:00Z").value());
  auto ms = Options(Write("ms.csv", "customer_id,time\na,1709251200123\n"));
  ms.out = dir_ + "/ms";
  auto bad = Ingest(ms);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("it looks like Unix milliseconds: time format epoch_ms"), std::string::npos)
      << bad.error().message();
  ms.time_format = "epoch_ms";
  ASSERT_TRUE(Ingest(ms).has_value());
  EXPECT_EQ(Dataset::Open(dir_ + "/ms").value()->events().time()[0], ParseIsoTime("2024-03-01T00:00:00Z").value());

  // Naive local times in Paris: winter +1, summer +2; times with an offset keep theirs.
  auto local = Options(Write("l.csv",
                             "customer_id,time\n"
                             "a,01/15/2024 09:30 AM\n"
                             "b,07/15/2024 09:30 PM\n"
                             "c,10/27/2024 02:30 AM\n"));
  local.out = dir_ + "/local";
  local.time_format = "%m/%d/%Y %I:%M %p";
  local.timezone = "Europe/Paris";
  auto r = Ingest(local);
  if (!r.has_value() && r.error().message().find("not found in the tz database") != std::string::npos) {
    GTEST_SKIP() << "no tz database on this machine (package tzdata)";
  }
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = Dataset::Open(dir_ + "/local").value();
  const auto time_of = [&](const char* customer) {
    for (uint32_t c = 0; c < ds->customers().size(); ++c) {
      if (ds->customers().crm_id(c) == customer) return ds->events().time()[ds->events().begin(c)];
    }
    return int64_t{-1};
  };
  EXPECT_EQ(time_of("a"), ParseIsoTime("2024-01-15T08:30:00Z").value());
  EXPECT_EQ(time_of("b"), ParseIsoTime("2024-07-15T19:30:00Z").value());
  // 02:30 happens twice on the night summer time ends: the first (still +2) is taken.
  EXPECT_EQ(time_of("c"), ParseIsoTime("2024-10-27T00:30:00Z").value());
  auto iso = Options(Write("i.csv", "customer_id,time\na,2024-07-01T12:00:00\nb,2024-07-01T12:00:00+00:00\n"));
  iso.out = dir_ + "/iso";
  iso.timezone = "America/New_York";
  ASSERT_TRUE(Ingest(iso).has_value());
  auto di = Dataset::Open(dir_ + "/iso").value();
  EXPECT_EQ(di->events().time()[0], ParseIsoTime("2024-07-01T16:00:00Z").value());
  EXPECT_EQ(di->events().time()[1], ParseIsoTime("2024-07-01T12:00:00Z").value());
  iso.timezone = "Mars/Olympus";
  auto unknown = Ingest(iso);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("time zone 'Mars/Olympus': not found"), std::string::npos);
}

TEST_F(IngestTest, NestedJsonLinesWithKeysAppearingLate) {
  // revenue first appears on line 2 and the customer is nested: both are read.
  auto o =
      Options(Write("e.jsonl",
                    "{\"customer\":{\"id\":\"c1\",\"tags\":[\"x\"]},\"ts\":\"2024-01-01\",\"meta\":{\"src\":\"app\"}}\n"
                    "{\"customer\":{\"id\":\"c2\"},\"ts\":\"2024-01-02\",\"line\":{\"price\":{\"amount\":7.5}}}\n"));
  o.map = {{"customer", "customer.id"}, {"time", "ts"}, {"revenue", "line.price.amount"}};
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = Open();
  ASSERT_EQ(ds->events().size(), 2u);
  EXPECT_EQ(ds->customers().crm_id(1), "c2");
  EXPECT_FLOAT_EQ(ds->events().revenue()[1], 7.5f);
}

TEST_F(IngestTest, ChannelValuesEmailAliasAndDuplicates) {
  auto o = Options(
      Write("e.csv", "customer_id,time,channel\na,2024-01-01,Web\nb,2024-01-02,filiale\nc,2024-01-03,online\n"));
  o.channel_values = {{"online", "web"}, {"online", "shop"}, {"offline", "store"}, {"offline", "Filiale"}};
  o.customers.path = Write("cu.csv",
                           "customer_id,Mail,external_id,aliases\n"
                           "a,a@example.com,E1,crm:1\n"
                           "b,b@example.com,E1,\n"
                           "a,other@example.com,E9,\n");
  o.customer_map = {{"email", "Mail"}};
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto ds = Open();
  const Events& ev = ds->events();
  EXPECT_EQ(ev.channel()[ev.begin(0)], static_cast<uint8_t>(Channel::kOnline));
  EXPECT_EQ(ev.channel()[ev.begin(1)], static_cast<uint8_t>(Channel::kOffline));
  EXPECT_EQ(ds->customers().aliases(0), "crm:1\nemail:a@example.com");
  EXPECT_EQ(ds->customers().external_id(0), "E1");
  EXPECT_EQ(ds->customers().external_id(1), "");  // E1 belongs to a: first wins
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_NE(r->warnings[0].find("cu.csv: 1 row repeats a customer id of an earlier row (line 4 repeats 'a' of line 2)"),
            std::string::npos)
      << r->warnings[0];
  EXPECT_NE(r->warnings[1].find("1 row gives an external_id that already belongs to another customer (line 3: 'E1' of "
                                "customer 'a' given to 'b')"),
            std::string::npos)
      << r->warnings[1];
  o.channel_values = {{"web", "online"}};
  EXPECT_NE(o.Validate().message().find("channel_values: 'web=online' maps to an unknown channel"), std::string::npos);
}

TEST_F(IngestTest, DuplicateProductIdsKeepTheFirstRow) {
  auto o = Options(Write("e.csv", "customer_id,time,product_id\nc,2024-01-01,p1\n"));
  o.products.path = Write("p.csv", "product_id,brand\np1,Alpha\np2,Beta\np1,Gamma\n");
  auto r = Ingest(o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Open()->catalog().attributes()[0].value(0), "Alpha");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("1 row repeats a product id of an earlier row (line 4 repeats 'p1' of line 2)"),
            std::string::npos);
}

TEST_F(IngestTest, BadRowLimitsReasonsAndRejects) {
  std::string body = "customer_id,time,revenue\n";
  for (int i = 0; i < 100; ++i) {
    body +=
        "c" + std::to_string(i) + "," + (i % 10 == 3 ? "soon" : "2024-01-01") + "," + (i % 25 == 7 ? "x" : "1") + "\n";
  }
  auto o = Options(Write("e.csv", body));  // 10 bad times, 4 bad revenues, 14 bad rows in 100
  o.rejects = dir_ + "/rejects.csv";
  ASSERT_TRUE(ParseBadRowLimit("10", &o).ok());
  auto over = Ingest(o);
  ASSERT_FALSE(over.has_value());
  EXPECT_NE(over.error().message().find("14 bad rows, more than the limit of 10 (max_bad_rows); nothing was written"),
            std::string::npos)
      << over.error().message();
  EXPECT_NE(over.error().message().find("10 x column time: not an ISO 8601 date"), std::string::npos);
  EXPECT_NE(over.error().message().find("4 x column revenue: not a number"), std::string::npos);
  EXPECT_FALSE(PathExists(dir_ + "/ds"));
  const std::string rejects = ReadFile(o.rejects).value();
  EXPECT_EQ(std::count(rejects.begin(), rejects.end(), '\n'), 15);
  EXPECT_NE(rejects.find(dir_ + "/e.csv,5,column time: not an ISO 8601 date"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find(",\"c3,soon,1\"\n"), std::string::npos) << rejects;

  IngestOptions share = o;
  share.max_bad_rows.reset();
  ASSERT_TRUE(ParseBadRowLimit("15%", &share).ok());
  auto ok = Ingest(share);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(ok->events_read, 86u);
  EXPECT_EQ(ok->bad_rows, 14u);
  ASSERT_EQ(ok->bad_row_reasons.size(), 2u);
  EXPECT_EQ(ok->bad_row_reasons[0].second, 10u);
  share.max_bad_share = 0.1;
  share.out = dir_ + "/ds2";
  EXPECT_NE(Ingest(share).error().message().find("14 bad rows of 100 (14%), more than the limit of 10%"),
            std::string::npos);
  EXPECT_FALSE(ParseBadRowLimit("lots", &share).ok());

  // Skipping every row is not a success.
  auto all = Options(Write("all.csv", "customer_id,time\na,never\nb,never\n"));
  all.out = dir_ + "/ds3";
  all.skip_bad_rows = true;
  auto none = Ingest(all);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("all.csv: every one of its 2 rows is bad"), std::string::npos);
  EXPECT_FALSE(PathExists(dir_ + "/ds3"));
}

TEST_F(IngestTest, SameEventsFileTwiceIsIngestedOnce) {
  auto o = Options(Write("day1.csv", "customer_id,time,revenue\na,2024-01-01,3\nb,2024-01-01,4\n"));
  ASSERT_TRUE(Ingest(o).has_value());
  auto again = Ingest(o);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_TRUE(again->events_already_ingested);
  EXPECT_EQ(again->events, 2u);
  EXPECT_EQ(Open()->events().size(), 2u);
  // The same content under another name is the same batch; a new day is added.
  const std::string copy = Write("day1-copy.csv", ReadFile(o.events.path).value());
  o.events.path = copy;
  EXPECT_TRUE(Ingest(o).value().events_already_ingested);
  const std::string body = ReadFile(copy).value();
  o.events.path = dir_ + "/day1.csv.gz";  // and so is it gzip-compressed
  gzFile f = gzopen(o.events.path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
  gzclose(f);
  EXPECT_TRUE(Ingest(o).value().events_already_ingested);
  EXPECT_EQ(Open()->events().size(), 2u);
  o.events.path = Write("day2.csv", "customer_id,time,revenue\na,2024-01-02,5\n");
  auto day2 = Ingest(o);
  ASSERT_TRUE(day2.has_value());
  EXPECT_FALSE(day2->events_already_ingested);
  EXPECT_EQ(Open()->events().size(), 3u);
  auto meta = ReadMeta(dir_ + "/ds");
  ASSERT_TRUE(meta.has_value());
  ASSERT_EQ(meta->batches.size(), 2u);
  EXPECT_EQ(meta->batches[0].file, "day1.csv");
  EXPECT_EQ(meta->batches[1].events, 1u);
}

TEST_F(IngestTest, GzipStreamedIngestMatchesPlain) {
  std::string body = "customer_id,time,product_id,revenue\n";
  for (int i = 0; i < 200000; ++i) {
    body += "c" + std::to_string(i % 997) + ",2024-01-" + std::to_string(10 + i % 19) + ",p" + std::to_string(i % 13) +
            "," + std::to_string(i % 50) + ".5\n";
  }
  const std::string plain = Write("e.csv", body);
  const std::string gz = dir_ + "/e-gz.csv";  // no .gz suffix: known by its bytes
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
  gzclose(f);
  auto a = Options(plain);
  ASSERT_TRUE(Ingest(a).has_value());
  auto b = Options(gz);
  b.out = dir_ + "/gz";
  auto r = Ingest(b);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  auto da = Open();
  auto db = Dataset::Open(dir_ + "/gz").value();
  ASSERT_EQ(da->events().size(), db->events().size());
  for (size_t i = 0; i < da->events().size(); i += 997) {
    ASSERT_EQ(da->events().time()[i], db->events().time()[i]);
    ASSERT_EQ(da->events().revenue()[i], db->events().revenue()[i]);
  }
}

TEST_F(IngestTest, TruncatedGzipFailsEvenWhenSkippingBadRows) {
  std::string body = "customer_id,time\n";
  for (int i = 0; i < 100000; ++i) body += "c" + std::to_string(i * 7919 % 100003) + ",2024-01-01\n";
  const std::string gz = dir_ + "/cut.csv.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
  gzclose(f);
  const std::string whole = ReadFile(gz).value();
  ASSERT_TRUE(WriteFileAtomic(gz, whole.substr(0, whole.size() / 2)).ok());
  auto o = Options(gz);
  o.skip_bad_rows = true;  // a cut file is not a bad row: nothing may load from it silently
  auto r = Ingest(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("cut.csv.gz: the gzip stream is truncated"), std::string::npos)
      << r.error().message();
  EXPECT_FALSE(PathExists(dir_ + "/ds"));
}

TEST_F(IngestTest, CompleteJourneySample) {
  const std::string data = std::string(CF_SOURCE_DIR) + "/../shared/data/completejourney/";
  if (!PathExists(data + "transactions_sample.csv")) GTEST_SKIP() << "shared data not present";
  IngestOptions o;
  o.events.path = data + "transactions_sample.csv";
  o.products.path = data + "products.csv";
  o.map = {{"customer", "household_id"}, {"product", "product_id"},  {"time", "transaction_timestamp"},
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
