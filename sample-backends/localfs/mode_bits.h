// Which permission bits a client may set on files and directories.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_MODE_BITS_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_MODE_BITS_H_

#include <sys/types.h>

namespace sftpgate::localfs {

// rwx for all plus the sticky bit. Set-user-ID and set-group-ID are never
// applied: the backend often runs with more rights than the SFTP user (as
// root, every file it makes is root's), so honoring them would let a user
// publish privileged executables on the host.
inline constexpr mode_t kSettableModeBits = 01777;

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_MODE_BITS_H_
