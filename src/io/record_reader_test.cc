#include "io/record_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "base/files.h"

namespace cf::io {
namespace {

class RecordReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(scratch_.ok()) << scratch_.status().ToString(); }

  std::string Write(const std::string& name, const std::string& body) {
    std::string p = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(p, body).ok());
    return p;
  }

  static std::vector<std::vector<std::string>> ReadAll(RecordReader& r) {
    std::vector<std::vector<std::string>> rows;
    Record rec;
    while (true) {
      auto more = r.Next(&rec);
      EXPECT_TRUE(more.has_value()) << more.error().ToString();
      if (!more.has_value() || !*more) break;
      rows.emplace_back(rec.fields.begin(), rec.fields.end());
    }
    return rows;
  }

  TempDirectory scratch_{"record-reader-test"};
  const std::string dir_ = scratch_.path();
};

TEST_F(RecordReaderTest, CsvRfc4180) {
  std::string p = Write("a.csv",
                        "\xEF\xBB\xBF"
                        "id,name,note\r\n"
                        "1,\"Smith, J\",\"said \"\"hi\"\"\"\r\n"
                        "2,,\"two\nlines\"\r\n"
                        "\r\n"
                        "3,x,\n");
  auto r = RecordReader::Open({p, 0, ""});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ((*r)->header(), (std::vector<std::string>{"id", "name", "note"}));
  auto rows = ReadAll(**r);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "Smith, J", "said \"hi\""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"2", "", "two\nlines"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"3", "x", ""}));
}

TEST_F(RecordReaderTest, LineNumbersCountEmbeddedNewlines) {
  std::string p = Write("b.csv", "a,b\n1,\"x\ny\"\n2,3,4\n");
  auto r = RecordReader::Open({p, 0, ""});
  ASSERT_TRUE(r.has_value());
  Record rec;
  ASSERT_TRUE((*r)->Next(&rec).value());
  EXPECT_EQ(rec.line, 2u);
  auto bad = (*r)->Next(&rec);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), p + ":4: expected 2 fields as in the header, found 3");
}

TEST_F(RecordReaderTest, DelimiterAndTsv) {
  std::string p = Write("c.csv", "a;b\n1;2\n");
  auto r = RecordReader::Open({p, ';', ""});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ReadAll(**r)[0], (std::vector<std::string>{"1", "2"}));
  std::string t = Write("d.tsv", "a\tb\n1\t2\n");
  auto rt = RecordReader::Open({t, 0, ""});
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(ReadAll(**rt)[0], (std::vector<std::string>{"1", "2"}));
}

TEST_F(RecordReaderTest, DuplicatedHeaderIsAnError) {
  std::string p = Write("e.csv", "a,b,a\n1,2,3\n");
  auto r = RecordReader::Open({p, 0, ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("duplicated column name 'a'"), std::string::npos);
}

TEST_F(RecordReaderTest, UnterminatedQuote) {
  std::string p = Write("f.csv", "a,b\n1,\"oops\n");
  auto r = RecordReader::Open({p, 0, ""});
  ASSERT_TRUE(r.has_value());
  Record rec;
  auto bad = (*r)->Next(&rec);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find(":2: unterminated quoted field"), std::string::npos);
}

TEST_F(RecordReaderTest, JsonLines) {
  std::string p = Write("g.jsonl",
                        "{\"id\":\"a\\\"b\",\"n\":3.5,\"ok\":true,\"gone\":null}\n"
                        "\n"
                        "{\"n\":4,\"id\":\"c\",\"extra\":1}\n");
  auto r = RecordReader::Open({p, 0, ""});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ((*r)->header(), (std::vector<std::string>{"id", "n", "ok", "gone"}));
  auto rows = ReadAll(**r);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a\"b", "3.5", "true", ""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"c", "4", "", ""}));
}

TEST_F(RecordReaderTest, JsonLinesBadLine) {
  std::string p = Write("h.jsonl", "{\"a\":1}\n[1,2]\n");
  auto r = RecordReader::Open({p, 0, ""});
  ASSERT_TRUE(r.has_value());
  Record rec;
  ASSERT_TRUE((*r)->Next(&rec).value());
  auto bad = (*r)->Next(&rec);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find(":2: expected a JSON object"), std::string::npos);
}

TEST_F(RecordReaderTest, Gzip) {
  std::string p = dir_ + "/i.csv.gz";
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::string body = "a,b\n1,2\n3,4\n";
  gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
  gzclose(f);
  auto r = RecordReader::Open({p, 0, ""});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(ReadAll(**r).size(), 2u);
}

TEST_F(RecordReaderTest, SplitPartsReadLikeOneReader) {
  // Quoted fields with newlines sit right where naive splits would fall.
  std::string body = "id,text\n";
  for (int i = 0; i < 300; ++i) {
    body += std::to_string(i) + (i % 7 == 0 ? ",\"multi\nline \"\"q\"\"\nfield\"\n" : ",plain\n");
  }
  for (const char* name : {"s.csv", "s.jsonl"}) {
    std::string p;
    if (std::string(name) == "s.csv") {
      p = Write(name, body);
    } else {
      std::string jl;
      for (int i = 0; i < 300; ++i) jl += "{\"id\":\"" + std::to_string(i) + "\",\"text\":\"a\\nb\"}\n";
      p = Write(name, jl);
    }
    auto whole = RecordReader::Open({p, 0, ""});
    ASSERT_TRUE(whole.has_value());
    std::vector<std::pair<uint64_t, std::vector<std::string>>> expected;
    Record rec;
    while ((*whole)->Next(&rec).value()) expected.emplace_back(rec.line, std::vector<std::string>(rec.fields.begin(), rec.fields.end()));
    for (int parts : {1, 2, 3, 7, 64}) {
      auto r = RecordReader::Open({p, 0, ""});
      ASSERT_TRUE(r.has_value());
      auto split = (*r)->Split(parts);
      EXPECT_LE(split.size(), static_cast<size_t>(parts));
      std::vector<std::pair<uint64_t, std::vector<std::string>>> got;
      for (auto& part : split) {
        while (true) {
          auto more = part->Next(&rec);
          ASSERT_TRUE(more.has_value()) << name << " parts=" << parts << ": " << more.error().ToString();
          if (!*more) break;
          got.emplace_back(rec.line, std::vector<std::string>(rec.fields.begin(), rec.fields.end()));
        }
      }
      EXPECT_EQ(got, expected) << name << " parts=" << parts;
      EXPECT_FALSE((*r)->Next(&rec).value());
    }
  }
}

TEST_F(RecordReaderTest, MissingFile) {
  auto r = RecordReader::Open({dir_ + "/nope.csv", 0, ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cf::io
