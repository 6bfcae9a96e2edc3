#include "report/html.h"

#include <fmt/format.h>

#include <cctype>

namespace cf::report {
namespace {

bool LooksNumeric(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-' && c != '+' && c != '%' && c != 'e') {
      return false;
    }
  }
  return true;
}

constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px}"
    "th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "svg{margin:0.5em 1em 0.5em 0;vertical-align:top}";

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void HtmlPage::Heading(std::string_view text, int level) {
  body_ += fmt::format("<h{0}>{1}</h{0}>\n", level, Escape(text));
}

void HtmlPage::Paragraph(std::string_view text) { body_ += "<p>" + Escape(text) + "</p>\n"; }

void HtmlPage::Table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  body_ += "<table><tr>";
  for (const std::string& h : header) {
    body_ += "<th>" + Escape(h) + "</th>";
  }
  body_ += "</tr>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (const std::string& cell : row) {
      body_ += (LooksNumeric(cell) ? "<td class=\"n\">" : "<td>") + Escape(cell) + "</td>";
    }
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

void HtmlPage::Raw(std::string markup) { body_ += std::move(markup) + "\n"; }

std::string HtmlPage::Render() const {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Escape(title_) +
         "</title><style>" + std::string(kStyle) + "</style></head><body>\n<h1>" + Escape(title_) + "</h1>\n" + body_ +
         "</body></html>\n";
}

}  // namespace cf::report
