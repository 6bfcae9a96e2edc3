// Small string helpers used across modules.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cf {

std::string_view Trim(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string ToLower(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);

// Whole-string numeric parses: nullopt unless all of `s` (after trimming spaces) is a number.
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);

// Quotes `s` for an error message: 'value', cut to 80 characters.
std::string Quote(std::string_view s);

// A CSV field (RFC 4180): `s` as it is, or quoted with inner quotes doubled when it holds a
// comma, a quote or a line break.
std::string CsvField(std::string_view s);
// The same appended to `out`: writers of a million rows build no string per field.
void AppendCsvField(std::string* out, std::string_view s);

// Appends `value` with exactly `decimals` (0..9) digits after the point, the text
// fmt::format("{:.{}f}", value, decimals) gives (correctly rounded, "-" for negative values
// and negative zero, "nan"/"inf" as fmt writes them). Integer arithmetic for the common
// case: writers of a million scores spend most of their time formatting doubles otherwise.
void AppendFixed(std::string* out, double value, int decimals);

// A JSON string literal for `s` (with the quotes).
std::string JsonString(std::string_view s);

}  // namespace cf
