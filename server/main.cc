// sftpgate: the SFTP front end. Speaks SSH/SFTP to clients and sends every
// filesystem operation to a gRPC backend.
//
//   sftpgate --listen 127.0.0.1:2222 --backend unix:/run/b.sock
//            --host-key /var/lib/sftpgate/host_key --users users.toml
//   sftpgate --config sftpgate.toml [--flags that override the file]
//   sftpgate ... --run-as sftpgate   (started as root: bind, load, then
//                                      switch to that user for good)
//   sftpgate hash-password < password.txt
//
// Signals: SIGTERM/SIGINT stop (draining first with
// --shutdown-grace-seconds; a second one stops at once), SIGHUP reloads the
// users file and the host key.
//
// Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 2 for bad usage or
// configuration, 1 when the server cannot start.

#include <libssh/libssh.h>
#include <pthread.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/backend/callback_queue_pin.h"
#include "server/common/log.h"
#include "server/common/privileges.h"
#include "server/config/password_hash.h"
#include "server/config/settings.h"
#include "server/config/users.h"
#include "server/front_end.h"
#include "server/ssh/host_key.h"
#include "sftpgate/command_line.h"
#include "sftpgate/process_tuning.h"

ABSL_FLAG(std::string, config, "",
          "TOML config file with the settings below (flags override it)");

#define SFTPGATE_DEFINE_FLAG(type, name, default_value, help) \
  ABSL_FLAG(type, name, default_value, help);
SFTPGATE_SETTINGS(SFTPGATE_DEFINE_FLAG)
#undef SFTPGATE_DEFINE_FLAG

// Repeatable, so taken out of the command line before absl parses it (absl
// keeps only the last value of a repeated flag); defined for --help.
ABSL_FLAG(std::vector<std::string>, tenant_backend, {},
          "Backend of one tenant, NAME=TARGET; repeat for more tenants "
          "(TOML: [tenants.NAME] backend = \"TARGET\")");

namespace sftpgate::server {
namespace {

constexpr int kExitFailure = 1;

constexpr char kUsage[] =
    "SFTP server with storage in a gRPC backend.\n\n"
    "  sftpgate --listen 127.0.0.1:2222 --backend TARGET --host-key PATH "
    "--users PATH\n"
    "  sftpgate --config PATH [flags overriding the file]\n"
    "  sftpgate hash-password   (reads a password on stdin, prints its "
    "crypt(3) hash)";

int Fail(int code, absl::string_view message) {
  std::cerr << "sftpgate: " << message << "\n";
  return code;
}

// Removes every --NAME=VALUE / --NAME VALUE (NAME in either spelling, see
// command_line.h) from argv and returns the values.
std::vector<std::string> TakeRepeatedFlag(int* argc, char** argv,
                                          absl::string_view name) {
  std::vector<std::string> values;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      while (i < *argc) argv[out++] = argv[i++];
      break;
    }
    absl::string_view flag =
        absl::StripPrefix(absl::StripPrefix(arg, "-"), "-");
    const size_t eq = flag.find('=');
    const bool named =
        arg != flag && CanonicalFlagName(flag.substr(0, eq)) == name;
    if (named && eq == absl::string_view::npos && i + 1 < *argc) {
      values.push_back(argv[++i]);
      continue;
    }
    if (named && eq != absl::string_view::npos) {
      values.push_back(std::string(flag.substr(eq + 1)));
      continue;
    }
    argv[out++] = argv[i];
  }
  *argc = out;
  argv[out] = nullptr;
  return values;
}

// The --config value, looked up before absl parses the command line so the
// file can supply defaults that explicit flags then override.
std::string FindConfigFlag(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    absl::string_view name =
        absl::StripPrefix(absl::StripPrefix(arg, "-"), "-");
    if (name == "config" && i + 1 < argc) return argv[i + 1];
    if (absl::ConsumePrefix(&name, "config=")) return std::string(name);
  }
  return "";
}

void SettingsToFlags(const Settings& settings) {
#define SFTPGATE_SET_FLAG(type, name, default_value, help) \
  absl::SetFlag(&FLAGS_##name, settings.name);
  SFTPGATE_SETTINGS(SFTPGATE_SET_FLAG)
#undef SFTPGATE_SET_FLAG
}

Settings SettingsFromFlags() {
  Settings settings;
#define SFTPGATE_GET_FLAG(type, name, default_value, help) \
  settings.name = absl::GetFlag(FLAGS_##name);
  SFTPGATE_SETTINGS(SFTPGATE_GET_FLAG)
#undef SFTPGATE_GET_FLAG
  return settings;
}

// Reads one line from stdin; on a terminal without echo.
bool ReadSecretLine(const char* prompt, std::string* line) {
  bool tty = isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  bool ok = static_cast<bool>(std::getline(std::cin, *line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return ok || !line->empty();
}

int HashPasswordCommand() {
  std::string password;
  if (!ReadSecretLine("Password: ", &password) || password.empty()) {
    return Fail(kExitUsage, "hash-password: no password on stdin");
  }
  if (isatty(STDIN_FILENO)) {
    std::string again;
    ReadSecretLine("Again: ", &again);
    if (again != password) {
      return Fail(kExitUsage, "hash-password: the passwords differ");
    }
  }
  absl::StatusOr<std::string> hash = HashPassword(password);
  std::fill(password.begin(), password.end(), '\0');
  if (!hash.ok()) return Fail(kExitFailure, hash.status().message());
  std::cout << *hash << "\n";
  return 0;
}

LogLevel ParseLogLevel(absl::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "warning") return LogLevel::kWarning;
  if (name == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

// Stops accepting, lets every connection finish what it is doing (each
// ends once quiet) and waits up to `grace_seconds` for them to be gone.
// SIGHUP meanwhile reloads; another stop signal ends the wait.
void DrainConnections(FrontEnd& front_end, int grace_seconds,
                      const sigset_t& signals) {
  if (grace_seconds <= 0) return;
  front_end.Drain();
  LogEvent(LogLevel::kInfo, "draining",
           {{"connections", absl::StrCat(front_end.LiveConnections())},
            {"grace_seconds", absl::StrCat(grace_seconds)}});
  absl::Time deadline = absl::Now() + absl::Seconds(grace_seconds);
  while (front_end.LiveConnections() > 0 && absl::Now() < deadline) {
    timespec tick{0, 100 * 1000 * 1000};
    int received = sigtimedwait(&signals, nullptr, &tick);
    if (received == SIGHUP) {
      front_end.Reload();
    } else if (received > 0) {
      break;
    }
  }
}

int Serve(const Settings& settings) {
  SetLogFormat(settings.log_format == "json" ? LogFormat::kJson
                                             : LogFormat::kText);
  SetLogLevel(ParseLogLevel(settings.log_level));

  std::optional<RunAsUser> run_as;
  if (!settings.run_as.empty()) {
    absl::StatusOr<RunAsUser> user = LookUpRunAsUser(settings.run_as);
    if (!user.ok()) return Fail(kExitUsage, user.status().message());
    run_as = *std::move(user);
  }

  // Files are read, and a missing host key is created, with the privileges
  // the process started with (root-only files stay root-only).
  // Without --users (delegated auth only) nobody is local.
  absl::StatusOr<UserDb> users =
      settings.users.empty() ? UserDb() : LoadUsersFile(settings.users);
  if (!users.ok()) return Fail(kExitUsage, users.status().message());

  bool generated = false;
  absl::StatusOr<ssh_key> host_key =
      LoadOrCreateHostKey(settings.host_key, &generated);
  if (!host_key.ok()) return Fail(kExitFailure, host_key.status().message());
  if (generated) {
    LogEvent(LogLevel::kInfo, "host_key_generated",
             {{"path", settings.host_key}, {"type", "ed25519"}});
  }

  // Signals are taken by sigwait() below: block them before any thread
  // starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  FrontEnd front_end(settings, *std::move(users), *host_key);
  absl::Status status = front_end.Listen();
  if (!status.ok()) return Fail(kExitFailure, status.message());
  if (run_as.has_value()) {
    // For good, before any thread or connection exists.
    status = DropPrivileges(*run_as);
    if (!status.ok()) return Fail(kExitFailure, status.message());
    LogEvent(LogLevel::kInfo, "privileges_dropped",
             {{"user", run_as->name},
              {"uid", absl::StrCat(run_as->uid)},
              {"gid", absl::StrCat(run_as->gid)}});
  }
  status = front_end.Start();
  if (!status.ok()) return Fail(kExitFailure, status.message());

  int received = 0;
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    front_end.Reload();
  }
  LogEvent(LogLevel::kInfo, "stopping", {{"signal", strsignal(received)}});
  DrainConnections(front_end, settings.shutdown_grace_seconds, signals);
  front_end.Stop();
  LogEvent(LogLevel::kInfo, "stopped", {});
  return 0;
}

int Main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "hash-password") == 0) {
    if (argc > 2) return Fail(kExitUsage, "hash-password takes no arguments");
    return HashPasswordCommand();
  }
  const ProgramInfo program{"sftpgate", kUsage};
  // Before the --config file is read: help even when the file is bad.
  ExitIfHelpOrVersionRequested(argc, argv, program);
  std::vector<std::string> tenant_backends =
      TakeRepeatedFlag(&argc, argv, "tenant_backend");
  std::string config = FindConfigFlag(argc, argv);
  Settings from_file;
  if (!config.empty()) {
    absl::Status status = LoadSettingsFile(config, &from_file);
    if (!status.ok()) return Fail(kExitUsage, status.message());
    SettingsToFlags(from_file);
  }
  std::vector<std::string> rest = ParseCommandLineOrExit(argc, argv, program);
  if (!rest.empty()) {
    ExitWithUsageError(program,
                       absl::StrCat("unexpected argument \"", rest[0], "\""));
  }
  Settings settings = SettingsFromFlags();
  settings.tenant_backends = from_file.tenant_backends;
  for (const std::string& route : tenant_backends) {
    absl::Status status = AddTenantBackend(route, &settings);
    if (!status.ok()) return Fail(kExitUsage, status.message());
  }
  absl::Status status = ValidateSettings(settings);
  if (!status.ok()) return Fail(kExitUsage, status.message());

  // Measured: less CPU per transferred byte (see process_tuning.h).
  sftpgate::TuneProcessForTransfers();
  // Channels and sessions may end in any order at shutdown.
  backend::PinCallbackQueue();
  ssh_init();
  int code = Serve(settings);
  ssh_finalize();
  return code;
}

}  // namespace
}  // namespace sftpgate::server

int main(int argc, char** argv) { return sftpgate::server::Main(argc, argv); }
