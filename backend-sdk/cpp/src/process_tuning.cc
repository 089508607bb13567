#include "sftpgate/process_tuning.h"

#include <malloc.h>

#include "absl/synchronization/mutex.h"

namespace sftpgate {

void TuneProcessForTransfers() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  mallopt(M_MMAP_THRESHOLD, 1280 * 1024);
  mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
}

}  // namespace sftpgate
