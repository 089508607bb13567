#include "tests/sdk/testing/session_builder.h"

#include <utility>

namespace sftpgate::testing {

SessionBuilder::SessionBuilder() {
  session_.set_session_id("test-session");
  session_.set_user("tester");
  session_.set_root("/");
  session_.set_remote_address("127.0.0.1:50000");
  session_.set_client_version("SSH-2.0-test");
}

SessionBuilder& SessionBuilder::Id(std::string id) {
  session_.set_session_id(std::move(id));
  return *this;
}

SessionBuilder& SessionBuilder::User(std::string user) {
  session_.set_user(std::move(user));
  return *this;
}

SessionBuilder& SessionBuilder::Root(std::string root) {
  session_.set_root(std::move(root));
  return *this;
}

SessionBuilder& SessionBuilder::ReadOnly(bool read_only) {
  session_.set_read_only(read_only);
  return *this;
}

SessionBuilder& SessionBuilder::Tenant(std::string tenant) {
  session_.set_tenant(std::move(tenant));
  return *this;
}

SessionBuilder& SessionBuilder::RemoteAddress(std::string address) {
  session_.set_remote_address(std::move(address));
  return *this;
}

SessionBuilder& SessionBuilder::ClientVersion(std::string version) {
  session_.set_client_version(std::move(version));
  return *this;
}

SessionBuilder& SessionBuilder::Attribute(const std::string& key,
                                          std::string value) {
  (*session_.mutable_attributes())[key] = std::move(value);
  return *this;
}

}  // namespace sftpgate::testing
