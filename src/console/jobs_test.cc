#include "console/jobs.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace cf::console {
namespace {

using nlohmann::json;

TEST(Jobs, RunsReportsProgressAndTheResult) {
  Jobs jobs;
  std::atomic<bool> go{false};
  auto id = jobs.Start("plan", [&](JobProgress& p) -> Result<json> {
    p.Set(0.5, "half way", json{{"campaigns", 2}});
    while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return json{{"answer", 42}};
  });
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->size(), 32u);
  for (int i = 0; i < 1000 && jobs.Get(*id).value()["message"] != "half way"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  json running = jobs.Get(*id).value();
  EXPECT_EQ(running["state"], "running");
  EXPECT_EQ(running["kind"], "plan");
  EXPECT_DOUBLE_EQ(running["fraction"].get<double>(), 0.5);
  EXPECT_EQ(running["detail"]["campaigns"], 2);
  EXPECT_FALSE(running.contains("result"));

  // One job of a kind at a time; other kinds run.
  auto second = jobs.Start("plan", [](JobProgress&) -> Result<json> { return json{}; });
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.error().message().find(*id), std::string::npos);
  auto other = jobs.Start("export", [](JobProgress&) -> Result<json> { return json{{"ok", true}}; });
  ASSERT_TRUE(other.has_value());

  go = true;
  jobs.Wait(*id);
  json done = jobs.Get(*id).value();
  EXPECT_EQ(done["state"], "done");
  EXPECT_EQ(done["result"]["answer"], 42);
  EXPECT_DOUBLE_EQ(done["fraction"].get<double>(), 1.0);
  EXPECT_TRUE(jobs.Start("plan", [](JobProgress&) -> Result<json> { return json{}; }).has_value());
}

TEST(Jobs, AFailureOrAThrowIsAFailedJob) {
  Jobs jobs;
  auto failed = jobs.Start("a", [](JobProgress&) -> Result<json> { return Err(Status::InvalidArgument("bad plan")); });
  auto threw = jobs.Start("b", [](JobProgress&) -> Result<json> { throw std::runtime_error("boom"); });
  jobs.Wait(*failed);
  jobs.Wait(*threw);
  EXPECT_EQ(jobs.Get(*failed).value()["state"], "failed");
  EXPECT_EQ(jobs.Get(*failed).value()["error"], "bad plan");
  EXPECT_NE(jobs.Get(*threw).value()["error"].get<std::string>().find("boom"), std::string::npos);
  auto missing = jobs.Get("00");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST(Jobs, ForgetsTheOldestFinishedJobs) {
  Jobs jobs;
  std::string first;
  for (size_t i = 0; i < Jobs::kKept + 5; ++i) {
    auto id = jobs.Start("k", [](JobProgress&) -> Result<json> { return json{}; });
    ASSERT_TRUE(id.has_value());
    if (i == 0) first = *id;
    jobs.Wait(*id);
  }
  EXPECT_FALSE(jobs.Get(first).has_value());
}

}  // namespace
}  // namespace cf::console
