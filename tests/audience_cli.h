// The harness of the cross-process `audience` tests (tests/data, tests/model): runs the real
// binary (CF_BIN_DIR, else build/bin) in a scratch directory of each test's own.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

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
  Outcome Audience(const std::string& args) { return Run(audience_ + " " + args); }

  // Runs a shell command line the same way (e.g. `mpirun ... audience ...`).
  Outcome Run(const std::string& command) {
    const std::string cmd = command + " >" + dir_ + "/stdout 2>" + dir_ + "/stderr";
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

  // A small generated retailer ingested with its customers and products: the dataset's path.
  // The raw files are in `dir_/raw`.
  std::string GeneratedDataset() {
    Outcome gen = Audience("generate --quiet --customers 400 --products 60 --days 150 --seed 5 --out " + dir_ + "/raw");
    EXPECT_EQ(gen.code, 0) << gen.err;
    Outcome ing = Audience("ingest --quiet --events " + dir_ + "/raw/purchases.csv --products " + dir_ +
                           "/raw/products.csv --customers " + dir_ + "/raw/customers.csv --out " + dir_ + "/ds");
    EXPECT_EQ(ing.code, 0) << ing.err;
    return dir_ + "/ds";
  }

  // The fields of one CSV line (RFC 4180 quoting, no line breaks inside fields).
  static std::vector<std::string> CsvFields(std::string_view line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.emplace_back();
      } else {
        fields.back() += c;
      }
    }
    return fields;
  }

  TempDirectory scratch_{"audience-cli"};
  const std::string dir_ = scratch_.path();
  std::string audience_;
};

}  // namespace cf
