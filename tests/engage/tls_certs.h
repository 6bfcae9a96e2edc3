// Throwaway TLS material for cross-process tests, made at test time with the `openssl` command
// (never checked in): a private CA, a server certificate for 127.0.0.1 signed by it, and a
// second, unrelated CA that must not be trusted for that server.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/files.h"
#include "engage_process.h"

namespace cf::engage_test {

class TestCertificates {
 public:
  TestCertificates() : dir_(MakeTempDir("cf-tls")) {
    const std::string d = dir_;
    // The server certificate names 127.0.0.1 as an IP subjectAltName: what curl checks.
    ok_ = WriteFileAtomic(d + "/server.ext",
                          "basicConstraints=CA:FALSE\n"
                          "keyUsage=digitalSignature,keyEncipherment\n"
                          "extendedKeyUsage=serverAuth\n"
                          "subjectAltName=IP:127.0.0.1\n")
              .ok() &&
          Run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=cf-test-ca"
              " -keyout " +
              d + "/ca.key -out " + d + "/ca.pem") &&
          Run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=cf-other-ca"
              " -keyout " +
              d + "/other.key -out " + d + "/other.pem") &&
          Run("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 -keyout " + d +
              "/server.key -out " + d + "/server.csr") &&
          Run("x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
              "/ca.key -CAcreateserial -days 2" + " -extfile " + d + "/server.ext -out " + d + "/server.pem");
  }
  ~TestCertificates() { std::filesystem::remove_all(dir_); }
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  bool ok() const { return ok_; }
  // What the openssl commands printed (for a failed set-up).
  std::string log() const { return ReadFile(dir_ + "/openssl.log").value_or(""); }
  std::string ca_cert() const { return dir_ + "/ca.pem"; }
  std::string other_ca_cert() const { return dir_ + "/other.pem"; }
  std::string server_cert() const { return dir_ + "/server.pem"; }
  std::string server_key() const { return dir_ + "/server.key"; }
  // The flags that make a server speak TLS with the certificate above.
  std::vector<std::string> ServeArgs() const { return {"--tls-cert", server_cert(), "--tls-key", server_key()}; }

 private:
  bool Run(const std::string& args) const {
    const int status = std::system(("openssl " + args + " >>" + dir_ + "/openssl.log 2>&1").c_str());
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  std::string dir_;
  bool ok_ = false;
};

}  // namespace cf::engage_test
