#include "sync/journal.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "base/files.h"

namespace cf::sync {
namespace {

JournalHeader Dest(std::string endpoint = "http://127.0.0.1:4000") {
  return {std::move(endpoint), "tinyclues", "cf-1", "2026-12-01T00:00:00Z"};
}

TEST(NormalizeEndpoint, LowercasesHostAndDropsTrailingSlashes) {
  EXPECT_EQ(*NormalizeEndpoint("HTTPS://REST.iad-01.Braze.com//", "endpoint"), "https://rest.iad-01.braze.com");
  EXPECT_EQ(*NormalizeEndpoint("http://h:4000/Base/", "endpoint"), "http://h:4000/Base");
  for (const char* bad : {"ftp://x", "rest.braze.com", "http://", "http://h/?a=1", "http://h x"}) {
    Result<std::string> r = NormalizeEndpoint(bad, "endpoint");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().message().find("endpoint"), std::string::npos) << r.error().message();
  }
}

TEST(JournalPath, DiffersByEndpointAndPartnerNotByCreationTime) {
  JournalHeader a = Dest(), b = Dest("https://rest.iad-01.braze.com"), c = Dest();
  c.created_at = "2030-01-01T00:00:00Z";
  EXPECT_NE(JournalPath("p", a), JournalPath("p", b));
  EXPECT_EQ(JournalPath("p", a), JournalPath("p", c));
  c.partner = "other";
  EXPECT_NE(JournalPath("p", a), JournalPath("p", c));
  EXPECT_EQ(JournalPath("p", a).rfind("p/export/cf-1-", 0), 0u);
}

TEST(Journal, ReplaysCommittedBatchesAndKeepsCreatedAt) {
  TempDirectory dir("journal");
  const std::string path = dir.path() + "/export/j.journal";
  {
    auto j = Journal::Open(path, Dest());
    ASSERT_TRUE(j.has_value()) << j.error().ToString();
    std::vector<JournalEntry> add = {{"u:a", "c1"}, {"u:b", "c\t2\\x"}, {"a:email:x@y", "c3"}};
    ASSERT_TRUE((*j)->Append(false, add).ok());
    std::vector<JournalEntry> rm = {{"u:a", "c1"}};
    ASSERT_TRUE((*j)->Append(true, rm).ok());
  }
  JournalHeader later = Dest();
  later.created_at = "2031-01-01T00:00:00Z";
  auto j = Journal::Open(path, later);
  ASSERT_TRUE(j.has_value()) << j.error().ToString();
  EXPECT_EQ((*j)->header().created_at, "2026-12-01T00:00:00Z");
  const Journal::Membership want = {{"u:b", "c\t2\\x"}, {"a:email:x@y", "c3"}};
  EXPECT_EQ((*j)->members(), want);
  EXPECT_EQ(*Journal::ReadMembership(path, later), want);
}

TEST(Journal, TornTailIsIgnoredAndCutBeforeTheNextAppend) {
  TempDirectory dir("journal");
  const std::string path = dir.path() + "/j.journal";
  {
    auto j = Journal::Open(path, Dest());
    ASSERT_TRUE(j.has_value());
    std::vector<JournalEntry> add = {{"u:a", "c1"}};
    ASSERT_TRUE((*j)->Append(false, add).ok());
  }
  const std::string good = ReadFile(path).value_or("");
  ASSERT_FALSE(good.empty());
  // Every prefix of a second batch, as a crash may leave it: only the first batch counts.
  const std::string second = "+\tu:b\tc2\n+\tu:c\tc3\n.\t2\t0000000000000000\n";
  for (size_t cut = 1; cut <= second.size(); ++cut) {
    ASSERT_TRUE(WriteFileAtomic(path, good + second.substr(0, cut)).ok());
    auto j = Journal::Open(path, Dest());
    ASSERT_TRUE(j.has_value()) << cut << ": " << j.error().ToString();
    EXPECT_EQ((*j)->members().size(), 1u) << cut;
    EXPECT_EQ(*ReadFile(path), good) << "the torn tail is cut off, " << cut;
    std::vector<JournalEntry> add = {{"u:d", "c4"}};
    ASSERT_TRUE((*j)->Append(false, add).ok());
    j->reset();
    EXPECT_EQ((*Journal::Open(path, Dest()))->members().size(), 2u) << cut;
  }
}

TEST(Journal, ConcurrentAppendsShareSyncsAndAllReplay) {
  TempDirectory dir("journal");
  const std::string path = dir.path() + "/j.journal";
  {
    auto j = Journal::Open(path, Dest());
    ASSERT_TRUE(j.has_value());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int b = 0; b < 25; ++b) {
          std::vector<JournalEntry> batch;
          for (int i = 0; i < 10; ++i) batch.push_back({"u:" + std::to_string(t * 1000 + b * 10 + i), "c"});
          EXPECT_TRUE((*j)->Append(false, batch).ok());
        }
      });
    }
    for (std::thread& th : threads) th.join();
  }
  EXPECT_EQ((*Journal::Open(path, Dest()))->members().size(), 1000u);
}

TEST(Journal, CorruptionBeforeLaterBatchesIsAnError) {
  TempDirectory dir("journal");
  const std::string path = dir.path() + "/j.journal";
  {
    auto j = Journal::Open(path, Dest());
    std::vector<JournalEntry> add = {{"u:a", "c1"}};
    ASSERT_TRUE((*j)->Append(false, add).ok());
    ASSERT_TRUE((*j)->Append(false, add).ok());
  }
  Result<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.has_value());
  std::string text = std::move(*read);
  text.replace(text.find("+\tu:a"), 1, "*");  // the first batch's line; the second batch follows
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
  auto j = Journal::Open(path, Dest());
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().code(), StatusCode::kCorruption);
  EXPECT_NE(j.error().message().find(":2:"), std::string::npos) << j.error().message();
}

TEST(Journal, AnotherDestinationIsRefusedAndALiveJournalIsLocked) {
  TempDirectory dir("journal");
  const std::string path = dir.path() + "/j.journal";
  auto j = Journal::Open(path, Dest());
  ASSERT_TRUE(j.has_value());
  auto again = Journal::Open(path, Dest());
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("in use"), std::string::npos);
  j->reset();
  auto other = Journal::Open(path, Dest("http://elsewhere:1"));
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message().find("http://elsewhere:1"), std::string::npos) << other.error().message();
  EXPECT_TRUE(Journal::ReadMembership(dir.path() + "/absent.journal", Dest())->empty());
}

}  // namespace
}  // namespace cf::sync
