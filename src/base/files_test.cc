#include "base/files.h"

#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
}  // namespace cf
