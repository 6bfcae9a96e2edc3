// `mpirun -np N audience score|top-offers|plan` gives the one-process run's output, byte for
// byte: the ranks split the customers in whole blocks of the population and exchange only
// what spans all of them (tests/dist/CMakeLists.txt registers this only where mpirun exists).
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "tests/audience_cli.h"

namespace cf {
namespace {

class MpiTest : public AudienceCliTest {
 protected:
  // A retailer with more customers than two blocks of the population (16,384 each), so
  // that every rank of -np 2 and -np 3 has customers of its own, and a quickly trained model.
  void MakeWorld() {
    Outcome gen = Audience("generate --quiet --customers 40000 --products 80 --days 120 --seed 3 --out " + dir_ +
                           "/raw");
    ASSERT_EQ(gen.code, 0) << gen.err;
    Outcome ing = Audience("ingest --quiet --events " + dir_ + "/raw/purchases.csv --products " + dir_ +
                           "/raw/products.csv --customers " + dir_ + "/raw/customers.csv --out " + dir_ + "/ds");
    ASSERT_EQ(ing.code, 0) << ing.err;
    Outcome train = Audience("train --quiet --data " + dir_ + "/ds --horizon 30 --train-cutoffs 2 --max-customers 2000 --out " + dir_ +
                             "/model");
    ASSERT_EQ(train.code, 0) << train.err;
  }

  // `mpirun -np N audience ARGS`; as root (CI) Open MPI wants to be told that is meant.
  // Under the sanitizers (make test-sanitize), Open MPI's own allocations still held at exit,
  // in plugins it has unloaded by then, read as leaks that no suppression can name: the ranks
  // run without leak detection (every other sanitizer check stays on, and the same code runs
  // leak-checked in the one-process runs above and in the other tests).
  Outcome Mpi(int ranks, const std::string& args) {
    const std::string root = geteuid() == 0 ? " --allow-run-as-root" : "";
    return Run("ASAN_OPTIONS=\"${ASAN_OPTIONS}:detect_leaks=0\" " + std::string(CF_MPIEXEC) + root +
               " --oversubscribe -np " + std::to_string(ranks) + " " + audience_ + " " + args + " --threads 1");
  }

  std::string Read(const std::string& name) { return ReadFile(dir_ + "/" + name).value_or("(missing)"); }
};

// Every file of a plan directory, by path relative to it, with its bytes.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      files[std::filesystem::relative(e.path(), dir).string()] = ReadFile(e.path().string()).value_or("");
    }
  }
  return files;
}

TEST_F(MpiTest, ScoreTopOffersAndPlanOnSeveralRanksEqualOneProcess) {
  MakeWorld();
  const std::string data = " --data " + dir_ + "/ds --model " + dir_ + "/model";
  const std::string offer = " --offer 'department = \"GROCERY\"' --ids external_id";
  ASSERT_EQ(Audience("score --quiet" + data + offer + " --out " + dir_ + "/one.csv").code, 0);
  const std::string one = Read("one.csv");
  ASSERT_GT(one.size(), 40000u * 20);
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const std::string out = "/score-" + std::to_string(ranks) + ".csv";
    Outcome r = Mpi(ranks, "score --quiet" + data + offer + " --out " + dir_ + out);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(Read(out.substr(1)), one) << "the CSVs differ";
  }

  Write("offers.json", R"([{"name": "Grocery", "offer": "department = \"GROCERY\""},
                           {"name": "Cheap", "offer": "price < 3"},
                           {"name": "Anything", "offer": "any"}])");
  const std::string top = " --offers " + dir_ + "/offers.json --top 2";
  ASSERT_EQ(Audience("top-offers --quiet" + data + top + " --out " + dir_ + "/top-one.csv").code, 0);
  Outcome r = Mpi(2, "top-offers --quiet" + data + top + " --out " + dir_ + "/top-two.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Read("top-two.csv"), Read("top-one.csv")) << "the CSVs differ";
  EXPECT_NE(r.out.find("chose the top 2 of 3 offers"), std::string::npos) << "rank 0 prints once: " << r.out;
  EXPECT_EQ(r.out.find("chose the top 2 of 3 offers"), r.out.rfind("chose the top 2 of 3 offers")) << r.out;

  // The plan: every rank scores, allocates and draws the holdouts of its own customers, and
  // the directory rank 0 writes is the same, with the fast solver on the whole base (three
  // tiers, every kind of volume, recent buyers left out) and with the exact one on small
  // audiences (auto chooses it).
  const std::string plan = Write("plan.json", R"({
    "name": "Mpi week", "start": "2026-12-07", "days": 7, "objective": "revenue",
    "pressure": [{"channel": "email", "max_messages": 1, "window_days": 7}, {"channel": "any", "min_gap_days": 1}],
    "campaigns": [
      {"name": "Grocery", "offer": "department = \"GROCERY\"", "channel": "email", "send_date": "2026-12-07",
       "volume": {"fixed": 6000}, "priority": "high", "holdout_share": 0.1},
      {"name": "Cheap", "offer": "price < 3", "channel": "email", "send_date": "2026-12-10",
       "volume": {"capture_share": 0.5}},
      {"name": "App", "offer": "any", "channel": "push", "send_date": "2026-12-08",
       "volume": {"fixed": 9000}, "holdout_share": 0.2},
      {"name": "Texts", "offer": "price < 3", "channel": "sms", "send_date": "2026-12-08",
       "volume": {"min_probability": 0.05}, "priority": "low", "exclude_recent_buyers_days": 30,
       "holdout_share": 0.15}]})");
  const std::string small = Write("small.json", R"({
    "name": "Mpi small", "start": "2026-12-07", "days": 7, "objective": "buyers",
    "pressure": [{"channel": "any", "max_messages": 1, "window_days": 7}],
    "campaigns": [
      {"name": "Seniors", "offer": "any", "channel": "email", "send_date": "2026-12-07",
       "audience": "age_band = \"65+\" and region = \"Capital\"", "volume": {"fixed": 150}, "holdout_share": 0.1},
      {"name": "Seniors cheap", "offer": "price < 3", "channel": "email", "send_date": "2026-12-09",
       "audience": "age_band = \"65+\" and region = \"Capital\"", "volume": {"fixed": 150}}]})");
  for (const auto& [file, solver] : {std::pair{plan, "fast"}, std::pair{small, "auto"}}) {
    const std::string args = "plan --quiet --solver " + std::string(solver) + " --data " + dir_ + "/ds --model " +
                             dir_ + "/model --plan " + file;
    const std::string name = std::filesystem::path(file).stem().string();
    Outcome planned = Audience(args + " --out " + dir_ + "/" + name + "-one");
    ASSERT_EQ(planned.code, 0) << planned.err;
    const auto expected = Files(dir_ + "/" + name + "-one");
    ASSERT_GE(expected.size(), 3u);  // summary.json and the campaigns
    EXPECT_NE(expected.at("summary.json").find(std::string("\"solver\": \"") + (file == plan ? "fast" : "exact")),
              std::string::npos)
        << expected.at("summary.json");
    for (int ranks : {2, 3}) {
      SCOPED_TRACE(name + ", " + std::to_string(ranks) + " ranks");
      const std::string out = dir_ + "/" + name + "-" + std::to_string(ranks);
      Outcome sharded = Mpi(ranks, args + " --out " + out);
      ASSERT_EQ(sharded.code, 0) << sharded.err;
      EXPECT_EQ(Files(out), expected);
    }
  }
}

TEST_F(MpiTest, CommandsThatDoNotShardAreRefusedUnderSeveralRanks) {
  Outcome r = Mpi(2, "generate --quiet --customers 10 --products 5 --days 10 --out " + dir_ + "/raw");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("only score, top-offers and plan run across the 2 ranks"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/raw/purchases.csv"));
}

}  // namespace
}  // namespace cf
