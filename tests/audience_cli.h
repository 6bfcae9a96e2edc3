// The harness of the cross-process `audience` tests (tests/data, tests/model): runs the real
// binary (CF_BIN_DIR, else build/bin) in a scratch directory of each test's own.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "base/files.h"

namespace cf {

class AudienceCliTest : public ::testing::Test {
 protected:
  struct Outcome {
    int code = -1;
    std::string out, err;
  };

  void SetUp() override {
    const char* bin = std::getenv("CF_BIN_DIR");
    audience_ = std::string(bin != nullptr ? bin : "build/bin") + "/audience";
    ASSERT_TRUE(scratch_.ok()) << scratch_.status().ToString();
  }

  // Runs `audience ARGS`; stdout and stderr go through files, so no progress bar is drawn.
  Outcome Audience(const std::string& args) {
    const std::string cmd = audience_ + " " + args + " >" + dir_ + "/stdout 2>" + dir_ + "/stderr";
    Outcome r;
    const int status = std::system(cmd.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(dir_ + "/stdout").value_or("");
    r.err = ReadFile(dir_ + "/stderr").value_or("");
    return r;
  }

  std::string Write(const std::string& name, const std::string& body) {
    EXPECT_TRUE(WriteFileAtomic(dir_ + "/" + name, body).ok());
    return dir_ + "/" + name;
  }

  TempDirectory scratch_{"audience-cli"};
  const std::string dir_ = scratch_.path();
  std::string audience_;
};

}  // namespace cf
