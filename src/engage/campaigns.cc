// Campaigns and sends: creation and reads in Braze's shapes, the trigger that decides one outcome
// per recipient (not_opted_in, control, capped, sent) and the sends feed.
#include "engage/campaigns.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "base/hash.h"
#include "base/strings.h"
#include "base/time.h"
#include "engage/admin.h"
#include "engage/delivery.h"
#include "engage/engage.h"
#include "engage/wire.h"

namespace cf::engage {

using nlohmann::json;

namespace {

constexpr size_t kCampaignsPerPage = 100;  // Braze's page of /campaigns/list
constexpr size_t kMaxRecipients = 50;      // Braze's limit of `recipients` per request
// Recipients decided per transaction: one commit (one fsync) per batch keeps a 1M broadcast to a
// few hundred commits, and a batch holds the write lock for milliseconds only.
constexpr size_t kSendBatch = 2000;
// Webhook messages claimed per transaction. A crash leaves at most these uncertain (see
// DeliverPending), so it stays small.
constexpr size_t kDeliveryChunk = 32;

// Braze's global subscription attributes (email, push); SMS has none in Braze (its subscription
// groups are not modelled), so ours is `sms_subscribe` with the same values.
std::string SubscriptionAttribute(const std::string& channel) { return channel + "_subscribe"; }

// The control group: a hash of (campaign_id, braze_id) below the share, so a user is always in or
// always out of one campaign's control group, whatever the dispatch or retry.
bool InControlGroup(const CampaignRecord& c, const std::string& braze_id) {
  if (c.control_share <= 0) return false;
  return UnitInterval(HashString(braze_id, HashString(c.campaign_id))) < c.control_share;
}

Result<int64_t> FindWorkspaceId(Transaction& txn, const std::string& workspace) {
  CF_ASSIGN_OR_RETURN(auto ws, txn.FindWorkspace(workspace));
  // Before the first write the default workspace is empty, not missing (as in admin.cc).
  if (!ws && workspace == kDefaultWorkspace) return int64_t{0};
  if (!ws) return Err(Status::NotFound("no workspace named " + Quote(workspace)));
  return *ws;
}

Status CheckChannel(const std::string& field, const std::string& channel) {
  const auto& all = CampaignChannels();
  if (std::find(all.begin(), all.end(), channel) != all.end()) return Status::OK();
  return Status::InvalidArgument(field + " " + Quote(channel) + " is not a channel; valid: " + Join(all, ", "));
}

json CampaignListEntry(const CampaignRecord& c) {
  return {{"id", c.campaign_id},
          {"name", c.name},
          {"is_api_campaign", true},
          {"last_edited", FormatIsoTime(c.created_at)},
          {"tags", json::array()}};
}

}  // namespace

const std::vector<std::string>& CampaignChannels() {
  static const std::vector<std::string> kChannels = {"email", "push", "sms"};
  return kChannels;
}

Status CampaignSpec::Validate() const {
  if (std::string p = IdentifierProblem(name); !p.empty()) return Status::InvalidArgument("name " + p);
  if (std::string p = IdentifierProblem(segment_id); !p.empty()) return Status::InvalidArgument("segment_id " + p);
  CF_RETURN_IF_ERROR(CheckChannel("channel", channel));
  if (!(control_share >= 0 && control_share < 1)) {
    return Status::InvalidArgument("control_share " + fmt::format("{}", control_share) +
                                   ": expected a share at least 0 and below 1, e.g. 0.05");
  }
  return Status::OK();
}

Result<CampaignRecord> InsertCampaign(Transaction& txn, int64_t ws, const CampaignSpec& spec, int64_t now) {
  CF_RETURN_IF_ERROR(spec.Validate());
  CF_ASSIGN_OR_RETURN(auto segment, txn.FindSegment(ws, spec.segment_id));
  if (!segment) {
    return Err(Status::InvalidArgument("segment_id " + Quote(spec.segment_id) +
                                       " names no segment of this workspace; create one with POST /segments/create"));
  }
  CF_ASSIGN_OR_RETURN(auto same_name, txn.FindCampaignByName(ws, spec.name));
  if (same_name) {
    return Err(Status::InvalidArgument("name " + Quote(spec.name) + " is taken by campaign " + same_name->campaign_id +
                                       "; campaign names are unique (sends are matched to plans by name)"));
  }
  CampaignRecord r{0, ws, RandomUuid(), spec.name, spec.segment_id, spec.channel, spec.control_share, now};
  CF_ASSIGN_OR_RETURN(r.pk, txn.InsertCampaign(r));
  return r;
}

Result<CampaignRecord> CreateCampaign(Storage& storage, const std::string& workspace, const CampaignSpec& spec,
                                      int64_t now) {
  CF_RETURN_IF_ERROR(spec.Validate());
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, EnsureWorkspace(*txn, workspace, now));
  CF_ASSIGN_OR_RETURN(CampaignRecord r, InsertCampaign(*txn, ws, spec, now));
  CF_RETURN_IF_ERROR(txn->Commit());
  return r;
}

Result<std::vector<CampaignRecord>> ListCampaigns(Storage& storage, const std::string& workspace) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  CF_ASSIGN_OR_RETURN(int64_t ws, FindWorkspaceId(*txn, workspace));
  return txn->ListCampaigns(ws);
}

Status SetFrequencyCap(Storage& storage, const std::string& workspace, const FrequencyCapRecord& cap) {
  CF_RETURN_IF_ERROR(CheckChannel("channel", cap.channel));
  if (cap.max_messages < 1) {
    return Status::InvalidArgument("max " + std::to_string(cap.max_messages) +
                                   ": expected at least 1 message per user (remove the cap to lift it)");
  }
  if (cap.days < 1 || cap.days > 366) {
    return Status::InvalidArgument("days " + std::to_string(cap.days) + ": expected 1 to 366");
  }
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, EnsureWorkspace(*txn, workspace, 0));
  CF_RETURN_IF_ERROR(txn->SetFrequencyCap(ws, cap));
  return txn->Commit();
}

Status RemoveFrequencyCap(Storage& storage, const std::string& workspace, const std::string& channel) {
  CF_RETURN_IF_ERROR(CheckChannel("channel", channel));
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, EnsureWorkspace(*txn, workspace, 0));
  CF_ASSIGN_OR_RETURN(bool removed, txn->RemoveFrequencyCap(ws, channel));
  if (!removed) {
    return Status::NotFound("workspace " + Quote(workspace) + " has no frequency cap on " + channel +
                            "; `engage frequency-cap list` shows them");
  }
  return txn->Commit();
}

Result<std::vector<FrequencyCapRecord>> ListFrequencyCaps(Storage& storage, const std::string& workspace) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  CF_ASSIGN_OR_RETURN(int64_t ws, FindWorkspaceId(*txn, workspace));
  return txn->ListFrequencyCaps(ws);
}

Status SetDelivery(Storage& storage, const std::string& workspace, const DeliveryRecord& delivery) {
  CF_RETURN_IF_ERROR(ValidateDelivery(delivery));
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(true));
  CF_ASSIGN_OR_RETURN(int64_t ws, EnsureWorkspace(*txn, workspace, 0));
  CF_RETURN_IF_ERROR(txn->SetDelivery(ws, delivery));
  return txn->Commit();
}

Result<DeliveryRecord> ShowDelivery(Storage& storage, const std::string& workspace) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  CF_ASSIGN_OR_RETURN(int64_t ws, FindWorkspaceId(*txn, workspace));
  CF_ASSIGN_OR_RETURN(auto d, txn->FindDelivery(ws));
  return d.value_or(DeliveryRecord{});
}

std::string SendRecordJson(const SendFeedRow& row) {
  const SendRecord& s = row.send;
  const json external = s.external_id ? json(*s.external_id) : json(nullptr);
  json aliases = json::parse(s.aliases_json, nullptr, false);
  if (!aliases.is_array()) aliases = json::array();
  json out = {{"id", row.dispatch_id + "-" + s.braze_id},
              {"user_id", external},
              {"external_user_id", external},
              {"braze_id", s.braze_id},
              {"device_id", s.device_id ? json(*s.device_id) : json(nullptr)},
              {"user_aliases", std::move(aliases)},
              {"campaign_id", row.campaign_id},
              {"campaign_name", row.campaign_name},
              {"dispatch_id", row.dispatch_id},
              {"send_id", row.send_id ? json(*row.send_id) : json(nullptr)},
              {"channel", s.channel},
              {"time", s.time},
              {"outcome", s.outcome}};
  if (!s.reason.empty()) out["reason"] = s.reason;
  return out.dump();
}

Status WriteSendsFeed(Transaction& txn, int64_t ws, const std::optional<std::string>& campaign_id, int64_t since,
                      const std::function<Status(std::string_view)>& line) {
  std::optional<int64_t> pk;
  if (campaign_id) {
    CF_ASSIGN_OR_RETURN(auto c, txn.FindCampaign(ws, *campaign_id));
    if (!c) {
      return Status::NotFound("campaign_id " + Quote(*campaign_id) +
                              " names no campaign of this workspace; GET /campaigns/list or `engage campaign list` "
                              "shows them");
    }
    pk = c->pk;
  }
  return txn.ScanSends(ws, pk, since, [&](const SendFeedRow& row) { return line(SendRecordJson(row)); });
}

Status WriteSendsFeed(Storage& storage, const std::string& workspace, const std::optional<std::string>& campaign_id,
                      int64_t since, const std::function<Status(std::string_view)>& line) {
  CF_ASSIGN_OR_RETURN(auto txn, storage.Begin(false));
  CF_ASSIGN_OR_RETURN(int64_t ws, FindWorkspaceId(*txn, workspace));
  return WriteSendsFeed(*txn, ws, campaign_id, since, line);
}

Result<json> Engage::CreateCampaign(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"name", "segment_id", "channel", "control_share"}));
  CampaignSpec spec;
  for (const char* f : {"name", "segment_id", "channel"}) {
    if (!body.contains(f)) return Err(BadField(f, "is required"));
    CF_RETURN_IF_ERROR(CheckIdentifier(f, body[f]));
  }
  spec.name = body["name"].get<std::string>();
  spec.segment_id = body["segment_id"].get<std::string>();
  spec.channel = body["channel"].get<std::string>();
  if (body.contains("control_share")) {
    if (!body["control_share"].is_number()) return Err(BadField("control_share", "must be a number in [0, 1)"));
    spec.control_share = body["control_share"].get<double>();
  }
  CF_RETURN_IF_ERROR(spec.Validate().WithPrefix("invalid campaign"));
  CampaignRecord created;
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>&) -> Status {
    CF_ASSIGN_OR_RETURN(created, InsertCampaign(txn, ws, spec, clock_.NowSeconds()));
    return Status::OK();
  }));
  return json{{"campaign_id", created.campaign_id}};
}

Result<json> Engage::ListCampaigns(int64_t ws, int64_t page, bool newest_first) {
  CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
  CF_ASSIGN_OR_RETURN(auto all, txn->ListCampaigns(ws));
  if (newest_first) std::reverse(all.begin(), all.end());
  json list = json::array();
  const size_t first = page < static_cast<int64_t>(all.size() / kCampaignsPerPage + 1)
                           ? static_cast<size_t>(page) * kCampaignsPerPage
                           : all.size();
  for (size_t i = first; i < all.size() && i < first + kCampaignsPerPage; ++i)
    list.push_back(CampaignListEntry(all[i]));
  return json{{"campaigns", std::move(list)}};
}

Result<json> Engage::CampaignDetails(int64_t ws, const std::string& campaign_id) {
  CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
  CF_ASSIGN_OR_RETURN(auto c, txn->FindCampaign(ws, campaign_id));
  if (!c) return Err(Status::NotFound("no campaign has campaign_id " + Quote(campaign_id)));
  CF_ASSIGN_OR_RETURN(auto sent, txn->SentTimes(c->pk));
  return json{{"created_at", FormatIsoTime(c->created_at)},
              {"updated_at", FormatIsoTime(c->created_at)},
              {"archived", false},
              {"draft", false},
              {"enabled", true},
              {"has_post_launch_draft", false},
              {"name", c->name},
              {"description", ""},
              {"schedule_type", "api_triggered"},
              {"channels", json::array({c->channel})},
              {"first_sent", sent ? json(FormatIsoTime(sent->first)) : json(nullptr)},
              {"last_sent", sent ? json(FormatIsoTime(sent->second)) : json(nullptr)},
              {"tags", json::array()},
              {"teams", json::array()},
              {"messages", json::object()},
              {"conversion_behaviors", json::array()},
              {"campaign_id", c->campaign_id},
              {"segment_id", c->segment_id},
              {"control_share", c->control_share}};
}

namespace {

// One recipient of a `recipients` request, resolved to its profile.
struct Recipient {
  ProfileIndex index = 0;
  std::string trigger_properties_json;  // "" when the recipient has none
};

// The request's recipients resolved to profiles: non-fatal errors name those that match no user
// or are outside the campaign's segment, as Braze sends only to recipients in the segment.
Result<std::vector<Recipient>> ResolveRecipients(Transaction& txn, int64_t ws, const json& recipients,
                                                 const Roaring& segment, json& errors) {
  std::vector<Recipient> out;
  std::unordered_set<ProfileIndex> seen;
  for (size_t i = 0; i < recipients.size(); ++i) {
    const json& r = recipients[i];
    const std::string at = "recipients[" + std::to_string(i) + "]";
    std::optional<Profile> p;
    std::string named;
    if (r.contains("external_user_id")) {
      named = "external_user_id " + r["external_user_id"].dump();
      CF_ASSIGN_OR_RETURN(p, txn.FindByExternalId(ws, r["external_user_id"].get<std::string>()));
    } else {
      const Alias a = *ReadAlias(r["user_alias"]);
      named = "user_alias " + r["user_alias"].dump();
      CF_ASSIGN_OR_RETURN(p, txn.FindByAlias(ws, a));
    }
    if (!p) {
      errors.push_back({{"type", at + ": no user has " + named + "; nothing was sent to it"}, {"index", i}});
      continue;
    }
    if (!segment.contains(p->index)) {
      errors.push_back(
          {{"type", at + ": the user with " + named + " is not in the campaign's segment; nothing was sent to it"},
           {"index", i}});
      continue;
    }
    if (!seen.insert(p->index).second) continue;  // named twice: one message
    out.push_back({p->index, r.contains("trigger_properties") ? r["trigger_properties"].dump() : ""});
  }
  return out;
}

Status CheckRecipients(const json& recipients) {
  if (!recipients.is_array() || recipients.empty()) {
    return BadField("recipients", "must be a non-empty array of objects with external_user_id or user_alias");
  }
  if (recipients.size() > kMaxRecipients) {
    return BadField("recipients", "has " + std::to_string(recipients.size()) + " objects; at most " +
                                      std::to_string(kMaxRecipients) +
                                      " are allowed per request (use broadcast for the whole segment)");
  }
  for (size_t i = 0; i < recipients.size(); ++i) {
    const json& r = recipients[i];
    const std::string at = "recipients[" + std::to_string(i) + "]";
    CF_RETURN_IF_ERROR(
        CheckKeys(r, {"external_user_id", "user_alias", "trigger_properties", "send_to_existing_only"}).WithPrefix(at));
    // Braze's default (true) is the only behaviour here: a send never creates a user.
    if (r.contains("send_to_existing_only") && r["send_to_existing_only"] != true) {
      return BadField(at + ".send_to_existing_only",
                      "must be true: engage sends only to existing users (create them with /users/track first)");
    }
    const bool ext = r.contains("external_user_id"), alias = r.contains("user_alias");
    if (ext == alias) return BadField(at, "must have exactly one of external_user_id and user_alias");
    if (ext) CF_RETURN_IF_ERROR(CheckIdentifier(at + ".external_user_id", r["external_user_id"], true));
    if (alias) {
      CF_RETURN_IF_ERROR(CheckAliasFields(at + ".user_alias", r["user_alias"]));
      if (!ReadAlias(r["user_alias"])) {
        return BadField(at + ".user_alias", "must be an object with alias_name and alias_label, non-empty strings");
      }
    }
    if (r.contains("trigger_properties") && !r["trigger_properties"].is_object()) {
      return BadField(at + ".trigger_properties", "must be an object");
    }
  }
  return Status::OK();
}

}  // namespace

Result<json> Engage::TriggerSend(int64_t ws, const json& body) {
  CF_RETURN_IF_ERROR(CheckKeys(body, {"campaign_id", "send_id", "trigger_properties", "broadcast", "recipients"}));
  if (!body.contains("campaign_id")) return Err(BadField("campaign_id", "is required"));
  CF_RETURN_IF_ERROR(CheckIdentifier("campaign_id", body["campaign_id"]));
  std::optional<std::string> send_id;
  if (body.contains("send_id")) {
    CF_RETURN_IF_ERROR(CheckIdentifier("send_id", body["send_id"]));
    send_id = body["send_id"].get<std::string>();
  }
  if (body.contains("trigger_properties") && !body["trigger_properties"].is_object()) {
    return Err(BadField("trigger_properties", "must be an object"));
  }
  if (body.contains("broadcast") && !body["broadcast"].is_boolean()) {
    return Err(BadField("broadcast", "must be true or false"));
  }
  const bool broadcast = body.value("broadcast", false);
  const bool has_recipients = body.contains("recipients");
  if (broadcast && has_recipients) {
    return Err(Status::InvalidArgument(
        "'broadcast' is true and 'recipients' is given: send either to the campaign's whole segment (broadcast) or "
        "to the listed recipients, not both"));
  }
  if (!broadcast && !has_recipients) {
    return Err(Status::InvalidArgument(
        "'recipients' is required unless 'broadcast' is true (which sends to the campaign's whole segment)"));
  }
  if (has_recipients) CF_RETURN_IF_ERROR(CheckRecipients(body["recipients"]));
  const std::string campaign_id = body["campaign_id"].get<std::string>();
  const std::string properties = body.contains("trigger_properties") ? body["trigger_properties"].dump() : "{}";

  // Who: the segment now (and, for recipients, those of them in it). Read outside the write lock.
  CampaignRecord campaign;
  std::optional<int64_t> cap_since;
  int64_t cap_max = 0;
  DeliveryRecord delivery;
  std::vector<Recipient> recipients;
  Roaring members;
  json errors = json::array();
  {
    CF_ASSIGN_OR_RETURN(auto txn, storage_->Begin(false));
    CF_ASSIGN_OR_RETURN(auto c, txn->FindCampaign(ws, campaign_id));
    if (!c) {
      return Err(BadField("campaign_id", "names no campaign of this workspace: " + Quote(campaign_id) +
                                             " (GET /campaigns/list shows them)"));
    }
    campaign = std::move(*c);
    auto segment = SegmentMembers(*txn, ws, campaign.segment_id);
    if (!segment) {
      return Err(Status::InvalidArgument("the campaign's segment " + Quote(campaign.segment_id) +
                                         " cannot be evaluated: " + segment.error().message()));
    }
    members = std::move(*segment);
    if (has_recipients) {
      CF_ASSIGN_OR_RETURN(recipients, ResolveRecipients(*txn, ws, body["recipients"], members, errors));
      members = Roaring();
      for (const auto& r : recipients) members.add(r.index);
    }
    CF_ASSIGN_OR_RETURN(auto caps, txn->ListFrequencyCaps(ws));
    for (const auto& cap : caps) {
      if (cap.channel != campaign.channel) continue;
      cap_since = clock_.NowSeconds() - cap.days * kSecondsPerDay;
      cap_max = cap.max_messages;
    }
    CF_ASSIGN_OR_RETURN(auto d, txn->FindDelivery(ws));
    if (d) delivery = *d;
  }
  CF_ASSIGN_OR_RETURN(auto adapter, MakeDeliveryAdapter(delivery));

  // The dispatch first, committed: a retry with the same send_id finds it and continues it.
  DispatchRecord dispatch;
  CF_RETURN_IF_ERROR(Write([&](Transaction& txn, std::vector<CohortDelta>&) -> Status {
    if (send_id) {
      CF_ASSIGN_OR_RETURN(auto found, txn.FindDispatch(campaign.pk, *send_id));
      if (found) {
        dispatch = std::move(*found);
        return Status::OK();
      }
    }
    dispatch = DispatchRecord{0, campaign.pk, RandomHex(16), send_id, properties, clock_.NowSeconds()};
    CF_ASSIGN_OR_RETURN(dispatch.pk, txn.InsertDispatch(dispatch));
    return Status::OK();
  }));

  // Decide every recipient, a batch per commit. A recipient with a record in this dispatch (an
  // earlier try of the same send_id) is skipped: its decision stands.
  std::unordered_map<ProfileIndex, std::string> own_properties;
  for (const auto& r : recipients) {
    if (!r.trigger_properties_json.empty()) own_properties.emplace(r.index, r.trigger_properties_json);
  }
  const std::string subscription = SubscriptionAttribute(campaign.channel);
  const DeliveryState sent_state = adapter->delivers() ? DeliveryState::kPending : DeliveryState::kDone;
  std::vector<ProfileIndex> batch;
  batch.reserve(kSendBatch);
  auto decide = [&]() -> Status {
    std::vector<RecipientInfo> infos;
    {
      CF_ASSIGN_OR_RETURN(auto read, storage_->Begin(false));
      CF_ASSIGN_OR_RETURN(infos, read->RecipientInfos(ws, batch, subscription));
    }
    return Write([&](Transaction& txn, std::vector<CohortDelta>&) -> Status {
      CF_ASSIGN_OR_RETURN(auto decided, txn.DecidedProfiles(dispatch.pk, batch));
      const std::unordered_set<ProfileIndex> skip(decided.begin(), decided.end());
      // Counted inside the write: concurrent dispatches to the same users see each other's sends.
      std::unordered_map<ProfileIndex, int64_t> sent_recently;
      if (cap_since) {
        CF_ASSIGN_OR_RETURN(auto counts, txn.SentCounts(batch, campaign.channel, *cap_since));
        sent_recently.insert(counts.begin(), counts.end());
      }
      const int64_t now = clock_.NowSeconds();
      for (const RecipientInfo& info : infos) {
        if (skip.count(info.index)) continue;
        SendRecord r;
        r.dispatch_pk = dispatch.pk;
        r.campaign_pk = campaign.pk;
        r.profile = info.index;
        r.braze_id = info.braze_id;
        r.external_id = info.external_id;
        r.device_id = info.device_id;
        r.aliases_json = info.aliases_json;
        r.channel = campaign.channel;
        r.time = now;
        if (auto it = own_properties.find(info.index); it != own_properties.end())
          r.trigger_properties_json = it->second;
        if (info.subscription == "unsubscribed") {
          r.outcome = "not_opted_in";
        } else if (InControlGroup(campaign, info.braze_id)) {
          r.outcome = "control";
        } else if (cap_since && sent_recently[info.index] >= cap_max) {
          r.outcome = "capped";
        } else {
          r.outcome = "sent";
          r.delivery = sent_state;
        }
        CF_RETURN_IF_ERROR(txn.InsertSend(r));
      }
      return Status::OK();
    });
  };
  for (auto it = members.begin(); it != members.end(); ++it) {
    batch.push_back(*it);
    if (batch.size() == kSendBatch) {
      CF_RETURN_IF_ERROR(decide());
      batch.clear();
    }
  }
  if (!batch.empty()) CF_RETURN_IF_ERROR(decide());

  if (adapter->delivers()) {
    SendFeedRow context;
    context.send.dispatch_pk = dispatch.pk;
    context.campaign_id = campaign.campaign_id;
    context.campaign_name = campaign.name;
    context.dispatch_id = dispatch.dispatch_id;
    context.send_id = dispatch.send_id;
    CF_RETURN_IF_ERROR(DeliverPending(context, dispatch.trigger_properties_json, *adapter));
  }

  CF_ASSIGN_OR_RETURN(auto read, storage_->Begin(false));
  CF_ASSIGN_OR_RETURN(auto outcomes, read->DispatchOutcomes(dispatch.pk));
  json counts = json::object();
  for (const auto& [outcome, n] : outcomes) counts[outcome] = n;
  json out = {{"dispatch_id", dispatch.dispatch_id}, {"outcomes", std::move(counts)}};
  if (!errors.empty()) out["errors"] = std::move(errors);
  return out;
}

Status Engage::DeliverPending(const SendFeedRow& context, const std::string& trigger_properties_json,
                              DeliveryAdapter& adapter) {
  // Each chunk is marked as being attempted (committed) before its first POST, and its results
  // are committed after its last. A crash in between leaves the chunk uncertain: Open records
  // those failed, never re-sent, so no message reaches a user twice for one dispatch.
  const json shared = json::parse(trigger_properties_json, nullptr, false);
  const int64_t dispatch_pk = context.send.dispatch_pk;
  while (true) {
    std::vector<SendRecord> chunk;
    CF_RETURN_IF_ERROR(Write([&](Transaction& t, std::vector<CohortDelta>&) -> Status {
      CF_ASSIGN_OR_RETURN(chunk, t.ClaimPending(dispatch_pk, kDeliveryChunk));
      return Status::OK();
    }));
    if (chunk.empty()) return Status::OK();
    std::vector<std::pair<int64_t, DeliveryResult>> results;
    for (const SendRecord& s : chunk) {
      SendFeedRow row = context;
      row.send = s;
      json message = json::parse(SendRecordJson(row));
      json props = shared.is_object() ? shared : json::object();
      if (!s.trigger_properties_json.empty()) props.update(json::parse(s.trigger_properties_json, nullptr, false));
      message["trigger_properties"] = std::move(props);
      results.emplace_back(s.pk, adapter.Deliver(message["id"].get<std::string>(), message.dump()));
    }
    CF_RETURN_IF_ERROR(Write([&](Transaction& t, std::vector<CohortDelta>&) -> Status {
      for (const auto& [pk, r] : results) {
        CF_RETURN_IF_ERROR(t.FinishDelivery(pk, r.delivered ? "sent" : "failed", r.reason));
      }
      return Status::OK();
    }));
  }
}

}  // namespace cf::engage
