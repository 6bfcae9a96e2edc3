// A security event log as a JSON Lines file (the audience console's; engage keeps its events in
// its database, engage/security_log.h). One line per event, never a secret: who did what, from
// where, when. The file is created with mode 0600 and only ever appended to.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace cf::http {

struct SecurityEvent {
  std::string event;        // e.g. "console.signin", "console.signin_failed", "user.created"
  std::string actor;        // who: "cli:<login>" or "console:<email>"; the email tried for a failed sign-in
  std::string remote_addr;  // the client's address for a request; "" for a command
  nlohmann::json detail = nlohmann::json::object();  // what it was about: ids, names, never a key or password
  int64_t time = 0;                                  // epoch seconds
};

// {"time": ISO 8601, "event", "actor", "remote_addr"?, ...detail} on one line.
nlohmann::json ToJson(const SecurityEvent& e);

// Appends the event as one line with a single write (O_APPEND: lines of concurrent writers,
// processes included, do not interleave). Errors name the file.
Status AppendSecurityEvent(const std::string& path, const SecurityEvent& e);

// "cli:<login name>" of the user running this process ("cli:uid-N" when it has none).
std::string CommandLineActor();

}  // namespace cf::http
