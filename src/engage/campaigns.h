// Campaigns, global frequency caps, delivery settings and the sends feed, as the admin command
// line and the HTTP API share them. Sending (POST /campaigns/trigger/send) needs the cohort
// bitmaps and lives in Engage (engage.h); everything here works on the Storage alone, so it runs
// beside a server on the same database.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engage/storage.h"

namespace cf::engage {

// The channels a campaign sends on.
const std::vector<std::string>& CampaignChannels();

struct CampaignSpec {
  std::string name;          // unique in the workspace; audience matches sends to plan campaigns by it
  std::string segment_id;    // an existing segment of the workspace
  std::string channel;       // one of CampaignChannels()
  double control_share = 0;  // share of the segment held out as the control group, in [0, 1)

  // Checks every field but the segment's existence, naming the field.
  Status Validate() const;
};

// Inserts the campaign (checked, with a new random campaign_id) and returns it.
Result<CampaignRecord> InsertCampaign(Transaction& txn, int64_t workspace_id, const CampaignSpec& spec, int64_t now);

// The admin command line's operations, on workspace `workspace` (created by the writes when it is
// `default`).
Result<CampaignRecord> CreateCampaign(Storage& storage, const std::string& workspace, const CampaignSpec& spec,
                                      int64_t now);
Result<std::vector<CampaignRecord>> ListCampaigns(Storage& storage, const std::string& workspace);
Status SetFrequencyCap(Storage& storage, const std::string& workspace, const FrequencyCapRecord& cap);
Status RemoveFrequencyCap(Storage& storage, const std::string& workspace, const std::string& channel);
Result<std::vector<FrequencyCapRecord>> ListFrequencyCaps(Storage& storage, const std::string& workspace);
Status SetDelivery(Storage& storage, const std::string& workspace, const DeliveryRecord& delivery);
// The workspace's settings (the default `store` when none were set).
Result<DeliveryRecord> ShowDelivery(Storage& storage, const std::string& workspace);

// One send record as a line of the sends feed (JSON, no newline), in Braze Currents' names.
std::string SendRecordJson(const SendFeedRow& row);

// Passes every decided send record of the workspace with time >= since (of one campaign when
// campaign_id is set) to `line`, in send order. An unknown campaign_id is an error naming it.
Status WriteSendsFeed(Transaction& txn, int64_t workspace_id, const std::optional<std::string>& campaign_id,
                      int64_t since, const std::function<Status(std::string_view)>& line);
// The same for the admin command line, by workspace name.
Status WriteSendsFeed(Storage& storage, const std::string& workspace, const std::optional<std::string>& campaign_id,
                      int64_t since, const std::function<Status(std::string_view)>& line);

}  // namespace cf::engage
