#include "console/platform_settings.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/files.h"

namespace cf::console {
namespace {

TEST(PlatformSettings, SavedWithMode0600AndKeysKeptWhenThePageSendsNone) {
  TempDirectory dir("platform-settings");
  const std::string path = dir.path() + "/audience-settings.json";
  Result<PlatformSettings> s = LoadPlatformSettings(path);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->complete());
  EXPECT_EQ(PublicJson(*s)["partner_api_key_set"], false);

  Result<PlatformSettings> updated = ApplySettingsUpdate(
      *s, {{"endpoint", "HTTP://127.0.0.1:4000/"}, {"partner_api_key", "pk"}, {"data_import_key", "dk"}});
  ASSERT_TRUE(updated.has_value()) << updated.error().message();
  ASSERT_TRUE(SavePlatformSettings(path, *updated).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Result<PlatformSettings> loaded = LoadPlatformSettings(path);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_TRUE(loaded->complete());
  EXPECT_EQ(loaded->partner, "tinyclues");
  const nlohmann::json shown = PublicJson(*loaded);
  EXPECT_EQ(shown["partner_api_key_set"], true);
  EXPECT_EQ(shown.dump().find("pk"), std::string::npos) << "a key never leaves the server: " << shown.dump();
  EXPECT_EQ(shown.dump().find("dk"), std::string::npos) << shown.dump();

  // The page sends the endpoint again and no keys: the saved keys stay.
  Result<PlatformSettings> again = ApplySettingsUpdate(*loaded, {{"endpoint", "http://h:1"}, {"data_import_key", ""}});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->partner_api_key, "pk");
  EXPECT_EQ(again->data_import_key, "dk");
}

TEST(PlatformSettings, EndpointAndPartnerByTheRulesOfExport) {
  const PlatformSettings s;
  const auto error = [&](const nlohmann::json& update) {
    Result<PlatformSettings> r = ApplySettingsUpdate(s, update);
    return r.has_value() ? std::string() : r.error().message();
  };
  EXPECT_NE(error({{"endpoint", "ftp://x"}}).find("endpoint"), std::string::npos) << error({{"endpoint", "ftp://x"}});
  EXPECT_NE(error({{"endpoint", "http://x/?a=1"}}).find("endpoint"), std::string::npos);
  EXPECT_NE(error({{"endpoint", "http://x"}, {"partner", "a/b"}}).find("partner 'a/b' must be 1 to 64 letters"),
            std::string::npos)
      << error({{"endpoint", "http://x"}, {"partner", "a/b"}});
  EXPECT_NE(error({{"partner", "x"}}).find("endpoint is empty"), std::string::npos);
  EXPECT_NE(error({{"endpoint", "http://x"}, {"token", "t"}}).find("unknown field 'token'"), std::string::npos);
  EXPECT_NE(error({{"endpoint", 7}}).find("endpoint must be a string"), std::string::npos);
}

TEST(PlatformSettings, AFileThatIsNotOursIsNeitherReadNorReplaced) {
  TempDirectory dir("platform-settings");
  const std::string path = dir.path() + "/notes.json";
  ASSERT_TRUE(WriteFileAtomic(path, "{\"mine\": true, \"format\": 7}").ok());
  EXPECT_NE(LoadPlatformSettings(path).error().message().find("is not one of ours"), std::string::npos);
  PlatformSettings s;
  s.endpoint = "http://x";
  EXPECT_FALSE(SavePlatformSettings(path, s).ok());
  EXPECT_EQ(*ReadFile(path), "{\"mine\": true, \"format\": 7}");
}

}  // namespace
}  // namespace cf::console
