#include "offer/offer.h"

#include <gtest/gtest.h>

#include "base/files.h"
#include "data/ingest.h"

namespace cf::offer {
namespace {

TEST(ParseOfferTest, PrecedenceAndForms) {
  auto e = ParseOffer(R"(brand in ("A", 'B') and department != "PRODUCE" or not product_id in (1, 2))");
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  ASSERT_EQ(e->kind, Expr::Kind::kOr);  // and binds tighter than or
  ASSERT_EQ(e->children.size(), 2u);
  const Expr& conj = e->children[0];
  ASSERT_EQ(conj.kind, Expr::Kind::kAnd);
  EXPECT_EQ(conj.children[0].op, Op::kIn);
  EXPECT_EQ(conj.children[0].values, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(conj.children[1].op, Op::kNe);
  EXPECT_EQ(e->children[1].kind, Expr::Kind::kNot);
  EXPECT_EQ(e->children[1].children[0].values, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(ParseOffer("ANY")->kind, Expr::Kind::kAny);
  EXPECT_EQ(ParseOffer("(x = 1)")->kind, Expr::Kind::kCompare);
  EXPECT_EQ(ParseOffer("price >= 2.5")->op, Op::kGe);
  EXPECT_EQ(ParseOffer("x not in (a)")->op, Op::kNotIn);
  EXPECT_EQ(ParseOffer(R"(x = "say ""hi""")")->values[0], R"(say "hi")");
  // Names and bare values in other scripts, as a catalog's columns and values come.
  auto korean = ParseOffer("카테고리 = 과일 and größe in (\"XL\", L)");
  ASSERT_TRUE(korean.has_value()) << korean.error().ToString();
  EXPECT_EQ(korean->children[0].column, "카테고리");
  EXPECT_EQ(korean->children[0].values, (std::vector<std::string>{"과일"}));
  EXPECT_EQ(korean->children[1].column, "größe");
}

TEST(ParseOfferTest, SyntaxErrorsNameTheColumnAndWhatWasExpected) {
  auto expect_error = [](std::string_view text, std::string_view fragment) {
    auto e = ParseOffer(text);
    ASSERT_FALSE(e.has_value()) << text;
    EXPECT_NE(e.error().message().find(fragment), std::string::npos) << e.error().message();
  };
  expect_error(R"(product_category = )", "column 20: expected a value");
  expect_error(R"(brand in ("A" "B"))", "column 15: expected ',' or ')'");
  expect_error(R"(brand "A")", "column 7: expected a comparison after 'brand'");
  expect_error(R"((brand = "A")", "column 13: expected ')' to close the '(' at column 1");
  expect_error(R"(brand = "A)", "column 9: expected a closing \"");
  expect_error(R"(brand = "A" department = "B")", "column 13: expected 'and', 'or' or the end");
  expect_error("", "expected an offer expression");
  expect_error("brand ! 'A'", "expected '!='");
  expect_error("and", "column 1: expected an attribute name");
}

class CompileOfferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(scratch_.ok()) << scratch_.status().ToString();
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/products.csv",
                                "product_id,department,category,brand,price\n"
                                "1,PRODUCE,FRUIT,A,1.5\n"
                                "2,PRODUCE,BANANAS,B,0.5\n"
                                "3,DRINKS,SOFT DRINKS,A,2\n"
                                "4,DRINKS,SOFT DRINKS,C,3\n"
                                "5,DAIRY,MILK,B,1\n")
                    .ok());
    ASSERT_TRUE(
        WriteFileAtomic(dir_ + "/events.csv", "customer_id,time,product_id\nc1,2024-01-01,1\nc2,2024-01-02,3\n").ok());
    data::IngestOptions o;
    o.events.path = dir_ + "/events.csv";
    o.products.path = dir_ + "/products.csv";
    o.out = dir_ + "/ds";
    auto r = data::Ingest(o);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    auto ds = data::Dataset::Open(o.out);
    ASSERT_TRUE(ds.has_value()) << ds.error().ToString();
    ds_ = std::move(*ds);
  }

  // The product ids an offer covers, in catalog order.
  std::vector<std::string> Ids(std::string_view text) {
    auto set = CompileOffer(text, ds_->catalog());
    EXPECT_TRUE(set.has_value()) << text << ": " << set.error().ToString();
    std::vector<std::string> ids;
    if (set.has_value()) {
      for (uint32_t p = 0; p < ds_->catalog().size(); ++p) {
        if (set->Contains(p)) {
          ids.emplace_back(ds_->catalog().product_id(p));
        }
      }
      std::sort(ids.begin(), ids.end());
    }
    return ids;
  }

  TempDirectory scratch_{"offer-test"};
  const std::string dir_ = scratch_.path();
  std::unique_ptr<data::Dataset> ds_;
};

TEST_F(CompileOfferTest, CompilesToProductSets) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Ids(R"(category = "SOFT DRINKS")"), (V{"3", "4"}));
  EXPECT_EQ(Ids(R"(brand in ("A", "B") and department != "PRODUCE")"), (V{"3", "5"}));
  EXPECT_EQ(Ids("product_id in (1, 2, 5)"), (V{"1", "2", "5"}));
  EXPECT_EQ(Ids(R"(department = "PRODUCE" and not category = "BANANAS")"), (V{"1"}));
  EXPECT_EQ(Ids("price >= 2"), (V{"3", "4"}));
  EXPECT_EQ(Ids("any"), (V{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(Ids("brand = C or (brand = B and price < 1)"), (V{"2", "4"}));
  auto any = CompileOffer("any", ds_->catalog());
  ASSERT_TRUE(any.has_value());
  EXPECT_TRUE(any->Contains(data::kNoProduct));
}

TEST_F(CompileOfferTest, RejectsUnknownAttributesAndEmptyOffers) {
  auto unknown = CompileOffer(R"(colour = "red")", ds_->catalog());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("unknown product attribute 'colour'; expected one of product_id, "),
            std::string::npos)
      << unknown.error().message();
  auto empty = CompileOffer(R"(category = "SOFT DRNKS")", ds_->catalog());
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message().find("matches no product ('SOFT DRNKS' is not a value of category)"),
            std::string::npos)
      << empty.error().message();
  auto contradiction = CompileOffer(R"(brand = "A" and brand = "B")", ds_->catalog());
  ASSERT_FALSE(contradiction.has_value());
  EXPECT_NE(contradiction.error().message().find("matches no product"), std::string::npos);
  EXPECT_FALSE(CompileOffer("price > cheap", ds_->catalog()).has_value());
}

}  // namespace
}  // namespace cf::offer
