#include "tension/render/html_page.h"

#include <fstream>

#include "tension/core/error.h"

namespace tension::render {

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

HtmlPage::HtmlPage(std::string title) : title_(std::move(title)) {}

void HtmlPage::section(const std::string& heading) { body_ += "<h2>" + html_escape(heading) + "</h2>\n"; }

void HtmlPage::paragraph(const std::string& text) { body_ += "<p>" + html_escape(text) + "</p>\n"; }

void HtmlPage::raw(const std::string& html) { body_ += html + "\n"; }

void HtmlPage::code(const std::string& text) { body_ += "<pre>" + html_escape(text) + "</pre>\n"; }

void HtmlPage::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  body_ += "<table>\n<thead><tr>";
  for (const auto& h : header) body_ += "<th>" + html_escape(h) + "</th>";
  body_ += "</tr></thead>\n<tbody>\n";
  for (const auto& r : rows) {
    body_ += "<tr>";
    for (const auto& c : r) body_ += "<td>" + html_escape(c) + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</tbody></table>\n";
}

void HtmlPage::image(const std::string& rel_path, const std::string& caption) {
  body_ += "<figure><img src=\"" + html_escape(rel_path) + "\" alt=\"" + html_escape(caption) +
           "\"><figcaption>" + html_escape(caption) + "</figcaption></figure>\n";
}

std::string HtmlPage::html() const {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title_) +
         "</title>\n<style>body{font-family:DejaVu Sans,sans-serif;max-width:1100px;margin:2em auto;"
         "padding:0 1em;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid "
         "#ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}figure{display:inline-block;"
         "margin:0 1em 1em 0}img{max-width:100%;image-rendering:pixelated}pre{background:#f6f6f6;"
         "padding:.5em;overflow-x:auto}</style></head>\n<body>\n<h1>" +
         html_escape(title_) + "</h1>\n" + body_ + "</body></html>\n";
}

void HtmlPage::write(const std::string& path) const {
  std::ofstream f(path);
  if (!f) throw Error("cannot write " + path);
  f << html();
}

}  // namespace tension::render
