// The report page leads with the findings, then a table of contents, each entry linking to a section that exists.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tension/render/html_page.h"
#include "tension/report/sections.h"

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

// The uniqueness findings read the demo's results: attributions shared more than MEIs at every layer holds; the
// depth trend needs MEI U >= 0.9 everywhere and a falling ||S||_1 U.
TEST(ReportPage, UniquenessFindingsReadTheResults) {
  auto layer = [](const char* name, double mei, double l1) {
    return nlohmann::json{{"layer", name}, {"U", {{"units", {{"mei", mei}, {"l1", l1}}}}}};
  };
  nlohmann::json results;
  results["uniqueness"] = {layer("relu2", 0.95, 0.5), layer("relu3", 0.97, 0.3)};
  results["uniqueness_trend"]["units"] = {{"mei_near_1", true}, {"l1_falls_with_depth", true}};
  render::HtmlPage page("report");
  page.section("Uniqueness", "uniqueness");
  report::add_findings(results, "a", "b", page);
  std::string html = page.html();
  EXPECT_NE(html.find("relu2: 0.50 vs 0.95, relu3: 0.30 vs 0.97"), std::string::npos) << html;
  EXPECT_EQ(html.find("class=\"fails\""), std::string::npos) << "both hold";

  results["uniqueness"][1]["U"]["units"]["l1"] = 0.99;  // one layer's attributions as unique as its MEIs
  results["uniqueness_trend"]["units"]["l1_falls_with_depth"] = false;
  render::HtmlPage second("report");
  second.section("Uniqueness", "uniqueness");
  report::add_findings(results, "a", "b", second);
  html = second.html();
  EXPECT_EQ(html.find("class=\"holds\""), std::string::npos) << "neither holds";
  EXPECT_NE(html.find("falls with depth: no"), std::string::npos) << html;
}
