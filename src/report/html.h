// Self-contained HTML reports: one file, inline CSS and SVG, no scripts, nothing downloaded.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cf::report {

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string Escape(std::string_view text);

class HtmlPage {
 public:
  explicit HtmlPage(std::string title) : title_(std::move(title)) {}

  void Heading(std::string_view text, int level = 2);
  void Paragraph(std::string_view text);
  // Cells are text (escaped); numeric-looking cells are right-aligned.
  void Table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  // Trusted markup produced by this module (e.g. an SVG chart).
  void Raw(std::string markup);
  std::string Render() const;

 private:
  std::string title_;
  std::string body_;
};

}  // namespace cf::report
