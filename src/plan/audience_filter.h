// Which customers a campaign may reach: its `audience` expression over customer attributes
// (the offer grammar of offer/offer.h, evaluated over data::Customers::attributes()) and the
// opt-in column of its channel.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "data/dataset.h"
#include "plan/allocation.h"

namespace cf::plan {

// One byte per customer, 1 = selected. "" (and "any") select everyone. Comparisons:
// = != (== <>) in, not in, and, or, not, and the ordering operators < <= > >= over values that
// read as numbers (a missing or non-numeric value never satisfies one). A missing value is "",
// so `region != "North"` selects customers without a region. Errors name an unknown attribute
// and the valid ones.
Result<std::vector<uint8_t>> SelectCustomers(std::string_view expr, const data::Customers& customers);

// The opt-in column of a channel, or null when the dataset has none: for email, the first
// attribute named (case-insensitively) opt_in_email, email_opt_in, optin_email or email_optin.
const data::Attribute* OptInColumn(const data::Customers& customers, Channel channel);

// Whether the customer's value in an opt-in column says yes: true, 1, yes or y in any case
// (surrounding spaces ignored). Anything else, including a missing value, is no.
bool IsOptedIn(const data::Attribute& column, uint32_t customer);

}  // namespace cf::plan
