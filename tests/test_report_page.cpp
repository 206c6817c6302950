// The report page leads with the findings, then a table of contents, each entry linking to a section that exists.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tension/render/html_page.h"

using namespace tension;

TEST(ReportPage, FindingsFirstThenContentsLinkingToSections) {
  render::HtmlPage page("report");
  page.paragraph("intro");
  page.section("Completeness (Fig. 3)", "completeness");
  page.paragraph("body one");
  page.section("Toy <models>");
  page.finding({"E_l tracks f_v", "lowest Pearson 0.9991", "holds", "completeness"});
  page.finding({"XOR is diagonal", "454 % off-diagonal", "does not hold", "section-2"});
  const std::string html = page.html();
  const auto findings = html.find("id=\"findings\""), contents = html.find("id=\"contents\""),
             first = html.find("<h2 id=\"completeness\"");
  ASSERT_NE(findings, std::string::npos);
  ASSERT_NE(contents, std::string::npos);
  ASSERT_NE(first, std::string::npos);
  EXPECT_LT(findings, contents);
  EXPECT_LT(contents, html.find("intro"));
  EXPECT_LT(html.find("intro"), first);
  EXPECT_NE(html.find("Toy &lt;models&gt;"), std::string::npos) << "headings are escaped";
  // Every link points at an id on the page.
  std::set<std::string> ids, links;
  const std::regex id_re("id=\"([^\"]+)\""), link_re("href=\"#([^\"]+)\"");
  for (std::sregex_iterator it(html.begin(), html.end(), id_re), end; it != end; ++it) ids.insert((*it)[1]);
  for (std::sregex_iterator it(html.begin(), html.end(), link_re), end; it != end; ++it) links.insert((*it)[1]);
  EXPECT_EQ(links, (std::set<std::string>{"completeness", "section-2"}));
  for (const auto& l : links) EXPECT_TRUE(ids.count(l)) << l;
  // The verdicts keep their order and their class.
  EXPECT_LT(html.find("<tr class=\"holds\">"), html.find("<tr class=\"fails\">"));
}

TEST(ReportPage, NoFindingsNoSummary) {
  render::HtmlPage page("report");
  page.paragraph("only text");
  const std::string html = page.html();
  EXPECT_EQ(html.find("findings"), std::string::npos);
  EXPECT_EQ(html.find("contents"), std::string::npos);
}
