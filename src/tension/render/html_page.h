#pragma once
// A self-contained HTML report page: sections of text, tables and images, written as one file that works
// offline. Later analyses append their sections to the same page.
#include <string>
#include <vector>

namespace tension::render {

std::string html_escape(const std::string& s);

// One of the paper's claims as a report measured it: the page opens with these, each linking to its section.
struct Finding {
  std::string claim;      // the paper's statement, with its figure or section
  std::string measured;   // what this run measured
  std::string verdict;    // "holds", "does not hold", "partly"
  std::string anchor;     // the section's id
};

class HtmlPage {
 public:
  explicit HtmlPage(std::string title);

  // A section heading with an anchor (`id`, or "section-N"), listed in the page's table of contents.
  void section(const std::string& heading, const std::string& id = "");
  // Findings are drawn first, above the table of contents, in the order given.
  void finding(const Finding& f);
  void paragraph(const std::string& text);   // text is escaped
  void raw(const std::string& html);         // trusted markup
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  void image(const std::string& rel_path, const std::string& caption);
  void code(const std::string& text);

  std::string html() const;
  void write(const std::string& path) const;  // throws tension::Error when it cannot write

 private:
  std::string title_;
  std::string body_;
  std::vector<std::pair<std::string, std::string>> toc_;  // id, heading
  std::vector<Finding> findings_;

  std::string lead() const;  // the findings and the table of contents
};

}  // namespace tension::render
