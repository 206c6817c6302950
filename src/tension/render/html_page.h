#pragma once
// A self-contained HTML report page: sections of text, tables and images, written as one file that works
// offline. Later analyses append their sections to the same page.
#include <string>
#include <vector>

namespace tension::render {

std::string html_escape(const std::string& s);

class HtmlPage {
 public:
  explicit HtmlPage(std::string title);

  void section(const std::string& heading);
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
};

}  // namespace tension::render
