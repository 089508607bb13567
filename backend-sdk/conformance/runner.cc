#include "runner.h"

#include <exception>
#include <memory>
#include <regex>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client.h"
#include "expect.h"
#include "fixture.h"
#include "grpcpp/grpcpp.h"

namespace sftpgate::conformance {
namespace {

struct Tally {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
};

void Report(std::ostream& out, Tally& tally, const std::string& name,
            const absl::Status& outcome) {
  if (outcome.ok()) {
    ++tally.passed;
    out << "PASS " << name << "\n";
  } else if (IsSkip(outcome)) {
    ++tally.skipped;
    out << "SKIP " << name << ": " << outcome.message() << "\n";
  } else {
    ++tally.failed;
    out << "FAIL " << name << ": " << outcome.message() << "\n";
  }
  out.flush();
}

int Summarize(std::ostream& out, const Tally& tally) {
  out << tally.passed << " passed, " << tally.failed << " failed, "
      << tally.skipped << " skipped\n";
  out.flush();
  return tally.failed == 0 ? 0 : 1;
}

// The check's own exceptions (and gRPC's or protobuf's) end only the check.
absl::Status RunGuarded(const Check& check, Fixture& fixture) {
  try {
    return check.fn(fixture);
  } catch (const std::exception& e) {
    return Fail(absl::StrCat("no exception, got ", e.what()));
  } catch (...) {
    return Fail("no exception, got an unknown one");
  }
}

// The first unmet requirement as a skip, or OK.
absl::Status Requirements(const Check& check,
                          const v1::DescribeResponse& describe) {
  for (const Requirement& requirement : check.requirements) {
    if (!requirement.holds(describe)) return Skip(requirement.skip_reason);
  }
  return absl::OkStatus();
}

// Runs one check in a fresh directory beneath `run_dir` and removes that
// directory afterwards.
absl::Status RunOne(Environment& env, const std::string& run_dir,
                    const Check& check, absl::Duration check_timeout) {
  const std::string dir = absl::StrCat(run_dir, "/", check.name);
  Fixture fixture(&env, dir);
  const absl::Status setup = fixture.MakeDir(env.root(), dir);
  if (!setup.ok()) return Fail(absl::StrCat("setup: ", setup.message()));
  const absl::Time deadline = absl::Now() + check_timeout;
  env.set_check_deadline(deadline);
  absl::Status outcome = RunGuarded(check, fixture);
  env.set_check_deadline(absl::InfiniteFuture());
  if (!outcome.ok() && !IsSkip(outcome) && absl::Now() >= deadline) {
    outcome = Fail(absl::StrCat("check took longer than ",
                                absl::FormatDuration(check_timeout), ": ",
                                outcome.message()));
  }
  const absl::Status cleanup = fixture.RemoveTree(env.root(), dir);
  if (!outcome.ok() || cleanup.ok()) return outcome;
  return Fail(absl::StrCat("cleanup: ", cleanup.message()));
}

std::shared_ptr<grpc::Channel> Connect(const std::string& target) {
  grpc::ChannelArguments args;
  // Chunks may be as large as the backend's max_chunk_size.
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace

int RunSuite(const RunOptions& options, const Registry& registry,
             std::ostream& out) {
  Tally tally;
  std::regex filter;
  try {
    filter = std::regex(options.filter, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    Report(out, tally, "filter",
           Fail(absl::StrCat("expected a valid regular expression, got ",
                             Show(options.filter), " (", e.what(), ")")));
    return Summarize(out, tally);
  }

  std::shared_ptr<grpc::Channel> channel = Connect(options.target);
  if (!channel->WaitForConnected(
          absl::ToChronoTime(absl::Now() + options.timeout))) {
    Report(out, tally, "connect",
           Fail(absl::StrCat("expected a backend at ", options.target,
                             ", got no connection within ",
                             absl::FormatDuration(options.timeout))));
    return Summarize(out, tally);
  }

  absl::BitGen random;
  const std::string run_id =
      absl::StrFormat("%08x", absl::Uniform<uint32_t>(random));
  Environment env(std::make_shared<v1::Backend::Stub>(channel), options.timeout,
                  run_id);
  // The describe.* checks judge this call; the others only need its answer.
  const Reply<v1::DescribeResponse> describe = env.root().Describe();
  if (describe.ok()) env.set_describe(describe.value());

  const std::string run_dir = absl::StrCat(
      options.base == "/" ? "" : options.base, "/conformance-", run_id);
  const absl::Status setup = ExpectOk(env.root().MakeDir(run_dir));
  if (!setup.ok()) {
    Report(out, tally, "setup", setup);
    return Summarize(out, tally);
  }

  for (const Check& check : registry.checks()) {
    if (!std::regex_search(check.name, filter)) continue;
    absl::Status outcome = Requirements(check, env.describe());
    if (outcome.ok()) {
      outcome = RunOne(env, run_dir, check, options.check_timeout);
    }
    Report(out, tally, check.name, outcome);
  }

  const absl::Status cleanup =
      Fixture(&env, run_dir).RemoveTree(env.root(), run_dir);
  if (!cleanup.ok()) Report(out, tally, "cleanup", cleanup);
  return Summarize(out, tally);
}

}  // namespace sftpgate::conformance
