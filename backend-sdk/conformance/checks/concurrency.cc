// concurrency.*: "backends must be safe for concurrent calls from many
// sessions": several sessions work at once, each in its own root, and every
// one sees exactly its own results.

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

constexpr int kSessions = 8;
constexpr int kFilesPerSession = 8;
constexpr size_t kFileSize = 100000;

// One session's workload: write, read back, list, rename, remove.
absl::Status Workload(const Fixture& f, const Client& c, int index) {
  std::vector<std::string> contents;
  for (int i = 0; i < kFilesPerSession; ++i) {
    contents.push_back(PatternBytes(kFileSize, index * 100 + i));
    CONF_RETURN_IF_ERROR(
        f.WriteFile(c, absl::StrCat("/f", i), contents.back()));
  }
  for (int i = 0; i < kFilesPerSession; ++i) {
    CONF_RETURN_IF_ERROR(
        f.ExpectContent(c, absl::StrCat("/f", i), contents[i]));
    CONF_RETURN_IF_ERROR(ExpectOk(
        c.Rename(absl::StrCat("/f", i), absl::StrCat("/g", i), false)));
  }
  std::set<std::string> renamed;
  for (int i = 0; i < kFilesPerSession; ++i)
    renamed.insert(absl::StrCat("g", i));
  CONF_RETURN_IF_ERROR(f.ExpectNames(c, "/", renamed).status());
  for (int i = 0; i < kFilesPerSession; ++i) {
    CONF_RETURN_IF_ERROR(
        f.ExpectContent(c, absl::StrCat("/g", i), contents[i]));
    CONF_RETURN_IF_ERROR(ExpectOk(c.Remove(absl::StrCat("/g", i))));
  }
  return absl::OkStatus();
}

absl::Status ParallelSessions(Fixture& f) {
  std::vector<Client> clients;
  for (int i = 0; i < kSessions; ++i) {
    const std::string root = f.Path(absl::StrCat("u", i));
    CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), root));
    clients.push_back(f.SessionAt(root));
  }
  std::vector<absl::Status> outcomes(kSessions);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSessions; ++i) {
    threads.emplace_back([&, i] { outcomes[i] = Workload(f, clients[i], i); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& outcome : outcomes) CONF_RETURN_IF_ERROR(outcome);
  return absl::OkStatus();
}

}  // namespace

void RegisterConcurrencyChecks(Registry& registry) {
  registry.Add("concurrency.parallel_sessions", ParallelSessions);
}

}  // namespace sftpgate::conformance
