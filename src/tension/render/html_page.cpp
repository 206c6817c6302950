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

void HtmlPage::section(const std::string& heading, const std::string& id) {
  toc_.emplace_back(id.empty() ? "section-" + std::to_string(toc_.size() + 1) : id, heading);
  body_ += "<h2 id=\"" + html_escape(toc_.back().first) + "\">" + html_escape(heading) + "</h2>\n";
}

void HtmlPage::finding(const Finding& f) { findings_.push_back(f); }

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
         "padding:.5em;overflow-x:auto}tr.holds td:nth-child(3){color:#176117}tr.fails td:nth-child(3){color:#a11}"
         "tr.partly td:nth-child(3){color:#8a5a00}</style></head>\n<body>\n<h1>" +
         html_escape(title_) + "</h1>\n" + lead() + body_ + "</body></html>\n";
}

std::string HtmlPage::lead() const {
  std::string out;
  if (!findings_.empty()) {
    out += "<section id=\"findings\"><h2>Findings</h2>\n<table>\n<thead><tr><th>the paper's claim</th><th>measured "
           "here</th><th>verdict</th><th>section</th></tr></thead>\n<tbody>\n";
    for (const auto& f : findings_) {
      const auto cls = f.verdict == "holds" ? "holds" : f.verdict == "does not hold" ? "fails" : "partly";
      out += "<tr class=\"" + std::string(cls) + "\"><td>" + html_escape(f.claim) + "</td><td>" +
             html_escape(f.measured) + "</td><td><b>" + html_escape(f.verdict) + "</b></td><td><a href=\"#" +
             html_escape(f.anchor) + "\">go</a></td></tr>\n";
    }
    out += "</tbody></table></section>\n";
  }
  if (!toc_.empty()) {
    out += "<nav id=\"contents\"><h2>Contents</h2><ol>\n";
    for (const auto& [id, heading] : toc_) {
      out += "<li><a href=\"#" + html_escape(id) + "\">" + html_escape(heading) + "</a></li>\n";
    }
    out += "</ol></nav>\n";
  }
  return out;
}

void HtmlPage::write(const std::string& path) const {
  std::ofstream f(path);
  if (!f) throw Error("cannot write " + path);
  f << html();
}

}  // namespace tension::render
