// The harness of the export tests: a real `engage serve` with a partner, its keys and users of
// every identity kind; plan directories written by hand (the format `audience plan` writes);
// the real `audience export` binary run, or started and SIGKILLed; and cohort membership read
// back from engage through /users/export/ids.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engage_process.h"

namespace cf::sync_test {

// One row of PLANDIR/campaigns/<cohort_id>.csv.
struct Row {
  std::string customer, external_id, alias, device_id;
  int holdout = 0;
};

struct PlanCampaign {
  std::string name, export_file_name, cohort_id;
  std::vector<Row> rows;
};

// Writes summary.json and one CSV per campaign into `dir` (created if needed).
void WritePlanDir(const std::string& dir, const std::string& plan, const std::vector<PlanCampaign>& campaigns);

struct Outcome {
  int code = -1;
  std::string out, err;
};

std::string AudienceBinary();
// Runs `audience ARGS` to its end; stdout and stderr through files in `scratch`.
Outcome RunAudience(const std::string& scratch, const std::vector<std::string>& args);
// Starts `audience ARGS` (output discarded) and returns its pid.
pid_t StartAudience(const std::vector<std::string>& args);

// How the world's `engage serve` is started: plain HTTP by default; with a certificate and key,
// over TLS, and then its clients trust `ca_cert` (tests/engage/tls_certs.h).
struct WorldTls {
  std::string cert, key, ca_cert;
};

class EngageWorld {
 public:
  explicit EngageWorld(WorldTls tls = {});
  ~EngageWorld();

  const std::string& dir() const { return dir_; }
  std::string base_url() const {
    return tls_.cert.empty() ? server_->base_url() : "https://127.0.0.1:" + std::to_string(server_->port());
  }
  const std::string& keys_file() const { return keys_file_; }
  bool running() const { return server_ && server_->running(); }

  // Profiles: identified (external ids), alias-only (email aliases), anonymous devices, and
  // devices whose anonymous profile was identified later with an external id.
  void AddIdentified(const std::vector<std::string>& external_ids);
  void AddAliasOnly(const std::vector<std::string>& emails);
  void AddAnonymous(const std::vector<std::string>& device_ids);
  void IdentifyLater(const std::string& device_id, const std::string& external_id);

  // The identifiers ("u:X", "a:email:X", "d:X") of the profiles created above that are
  // members of `cohort_id` in engage now. Every created profile is looked up.
  std::set<std::string> Members(const std::string& cohort_id);

 private:
  void Post(const std::string& path, const std::string& body);

  WorldTls tls_;
  std::string dir_, data_, api_key_, keys_file_;
  std::unique_ptr<engage_test::EngageServer> server_;
  std::vector<std::string> identified_, emails_, devices_;
};

// The identifier key export would choose for a row (same rule as sync::ChooseIdentifier for
// the simple rows the tests write): "" when the row has none.
std::string KeyOf(const Row& r);

}  // namespace cf::sync_test
