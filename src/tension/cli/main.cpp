// tension: the command-line front of the library. Each subcommand lives in its own cmd_*.cpp.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <iostream>
#include <set>
#include <string>

#include "tension/cli/common.h"
#include "tension/core/comm.h"
#include "tension/core/error.h"
#include "tension/core/interrupt.h"
#include "tension/core/threads.h"

namespace {

// Under an MPI launcher one rank's error ends the whole job: the other ranks would otherwise wait for it forever.
int end(int code) {
  if (tension::comm::size() > 1 && code != 0) tension::comm::abort(code);
  tension::comm::finalize();
  return code;
}

// The commands whose dataset passes the ranks of an MPI job share.
const std::set<std::string> kSharedCommands = {"attribute", "kmeans", "atlas", "uniqueness"};

// "tension: " or, in a job of several ranks, "tension[rank 2]: ".
std::string prefix() {
  return tension::comm::size() > 1 ? "tension[rank " + std::to_string(tension::comm::rank()) + "]: " : "tension: ";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tension::cli;
  tension::comm::init(&argc, &argv);
  auto& g = global();
  g.argv.assign(argv, argv + argc);
  tension::install_interrupt_handlers();

  CLI::App app{"tension: feature inhibition through maximally tense images"};
  app.set_version_flag("--version", "tension 0.1.0");
  app.require_subcommand(1);
  app.add_option("--threads", g.threads, "torch threads (default: hardware threads)");
  app.add_option("--device", g.device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.parse_complete_callback([&] {
    // Logs and progress go to stderr, so that stdout carries only what a command prints (e.g. --json).
    spdlog::set_default_logger(spdlog::stderr_color_mt("tension"));
    spdlog::set_level(spdlog::level::from_str(g.log_level));
    // Rank 0 tells the job's story; the other ranks speak up only for warnings (their unreadable images) and errors.
    if (!tension::comm::leader()) spdlog::set_level(std::max(spdlog::level::warn, spdlog::get_level()));
    spdlog::set_pattern("[%H:%M:%S %^%l%$] %v");
    tension::configure_threads(g.threads);
    // Under a launcher every rank would run the whole of any other command, each writing the same files.
    const auto* cmd = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
    if (tension::comm::size() > 1 && cmd && !kSharedCommands.count(cmd->get_name())) {
      std::string shared;
      for (const auto& name : kSharedCommands) shared += (shared.empty() ? "" : ", ") + name;
      throw tension::Error("tension " + cmd->get_name() + " does not share its work among MPI ranks (only " + shared +
                           " do): run it without mpirun or srun");
    }
  });

  for (auto reg : {register_layers, register_attribute, register_merge, register_export, register_select,
                   register_kmeans, register_completeness, register_weights, register_visualize,
                   register_inversion_check, register_spectrum, register_atlas, register_uniqueness, register_trials,
                   register_toy, register_train_default, register_eval, register_demo}) {
    reg(app);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return end(app.exit(e));
  } catch (const tension::Interrupted& e) {
    std::cerr << prefix() << e.what() << "\n";
    return end(128 + e.signal);
  } catch (const tension::Error& e) {
    std::cerr << prefix() << "error: " << e.what() << "\n";
    return end(2);
  } catch (const c10::Error& e) {
    std::cerr << prefix() << "torch error: " << e.what_without_backtrace() << "\n";
    return end(3);
  } catch (const std::exception& e) {
    std::cerr << prefix() << "internal error: " << e.what() << "\n";
    return end(4);
  }
  return end(0);
}
