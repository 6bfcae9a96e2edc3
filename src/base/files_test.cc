#include "base/files.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cf
