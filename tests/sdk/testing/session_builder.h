// SessionBuilder: terse construction of v1::Session values for tests.
//
//   Session s = SessionBuilder().User("alice").Root("/alice").Build();
//
// Defaults: session_id "test-session", user "tester", root "/",
// remote_address "127.0.0.1:50000", client_version "SSH-2.0-test".
// Thread safety: a builder is a plain value; use it from one thread.

#ifndef SFTPGATE_TESTS_SDK_TESTING_SESSION_BUILDER_H_
#define SFTPGATE_TESTS_SDK_TESTING_SESSION_BUILDER_H_

#include <string>

#include "sftpgate/backend.h"

namespace sftpgate::testing {

class SessionBuilder {
 public:
  SessionBuilder();

  SessionBuilder& Id(std::string id);
  SessionBuilder& User(std::string user);
  SessionBuilder& Root(std::string root);
  SessionBuilder& ReadOnly(bool read_only = true);
  SessionBuilder& Tenant(std::string tenant);
  SessionBuilder& RemoteAddress(std::string address);
  SessionBuilder& ClientVersion(std::string version);
  SessionBuilder& Attribute(const std::string& key, std::string value);

  Session Build() const { return session_; }

 private:
  Session session_;
};

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_SDK_TESTING_SESSION_BUILDER_H_
