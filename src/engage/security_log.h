// engage's security event log: every admin action on keys, partners and dashboard users, and
// every console sign-in (succeeded or failed, with the client's address), kept in the database
// (table security_events) in the transaction of the change itself, so an acknowledged change
// always has its event. Never a key or a password: a REST API key by its public id, a data
// import key by its partner. `engage security-log` prints it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engage/storage.h"
#include "http/security_log.h"

namespace cf::engage {

// Who did it: "cli:<login>" for a command (http::CommandLineActor), "console:<email>" with the
// client's address for a console request.
struct Actor {
  std::string who;
  std::string remote_addr;
};
inline Actor CommandLineActor() { return {http::CommandLineActor(), ""}; }

// Appends the event to `txn`; it is kept when `txn` commits.
Status RecordSecurityEvent(Transaction& txn, const std::string& workspace, const Actor& actor,
                           const std::string& event, const nlohmann::json& detail, int64_t now);
// The same in a transaction of its own (a sign-in changes nothing else).
Status RecordSecurityEvent(Storage& storage, const std::string& workspace, const Actor& actor,
                           const std::string& event, const nlohmann::json& detail, int64_t now);

// Events with id > after_id, oldest first, at most `limit`.
Result<std::vector<SecurityEventRecord>> ReadSecurityLog(Storage& storage, int64_t after_id, size_t limit);
// One event as `engage security-log --json` prints it: {"id", "time", "workspace"?, "event", "actor", ...detail}.
nlohmann::json ToJson(const SecurityEventRecord& r);

}  // namespace cf::engage
