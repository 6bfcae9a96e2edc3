// The engagement platform the console exports to: its endpoint, the partner's name and the two
// keys, kept in the settings file (`audience serve --settings`, mode 0600, written atomically).
// Pages see the keys only as "set" or not: once saved, a key never leaves the server.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "sync/exporter.h"

namespace cf::console {

struct PlatformSettings {
  std::string endpoint;               // the REST API's base URL (http:// or https://, no query); "" until set
  std::string partner = "tinyclues";  // the partner in /partners/{partner}/...: 1 to 64 letters, digits, '-', '_'
  std::string partner_api_key;        // the platform's key for the partner; "" until set
  std::string data_import_key;        // the workspace's key for the partner (client_secret); "" until set

  // Endpoint and partner by the rules of `audience export` (sync::ExportOptions::Validate).
  Status Validate() const;
  // Everything an export needs is set.
  bool complete() const;
  sync::ExportOptions ExportOptions() const;
  sync::Credentials Credentials() const;
};

// An absent file is the defaults (nothing set). A file without our format marker is an error:
// it is someone else's, and saving would replace it.
Result<PlatformSettings> LoadPlatformSettings(const std::string& path);
Status SavePlatformSettings(const std::string& path, const PlatformSettings& settings);

// Applies a page's update {"endpoint"?, "partner"?, "partner_api_key"?, "data_import_key"?}: a
// field given replaces the saved one; a key given as "" or absent keeps the saved key (the page
// never has it to send back). Unknown fields and non-strings are errors naming the field.
Result<PlatformSettings> ApplySettingsUpdate(const PlatformSettings& saved, const nlohmann::json& update);

// What a page sees: {"endpoint", "partner", "partner_api_key_set", "data_import_key_set", "complete"}.
nlohmann::json PublicJson(const PlatformSettings& settings);

}  // namespace cf::console
