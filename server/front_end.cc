#include "server/front_end.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/ssh/host_key.h"
#include "server/ssh/ssh_metrics.h"

namespace sftpgate::server {
namespace {

// Password checks waiting for a worker beyond this are refused at once.
constexpr size_t kMaxQueuedAuthChecks = 1024;
// How often the backend health gauges are refreshed.
constexpr absl::Duration kHealthPollInterval = absl::Seconds(2);
// At shutdown, how long queued events (the last logouts) may take to go.
constexpr absl::Duration kEventsFlushAtStop = absl::Seconds(2);

// The SFTP layer's limits from the settings (which keep the same defaults:
// tests/config checks that).
SftpLimits SftpLimitsFromSettings(const Settings& settings) {
  SftpLimits limits;
  limits.call_timeout_ms = settings.call_timeout_ms;
  limits.max_in_flight = static_cast<uint32_t>(settings.max_in_flight);
  limits.max_handles = static_cast<uint32_t>(settings.max_handles);
  limits.max_transfer_buffer =
      size_t{static_cast<uint32_t>(settings.transfer_buffer_mb)} << 20;
  limits.max_hash_bytes =
      uint64_t{static_cast<uint32_t>(settings.hash_limit_mb)} << 20;
  limits.exec_commands = settings.exec_commands;
  return limits;
}

}  // namespace

SourceGrouping SourceGroupingFromSettings(const Settings& settings) {
  SourceGrouping grouping;
  grouping.ipv4_prefix = settings.source_ipv4_prefix;
  grouping.ipv6_prefix = settings.source_ipv6_prefix;
  return grouping;
}

AuthThrottleOptions AuthThrottleOptionsFromSettings(const Settings& settings) {
  AuthThrottleOptions options;
  options.max_failures = settings.auth_max_failures;
  options.window = absl::Seconds(settings.auth_failure_window_seconds);
  options.ban = absl::Seconds(settings.auth_ban_seconds);
  options.grouping = SourceGroupingFromSettings(settings);
  // Validated settings: the list parses.
  options.exempt = *ParseIpNetworkList(settings.auth_exempt_networks);
  options.banned_gauge = GetSshMetrics().banned_sources;
  options.eviction_counter = GetSshMetrics().auth_throttle_evictions;
  return options;
}

ConnectionLimits ConnectionLimitsFromSettings(const Settings& settings) {
  ConnectionLimits limits;
  limits.max_auth_tries = settings.max_auth_tries;
  limits.login_grace = absl::Seconds(settings.login_grace_seconds);
  limits.max_channels = settings.max_channels_per_session;
  limits.idle_timeout = absl::Seconds(settings.idle_timeout_seconds);
  limits.ban_delay = absl::Milliseconds(settings.auth_ban_delay_ms);
  return limits;
}

EventPublisherOptions EventPublisherOptionsFromSettings(
    const Settings& settings) {
  EventPublisherOptions options;
  options.target = settings.events.substr(std::string("grpc:").size());
  options.queue_size = static_cast<size_t>(settings.events_queue_size);
  options.max_backoff = std::max(
      options.min_backoff, absl::Milliseconds(settings.events_retry_max_ms));
  options.call_timeout = absl::Milliseconds(settings.events_timeout_ms);
  options.tls_server_name = settings.events_tls_server_name;
  return options;
}

absl::StatusOr<SshServerOptions> SshServerOptionsFromSettings(
    const Settings& settings) {
  SshServerOptions options;
  uint16_t port = 0;
  absl::Status status =
      ParseListenAddress(settings.listen, &options.host, &port);
  if (!status.ok()) return status;
  options.port = port;
  options.loop_threads =
      settings.event_loop_threads > 0
          ? settings.event_loop_threads
          : std::max(1u, std::thread::hardware_concurrency());
  options.max_sessions = settings.max_sessions;
  options.proxy.required = settings.proxy_protocol == "required";
  absl::StatusOr<SourceNetworks> proxies =
      SourceNetworks::Parse(settings.proxy_protocol_sources);
  if (!proxies.ok()) return proxies.status();
  options.proxy.sources = *std::move(proxies);
  options.proxy.timeout =
      absl::Milliseconds(settings.proxy_protocol_timeout_ms);
  options.proxy.max_pending = static_cast<size_t>(settings.max_sessions);
  return options;
}

FrontEnd::FrontEnd(Settings settings, UserDb users, ssh_key host_key)
    : settings_(std::move(settings)),
      initial_users_(std::move(users)),
      throttle_(AuthThrottleOptionsFromSettings(settings_)),
      user_sessions_(settings_.max_sessions_per_user),
      rate_limits_(uint64_t{static_cast<uint32_t>(
                       settings_.upload_total_kib_per_second)} *
                       1024,
                   uint64_t{static_cast<uint32_t>(
                       settings_.download_total_kib_per_second)} *
                       1024),
      startups_(settings_.max_startups, settings_.max_startups_per_source,
                SourceGroupingFromSettings(settings_)) {
  context_.throttle = &throttle_;
  context_.rate_limits = &rate_limits_;
  context_.quota_ledgers = &quota_ledgers_;
  context_.startups = &startups_;
  context_.user_sessions = &user_sessions_;
  context_.sftp_limits = SftpLimitsFromSettings(settings_);
  context_.transfer_budget = std::make_shared<backend::TransferBudget>(
      size_t{static_cast<uint32_t>(settings_.transfer_buffer_total_mb)} << 20,
      nullptr,
      Metrics::Global().GetGauge(
          "sftpgate_transfer_buffer_bytes",
          "File data held in the front end by all transfers (read-ahead, "
          "write-behind); capped by transfer_buffer_total_mb"));
  context_.limits = ConnectionLimitsFromSettings(settings_);
  // Validated settings: the listen address parses.
  server_ = std::make_unique<SshServer>(
      &context_, *SshServerOptionsFromSettings(settings_), host_key);
}

FrontEnd::~FrontEnd() { Stop(); }

absl::Status FrontEnd::LoadChannelCredentials() {
  if (credentials_loaded_) return absl::OkStatus();
  struct Channel {
    TlsFiles files;
    const char* prefix;
    std::shared_ptr<grpc::ChannelCredentials>* out;
  };
  for (const Channel& channel :
       {Channel{{settings_.backend_tls_cert, settings_.backend_tls_key,
                 settings_.backend_tls_ca},
                "backend_tls_",
                &backend_credentials_},
        Channel{{settings_.auth_tls_cert, settings_.auth_tls_key,
                 settings_.auth_tls_ca},
                "auth_tls_",
                &auth_credentials_},
        Channel{{settings_.events_tls_cert, settings_.events_tls_key,
                 settings_.events_tls_ca},
                "events_tls_",
                &events_credentials_}}) {
    if (channel.files.empty()) continue;
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        MutualTlsChannelCredentials(channel.files, channel.prefix);
    if (!credentials.ok()) return credentials.status();
    *channel.out = *std::move(credentials);
  }
  credentials_loaded_ = true;
  return absl::OkStatus();
}

absl::Status FrontEnd::Listen() {
  absl::Status status = LoadChannelCredentials();
  if (!status.ok()) return status;
  status = server_->Listen();
  if (!status.ok() || settings_.metrics_listen.empty()) return status;
  std::string host;
  uint16_t port = 0;
  status = ParseListenAddress(settings_.metrics_listen, &host, &port);
  if (!status.ok()) return status;
  metrics_ = std::make_unique<MetricsServer>(
      &Metrics::Global(), [this] { return serving_.load(); });
  status = metrics_->Listen(host, port);
  if (!status.ok()) return status;
  LogEvent(LogLevel::kInfo, "metrics_endpoint",
           {{"address", host}, {"port", absl::StrCat(metrics_->port())}});
  return absl::OkStatus();
}

std::vector<WatchedChannel> FrontEnd::WatchedChannels() const {
  std::vector<WatchedChannel> watched;
  for (auto& [target, channel] : backends_->Channels()) {
    watched.push_back({"backend", target, channel});
  }
  if (grpc_auth_ != nullptr) {
    watched.push_back(
        {"authenticator", grpc_auth_->target(), grpc_auth_->channel()});
  }
  return watched;
}

absl::Status FrontEnd::Start() {
  absl::Status loaded = LoadChannelCredentials();
  if (!loaded.ok()) return loaded;
  // Password hashes are verified here, off the event loops.
  auth_pool_ = std::make_unique<WorkerPool>(
      "sftpgate-auth", settings_.auth_workers, kMaxQueuedAuthChecks);
  const size_t user_count = initial_users_->users().size();
  local_auth_ = std::make_unique<LocalAuthenticator>(*std::move(initial_users_),
                                                     auth_pool_.get());
  initial_users_.reset();
  if (!settings_.auth.empty()) {
    grpc_auth_ = std::make_unique<GrpcAuthenticator>(
        settings_.auth.substr(std::string("grpc:").size()),
        absl::Milliseconds(settings_.auth_timeout_ms), auth_credentials_,
        settings_.auth_tls_server_name);
  }
  auth_ =
      std::make_unique<ChainAuthenticator>(local_auth_.get(), grpc_auth_.get());
  context_.auth = auth_.get();
  BackendChannelOptions backend_options;
  backend_options.target = settings_.backend;
  backend_options.credentials = backend_credentials_;
  backend_options.tls_server_name = settings_.backend_tls_server_name;
  backends_ = std::make_unique<BackendRouter>(backend_options,
                                              settings_.tenant_backends);
  context_.backends = backends_.get();
  if (!settings_.events.empty()) {
    EventPublisherOptions events = EventPublisherOptionsFromSettings(settings_);
    events.credentials = events_credentials_;
    events_ = std::make_unique<EventPublisher>(std::move(events));
    events_->Start();
    context_.events = events_.get();
  }

  GetSshMetrics();  // registers the series: a scrape shows them at 0
  absl::Status status = server_->Start();
  if (!status.ok()) return status;
  serving_ = true;
  if (metrics_ != nullptr) {
    metrics_->Start();
    health_ = std::make_unique<BackendHealthPoller>(
        &Metrics::Global(), [this] { return WatchedChannels(); },
        kHealthPollInterval);
    health_->Start();
  }
  const std::string& host = server_->options().host;
  LogEvent(LogLevel::kInfo, "started",
           {{"listen", absl::StrContains(host, ':')
                           ? absl::StrCat("[", host, "]:", server_->port())
                           : absl::StrCat(host, ":", server_->port())},
            {"backend", settings_.backend},
            {"tenant_routes", absl::StrCat(settings_.tenant_backends.size())},
            {"auth", settings_.auth.empty() ? "local" : settings_.auth},
            {"events", settings_.events.empty() ? "none" : settings_.events},
            {"users", absl::StrCat(user_count)}});
  return absl::OkStatus();
}

int FrontEnd::LiveConnections() const { return server_->LiveConnections(); }

void FrontEnd::Drain() {
  serving_ = false;
  server_->StopAccepting();
  context_.draining = true;
}

void FrontEnd::Reload() {
  LogEvent(LogLevel::kInfo, "reloading", {});
  if (!settings_.users.empty()) {
    absl::StatusOr<UserDb> users = LoadUsersFile(settings_.users);
    if (users.ok()) {
      size_t count = users->users().size();
      local_auth_->Replace(*std::move(users));
      LogEvent(LogLevel::kInfo, "users_reloaded",
               {{"path", settings_.users}, {"users", absl::StrCat(count)}});
    } else {
      LogEvent(LogLevel::kError, "reload_failed",
               {{"path", settings_.users},
                {"error", std::string(users.status().message())},
                {"kept", "previous users"}});
    }
  }
  absl::StatusOr<ssh_key> key = LoadHostKey(settings_.host_key);
  absl::Status status = key.status();
  std::string fingerprint;
  if (key.ok()) {
    fingerprint = KeyFingerprint(*key);
    status = server_->ReplaceHostKey(*key);
  }
  if (status.ok()) {
    LogEvent(LogLevel::kInfo, "host_key_reloaded",
             {{"path", settings_.host_key}, {"fingerprint", fingerprint}});
  } else {
    LogEvent(LogLevel::kError, "reload_failed",
             {{"path", settings_.host_key},
              {"error", std::string(status.message())},
              {"kept", "previous host key"}});
  }
}

void FrontEnd::Stop() {
  serving_ = false;
  if (health_ != nullptr) health_->Stop();
  if (metrics_ != nullptr) metrics_->Stop();
  // Verdicts are posted to the loops: no check may finish after they go.
  if (auth_pool_ != nullptr) auth_pool_->Shutdown();
  if (grpc_auth_ != nullptr) grpc_auth_->Shutdown();
  server_->Stop();
  // After the connections: their logouts are queued by now.
  if (events_ != nullptr) events_->Stop(kEventsFlushAtStop);
}

}  // namespace sftpgate::server
