// Golden bytes: the generator's output for two small fixed configurations, pinned by the SHA-256
// of every file. "The same flags give byte-identical files" is a promise across builds and
// machines, not only within one process, and a refactor of the generator must not move a byte.
// The digests are the ones `sha256sum` prints for the files of
//
//   audience generate --customers 400 --products 150 --days 60 --seed 20261201 --truth-horizon 14
//       --truth-customers 150 --out DIR
//   audience generate --customers 300 --products 90 --days 45 --seed 7 --independent --out DIR
//
// A deliberate change of the generator's output updates the table in the test below (the failure message
// prints the new one) and says so in its commit.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <map>
#include <string>

#include "base/files.h"
#include "data/generator.h"

namespace cf::data {
namespace {

constexpr std::array<const char*, 6> kFiles = {"products.csv", "customers.csv",           "purchases.csv",
                                               "truth.json",   "truth_probabilities.csv", "truth_identified_later.csv"};

using Digests = std::map<std::string, std::string>;  // file name -> lowercase hex SHA-256

std::string Sha256Hex(const std::string& bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &size, EVP_sha256(), nullptr) != 1) {
    return "EVP_Digest failed";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xf]);
  }
  return hex;
}

// Generates `options` into a fresh directory and returns the digest of every output file.
Digests GenerateDigests(GeneratorOptions options) {
  TempDirectory scratch("generator-golden");
  EXPECT_TRUE(scratch.ok()) << scratch.status().ToString();
  options.out = scratch.path() + "/out";
  options.progress = false;
  Result<GeneratorReport> report = Generate(options);
  EXPECT_TRUE(report.has_value()) << report.error().ToString();
  Digests digests;
  for (const char* name : kFiles) {
    Result<std::string> bytes = ReadFile(options.out + "/" + name);
    EXPECT_TRUE(bytes.has_value()) << name;
    digests[name] = bytes.has_value() ? Sha256Hex(*bytes) : "unreadable";
  }
  return digests;
}

std::string AsTable(const Digests& digests) {
  std::string table;
  for (const char* name : kFiles) {
    table += "      {\"" + std::string(name) + "\", \"" + digests.at(name) + "\"},\n";
  }
  return table;
}

GeneratorOptions Realistic() {
  GeneratorOptions o;
  o.customers = 400;
  o.products = 150;
  o.days = 60;
  o.seed = 20261201;
  o.truth_horizon = 14;
  o.truth_customers = 150;  // a stride of 3: the sampled truth path
  return o;
}

GeneratorOptions Independent() {
  GeneratorOptions o;
  o.customers = 300;
  o.products = 90;
  o.days = 45;
  o.seed = 7;
  o.independent = true;
  return o;
}

struct GoldenCase {
  const char* name;
  GeneratorOptions options;
  Digests digests;
};

TEST(GeneratorGolden, FixedConfigurationsGiveThePinnedBytes) {
  const GoldenCase cases[] = {
      {"realistic",
       Realistic(),
       {
           {"products.csv", "bd67516d9feab90be8430f18e9098fdb492f85b1d661263367b530c5d91ee9f3"},
           {"customers.csv", "218a2152161df2c38cc0594f1773b455b45d614c1e4aa2c210fd88205c9621f3"},
           {"purchases.csv", "6d7fe2dfcac9855b5d64e4389ff25b1c10677aaeb746c794ce01668c28ff273b"},
           {"truth.json", "3f9ceedab8b7fba0adf965de30e0f64d7e99002d728680af2be8d9d4744ca209"},
           {"truth_probabilities.csv", "9716d9237278ac737bfe07a41d290703799e6864222e7ae52f075fdcbfbcf894"},
           {"truth_identified_later.csv", "fb888b8732684998eb6330a270bc9a34c18247bc890b6dd80a8b1e960f643d00"},
       }},
      {"independent",
       Independent(),
       {
           {"products.csv", "cb78cd8d99ce5b5058e3ec31f835a7ead5dfe58185a9f70674149c143b115c78"},
           {"customers.csv", "0184dfce2d7cc5d21dd840af019a9ee96ca90beec765381b7b03c0f84dca318f"},
           {"purchases.csv", "afbc49de1512b702170cc78adac2dbffd1cd43e524e9be0156ffa3463481a965"},
           {"truth.json", "feaaa46bfccec0e375d8a5daf1d6c81e7e23aa760fffdb6142aba2fa17614fb3"},
           {"truth_probabilities.csv", "5bff5e9de8561c7e4366e0e35593db7494eb6e053b8951b1332e709ce567c2af"},
           {"truth_identified_later.csv", "b4d60b242aaa895a8ecb045dadfc92be6f56f530b774cc9f6949f0475fd1dc93"},
       }},
  };
  for (const GoldenCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Digests actual = GenerateDigests(c.options);
    EXPECT_EQ(actual, c.digests) << "the generator's output changed; if on purpose, the new table is:\n"
                                 << AsTable(actual);
  }
}

// The digests depend on the seed, file by file: a pinned table that ignored the seed (or a
// generator that did) would not be checking anything.
TEST(GeneratorGolden, EveryFileChangesWithTheSeed) {
  GeneratorOptions other = Realistic();
  other.seed += 1;
  const Digests a = GenerateDigests(Realistic());
  const Digests b = GenerateDigests(other);
  for (const char* name : kFiles) {
    EXPECT_NE(a.at(name), b.at(name)) << name << " does not depend on the seed";
  }
}

}  // namespace
}  // namespace cf::data
