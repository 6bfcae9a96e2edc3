// The command line's contract as a user meets it: parser errors, commands that never replace
// what they did not write, output paths checked before the work, one flag vocabulary, scores
// that say who and what they are about. Separate processes, real files.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "tests/audience_cli.h"

namespace cf {
namespace {

class CliContractTest : public AudienceCliTest {
 protected:
  // The README's contract: `audience <cmd>: <message>; see 'audience <cmd> --help'`, exit code 1.
  static void ExpectParserError(const Outcome& r, const std::string& cmd, const std::string& message) {
    EXPECT_EQ(r.code, 1) << r.err;
    const std::string name = cmd.empty() ? "audience" : "audience " + cmd;
    EXPECT_TRUE(StartsWith(r.err, name + ": ")) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << "want '" << message << "' in: " << r.err;
    EXPECT_NE(r.err.find("see '" + name + " --help'"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
};

TEST_F(CliContractTest, ParserErrorsFollowTheReadmeContract) {
  ExpectParserError(Audience(""), "", "no command given; the commands are ingest, inspect, generate, train");
  ExpectParserError(Audience("frobnicate --data x"), "", "unknown command 'frobnicate'; the commands are ingest");
  ExpectParserError(Audience("train --data d --out m --bogus"), "train", "unknown flag '--bogus'");
  // A misspelt flag is what the user must fix, not the required one it failed to give.
  ExpectParserError(Audience("train --dta d --out m"), "train", "unknown flag '--dta'");
  ExpectParserError(Audience("train --data d"), "train", "--out is required");
  ExpectParserError(Audience("train --out m --data"), "train", "--data needs a value");
  ExpectParserError(Audience("score --data d --model m --offer any --out s.csv --top -5"), "score",
                    "--top: expected a whole number of at least 0, got '-5'");
  ExpectParserError(Audience("train --data d --out m --threads -3"), "train",
                    "--threads: expected a whole number from 0 to 1024, got '-3'");
  ExpectParserError(Audience("train --data d --out m --horizon 0"), "train",
                    "--horizon: expected a whole number from 1 to");
  ExpectParserError(Audience("train --data d --out m --horizon soon"), "train", "got 'soon'");
  ExpectParserError(Audience("evaluate --data d --cutoff 2025-01-01 --min-positives 0"), "evaluate",
                    "--min-positives: expected a whole number from 1 to");
  ExpectParserError(Audience("evaluate --data d --cutoff 2025-01-01 --depths 2,x"), "evaluate",
                    "--depths: expected a whole number from 1 to 16, got 'x'");
  ExpectParserError(Audience("generate --customers -5 --out g"), "generate",
                    "--customers: expected a whole number of at least 1, got '-5'");
  ExpectParserError(Audience("inspect d --json extra"), "inspect",
                    "unexpected argument 'extra' (--json is a flag and takes no value)");
  ExpectParserError(Audience("train --data d --out m --log-level loud"), "train", "--log-level: unknown log level");
}

TEST_F(CliContractTest, VersionAndHelp) {
  const Outcome version = Audience("--version");
  EXPECT_EQ(version.code, 0) << version.err;
  // The version, then whether this build runs under mpirun.
  EXPECT_TRUE(std::regex_search(version.out, std::regex("^audience [0-9]+\\.[0-9]+\\.[0-9]+ \\((Open MPI|no MPI)[^)]*\\)\n$")))
      << version.out;
  const Outcome help = Audience("score --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--ids"), std::string::npos) << help.out;
}

// The default of `flag` in a command's --help ("--horizon INT=30"), or "" if it has none.
std::string HelpDefault(const std::string& help, const std::string& flag) {
  std::smatch m;
  if (!std::regex_search(help, m, std::regex("\n  " + flag + " [A-Z]+=([^ ]+) "))) return "";
  return m[1];
}

TEST_F(CliContractTest, OneFlagVocabularyAcrossCommands) {
  const std::string train = Audience("train --help").out;
  const std::string evaluate = Audience("evaluate --help").out;
  const std::string inspect = Audience("inspect --help").out;
  ASSERT_FALSE(HelpDefault(train, "--horizon").empty()) << train;
  EXPECT_EQ(HelpDefault(train, "--horizon"), HelpDefault(evaluate, "--horizon"));
  for (const std::string flag : {"--train-cutoffs", "--sample-rows", "--threads", "--booster-threads", "--seed"}) {
    EXPECT_FALSE(HelpDefault(train, flag).empty()) << flag << " in\n" << train;
    EXPECT_EQ(HelpDefault(train, flag), HelpDefault(evaluate, flag)) << flag;
  }
  // --json is a flag wherever it appears: JSON on stdout. Files are written by --*-out.
  for (const std::string* help : {&evaluate, &inspect, &train}) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*help, m, std::regex("\n  --json( [A-Z]+)? "))) << *help;
    EXPECT_FALSE(m[1].matched) << "--json takes no value:\n" << *help;
  }
  ExpectParserError(Audience("evaluate --data d --cutoff 2025-01-01 --json r.json"), "evaluate",
                    "unexpected argument 'r.json' (--json is a flag and takes no value; --json-out r.json writes a "
                    "file)");
  ExpectParserError(Audience("train --data d --out m --cutoffs 3"), "train", "unknown flag '--cutoffs'");
  ExpectParserError(Audience("train --data d --out m --max-rows 3"), "train", "unknown flag '--max-rows'");
}

TEST_F(CliContractTest, TrainReplacesOnlyAModel) {
  const std::string ds = GeneratedDataset();
  ASSERT_TRUE(CreateDirectories(dir_ + "/mine").ok());
  Write("mine/notes.txt", "keep me");
  Outcome r = Audience("train --quiet --data " + ds + " --out " + dir_ + "/mine");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("audience train: --out " + dir_ + "/mine is a directory that is not a model"), std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(dir_ + "/mine/notes.txt").value_or(""), "keep me");

  r = Audience("train --quiet --data " + ds + " --out " + dir_ + "/mine/notes.txt");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("exists and is a file"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir_ + "/mine/notes.txt").value_or(""), "keep me");

  r = Audience("train --quiet --data " + ds + " --out " + ds);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--out " + ds + " is a directory that is not a model"), std::string::npos) << r.err;
  r = Audience("train --quiet --data " + ds + " --out " + ds + "/model");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("lies inside the dataset"), std::string::npos) << r.err;
  EXPECT_EQ(Audience("inspect " + ds).code, 0) << "the dataset survives";

  // A new path, an empty directory and an earlier model are all fine.
  ASSERT_TRUE(CreateDirectories(dir_ + "/empty").ok());
  r = Audience("train --quiet --data " + ds + " --out " + dir_ + "/empty");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Audience("train --quiet --data " + ds + " --horizon 20 --out " + dir_ + "/empty");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto model = nlohmann::json::parse(ReadFile(dir_ + "/empty/model.json").value());
  EXPECT_EQ(model["horizon_days"], 20);
  r = Audience("train --quiet --json --data " + ds + " --horizon 20 --out " + dir_ + "/empty");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["horizon_days"], 20);
  EXPECT_EQ(summary["model"], dir_ + "/empty");
  EXPECT_GT(summary["training_rows"].get<int>(), 0);
}

TEST_F(CliContractTest, IngestAppendsOnlyToADataset) {
  const std::string events = Write("e.csv", "customer_id,time,product_id\na,2024-01-01,p1\nb,2024-01-02,p2\n");
  ASSERT_TRUE(CreateDirectories(dir_ + "/mine").ok());
  Write("mine/notes.txt", "keep me");
  Outcome r = Audience("ingest --quiet --events " + events + " --out " + dir_ + "/mine");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("audience ingest: --out " + dir_ +
                       "/mine is a directory that is not a dataset; it was left "
                       "untouched"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(dir_ + "/mine/notes.txt").value_or(""), "keep me");
  r = Audience("ingest --quiet --events " + events + " --out " + dir_ + "/mine/notes.txt");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("exists and is a file, not a dataset"), std::string::npos) << r.err;
  r = Audience("ingest --quiet --events " + events + " --out " + dir_ + "/mine/notes.txt/ds");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--out " + dir_ + "/mine/notes.txt/ds: " + dir_ + "/mine/notes.txt is a file, not a directory"),
            std::string::npos)
      << r.err;

  // An empty directory (made by a deployment script, say) becomes the dataset; a failed ingest
  // into it leaves it as it was.
  ASSERT_TRUE(CreateDirectories(dir_ + "/empty").ok());
  r = Audience("ingest --quiet --events " + dir_ + "/missing.csv --out " + dir_ + "/empty");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(IsDirectory(dir_ + "/empty"));
  r = Audience("ingest --quiet --events " + events + " --out " + dir_ + "/empty");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(Audience("inspect --json " + dir_ + "/empty").out)["events"], 2);
}

TEST_F(CliContractTest, OutputPathsAreCheckedBeforeTheWork) {
  const std::string ds = GeneratedDataset();
  // --topics colour would fail too, later: the path is what is reported, so it was checked first.
  Outcome r = Audience("evaluate --quiet --data " + ds + " --cutoff 2025-04-01 --topics colour --html " + dir_ +
                       "/missing/r.html");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("audience evaluate: --html " + dir_ + "/missing/r.html: the directory " + dir_ +
                       "/missing does not exist"),
            std::string::npos)
      << r.err;
  r = Audience("score --quiet --data " + ds + " --model " + dir_ + "/no-model --offer any --out " + dir_ +
               "/missing/s.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--out " + dir_ + "/missing/s.csv: the directory"), std::string::npos) << r.err;
  r = Audience("score --quiet --data " + ds + " --model " + dir_ + "/no-model --offer any --out " + dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--out " + dir_ + " is a directory"), std::string::npos) << r.err;

  // Files that are not the command's own output are not overwritten.
  const std::string products = ReadFile(dir_ + "/raw/products.csv").value();
  r = Audience("score --quiet --data " + ds + " --model " + dir_ + "/no-model --offer any --out " + dir_ +
               "/raw/products.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("exists and is not a scores CSV written by audience score; it was left untouched"),
            std::string::npos)
      << r.err;
  r = Audience("evaluate --quiet --data " + ds + " --cutoff 2025-04-01 --json-out " + dir_ + "/raw/products.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is not a JSON report written by audience evaluate"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir_ + "/raw/products.csv").value(), products);
  r = Audience("evaluate --quiet --data " + ds + " --cutoff 2025-04-01 --json-out " + ds + "/r.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("lies inside the dataset"), std::string::npos) << r.err;

  // The reports evaluate wrote before are its own: rewritten without a word.
  const std::string run = "evaluate --quiet --data " + ds +
                          " --cutoff 2025-04-01 --topics category --min-positives 5 --models popularity,topic_rfm "
                          "--json-out " +
                          dir_ + "/r.json --html " + dir_ + "/r.html";
  Write("r.json", "");  // as mktemp leaves it
  ASSERT_EQ(Audience(run).code, 0);
  r = Audience(run);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(ReadFile(dir_ + "/r.json").value()).contains("models"));
}

TEST_F(CliContractTest, ScoresSayWhoWhatAndWhen) {
  const std::string ds = GeneratedDataset();
  ASSERT_EQ(Audience("train --quiet --data " + ds + " --out " + dir_ + "/model").code, 0);
  Outcome r = Audience("score --quiet --data " + ds + " --model " + dir_ +
                       "/model --offer any --ids external_id,device_id,alias:email --out " + dir_ + "/s.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("with model " + dir_ + "/model"), std::string::npos) << r.out;

  // --json: the same summary for scripts.
  const Outcome summary = Audience("score --quiet --json --data " + ds + " --model " + dir_ +
                                   "/model --offer any --top 7 --out " + dir_ + "/top.csv");
  ASSERT_EQ(summary.code, 0) << summary.err;
  const nlohmann::json j = nlohmann::json::parse(summary.out);
  EXPECT_EQ(j["offer"], "any");
  EXPECT_EQ(j["rows"], 7);
  EXPECT_EQ(j["model"], dir_ + "/model");
  EXPECT_EQ(j["horizon_days"], 30);

  // Who: every identifier is the customer's own, as customers.csv gave it.
  std::map<std::string, std::vector<std::string>> people;  // customer_id -> external_id, device_id, email
  const std::string customers_csv = ReadFile(dir_ + "/raw/customers.csv").value();
  const std::vector<std::string_view> raw = Split(customers_csv, '\n');
  ASSERT_EQ(CsvFields(raw[0])[3], "aliases");
  for (size_t i = 1; i < raw.size() && !raw[i].empty(); ++i) {
    const std::vector<std::string> f = CsvFields(raw[i]);
    std::string email;
    for (std::string_view alias : Split(f[3], ';')) {
      if (StartsWith(alias, "email:")) email = std::string(alias.substr(6));
    }
    people[f[0]] = {f[1], f[2], email};
  }
  const std::string scores_csv = ReadFile(dir_ + "/s.csv").value();
  const std::vector<std::string_view> lines = Split(scores_csv, '\n');
  EXPECT_EQ(lines[0],
            "customer,external_id,device_id,alias_email,probability,expected_revenue,rank,offer,horizon_days,as_of,"
            "model");
  // Scored as of just after the last event, by default.
  const std::string last_event = nlohmann::json::parse(Audience("inspect --json " + ds).out)["last_event"];
  const std::string as_of = FormatIsoTime(ParseIsoTime(last_event).value() + 1);
  size_t rows = 0, with_email = 0;
  for (size_t i = 1; i < lines.size() && !lines[i].empty(); ++i, ++rows) {
    const std::vector<std::string> f = CsvFields(lines[i]);
    ASSERT_EQ(f.size(), 11u) << lines[i];
    ASSERT_TRUE(people.count(f[0])) << lines[i];
    EXPECT_EQ(f[1], people[f[0]][0]) << lines[i];
    EXPECT_EQ(f[2], people[f[0]][1]) << lines[i];
    EXPECT_EQ(f[3], people[f[0]][2]) << lines[i];
    with_email += !f[3].empty();
    // What and when: the offer, the model's horizon, the scoring time, the model.
    EXPECT_EQ(f[7], "any");
    EXPECT_EQ(f[8], "30");
    EXPECT_EQ(f[9], as_of);
    EXPECT_EQ(f[10], dir_ + "/model");
  }
  EXPECT_EQ(rows, people.size());
  EXPECT_GT(with_email, 0u);

  r = Audience("score --quiet --data " + ds + " --model " + dir_ + "/model --offer any --ids email --out " + dir_ +
               "/s.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("audience score: --ids: unknown identifier 'email'; expected"), std::string::npos) << r.err;

  // --at outside the history warns, and still scores.
  r = Audience("score --quiet --data " + ds + " --model " + dir_ + "/model --offer any --at 2030-01-01 --out " + dir_ +
               "/late.csv");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("audience score: warning: --at 2030-01-01 is"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("after the dataset's last event"), std::string::npos) << r.err;
  EXPECT_TRUE(PathExists(dir_ + "/late.csv"));
  r = Audience("score --quiet --data " + ds + " --model " + dir_ + "/model --offer any --at 2024-06-01 --out " + dir_ +
               "/early.csv");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("audience score: warning: --at 2024-06-01 is before the dataset's first event"),
            std::string::npos)
      << r.err;
  r = Audience("score --quiet --data " + ds + " --model " + dir_ + "/model --offer any --at 2025-04-01 --out " + dir_ +
               "/inside.csv");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  r = Audience("score --quiet --data " + ds + " --model " + dir_ + "/model --offer any --at soon --out " + dir_ +
               "/x.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("audience score: --at: not an ISO 8601 date"), std::string::npos) << r.err;
}

// A dataset written before its text was validated can hold any bytes; reports and inspect
// replace what is not UTF-8 with U+FFFD instead of aborting.
TEST_F(CliContractTest, EvaluateReportsSurviveInvalidUtf8InStoredText) {
  std::string products = "product_id,category\n";
  std::string events = "customer_id,time,product_id\n";
  // Appends piece by piece: GCC 12 misreads `"p" + std::to_string(p)` as an overlapping copy.
  for (int p = 1; p <= 4; ++p) products.append("p").append(std::to_string(p)).append(p % 2 ? ",Cafe\n" : ",Tea\n");
  const int64_t start = ParseIsoTime("2024-01-01").value();
  for (int c = 0; c < 120; ++c) {
    for (int day = 0; day < 90; day += 7 + c % 5) {
      events.append("c").append(std::to_string(c)).append(",").append(FormatIsoTime(start + day * kSecondsPerDay));
      events.append(",p").append(std::to_string(1 + (c + day) % 4)).append("\n");
    }
  }
  const Outcome ing = Audience("ingest --quiet --events " + Write("e.csv", events) + " --products " +
                               Write("p.csv", products) + " --out " + dir_ + "/ds");
  ASSERT_EQ(ing.code, 0) << ing.err;
  // "Cafe" becomes Latin-1 "Café" in the stored dictionary: same length, so the layout holds.
  int patched = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/ds")) {
    const std::string path = entry.path().string();
    if (!StartsWith(entry.path().filename().string(), "products.attr.")) continue;
    std::string bytes = ReadFile(path).value();
    for (size_t at = bytes.find("Cafe"); at != std::string::npos; at = bytes.find("Cafe", at)) {
      bytes[at + 3] = '\xE9';
      ++patched;
    }
    ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  }
  ASSERT_GT(patched, 0);

  const std::string run = "evaluate --quiet --data " + dir_ +
                          "/ds --cutoff 2024-03-01 --horizon 30 --topics category --min-positives 1 "
                          "--models popularity,topic_rfm";
  Outcome r = Audience(run + " --json-out " + dir_ + "/r.json --html " + dir_ + "/r.html");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(ReadFile(dir_ + "/r.json").value());
  std::vector<std::string> topics;
  for (const nlohmann::json& t : report["models"]["popularity"]["per_topic"]) topics.push_back(t["topic"]);
  EXPECT_NE(std::find(topics.begin(), topics.end(), "Caf\xEF\xBF\xBD"), topics.end()) << Join(topics, ", ");
  EXPECT_TRUE(PathExists(dir_ + "/r.html"));
  r = Audience(run + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["topics"], report["topics"]);
  r = Audience("inspect --json " + dir_ + "/ds");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["product_attributes"]["category"]["distinct"], 2);
}

// The catalog's levels come from the data, not from English column names: a German export of
// the same data trains on the same levels under their German names, evaluates on the finest
// of them, and --levels names them.
TEST_F(CliContractTest, CatalogLevelsInAnyLanguage) {
  GeneratedDataset();
  std::string products = ReadFile(dir_ + "/raw/products.csv").value();
  const size_t header_end = products.find('\n');
  ASSERT_EQ(products.substr(0, header_end), "product_id,department,category,brand,price");
  products.replace(0, header_end, "product_id,Abteilung,Warengruppe,Marke,Preis");
  const Outcome ing =
      Audience("ingest --quiet --events " + dir_ + "/raw/purchases.csv --products " + Write("produkte.csv", products) +
               " --customers " + dir_ + "/raw/customers.csv --out " + dir_ + "/de");
  ASSERT_EQ(ing.code, 0) << ing.err;

  // The same levels as the English catalog of the same data, whatever they are called.
  const Outcome english = Audience("train --quiet --json --data " + dir_ + "/ds --out " + dir_ + "/m");
  ASSERT_EQ(english.code, 0) << english.err;
  const std::map<std::string, std::string> german = {
      {"department", "Abteilung"}, {"category", "Warengruppe"}, {"brand", "Marke"}};
  nlohmann::json expected = nlohmann::json::array();
  const nlohmann::json english_summary = nlohmann::json::parse(english.out);
  for (const auto& level : english_summary["levels"]) {
    expected.push_back(german.at(level.get<std::string>()));
  }
  ASSERT_FALSE(expected.empty());
  const Outcome train = Audience("train --quiet --json --data " + dir_ + "/de --out " + dir_ + "/m");
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_EQ(nlohmann::json::parse(train.out)["levels"], expected) << train.out;

  const Outcome named = Audience("train --quiet --json --levels Abteilung --data " + dir_ + "/de --out " + dir_ + "/m");
  ASSERT_EQ(named.code, 0) << named.err;
  EXPECT_EQ(nlohmann::json::parse(named.out)["levels"], (nlohmann::json{"Abteilung"})) << named.out;
  const Outcome unknown = Audience("train --quiet --levels Farbe --data " + dir_ + "/de --out " + dir_ + "/m2");
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("Farbe"), std::string::npos) << unknown.err;
  EXPECT_FALSE(PathExists(dir_ + "/m2"));

  // No --topics: the finest detected level; all-customers adds those without a purchase yet.
  const Outcome eval = Audience("evaluate --quiet --data " + dir_ +
                                "/de --cutoff 2025-04-15 --min-positives 5 --models popularity,universal "
                                "--population all-customers --json");
  ASSERT_EQ(eval.code, 0) << eval.err;
  const nlohmann::json report = nlohmann::json::parse(eval.out);
  EXPECT_EQ(report.dump().find("\"department\""), std::string::npos);
  EXPECT_NE(report.dump().find(expected.back().get<std::string>()), std::string::npos);
  const Outcome bad = Audience("evaluate --quiet --data " + dir_ + "/de --cutoff 2025-04-15 --population everyone");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("everyone"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace cf
