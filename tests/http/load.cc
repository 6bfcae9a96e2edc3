// http_load: requests per second on one route from C keep-alive clients, optionally while S
// silent clients hold connections open (they connect and send nothing). A benchmark tool for
// docs/benchmarks.md, not a test. Usage: http_load URL PATH [CLIENTS] [SECONDS] [SILENT]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: http_load URL PATH [CLIENTS=4] [SECONDS=5] [SILENT=0]\n");
    return 2;
  }
  const std::string url = argv[1], path = argv[2];
  const int clients = argc > 3 ? std::stoi(argv[3]) : 4;
  const double seconds = argc > 4 ? std::stod(argv[4]) : 5;
  const int silent = argc > 5 ? std::stoi(argv[5]) : 0;
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  std::vector<int> held;
  for (int i = 0; i < silent; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) held.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<long> errors{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      cf::http::Client client(url);
      while (!stop) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = client.Get(path);
        if (!r.has_value()) ++errors;
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(p * all.size()))]; };
  std::printf(
      "%s%s: %d clients, %d silent: %zu requests, %.0f req/s, p50 %.3f ms, p99 %.3f ms, max %.1f ms, %ld errors\n",
      url.c_str(), path.c_str(), clients, silent, all.size(), all.size() / elapsed, pct(0.5), pct(0.99),
      all.empty() ? 0.0 : all.back(), errors.load());
  for (int fd : held) close(fd);
  return 0;
}
