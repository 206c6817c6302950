// tension inversion-check MODEL DATA --layers L1,L2 [--through P1,P2] --units 20 --mtis 10 --out DIR: paper App. F,
// do S+ / S- inversions excite / inhibit the unit (Fig. 14)? Rerun with the same folder to resume.
#include <spdlog/spdlog.h>

#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/core/npy.h"
#include "tension/analysis/inversion_check.h"

namespace tension::cli {

void register_inversion_check(CLI::App& app) {
  struct Args {
    ModelArgs model;
    std::string data, out, spectrum;
    analysis::InversionCheckOptions opt;
    std::vector<std::string> layers, through;
    std::optional<int64_t> steps, transforms;
    std::optional<double> lr;
  };
  static Args a;
  auto& o = a.opt;
  auto* cmd = app.add_subcommand("inversion-check",
                                 "App. F: S+ and S- attribution inversions of random units' MTIs through a preceding "
                                 "layer, f_v per step in sd of the unit (Fig. 14); resumable");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset: the MTI search, sd(f_v) and the MACO spectrum")->required();
  cmd->add_option("--layers", a.layers, "the units' layers, comma-separated")->delimiter(',')->required();
  cmd->add_option("--through", a.through,
                  "per layer, the layer the inversion goes through (default: the layer listed before it; for the "
                  "first, the input)")->delimiter(',');
  cmd->add_option("--units", o.units(), "random units per layer")->capture_default_str();
  cmd->add_option("--mtis", o.mtis(), "MTIs per unit")->capture_default_str();
  cmd->add_option("--search-images", o.search_images(), "images searched for MTIs and sd(f_v) (0 = all)")
      ->capture_default_str();
  cmd->add_option("--start", o.start(), "noise (inversion, App. F) or mti (accentuation from the MTI)")
      ->capture_default_str();
  cmd->add_option("--steps", a.steps, "optimisation steps (default 121)");
  cmd->add_option("--lr", a.lr, "Adam learning rate (default 0.02)");
  cmd->add_option("--transforms", a.transforms, "transformation draws per step (default 16)");
  cmd->add_option("--param", o.param(), "image parameterisation: maco, fourier or pixel")->capture_default_str();
  cmd->add_option("--canvas", o.canvas(), "canvas side (0: 512 for a 224 input, in proportion)")->capture_default_str();
  cmd->add_option("--spectrum", a.spectrum, "MACO magnitude spectrum (.npy; default: estimated from DATA)");
  cmd->add_option("--cos-power", o.cos_power(), "p of dot*cos^p (eq. 5)")->capture_default_str();
  cmd->add_option("--batch", o.batch(), "inversions per optimisation batch (speed only)")->capture_default_str();
  cmd->add_option("--max-batches", o.max_batches(), "stop after this many batches; rerun to go on (0: run to the end)")
      ->capture_default_str();
  cmd->add_option("--out,-o", a.out, "output folder (rerun with the same folder to resume)")->required();
  cmd->callback([] {
    auto m = load_model(a.model);
    auto ds = data::open_dataset(a.data);
    auto& o = a.opt;
    o.layers(a.layers).through(a.through).seed(a.model.seed);
    if (a.steps) o.render().steps(*a.steps);
    if (a.lr) o.render().lr(*a.lr);
    if (a.transforms) o.render().transforms().count(*a.transforms);
    if (!a.spectrum.empty()) o.spectrum(read_npy(a.spectrum));
    RunManifest run(a.out, "inversion-check", global().argv);
    run["params"] = {{"model", model_args_json(a.model)}, {"data", a.data}, {"layers", a.layers},
                     {"through", a.through}, {"units", o.units()}, {"mtis", o.mtis()},
                     {"search_images", o.search_images()}, {"start", o.start()}, {"steps", o.render().steps()},
                     {"lr", o.render().lr()}, {"transforms", o.render().transforms().count()}, {"param", o.param()},
                     {"canvas", o.canvas()}, {"spectrum", a.spectrum}, {"cos_power", o.cos_power()},
                     {"batch", o.batch()}, {"max_batches", o.max_batches()}, {"seed", a.model.seed}};
    run["model"] = {{"weights", m->weights_id()}};
    run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}, {"size", ds->size()}};
    run.write("running");
    auto res = analysis::inversion_check(*m, *ds, o, a.out);
    run["results"] = {{"complete", res.complete}, {"pairs_done_before", res.pairs_done_before},
                      {"pairs_rendered", res.pairs_rendered}};
    run.add_output("protocol.json", "the options that decide the numbers (a rerun with other options fails)");
    run.add_output("mtis.csv", "per layer, unit and rank: the MTI's dataset index, f_v, and sd(f_v) over the data");
    run.add_output("curves.csv", "per layer, unit, MTI image, sign (s+, s-) and step: f_v, f_v / sd(f_v)");
    if (!res.complete) {
      run.write("incomplete");
      spdlog::info("stopped after --max-batches {}: rerun with --out {} to go on", o.max_batches(), a.out);
      return;
    }
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& s : res.layers) {
      layers.push_back({{"layer", s.layer}, {"through", s.through}, {"units", s.units}, {"pairs", s.pairs},
                        {"s_pos_raised", s.s_pos_raised}, {"s_neg_lowered", s.s_neg_lowered}, {"both", s.both}});
      spdlog::info("{} through {}: S+ raised f_v in {:.0f}% of {} pairs, S- lowered it in {:.0f}%, both in {:.0f}%",
                   s.layer, s.through, 100 * s.s_pos_raised, s.pairs, 100 * s.s_neg_lowered, 100 * s.both);
    }
    run["results"]["layers"] = layers;
    run.add_output("fig14.png", "Fig. 14: per layer, f_v / sd over the steps, median and range over the pairs, S+ and "
                                "S- (also .svg, .gp, .dat)");
    run.add_output("summary.csv", "per layer: fractions of pairs whose S+ ends above its start, S- below, both; "
                                  "median f_v / sd at the end");
    run.add_output("summary.json", "the same as JSON");
    run.write();
  });
}

}  // namespace tension::cli
