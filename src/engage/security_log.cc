#include "engage/security_log.h"

#include "base/time.h"

namespace cf::engage {

Status RecordSecurityEvent(Transaction& txn, const std::string& workspace, const Actor& actor,
                           const std::string& event, const nlohmann::json& detail, int64_t now) {
  SecurityEventRecord r;
  r.time = now;
  r.workspace = workspace;
  r.event = event;
  r.actor = actor.who;
  r.remote_addr = actor.remote_addr;
  r.detail_json = detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return txn.AppendSecurityEvent(r);
}

Status RecordSecurityEvent(Storage& storage, const std::string& workspace, const Actor& actor,
                           const std::string& event, const nlohmann::json& detail, int64_t now) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_RETURN_IF_ERROR(RecordSecurityEvent(*txn, workspace, actor, event, detail, now));
  return txn->Commit();
}

Result<std::vector<SecurityEventRecord>> ReadSecurityLog(Storage& storage, int64_t after_id, size_t limit) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  return txn->ListSecurityEvents(after_id, limit);
}

nlohmann::json ToJson(const SecurityEventRecord& r) {
  nlohmann::json j = {{"id", r.id}, {"time", FormatIsoTime(r.time)}, {"event", r.event}, {"actor", r.actor}};
  if (!r.workspace.empty()) j["workspace"] = r.workspace;
  if (!r.remote_addr.empty()) j["remote_addr"] = r.remote_addr;
  const nlohmann::json detail = nlohmann::json::parse(r.detail_json, nullptr, /*allow_exceptions=*/false);
  if (detail.is_object()) {
    for (const auto& [k, v] : detail.items()) {
      if (!j.contains(k)) j[k] = v;
    }
  }
  return j;
}

}  // namespace cf::engage
