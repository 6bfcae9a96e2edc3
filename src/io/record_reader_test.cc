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

  std::string WriteGzip(const std::string& name, const std::string& body, size_t keep = std::string::npos) {
    std::string p = dir_ + "/" + name;
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
    gzclose(f);
    if (keep != std::string::npos) {
      std::string whole = ReadFile(p).value();
      EXPECT_TRUE(WriteFileAtomic(p, whole.substr(0, whole.size() * keep / 100)).ok());
    }
    return p;
  }

  static std::string Error(const SourceOptions& s) {
    auto r = RecordReader::Open(s);
    if (!r.has_value()) return r.error().message();
    Record rec;
    while (true) {
      auto more = (*r)->Next(&rec);
      if (!more.has_value()) return more.error().message();
      if (!*more) return "";
    }
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
  auto r = RecordReader::Open({p, 0, "", ""});
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
  auto r = RecordReader::Open({p, 0, "", ""});
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
  auto r = RecordReader::Open({p, ';', "", ""});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ReadAll(**r)[0], (std::vector<std::string>{"1", "2"}));
  std::string t = Write("d.tsv", "a\tb\n1\t2\n");
  auto rt = RecordReader::Open({t, 0, "", ""});
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(ReadAll(**rt)[0], (std::vector<std::string>{"1", "2"}));
}

TEST_F(RecordReaderTest, DuplicatedHeaderIsAnError) {
  std::string p = Write("e.csv", "a,b,a\n1,2,3\n");
  auto r = RecordReader::Open({p, 0, "", ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("duplicated column name 'a'"), std::string::npos);
}

TEST_F(RecordReaderTest, UnterminatedQuote) {
  std::string p = Write("f.csv", "a,b\n1,\"oops\n");
  auto r = RecordReader::Open({p, 0, "", ""});
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
  auto r = RecordReader::Open({p, 0, "", ""});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  // The columns are the union of the keys; "extra" first appears on line 3.
  EXPECT_EQ((*r)->header(), (std::vector<std::string>{"id", "n", "ok", "gone", "extra"}));
  auto rows = ReadAll(**r);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a\"b", "3.5", "true", "", ""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"c", "4", "", "", "1"}));
}

TEST_F(RecordReaderTest, JsonLinesBadLine) {
  std::string p = Write("h.jsonl", "{\"a\":1}\n[1,2]\n");
  auto r = RecordReader::Open({p, 0, "", ""});
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
  auto r = RecordReader::Open({p, 0, "", ""});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(ReadAll(**r).size(), 2u);
}

// A name that says nothing of the format (events.gz, export.dat): the content decides.
TEST_F(RecordReaderTest, AFileNamedWithoutItsFormatIsReadByItsContent) {
  const std::string gz = dir_ + "/events.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  const std::string body =
      "{\"customer\":{\"id\":\"c1\"},\"sku\":\"p1\"}\n{\"customer\":{\"id\":\"c2\"},\"sku\":\"p2\"}\n";
  gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
  gzclose(f);
  for (const std::string& p : {gz, Write("export.dat", body)}) {
    auto r = RecordReader::Open({p, 0, "", ""});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(ReadAll(**r).size(), 2u) << p;
  }
  auto csv = RecordReader::Open({Write("export.txt2", "a,b\n1,2\n"), 0, "", ""});
  ASSERT_TRUE(csv.has_value()) << csv.error().ToString();
  EXPECT_EQ(ReadAll(**csv).size(), 1u);
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
    auto whole = RecordReader::Open({p, 0, "", ""});
    ASSERT_TRUE(whole.has_value());
    std::vector<std::pair<uint64_t, std::vector<std::string>>> expected;
    Record rec;
    while ((*whole)->Next(&rec).value())
      expected.emplace_back(rec.line, std::vector<std::string>(rec.fields.begin(), rec.fields.end()));
    for (int parts : {1, 2, 3, 7, 64}) {
      auto r = RecordReader::Open({p, 0, "", ""});
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

TEST_F(RecordReaderTest, GzipIsRecognisedByItsBytesAndStreamedAcrossWindows) {
  // Longer than the 4 MB window, with quoted newlines and doubled quotes everywhere, so that
  // records straddle window boundaries.
  std::string body = "id,text,n\n";
  for (int i = 0; i < 200000; ++i) {
    body += std::to_string(i) + (i % 5 == 0 ? ",\"two\nlines \"\"q\"\"\"" : ",plain text here") + "," +
            std::to_string(i * 7) + "\n";
  }
  ASSERT_GT(body.size(), size_t{5} << 20);
  const std::string plain = Write("big.csv", body);
  const std::string gz = WriteGzip("big-no-suffix.csv", body);  // gzip, whatever the name says
  auto a = RecordReader::Open({plain, 0, "", ""});
  auto b = RecordReader::Open({gz, 0, "", ""});
  ASSERT_TRUE(a.has_value() && b.has_value()) << (b.has_value() ? "" : b.error().ToString());
  EXPECT_TRUE((*a)->splittable());
  EXPECT_FALSE((*b)->splittable());
  EXPECT_EQ((*b)->decoded_size_hint(), body.size());
  Record ra, rb;
  size_t n = 0;
  while (true) {
    auto ma = (*a)->Next(&ra);
    auto mb = (*b)->Next(&rb);
    ASSERT_TRUE(ma.has_value() && mb.has_value()) << (mb.has_value() ? "" : mb.error().ToString());
    ASSERT_EQ(*ma, *mb);
    if (!*ma) break;
    ASSERT_EQ(ra.line, rb.line);
    ASSERT_EQ(std::vector<std::string>(ra.fields.begin(), ra.fields.end()),
              std::vector<std::string>(rb.fields.begin(), rb.fields.end()))
        << "record " << n;
    ASSERT_EQ(ra.raw, rb.raw);
    ++n;
  }
  EXPECT_EQ(n, 200000u);
  EXPECT_EQ((*b)->bytes_done(), FileSize(gz).value());
  // The same text has the same checksum, compressed or not, read whole or in parts.
  const auto sum = (*a)->Checksum();
  EXPECT_EQ(sum.first, body.size());
  EXPECT_EQ((*b)->Checksum(), sum);
  for (int parts : {2, 3, 7}) {
    auto c = RecordReader::Open({plain, 0, "", ""});
    ASSERT_TRUE(c.has_value());
    auto split = (*c)->Split(parts);
    for (auto& part : split) ReadAll(*part);
    EXPECT_EQ((*c)->Checksum(), sum) << parts;
  }
  const std::string other = Write("other.csv", body.substr(0, body.size() - 2) + "9\n");
  auto d = RecordReader::Open({other, 0, "", ""});
  ReadAll(**d);
  EXPECT_NE((*d)->Checksum().second, sum.second);
}

TEST_F(RecordReaderTest, TruncatedGzipSaysSo) {
  std::string body = "a,b\n";
  for (int i = 0; i < 50000; ++i) body += std::to_string(i) + "," + std::to_string(i * 31 % 977) + "\n";
  const std::string msg = Error({WriteGzip("cut.csv.gz", body, 60), 0, "", ""});
  EXPECT_NE(msg.find("cut.csv.gz: the gzip stream is truncated"), std::string::npos) << msg;
}

TEST_F(RecordReaderTest, InvalidUtf8NamesLineColumnAndCharacter) {
  const std::string p = Write("latin.csv",
                              "id,name\np1,Cr\xE8me br\xFBl\xE9"
                              "e\n");
  const std::string msg = Error({p, 0, "", ""});
  EXPECT_NE(msg.find("latin.csv:2: column name: byte 0xE8 at character 6 of the line is not valid UTF-8"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("latin1"), std::string::npos) << msg;
  // JSON Lines gets the same message, not a parser's.
  const std::string j = Write("latin.jsonl", "{\"id\":\"p1\"}\n{\"id\":\"\xE9t\xE9\"}\n");
  EXPECT_NE(Error({j, 0, "", ""}).find("latin.jsonl:2: byte 0xE9 at character 8"), std::string::npos)
      << Error({j, 0, "", ""});
  // A UTF-16 export is named as such.
  const std::string u16 = Write("u16.csv", std::string("\xFF\xFEi\0d\0", 6));
  EXPECT_NE(Error({u16, 0, "", ""}).find("UTF-16"), std::string::npos);
}

TEST_F(RecordReaderTest, InvalidUtf8DeepInALargeFileIsFoundWhereItIs) {
  std::string body = "id,name\n";
  for (int i = 0; i < 100000; ++i) body += std::to_string(i) + (i == 70000 ? ",caf\xE9\n" : ",caf\xC3\xA9 ok\n");
  const std::string msg = Error({Write("deep.csv", body), 0, "", ""});
  EXPECT_NE(msg.find("deep.csv:70002: column name: byte 0xE9 at character 10"), std::string::npos) << msg;
}

TEST_F(RecordReaderTest, SingleByteEncodingsAreConvertedToUtf8) {
  const std::string p = Write("cp.csv", "id,name,price\np1,Cr\xE8me,\x80 3\np2,\x93quoted\x94,1\n");
  auto latin = RecordReader::Open({p, 0, "", "latin1"});
  ASSERT_TRUE(latin.has_value()) << latin.error().ToString();
  auto rows = ReadAll(**latin);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], "Cr\xC3\xA8me");
  EXPECT_EQ(rows[0][2], "\xC2\x80 3");  // Latin-1 0x80 is a C1 control
  auto win = RecordReader::Open({p, 0, "", "windows-1252"});
  ASSERT_TRUE(win.has_value());
  rows = ReadAll(**win);
  EXPECT_EQ(rows[0][2], "\xE2\x82\xAC 3");  // the euro sign
  EXPECT_EQ(rows[1][1], "\xE2\x80\x9Cquoted\xE2\x80\x9D");
  EXPECT_NE(Error({p, 0, "", "ebcdic"}).find("unknown encoding 'ebcdic'"), std::string::npos);
}

TEST_F(RecordReaderTest, SemicolonHeaderIsDetectedOrHinted) {
  const std::string p = Write("semi.csv", "id;price;name\np1;4,99;\"a;b\"\n");
  auto r = RecordReader::Open({p, 0, "", ""});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE((*r)->delimiter_detected());
  EXPECT_EQ((*r)->delimiter(), ';');
  auto rows = ReadAll(**r);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"p1", "4,99", "a;b"}));
  // A delimiter that was given is kept, and a one-column header says what it looks like.
  const std::string msg = Error({p, '|', "", ""});
  EXPECT_NE(msg.find("semi.csv:1: the header is one column 'id;price;name', and it looks ';'-delimited"),
            std::string::npos)
      << msg;
}

TEST_F(RecordReaderTest, UnterminatedQuoteCountsSwallowedLinesAndResumes) {
  const std::string p = Write("q.csv", "a,b\n1,\"oops\n2,x\n3,y\n");
  auto r = RecordReader::Open({p, 0, "", ""});
  ASSERT_TRUE(r.has_value());
  Record rec;
  auto bad = (*r)->Next(&rec);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("q.csv:2: unterminated quoted field"), std::string::npos);
  EXPECT_NE(bad.error().message().find("swallow the 3 following lines"), std::string::npos) << bad.error().message();
  EXPECT_EQ((*r)->last_raw(), "1,\"oops\n");
  auto rows = ReadAll(**r);  // skipping the bad row loses nothing else
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{{"2", "x"}, {"3", "y"}}));
}

TEST_F(RecordReaderTest, QuoteClosingLinesLaterNamesTheSwallowedLines) {
  const std::string p = Write("sw.csv", "a,b,c\n1,\"x,1\n2,y\n3,z\",2,5\n4,w,4\n");
  auto r = RecordReader::Open({p, 0, "", ""});
  ASSERT_TRUE(r.has_value());
  Record rec;
  auto bad = (*r)->Next(&rec);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("sw.csv:2: expected 3 fields as in the header, found 4 (the record runs over 3 "
                                       "lines: a quote that does not close where it should swallowed the 2 lines "
                                       "after it)"),
            std::string::npos)
      << bad.error().message();
  EXPECT_EQ(ReadAll(**r), (std::vector<std::vector<std::string>>{{"4", "w", "4"}}));
}

TEST_F(RecordReaderTest, JsonLinesNestedPathsUnionAndArrays) {
  const std::string p = Write("n.jsonl",
                              "{\"customer\":{\"id\":7,\"tags\":[1,2]},\"line\":{\"price\":{\"amount\":2.5}},"
                              "\"items\":[{\"x\":1}]}\n"
                              "{\"customer\":{\"id\":8},\"revenue\":3}\n");
  auto r = RecordReader::Open({p, 0, "", ""});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ((*r)->header(), (std::vector<std::string>{"customer.id", "line.price.amount", "revenue"}));
  auto rows = ReadAll(**r);
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{{"7", "2.5", ""}, {"8", "", "3"}}));
  const std::string arr = Write("a.json", "[\n{\"a\":1},\n{\"a\":2}\n]\n");
  EXPECT_NE(Error({arr, 0, "", ""}).find("a.json: the file is a JSON array; JSON Lines is expected"),
            std::string::npos);
}

TEST_F(RecordReaderTest, MissingFile) {
  auto r = RecordReader::Open({dir_ + "/nope.csv", 0, "", ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cf::io
