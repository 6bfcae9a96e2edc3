// Socket-level tests of the HTTP server: raw bytes over a real loopback connection, the way a
// hostile or careless client sends them, checking the answer, whether the server closed the
// connection, and how long it took.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engage_process.h"
#include "raw_socket.h"
#include "http/json_answer.h"
#include "http/server.h"

namespace cf::http {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

using ::cf::test::RawSocket;
using Socket = RawSocket;

int CountAnswers(const std::string& data) {
  int n = 0;
  for (size_t pos = data.find("HTTP/1."); pos != std::string::npos; pos = data.find("HTTP/1.", pos + 1)) {
    if (data.compare(pos, 12, "HTTP/1.1 100") != 0) ++n;
  }
  return n;
}

// A real server on a free loopback port: /size answers the body's size, /hello "hello", /big
// `bytes` bytes, /smuggled counts the requests that reach it.
class SocketTest : public ::testing::Test {
 protected:
  static constexpr size_t kMaxBody = 16 * 1024;

  void Start(ServerOptions options) {
    server_ = std::make_unique<Server>(options);
    server_->Route("POST", "/size", [](const Request& r) { return JsonAnswer(201, {{"size", r.body.size()}}); });
    server_->Route("GET", "/hello", [](const Request& r) {
      Response out;
      out.body = "hello " + r.Query("name");
      out.content_type = "text/plain";
      return out;
    });
    server_->Route("GET", "/big", [](const Request& r) {
      Response out;
      out.body.assign(std::stoul(r.Query("bytes")), 'x');
      out.content_type = "text/plain";
      return out;
    });
    for (const char* method : {"GET", "POST"}) {
      server_->Route(method, "/smuggled", [this](const Request&) {
        ++smuggled_;
        return JsonAnswer(200, {{"smuggled", true}});
      });
    }
    server_->SetFallback([](const Request& r, int status) { return MessageAnswer(status, r.error); });
    auto port = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.has_value()) << port.error().ToString();
    port_ = *port;
    thread_ = std::thread([this] { EXPECT_TRUE(server_->Run().ok()); });
  }
  void StartDefault() {
    ServerOptions options;
    options.max_body_bytes = kMaxBody;
    Start(options);
  }
  void TearDown() override {
    if (!server_) return;
    server_->Stop();
    thread_.join();
  }

  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> smuggled_{0};
};

// After a 413 for an oversized chunked body the rest of that body is never run as a request.
TEST_F(SocketTest, OversizedChunkedBodyIsAnsweredAndTheConnectionClosed) {
  StartDefault();
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  // Past the limit by a multiple of 4 KiB, where a reader that stops at the limit stops.
  const std::string data = std::string(kMaxBody + 4096, 'x') + smuggled;
  char size[32];
  std::snprintf(size, sizeof(size), "%zx", data.size());
  Socket s(port_);
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(s.Send("POST /size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(size) +
                     "\r\n" + data + "\r\n0\r\n\r\n"));
  auto r = s.ReadUntilClosed(5);
  EXPECT_TRUE(r.closed) << "the connection stayed open after the 413";
  EXPECT_EQ(r.data.rfind("HTTP/1.1 413", 0), 0u) << r.data;
  EXPECT_EQ(CountAnswers(r.data), 1) << r.data;
  EXPECT_NE(r.data.find("16384 bytes"), std::string::npos) << r.data;
  EXPECT_EQ(smuggled_, 0);
}

// A Content-Length over the limit gets its 413 at once: the body is neither read nor awaited.
TEST_F(SocketTest, ContentLengthOverTheLimitIsAnsweredBeforeTheBody) {
  StartDefault();
  Socket s(port_);
  ASSERT_TRUE(s.Send("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n" + std::string(1000, '{')));
  auto r = s.ReadUntilClosed(5);
  EXPECT_EQ(r.data.rfind("HTTP/1.1 413", 0), 0u) << r.data;
  EXPECT_NE(r.data.find("52428800"), std::string::npos) << r.data;
  EXPECT_TRUE(r.closed);
  EXPECT_LT(r.seconds, 1.0);
}

TEST_F(SocketTest, InvalidContentLengthIsA400AtOnce) {
  StartDefault();
  for (const char* value : {"abc", "-1", "12a", "1 2", "", "99999999999999999999999"}) {
    SCOPED_TRACE(std::string("Content-Length: ") + value);
    Socket s(port_);
    ASSERT_TRUE(s.Send(std::string("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: ") + value + "\r\n\r\n{}"));
    auto r = s.ReadUntilClosed(5);
    EXPECT_EQ(r.data.rfind("HTTP/1.1 400", 0), 0u) << r.data;
    EXPECT_NE(r.data.find("Content-Length"), std::string::npos) << r.data;
    EXPECT_TRUE(r.closed);
    EXPECT_LT(r.seconds, 1.0);
  }
}

// Two framings that disagree are how requests are smuggled past a proxy: 400, and close.
TEST_F(SocketTest, ConflictingFramingIsA400AndClosesTheConnection) {
  StartDefault();
  const std::string chunked_body = "2\r\n{}\r\n0\r\n\r\n";
  const std::vector<std::string> requests = {
      "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
      "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body,
      "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n" + chunked_body,
      "Transfer-Encoding: gzip\r\n\r\n{}",
  };
  for (const std::string& rest : requests) {
    SCOPED_TRACE(rest);
    Socket s(port_);
    ASSERT_TRUE(s.Send("POST /size HTTP/1.1\r\nHost: x\r\n" + rest + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = s.ReadUntilClosed(5);
    EXPECT_EQ(r.data.rfind("HTTP/1.1 400", 0), 0u) << r.data;
    EXPECT_EQ(CountAnswers(r.data), 1) << r.data;
    EXPECT_TRUE(r.closed);
  }
  EXPECT_EQ(smuggled_, 0);
  // The same length twice is one framing (RFC 9110 8.6): it is served.
  Socket s(port_);
  ASSERT_TRUE(s.Send("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"));
  auto r = s.ReadAnswers(5);
  EXPECT_EQ(r.data.rfind("HTTP/1.1 201", 0), 0u) << r.data;
}

// 16 clients that connect and say nothing, send headers and no body, or one byte at a time,
// do not delay a normal request on a default server by more than a second.
TEST_F(SocketTest, SixteenSlowClientsDoNotDelayANormalRequest) {
  Start(ServerOptions{});
  std::vector<std::unique_ptr<Socket>> slow;
  for (int i = 0; i < 6; ++i) slow.push_back(std::make_unique<Socket>(port_));  // silent
  for (int i = 0; i < 5; ++i) {                                                 // headers, no body
    slow.push_back(std::make_unique<Socket>(port_));
    ASSERT_TRUE(slow.back()->Send("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"));
  }
  std::vector<Socket*> tricklers;
  for (int i = 0; i < 5; ++i) {  // one byte at a time
    slow.push_back(std::make_unique<Socket>(port_));
    tricklers.push_back(slow.back().get());
  }
  for (const auto& s : slow) ASSERT_TRUE(s->connected());
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    const std::string request =
        "POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'x');
    for (size_t i = 0; i < request.size() && !done; ++i) {
      for (Socket* s : tricklers) s->Send(request.substr(i, 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the slow ones are all in
  for (int i = 0; i < 3; ++i) {
    Socket s(port_);
    auto start = Clock::now();
    ASSERT_TRUE(s.Send("GET /hello?name=a+b%21 HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = s.ReadAnswers(5);
    const double seconds = SecondsSince(start);
    EXPECT_LT(seconds, 1.0) << "request " << i;
    EXPECT_EQ(r.data.rfind("HTTP/1.1 200", 0), 0u) << r.data;
    EXPECT_NE(r.data.find("hello a b!"), std::string::npos) << r.data;
  }
  done = true;
  trickle.join();
}

// Sends a byte every 100 ms; returns the seconds until the server closed, or -1.
double SecondsUntilClosedWhileTrickling(Socket& s, const std::string& start, double limit_s) {
  auto t0 = Clock::now();
  if (!s.Send(start)) return 0;
  while (SecondsSince(t0) < limit_s) {
    auto r = s.ReadUntilClosed(0.1);
    if (r.closed) return SecondsSince(t0);
    if (!s.Send("x")) return SecondsSince(t0);
  }
  return -1;
}

TEST_F(SocketTest, HeadersMustArriveWithinTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout_seconds = 1;
  Start(options);
  Socket s(port_);
  const double seconds = SecondsUntilClosedWhileTrickling(s, "GET /hello HTTP/1.1\r\nX-Slow: ", 5);
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 2.5) << "still open after 2.5 s";
}

TEST_F(SocketTest, TheBodyMustArriveWithinTheReadTimeout) {
  ServerOptions options;
  options.read_timeout_seconds = 1;
  Start(options);
  Socket s(port_);
  const double seconds =
      SecondsUntilClosedWhileTrickling(s, "POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 5);
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 2.5) << "still open after 2.5 s";
}

TEST_F(SocketTest, ConnectionsPerClientAreBounded) {
  ServerOptions options;
  options.max_connections_per_client = 3;
  Start(options);
  std::vector<std::unique_ptr<Socket>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<Socket>(port_));
  {
    Socket over(port_);
    auto r = over.ReadUntilClosed(3);
    EXPECT_EQ(r.data.rfind("HTTP/1.1 503", 0), 0u) << r.data;
    EXPECT_NE(r.data.find("127.0.0.1"), std::string::npos) << r.data;
    EXPECT_NE(r.data.find("max_connections_per_client"), std::string::npos) << r.data;
    EXPECT_TRUE(r.closed);
  }
  held.pop_back();  // one slot is free again once the server has seen the close
  std::string answer;
  for (int attempt = 0; attempt < 30 && answer.rfind("HTTP/1.1 200", 0) != 0; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Socket again(port_);
    if (again.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")) answer = again.ReadAnswers(3).data;
  }
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
}

TEST_F(SocketTest, OpenConnectionsAreBounded) {
  ServerOptions options;
  options.max_connections = 2;
  options.max_connections_per_client = 2;
  Start(options);
  Socket a(port_), b(port_);
  Socket over(port_);
  auto r = over.ReadUntilClosed(3);
  EXPECT_EQ(r.data.rfind("HTTP/1.1 503", 0), 0u) << r.data;
  EXPECT_NE(r.data.find("max_connections"), std::string::npos) << r.data;
}

TEST(ServerOptionsTest, ValidateNamesTheField) {
  ServerOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.threads = 0;
  EXPECT_NE(options.Validate().message().find("threads"), std::string::npos);
  Server server(options);
  auto bound = server.Bind("127.0.0.1", 0);
  ASSERT_FALSE(bound.has_value());
  EXPECT_NE(bound.error().message().find("threads is 0"), std::string::npos) << bound.error().message();
}

// Keep-alive and pipelining still work: both answers, in order, on one connection.
TEST_F(SocketTest, PipelinedRequestsAreAnsweredInOrder) {
  StartDefault();
  Socket s(port_);
  ASSERT_TRUE(
      s.Send("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcPOST /size HTTP/1.1\r\nHost: x\r\n"
             "Transfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n"));
  auto r = s.ReadAnswers(5, 2);
  ASSERT_EQ(Socket::CompleteAnswers(r.data), 2) << r.data;
  EXPECT_LT(r.data.find("{\"size\":3}"), r.data.find("{\"size\":5}")) << r.data;
  EXPECT_FALSE(r.closed);
}

// The handler thread writes what the socket takes at once; an answer too big for the socket's
// buffer is finished from the I/O thread, so a client that does not read holds no handler
// thread (here the only one) and its answers still come whole and in order.
TEST_F(SocketTest, AnAnswerTheClientDoesNotReadHoldsNoHandlerThread) {
  ServerOptions options;
  options.threads = 1;
  Start(options);
  constexpr size_t kBig = 32 << 20;  // more than loopback socket buffers hold
  Socket stalled(port_);
  ASSERT_TRUE(stalled.Send("GET /big?bytes=" + std::to_string(kBig) +
                           " HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?name=after HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the first answer fills the buffers
  Socket other(port_);
  const auto start = Clock::now();
  ASSERT_TRUE(other.Send("GET /hello?name=other HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto quick = other.ReadAnswers(5);
  EXPECT_LT(SecondsSince(start), 1.0);
  EXPECT_NE(quick.data.find("hello other"), std::string::npos) << quick.data;
  auto r = stalled.ReadAnswers(20, 2);
  ASSERT_EQ(Socket::CompleteAnswers(r.data), 2) << r.data.substr(0, 200);
  EXPECT_NE(r.data.find("Content-Length: " + std::to_string(kBig) + "\r\n"), std::string::npos);
  const size_t body = r.data.find("\r\n\r\n") + 4;
  EXPECT_EQ(r.data.find_first_not_of('x', body), body + kBig);
  EXPECT_EQ(r.data.rfind("hello after"), r.data.size() - 11);
}

TEST_F(SocketTest, HeadAnswersTheGetRouteWithoutTheBody) {
  StartDefault();
  Socket s(port_);
  ASSERT_TRUE(s.Send("HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto r = s.ReadUntilClosed(5);
  EXPECT_EQ(r.data.rfind("HTTP/1.1 200", 0), 0u) << r.data;
  EXPECT_NE(r.data.find("Content-Length: 6\r\n"), std::string::npos) << r.data;
  EXPECT_EQ(r.data.substr(r.data.find("\r\n\r\n") + 4), "");
}

// curl waits for "100 Continue" before it sends a body over 1 KiB; an HTTP/1.0 client gets its
// answer and the connection closed.
TEST_F(SocketTest, ExpectContinueAndHttp10) {
  StartDefault();
  {
    Socket s(port_);
    ASSERT_TRUE(s.Send("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n"));
    auto interim = s.ReadUntilClosed(0.5);
    EXPECT_EQ(interim.data.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << interim.data;
    ASSERT_TRUE(s.Send(std::string(2000, 'x')));
    auto r = s.ReadAnswers(5);
    EXPECT_NE(r.data.find("{\"size\":2000}"), std::string::npos) << r.data;
  }
  {
    Socket s(port_);
    ASSERT_TRUE(s.Send("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\nExpect: 100-continue\r\n\r\n"));
    auto r = s.ReadUntilClosed(2);
    EXPECT_EQ(r.data.rfind("HTTP/1.1 413", 0), 0u) << "no 100 Continue for a body over the limit: " << r.data;
  }
  {
    Socket s(port_);
    ASSERT_TRUE(s.Send("GET /hello HTTP/1.0\r\n\r\n"));
    auto r = s.ReadUntilClosed(5);
    EXPECT_EQ(r.data.rfind("HTTP/1.0 200", 0), 0u) << r.data;
    EXPECT_TRUE(r.closed);
  }
}

TEST_F(SocketTest, HeadersOverTheLimitAre431) {
  StartDefault();
  Socket s(port_);
  ASSERT_TRUE(s.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  auto r = s.ReadUntilClosed(5);
  EXPECT_EQ(r.data.rfind("HTTP/1.1 431", 0), 0u) << r.data.substr(0, 200);
  EXPECT_TRUE(r.closed);
}

// A second server on a port in use is refused: it never takes part of the traffic.
TEST_F(SocketTest, APortInUseIsRefused) {
  StartDefault();
  Server second(ServerOptions{});
  auto bound = second.Bind("127.0.0.1", port_);
  ASSERT_FALSE(bound.has_value()) << "a second server bound port " << port_;
  EXPECT_NE(bound.error().message().find("127.0.0.1:" + std::to_string(port_)), std::string::npos);
  EXPECT_NE(bound.error().message().find("in use"), std::string::npos) << bound.error().message();
}

// The same through `engage serve`: the second one, on another data directory, exits with a
// message that says why.
TEST(EngageServePortTest, ASecondServeOnTheSamePortExitsWithAClearMessage) {
  if (!std::filesystem::exists(engage_test::EngageBinary())) GTEST_SKIP() << "no engage binary (set CF_BIN_DIR)";
  const std::string first_dir = engage_test::MakeTempDir("http-port-a");
  const std::string second_root = engage_test::MakeTempDir("http-port-b");
  const std::string second_dir = second_root + "/data";  // must not be created by a server that cannot listen
  {
    engage_test::EngageServer first(first_dir);
    ASSERT_TRUE(first.running());
    int err[2];
    ASSERT_EQ(pipe(err), 0);
    const std::string listen = "127.0.0.1:" + std::to_string(first.port());
    const std::string binary = engage_test::EngageBinary();
    pid_t pid = fork();
    if (pid == 0) {
      dup2(err[1], 2);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execl(binary.c_str(), binary.c_str(), "serve", "--data", second_dir.c_str(), "--listen", listen.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(err[1]);
    int status = 0;
    auto start = Clock::now();
    while (waitpid(pid, &status, WNOHANG) == 0 && SecondsSince(start) < 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "a second engage serve is running on " << listen;
    }
    std::string message;
    char buf[4096];
    for (ssize_t n; (n = read(err[0], buf, sizeof(buf))) > 0;) message.append(buf, static_cast<size_t>(n));
    close(err[0]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    EXPECT_NE(message.find(listen), std::string::npos) << message;
    EXPECT_NE(message.find("in use"), std::string::npos) << message;
    EXPECT_FALSE(std::filesystem::exists(second_dir)) << "a refused server created its data directory";
  }
  std::filesystem::remove_all(first_dir);
  std::filesystem::remove_all(second_root);
}

}  // namespace
}  // namespace cf::http

namespace cf::http {
namespace {

// The same defences through a default `engage serve`, the way its clients meet them.
class EngageServeSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(engage_test::EngageBinary())) GTEST_SKIP() << "no engage binary (set CF_BIN_DIR)";
    dir_ = engage_test::MakeTempDir("http-engage");
    server_ = std::make_unique<engage_test::EngageServer>(dir_);
    ASSERT_TRUE(server_->running());
  }
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<engage_test::EngageServer> server_;
};

TEST_F(EngageServeSocketTest, FramingErrorsAreAnsweredAtOnceNamingTheHeaderAndClose) {
  {
    Socket s(server_->port());
    ASSERT_TRUE(s.Send("POST /users/track HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}"));
    auto r = s.ReadUntilClosed(5);
    EXPECT_EQ(r.data.rfind("HTTP/1.1 400", 0), 0u) << r.data;
    EXPECT_NE(r.data.find("two different Content-Length headers"), std::string::npos) << r.data;
    EXPECT_NE(r.data.find("X-RateLimit-Limit"), std::string::npos) << r.data;
    EXPECT_TRUE(r.closed);
    EXPECT_LT(r.seconds, 1.0);
  }
  {
    Socket s(server_->port());
    ASSERT_TRUE(s.Send("POST /users/track HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n{"));
    auto r = s.ReadUntilClosed(5);
    EXPECT_EQ(r.data.rfind("HTTP/1.1 413", 0), 0u) << r.data;
    EXPECT_NE(r.data.find("8388608 bytes"), std::string::npos) << r.data;
    EXPECT_TRUE(r.closed);
    EXPECT_LT(r.seconds, 1.0);
  }
}

TEST_F(EngageServeSocketTest, SixteenSilentClientsDoNotDelayANormalRequest) {
  std::vector<std::unique_ptr<Socket>> silent;
  for (int i = 0; i < 16; ++i) {
    silent.push_back(std::make_unique<Socket>(server_->port()));
    ASSERT_TRUE(silent.back()->connected());
    if (i % 2 == 1) {
      ASSERT_TRUE(silent.back()->Send("POST /users/track HTTP/1.1\r\nContent-Length: 10\r\n\r\n"));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Socket s(server_->port());
  auto start = Clock::now();
  ASSERT_TRUE(s.Send("GET /segments/list HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = s.ReadAnswers(5);
  EXPECT_LT(SecondsSince(start), 1.0);
  EXPECT_EQ(r.data.rfind("HTTP/1.1 401", 0), 0u) << r.data;
}

}  // namespace
}  // namespace cf::http
