// `engage serve --tls-cert --tls-key` across processes: a throwaway CA and server certificate
// made at test time (tls_certs.h); https clients that trust the CA and clients that do not;
// plain HTTP to the TLS port; and clients that misbehave during the handshake (silent, garbage,
// half a ClientHello, a ClientHello and then nothing) while a well-behaved client keeps being served.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "raw_socket.h"
#include "tls_certs.h"

namespace cf::engage_test {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

using ::cf::test::RawSocket;

// The first flight of a real TLS client (its ClientHello), from OpenSSL over memory BIOs.
std::string ClientHello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);  // ssl owns both
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);  // wants to read the ServerHello: the ClientHello is in `out`
  std::string hello(static_cast<size_t>(BIO_ctrl_pending(out)), '\0');
  BIO_read(out, hello.data(), static_cast<int>(hello.size()));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ok()) << certs_.log();
    data_ = MakeTempDir("engage-tls");
    creds_ = SetUpCredentials(data_);
    password_ = RunAdmin(data_, {"user", "create", "--email", "ann@example.com"}).last_line;
    server_ = std::make_unique<EngageServer>(data_, certs_.ServeArgs());
    ASSERT_TRUE(server_->running());
    url_ = "https://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(data_);
  }

  http::ClientOptions Trusting(const std::string& ca) const {
    http::ClientOptions o;
    o.ca_cert_file = ca;
    o.timeout_ms = 5000;
    return o;
  }

  // One https request on a fresh connection (a full handshake each time), trusting the test CA.
  Result<http::ClientResponse> FreshGet(const std::string& path) {
    http::Client client(url_, Trusting(certs_.ca_cert()));
    return client.Get(path);
  }

  TestCertificates certs_;
  std::string data_, url_, password_;
  Credentials creds_;
  std::unique_ptr<EngageServer> server_;
};

TEST_F(TlsTest, AnHttpsClientThatTrustsTheCaIsServed) {
  http::Client client(url_, Trusting(certs_.ca_cert()));
  auto page = client.Get("/signin");
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->status, 200);
  PostJson(client, "/users/track", {{"attributes", {{{"external_id", "tls-user"}}}}}, creds_.api_key);
  auto ids = client.Post("/users/export/ids", nlohmann::json{{"external_ids", {"tls-user"}}}.dump(),
                         {{"Authorization", "Bearer " + creds_.api_key}});
  ASSERT_TRUE(ids.has_value());
  EXPECT_EQ(ids->status, 201) << ids->body;
  EXPECT_NE(ids->body.find("tls-user"), std::string::npos) << ids->body;
  // Under TLS the session cookie is Secure.
  auto signin =
      client.Post("/console/api/signin", nlohmann::json{{"email", "ann@example.com"}, {"password", password_}}.dump(),
                  {{"Content-Type", "application/json"}});
  ASSERT_TRUE(signin.has_value());
  EXPECT_EQ(signin->status, 200) << signin->body;
  EXPECT_NE(signin->Header("set-cookie").find("Secure"), std::string::npos) << signin->Header("set-cookie");
}

TEST_F(TlsTest, AClientThatDoesNotTrustTheCaFailsVerification) {
  for (const std::string& ca : {std::string(), certs_.other_ca_cert()}) {  // the system's CAs, another CA
    http::Client client(url_, Trusting(ca));
    auto r = client.Get("/signin");
    ASSERT_FALSE(r.has_value()) << "trusting '" << ca << "' got " << r->status;
    EXPECT_NE(r.error().message().find("certificate"), std::string::npos) << r.error().ToString();
  }
  // And plain http:// to it gets no HTTP answer.
  http::Client plain(server_->base_url(), Trusting(""));
  auto r = plain.Get("/signin");
  EXPECT_FALSE(r.has_value()) << r->status;
}

TEST_F(TlsTest, PlainHttpToTheTlsPortIsClosedAtOnce) {
  RawSocket s(server_->port());
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(s.Send("GET /signin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto [bytes, closed, seconds] = s.ReadUntilClosed(8);
  EXPECT_TRUE(closed) << "no close within 8 s";
  EXPECT_LT(seconds, 2.0) << "a plain HTTP request is not a ClientHello: the handshake fails at once";
}

TEST_F(TlsTest, MisbehavingClientsDoNotBlockOthers) {
  const std::string hello = ClientHello();
  ASSERT_GT(hello.size(), 100u);
  ASSERT_EQ(hello[0], '\x16') << "a TLS handshake record";
  std::mt19937 rng(7);
  std::vector<std::unique_ptr<RawSocket>> silent, garbage, half_hello, whole_hello;
  constexpr int kEach = 25;
  for (int i = 0; i < kEach; ++i) {
    silent.push_back(std::make_unique<RawSocket>(server_->port()));
    garbage.push_back(std::make_unique<RawSocket>(server_->port()));
    std::string noise(300, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    noise[0] = '\x16';  // looks like a handshake record for its first byte, then is not
    ASSERT_TRUE(garbage.back()->Send(noise));
    half_hello.push_back(std::make_unique<RawSocket>(server_->port()));
    ASSERT_TRUE(half_hello.back()->Send(hello.substr(0, hello.size() / 2)));
    whole_hello.push_back(std::make_unique<RawSocket>(server_->port()));
    ASSERT_TRUE(whole_hello.back()->Send(hello));  // then never answers the ServerHello
  }
  for (auto* group : {&silent, &garbage, &half_hello, &whole_hello}) {
    for (auto& s : *group) ASSERT_TRUE(s->connected());
  }
  // While all 100 hold their connections, a well-behaved client is served, a full handshake
  // per request, each promptly.
  const auto start = Clock::now();
  for (int i = 0; i < 20; ++i) {
    const auto one = Clock::now();
    auto r = FreshGet("/signin");
    ASSERT_TRUE(r.has_value()) << "request " << i << ": " << r.error().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(SecondsSince(one), 2.0) << "request " << i;
  }
  EXPECT_LT(SecondsSince(start), 15.0);
  // Garbage fails the handshake at once; the others are closed by the header timeout (10 s).
  auto [garbage_bytes, garbage_closed, garbage_seconds] = garbage.front()->ReadUntilClosed(5);
  EXPECT_TRUE(garbage_closed);
  EXPECT_LT(garbage_seconds, 2.0);
  for (auto* group : {&silent, &half_hello, &whole_hello}) {
    auto [bytes, closed, seconds] = group->front()->ReadUntilClosed(15);
    EXPECT_TRUE(closed) << "a stalled handshake is not kept open forever (" << seconds << " s)";
  }
  auto after = FreshGet("/signin");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->status, 200);
}

}  // namespace
}  // namespace cf::engage_test
