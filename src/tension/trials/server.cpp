#include "tension/trials/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "tension/core/error.h"
#include "tension/trials/experiment.h"
#include "tension/trials/participant_page.h"

namespace tension::trials {

namespace {

using HttpJson = nlohmann::json;

int serve_stop_pipe[2] = {-1, -1};

void serve_on_stop_signal(int) {
  const char c = 1;
  [[maybe_unused]] auto n = write(serve_stop_pipe[1], &c, 1);
}

void http_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(HttpJson{{"error", message}}.dump(), "application/json");
}

// The request body as a JSON object; RequestError 400 otherwise.
HttpJson http_body(const httplib::Request& req) {
  HttpJson j = HttpJson::parse(req.body, nullptr, false);
  if (j.is_discarded()) throw RequestError(400, "malformed JSON in the request body");
  if (!j.is_object()) throw RequestError(400, "the request body must be a JSON object");
  return j;
}

std::string http_string(const HttpJson& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw RequestError(400, fmt::format("missing \"{}\"", key));
    return {};
  }
  if (!it->is_string()) throw RequestError(400, fmt::format("\"{}\" must be a string", key));
  return it->get<std::string>();
}

int64_t http_int(const HttpJson& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw RequestError(400, fmt::format("missing \"{}\"", key));
  if (!it->is_number_integer()) throw RequestError(400, fmt::format("\"{}\" must be an integer", key));
  return it->get<int64_t>();
}

std::string http_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void serve(const ServeOptions& opt) {
  ExperimentOptions eo;
  eo.completion_code = opt.completion_code;
  eo.completion_url = opt.completion_url;
  eo.durable = true;
  Experiment ex(opt.bundle, opt.db, eo);
  std::set<std::string> crops;
  for (const auto& t : ex.bundle().trials) {
    for (const auto* list : {&t.examples, &t.choices}) {
      for (const auto& c : *list) crops.insert(c.crop);
    }
  }

  httplib::Server svr;
  const int threads = std::max(1, opt.threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_payload_max_length(opt.max_body);
  svr.set_read_timeout(10);
  svr.set_keep_alive_timeout(3);
  // Every 4xx/5xx carries a JSON message, also those httplib makes itself (404 of no route, 413 of a big body).
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string what = res.status == 404   ? "not found"
                             : res.status == 413 ? "request body too large"
                                                 : fmt::format("HTTP {}", res.status);
    res.set_content(HttpJson{{"error", what}}.dump(), "application/json");
  });

  using Handler = std::function<HttpJson(const httplib::Request&)>;
  auto api = [](Handler f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      try {
        res.set_content(f(req).dump(), "application/json");
      } catch (const RequestError& e) {
        http_error(res, e.status, e.what());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "tension trials serve: %s %s: %s\n", req.method.c_str(), req.path.c_str(), e.what());
        http_error(res, 500, e.what());
      }
    };
  };

  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    // The page makes no request outside this server.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
    res.set_content(participant_page(), "text/html; charset=utf-8");
  });
  svr.Get(R"(/crops/([a-z0-9_-]+)\.png)", [&ex, &crops](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    std::string bytes = crops.count(id) ? http_file(ex.bundle().crop_path(id)) : std::string();
    if (bytes.empty()) return http_error(res, 404, "no crop " + id + " in the bundle");
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(std::move(bytes), "image/png");
  });
  svr.Post("/api/join", api([&ex](const httplib::Request& req) {
             const HttpJson j = http_body(req);
             Identity who;
             who.participant = http_string(j, "participant", false);
             who.prolific_pid = http_string(j, "PROLIFIC_PID", false);
             who.study_id = http_string(j, "STUDY_ID", false);
             who.session_id = http_string(j, "SESSION_ID", false);
             return to_json(ex.join(who));
           }));
  svr.Post("/api/start", api([&ex](const httplib::Request& req) {
             return to_json(ex.start(http_string(http_body(req), "participant", true)));
           }));
  svr.Get("/api/state", api([&ex](const httplib::Request& req) {
            if (!req.has_param("participant")) throw RequestError(400, "missing ?participant=");
            return to_json(ex.state(req.get_param_value("participant")));
          }));
  svr.Post("/api/answer", api([&ex](const httplib::Request& req) {
             const HttpJson j = http_body(req);
             const int64_t q = http_int(j, "question");
             if (q != 1 && q != 2) throw RequestError(400, "\"question\" must be 1 (MEI) or 2 (MII)");
             return to_json(ex.answer(http_string(j, "participant", true), http_int(j, "trial"),
                                      static_cast<Question>(q), http_int(j, "choice"), http_int(j, "rt_ms")));
           }));

  int port = opt.port;
  if (port == 0) {
    port = svr.bind_to_any_port(opt.host);
    if (port < 0) throw Error(fmt::format("cannot listen on {} (any port)", opt.host));
  } else if (!svr.bind_to_port(opt.host, port)) {
    throw Error(fmt::format("cannot listen on {}:{} (in use, or not an address of this machine?)", opt.host, port));
  }

  // SIGINT and SIGTERM stop the server. The handler only writes to a pipe (httplib's stop() is not safe in a
  // signal handler); a thread reading it stops the server. Blocking the signals instead would not do: threads
  // started before serve() (LibTorch's) would still take them and die.
  if (pipe(serve_stop_pipe) != 0) throw Error("cannot create a pipe for the server's signal handling");
  struct sigaction on_stop = {}, ignore = {}, old_int = {}, old_term = {}, old_pipe = {};
  on_stop.sa_handler = serve_on_stop_signal;
  sigemptyset(&on_stop.sa_mask);
  sigaction(SIGINT, &on_stop, &old_int);
  sigaction(SIGTERM, &on_stop, &old_term);
  // Debian's cpp-httplib sends without MSG_NOSIGNAL: a participant closing the tab mid-reply must not end the
  // server.
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, &old_pipe);
  std::atomic<bool> done{false}, signalled{false};
  std::thread waiter([&] {
    pollfd p{serve_stop_pipe[0], POLLIN, 0};
    while (!done) {
      if (poll(&p, 1, 200) > 0) {
        signalled = true;
        svr.stop();
        return;
      }
    }
  });

  const std::string host = opt.host.find(':') != std::string::npos ? "[" + opt.host + "]" : opt.host;
  std::printf(
      "tension trials serve: %zu trials at http://%s:%d/ (answers in %s); participants open "
      "http://%s:%d/?participant=ID or the Prolific link; Ctrl-C stops\n",
      ex.bundle().trials.size(), host.c_str(), port, opt.db.c_str(), host.c_str(), port);
  std::fflush(stdout);
  const bool ok = svr.listen_after_bind();
  done = true;
  waiter.join();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  close(serve_stop_pipe[0]);
  close(serve_stop_pipe[1]);
  if (!ok && !signalled) throw Error(fmt::format("the server on {}:{} stopped with an error", opt.host, port));
  std::printf("tension trials serve: stopped\n");
  std::fflush(stdout);
}

}  // namespace tension::trials
