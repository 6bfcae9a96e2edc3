#include "console/platform_settings.h"

#include <fmt/format.h>

#include "base/files.h"
#include "base/strings.h"

namespace cf::console {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "cohortflow-audience-settings";
constexpr unsigned kSecretFileMode = 0600;  // the file holds keys

const char* const kFields[] = {"endpoint", "partner", "partner_api_key", "data_import_key"};

std::string* Field(PlatformSettings& s, std::string_view name) {
  if (name == "endpoint") return &s.endpoint;
  if (name == "partner") return &s.partner;
  if (name == "partner_api_key") return &s.partner_api_key;
  if (name == "data_import_key") return &s.data_import_key;
  return nullptr;
}

bool IsKey(std::string_view name) { return name == "partner_api_key" || name == "data_import_key"; }

}  // namespace

Status PlatformSettings::Validate() const {
  sync::ExportOptions o = ExportOptions();
  // An endpoint not yet set is valid settings (nothing can be exported yet); the partner is checked alone.
  if (o.endpoint.empty()) o.endpoint = "http://127.0.0.1";
  return o.Validate();
}

bool PlatformSettings::complete() const {
  return !endpoint.empty() && !partner_api_key.empty() && !data_import_key.empty();
}

sync::ExportOptions PlatformSettings::ExportOptions() const {
  sync::ExportOptions o;
  o.endpoint = endpoint;
  o.partner = partner;
  return o;
}

sync::Credentials PlatformSettings::Credentials() const { return {partner_api_key, data_import_key}; }

Result<PlatformSettings> LoadPlatformSettings(const std::string& path) {
  PlatformSettings s;
  if (!PathExists(path)) return s;
  CF_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto format = j.is_object() ? j.find("format") : j.end();
  if (!j.is_object() || format == j.end() || *format != kFormat) {
    return Err(Status::InvalidArgument(
        fmt::format("settings file {} is not one of ours (no \"format\": \"{}\"); give --settings another path",
                    Quote(path), kFormat)));
  }
  for (const char* name : kFields) {
    auto it = j.find(name);
    if (it == j.end()) continue;
    if (!it->is_string()) {
      return Err(Status::InvalidArgument(fmt::format("settings file {}: {} must be a string", Quote(path), name)));
    }
    *Field(s, name) = it->get<std::string>();
  }
  if (Status v = s.Validate(); !v.ok()) return Err(v.WithPrefix("settings file " + Quote(path)));
  return s;
}

Status SavePlatformSettings(const std::string& path, const PlatformSettings& s) {
  CF_RETURN_IF_ERROR(s.Validate());
  // Only our own file is replaced (an unrecognized one is refused by the load).
  if (PathExists(path)) {
    Result<PlatformSettings> existing = LoadPlatformSettings(path);
    if (!existing.has_value()) return existing.error();
  }
  const json j = {{"format", kFormat},
                  {"endpoint", s.endpoint},
                  {"partner", s.partner},
                  {"partner_api_key", s.partner_api_key},
                  {"data_import_key", s.data_import_key}};
  return WriteFileAtomic(path, j.dump(2) + "\n", kSecretFileMode);
}

Result<PlatformSettings> ApplySettingsUpdate(const PlatformSettings& saved, const json& update) {
  if (!update.is_object()) return Err(Status::InvalidArgument("settings: expected a JSON object"));
  PlatformSettings s = saved;
  for (const auto& [name, value] : update.items()) {
    std::string* field = Field(s, name);
    if (field == nullptr) {
      return Err(Status::InvalidArgument(fmt::format(
          "settings: unknown field {}; valid: endpoint, partner, partner_api_key, data_import_key", Quote(name))));
    }
    if (!value.is_string()) return Err(Status::InvalidArgument(fmt::format("settings: {} must be a string", name)));
    std::string v = std::string(Trim(value.get<std::string>()));
    if (IsKey(name) && v.empty()) continue;  // keep the saved key: the page never had it
    *field = std::move(v);
  }
  if (s.endpoint.empty()) {
    return Err(Status::InvalidArgument(
        "endpoint is empty; give the engagement platform's REST API base URL (e.g. http://127.0.0.1:4000)"));
  }
  CF_RETURN_IF_ERROR(s.Validate());
  return s;
}

json PublicJson(const PlatformSettings& s) {
  return {{"endpoint", s.endpoint},
          {"partner", s.partner},
          {"partner_api_key_set", !s.partner_api_key.empty()},
          {"data_import_key_set", !s.data_import_key.empty()},
          {"complete", s.complete()}};
}

}  // namespace cf::console
