#include "base/files.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace cf {
namespace {

TEST(TempDirectoryTest, FreshEmptyAndRemovedWithItsContents) {
  std::string path;
  {
    TempDirectory a("files-test");
    TempDirectory b("files-test");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(IsDirectory(a.path()));
    ASSERT_TRUE(WriteFileAtomic(a.path() + "/x", "data").ok());
    EXPECT_EQ(ReadFile(a.path() + "/x").value(), "data");
    path = a.path();
  }
  EXPECT_FALSE(PathExists(path));
}

TEST(FilesTest, AtomicWriteReplacesAndMapsBack) {
  TempDirectory dir("files-test");
  const std::string p = dir.path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(p, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "second").ok());
  auto map = MappedFile::Open(p);
  ASSERT_TRUE(map.has_value());
  EXPECT_EQ((*map)->view(), "second");
  EXPECT_EQ(FileSize(p).value(), 6u);
  EXPECT_EQ(ReadFile(dir.path() + "/missing").error().code(), StatusCode::kIOError);
}

TEST(FilesTest, AtomicFileWriterReplacesOnlyOnCommit) {
  TempDirectory dir("files-test");
  const std::string p = dir.path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(p, "old").ok());
  // Pieces past the 8 MB writeback step, committed: the file is their concatenation.
  std::string expected;
  {
    auto w = AtomicFileWriter::Create(p);
    ASSERT_TRUE(w.has_value()) << w.error().ToString();
    for (int k = 0; k < 5; ++k) {
      const std::string piece(3 << 20, static_cast<char>('a' + k));
      ASSERT_TRUE((*w)->Append(piece).ok());
      expected += piece;
      EXPECT_EQ(ReadFile(p).value(), "old") << "replaced before Commit";
    }
    ASSERT_TRUE((*w)->Commit().ok());
    EXPECT_FALSE((*w)->Append("more").ok()) << "a committed file takes no more";
  }
  EXPECT_EQ(ReadFile(p).value(), expected);
  // Abandoned (destroyed without Commit): the old content stays and no temporary is left.
  {
    auto w = AtomicFileWriter::Create(p);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->Append("partial").ok());
  }
  EXPECT_EQ(ReadFile(p).value(), expected);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
  }
  EXPECT_EQ(files, 1u);
  EXPECT_FALSE(AtomicFileWriter::Create(dir.path() + "/no/such/dir/f").has_value());
}

TEST(FilesTest, WriteRowsWritesEveryRowOnceInOrder) {
  TempDirectory dir("files-test");
  const std::string p = dir.path() + "/rows.csv";
  for (size_t rows : {size_t{0}, size_t{1}, size_t{7}, size_t{1000}, size_t{20000}}) {
    for (size_t per_piece : {size_t{1}, size_t{3}, size_t{64}, size_t{16384}}) {
      std::string want;
      auto format = [](size_t r, std::string* out) { *out += std::to_string(r * 7919 % 100003) + ",row\n"; };
      for (size_t r = 0; r < rows; ++r) {
        format(r, &want);
      }
      auto w = AtomicFileWriter::Create(p);
      ASSERT_TRUE(w.has_value());
      ASSERT_TRUE(WriteRows(rows, format, w->get(), per_piece).ok());
      ASSERT_TRUE((*w)->Commit().ok());
      ASSERT_EQ(ReadFile(p).value(), want) << rows << " rows, " << per_piece << " a piece";
    }
  }
}

// The id of a process that has ended (a child, waited for): nothing runs under it now.
pid_t EndedPid() {
  const pid_t child = ::fork();
  if (child == 0) {
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
  return child;
}

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

TEST(FilesTest, AWriteClearsTheTemporariesOfEndedProcessesOnly) {
  TempDirectory dir("files-test");
  const std::string p = dir.path() + "/s.csv";
  const std::string ended = std::to_string(EndedPid()), live = std::to_string(::getppid());
  const std::string mine = std::to_string(::getpid());
  // What a killed `score` leaves, what a running one (the parent) and this process hold, and
  // names that only look alike.
  for (const std::string& name : std::vector<std::string>{"s.csv.tmp-" + ended + "-0", "s.csv.tmp-" + ended + "-12", "s.csv.tmp-" + live + "-0",
                                  "s.csv.tmp-" + mine + "-99", "s.csv.tmp-" + ended, "s.csv.tmp-x-0",
                                  "other.csv.tmp-" + ended + "-0", "s.csv.tmp-" + ended + "-0.keep"}) {
    ASSERT_TRUE(WriteFileAtomic(dir.path() + "/" + name, "partial").ok());
  }
  ASSERT_TRUE(WriteFileAtomic(p, "scores").ok());
  EXPECT_EQ(Names(dir.path()),
            (std::set<std::string>{"s.csv", "s.csv.tmp-" + live + "-0", "s.csv.tmp-" + mine + "-99", "s.csv.tmp-" + ended,
                                   "s.csv.tmp-x-0", "other.csv.tmp-" + ended + "-0",
                                   "s.csv.tmp-" + ended + "-0.keep"}));
  EXPECT_EQ(ReadFile(p).value(), "scores");
}

TEST(FilesTest, ADirectoryWritePutsBackOrClearsWhatAKilledReplacementLeft) {
  TempDirectory dir("files-test");
  const std::string d = dir.path() + "/model";
  const std::string ended = std::to_string(EndedPid());
  auto make = [&](const std::string& path, const std::string& content) {
    ASSERT_TRUE(CreateDirectories(path).ok());
    ASSERT_TRUE(WriteFileAtomic(path + "/model.json", content).ok());
  };
  // Killed between moving the old version aside and moving the new one in: `model` is
  // missing, its old version and the finished new one lie beside it.
  make(d + ".old-" + ended, "old");
  make(d + ".tmp-" + ended + "-0", "new, never moved in");
  auto tmp = MakeTempDirBeside(d);
  ASSERT_TRUE(tmp.has_value()) << tmp.error().ToString();
  EXPECT_EQ(ReadFile(d + "/model.json").value(), "old") << "the previous version is put back";
  EXPECT_EQ(Names(dir.path()), (std::set<std::string>{"model", std::filesystem::path(*tmp).filename().string()}));
  // A finished replacement swaps the two in one step and leaves nothing else.
  ASSERT_TRUE(WriteFileAtomic(*tmp + "/model.json", "newer").ok());
  ASSERT_TRUE(ReplaceDirectory(*tmp, d).ok());
  EXPECT_EQ(ReadFile(d + "/model.json").value(), "newer");
  EXPECT_EQ(Names(dir.path()), (std::set<std::string>{"model"}));
  // Killed after moving the new one in: the old version beside it goes.
  make(d + ".old-" + ended, "old");
  tmp = MakeTempDirBeside(d);
  ASSERT_TRUE(tmp.has_value());
  EXPECT_EQ(ReadFile(d + "/model.json").value(), "newer");
  EXPECT_EQ(Names(dir.path()), (std::set<std::string>{"model", std::filesystem::path(*tmp).filename().string()}));
  ASSERT_TRUE(ReplaceDirectory(*tmp, d).ok());
  EXPECT_FALSE(PathExists(d + "/model.json")) << "an empty new version replaces the old one";
}

}  // namespace
}  // namespace cf
