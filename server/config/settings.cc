#include "server/config/settings.h"

#include <array>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/config/ip_networks.h"
#include "server/config/toml_util.h"

namespace sftpgate::server {
namespace {

absl::Status TypeError(absl::string_view where, absl::string_view key,
                       absl::string_view expected, const toml::node& node) {
  return absl::InvalidArgumentError(absl::StrCat(
      where, ": ", key, " must be ", expected, ", not ", TomlTypeName(node)));
}

absl::Status ReadValue(const toml::node& node, absl::string_view where,
                       absl::string_view key, std::string* out) {
  const auto* value = node.as_string();
  if (value == nullptr) return TypeError(where, key, "a string", node);
  *out = value->get();
  return absl::OkStatus();
}

absl::Status ReadValue(const toml::node& node, absl::string_view where,
                       absl::string_view key, bool* out) {
  const auto* value = node.as_boolean();
  if (value == nullptr) return TypeError(where, key, "true or false", node);
  *out = value->get();
  return absl::OkStatus();
}

absl::Status ReadValue(const toml::node& node, absl::string_view where,
                       absl::string_view key, int* out) {
  const auto* value = node.as_integer();
  if (value == nullptr) return TypeError(where, key, "an integer", node);
  int64_t v = value->get();
  if (v < std::numeric_limits<int>::min() ||
      v > std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", key, " is out of range"));
  }
  *out = static_cast<int>(v);
  return absl::OkStatus();
}

absl::Status SetFromToml(absl::string_view source, absl::string_view raw_key,
                         const toml::node& node, Settings* settings) {
  const std::string key = CanonicalKey(raw_key);
  const std::string where = Where(source, node);
#define SFTPGATE_SETTINGS_READ(type, name, default_value, help) \
  if (key == #name) return ReadValue(node, where, key, &settings->name);
  SFTPGATE_SETTINGS(SFTPGATE_SETTINGS_READ)
#undef SFTPGATE_SETTINGS_READ
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": unknown setting \"", raw_key, "\""));
}

// [tenants.NAME] tables, each with one key: backend = "TARGET".
absl::Status ReadTenants(absl::string_view source, const toml::node& node,
                         Settings* settings) {
  const toml::table* tenants = node.as_table();
  if (tenants == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(source, node),
                     ": tenants must be a table of "
                     "[tenants.NAME] tables"));
  }
  for (const auto& [name, tenant_node] : *tenants) {
    const std::string where = Where(source, tenant_node);
    const std::string tenant(ToAbsl(name.str()));
    const toml::table* table = tenant_node.as_table();
    if (table == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": tenants.", tenant, " must be a table (backend = ...)"));
    }
    for (const auto& [key, value] : *table) {
      if (CanonicalKey(ToAbsl(key.str())) != "backend") {
        return absl::InvalidArgumentError(absl::StrCat(
            Where(source, value), ": tenants.", tenant, ": unknown key \"",
            ToAbsl(key.str()), "\" (known: backend)"));
      }
      const auto* target = value.as_string();
      if (target == nullptr || target->get().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(source, value), ": tenants.", tenant,
                         ".backend must be a non-empty string"));
      }
      settings->tenant_backends[tenant] = target->get();
    }
  }
  return absl::OkStatus();
}

absl::Status Positive(absl::string_view name, int value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, " must be positive (got ", value, ")"));
}

}  // namespace

absl::Status ParseSettings(absl::string_view toml, absl::string_view source,
                           Settings* settings) {
  absl::StatusOr<toml::table> table = ParseToml(toml, source);
  if (!table.ok()) return table.status();
  for (const auto& [key, node] : *table) {
    absl::Status status =
        CanonicalKey(ToAbsl(key.str())) == "tenants"
            ? ReadTenants(source, node, settings)
            : SetFromToml(source, ToAbsl(key.str()), node, settings);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status LoadSettingsFile(const std::string& path, Settings* settings) {
  absl::StatusOr<std::string> text = ReadTextFile(path, "config file");
  if (!text.ok()) return text.status();
  return ParseSettings(*text, path, settings);
}

absl::Status ParseListenAddress(absl::string_view listen, std::string* host,
                                uint16_t* port) {
  absl::string_view host_part;
  absl::string_view port_part;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == absl::string_view::npos || close + 1 >= listen.size() ||
        listen[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("listen address \"", listen, "\" is not [V6]:PORT"));
    }
    host_part = listen.substr(1, close - 1);
    port_part = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == absl::string_view::npos || listen.find(':') != colon) {
      return absl::InvalidArgumentError(
          absl::StrCat("listen address \"", listen, "\" is not HOST:PORT"));
    }
    host_part = listen.substr(0, colon);
    port_part = listen.substr(colon + 1);
  }
  uint32_t port_number = 0;
  if (host_part.empty() || !absl::SimpleAtoi(port_part, &port_number) ||
      port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", listen, "\" needs a host and a port 0-65535"));
  }
  *host = std::string(host_part);
  *port = static_cast<uint16_t>(port_number);
  return absl::OkStatus();
}

absl::Status AddTenantBackend(absl::string_view name_equals_target,
                              Settings* settings) {
  size_t equals = name_equals_target.find('=');
  if (equals == 0 || equals == absl::string_view::npos ||
      equals + 1 == name_equals_target.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tenant-backend \"", name_equals_target, "\" is not NAME=TARGET"));
  }
  settings->tenant_backends[std::string(name_equals_target.substr(0, equals))] =
      std::string(name_equals_target.substr(equals + 1));
  return absl::OkStatus();
}

bool IsLocalTarget(absl::string_view target) {
  if (absl::StartsWith(target, "unix:") ||
      absl::StartsWith(target, "unix-abstract:")) {
    return true;
  }
  // Schemes: "dns:///host:port", "dns:host:port", "ipv4:a:p,b:p",
  // "ipv6:[a]:p". Every address must be local.
  for (absl::string_view scheme : {"dns:", "ipv4:", "ipv6:"}) {
    if (absl::ConsumePrefix(&target, scheme)) {
      absl::ConsumePrefix(&target, "///");
      break;
    }
  }
  for (absl::string_view address : absl::StrSplit(target, ',')) {
    std::string host;
    uint16_t port = 0;
    if (!ParseListenAddress(address, &host, &port).ok()) {
      host = std::string(address);
    }
    if (host == "localhost") continue;
    absl::StatusOr<IpNetwork> ip = ParseIpNetwork(host);
    if (!ip.ok()) return false;
    const IpNetwork loopback =
        *ParseIpNetwork(ip->v6 ? "::1/128" : "127.0.0.0/8");
    if (!loopback.Contains(*ip)) return false;
  }
  return true;
}

absl::Status ValidateSettings(const Settings& s) {
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"backend", &s.backend},
        {"host_key", &s.host_key}}) {
    if (value->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " is required (flag or config key)"));
    }
  }
  if (s.users.empty() && s.auth.empty()) {
    return absl::InvalidArgumentError(
        "--users is required (flag or config key) unless --auth is given");
  }
  if (!s.auth.empty() && (!absl::StartsWith(s.auth, "grpc:") ||
                          s.auth.size() == std::string("grpc:").size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("auth must be grpc:TARGET (got \"", s.auth, "\")"));
  }
  if (!s.events.empty() && (!absl::StartsWith(s.events, "grpc:") ||
                            s.events.size() == std::string("grpc:").size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("events must be grpc:TARGET (got \"", s.events, "\")"));
  }
  if (s.proxy_protocol != "off" && s.proxy_protocol != "required") {
    return absl::InvalidArgumentError(
        absl::StrCat("proxy_protocol must be off or required (got \"",
                     s.proxy_protocol, "\")"));
  }
  absl::StatusOr<SourceNetworks> proxies =
      SourceNetworks::Parse(s.proxy_protocol_sources);
  if (!proxies.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("proxy_protocol_sources: ", proxies.status().message()));
  }
  if (s.proxy_protocol == "required" && proxies->empty()) {
    return absl::InvalidArgumentError(
        "proxy_protocol = required needs proxy_protocol_sources (the "
        "networks of the load balancers)");
  }
  for (const auto& [name, files] :
       {std::pair<const char*, std::array<const std::string*, 3>>{
            "backend_tls_",
            {&s.backend_tls_cert, &s.backend_tls_key, &s.backend_tls_ca}},
        {"auth_tls_", {&s.auth_tls_cert, &s.auth_tls_key, &s.auth_tls_ca}},
        {"events_tls_",
         {&s.events_tls_cert, &s.events_tls_key, &s.events_tls_ca}}}) {
    const int set =
        !files[0]->empty() + !files[1]->empty() + !files[2]->empty();
    if (set != 0 && set != 3) {
      return absl::InvalidArgumentError(absl::StrCat("mutual TLS needs all of ",
                                                     name, "cert, ", name,
                                                     "key and ", name, "ca"));
    }
  }
  if (!s.auth.empty() && s.auth_tls_cert.empty() && !s.auth_allow_insecure &&
      !IsLocalTarget(s.auth.substr(std::string("grpc:").size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "auth target \"", s.auth,
        "\" is not local and has no TLS: passwords would cross the network "
        "in clear. Set auth_tls_cert/auth_tls_key/auth_tls_ca, or "
        "auth_allow_insecure if the network is trusted"));
  }
  std::string host;
  uint16_t port = 0;
  absl::Status status = ParseListenAddress(s.listen, &host, &port);
  if (!status.ok()) return status;
  if (!s.metrics_listen.empty()) {
    status = ParseListenAddress(s.metrics_listen, &host, &port);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics_listen: ", status.message()));
    }
  }
  if (s.log_format != "text" && s.log_format != "json") {
    return absl::InvalidArgumentError(absl::StrCat(
        "log_format must be text or json (got \"", s.log_format, "\")"));
  }
  if (s.log_level != "debug" && s.log_level != "info" &&
      s.log_level != "warning" && s.log_level != "error") {
    return absl::InvalidArgumentError(
        absl::StrCat("log_level must be debug, info, warning or error (got \"",
                     s.log_level, "\")"));
  }
  for (const auto& [name, value] :
       {std::pair<const char*, int>{"max_sessions", s.max_sessions},
        {"max_auth_tries", s.max_auth_tries},
        {"login_grace_seconds", s.login_grace_seconds},
        {"max_channels_per_session", s.max_channels_per_session},
        {"call_timeout_ms", s.call_timeout_ms},
        {"max_in_flight", s.max_in_flight},
        {"max_handles", s.max_handles},
        {"auth_timeout_ms", s.auth_timeout_ms},
        {"auth_failure_window_seconds", s.auth_failure_window_seconds},
        {"auth_ban_seconds", s.auth_ban_seconds},
        {"events_queue_size", s.events_queue_size},
        {"events_retry_max_ms", s.events_retry_max_ms},
        {"events_timeout_ms", s.events_timeout_ms},
        {"proxy_protocol_timeout_ms", s.proxy_protocol_timeout_ms}}) {
    status = Positive(name, value);
    if (!status.ok()) return status;
  }
  for (const auto& [name, value] :
       {std::pair<const char*, int>{"shutdown_grace_seconds",
                                    s.shutdown_grace_seconds},
        {"max_sessions_per_user", s.max_sessions_per_user},
        {"idle_timeout_seconds", s.idle_timeout_seconds},
        {"auth_max_failures", s.auth_max_failures},
        {"auth_ban_delay_ms", s.auth_ban_delay_ms},
        {"upload_total_kib_per_second", s.upload_total_kib_per_second},
        {"download_total_kib_per_second", s.download_total_kib_per_second},
        {"max_startups", s.max_startups},
        {"max_startups_per_source", s.max_startups_per_source}}) {
    if (value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must not be negative (got ", value, ")"));
    }
  }
  if (s.auth_workers < 1 || s.auth_workers > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("auth_workers must be 1-64 (got ", s.auth_workers, ")"));
  }
  if (s.transfer_buffer_mb < 1 || s.transfer_buffer_mb > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transfer_buffer_mb must be 1-4096 (got ", s.transfer_buffer_mb, ")"));
  }
  if (s.transfer_buffer_total_mb < s.transfer_buffer_mb ||
      s.transfer_buffer_total_mb > 1 << 20) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transfer_buffer_total_mb must be at least transfer_buffer_mb (",
        s.transfer_buffer_mb, ") and at most 1048576 (got ",
        s.transfer_buffer_total_mb, ")"));
  }
  if (s.hash_limit_mb < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hash_limit_mb must not be negative (got ", s.hash_limit_mb, ")"));
  }
  if (s.source_ipv4_prefix < 1 || s.source_ipv4_prefix > 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source_ipv4_prefix must be 1-32 (got ", s.source_ipv4_prefix, ")"));
  }
  if (s.source_ipv6_prefix < 1 || s.source_ipv6_prefix > 128) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source_ipv6_prefix must be 1-128 (got ", s.source_ipv6_prefix, ")"));
  }
  absl::StatusOr<std::vector<IpNetwork>> exempt =
      ParseIpNetworkList(s.auth_exempt_networks);
  if (!exempt.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("auth_exempt_networks: ", exempt.status().message()));
  }
  if (s.event_loop_threads < 0 || s.event_loop_threads > 1024) {
    return absl::InvalidArgumentError(absl::StrCat(
        "event_loop_threads must be 0-1024 (got ", s.event_loop_threads, ")"));
  }
  return absl::OkStatus();
}

}  // namespace sftpgate::server
