"""The tables, created on first start.

  sftpgate_inodes   one row per file, directory or symlink: mode (type bits
                    + permissions), owner, size, times, link count, and the
                    target of a symlink.
  sftpgate_dirents  directory entries: (parent inode, name) -> inode. A
                    directory has exactly one entry naming it (no directory
                    hard links), so the tree is walked from the top inode.
  sftpgate_chunks   file contents as rows of CHUNK_SIZE bytes: (inode,
                    index) -> bytea. A missing row, or bytes past the end of
                    a short row but before the file size, read as zeros (so
                    holes and extensions cost nothing). No row holds bytes
                    past the file's size.
  sftpgate_meta     the top inode and the chunk size the data was written
                    with.
"""

CHUNK_SIZE = 256 * 1024

# Keys for pg_advisory_xact_lock(LOCK_CLASS, n): one namespace of ours.
LOCK_CLASS = 0x53465447  # "SFTG"
SCHEMA_LOCK = 1
RENAME_LOCK = 2  # Serializes renames, so tree ancestry is stable in one.

S_IFMT = 0o170000
S_IFDIR = 0o040000
S_IFREG = 0o100000
S_IFLNK = 0o120000

_DDL = """
CREATE TABLE IF NOT EXISTS sftpgate_inodes (
  id     bigserial PRIMARY KEY,
  mode   integer   NOT NULL,
  uid    bigint    NOT NULL DEFAULT 0,
  gid    bigint    NOT NULL DEFAULT 0,
  size   bigint    NOT NULL DEFAULT 0,
  atime  bigint    NOT NULL,
  mtime  bigint    NOT NULL,
  nlink  integer   NOT NULL DEFAULT 1,
  target text
);
CREATE TABLE IF NOT EXISTS sftpgate_dirents (
  parent bigint NOT NULL REFERENCES sftpgate_inodes(id),
  name   text   NOT NULL,
  inode  bigint NOT NULL REFERENCES sftpgate_inodes(id),
  PRIMARY KEY (parent, name)
);
CREATE INDEX IF NOT EXISTS sftpgate_dirents_inode ON sftpgate_dirents(inode);
CREATE TABLE IF NOT EXISTS sftpgate_chunks (
  inode bigint NOT NULL REFERENCES sftpgate_inodes(id) ON DELETE CASCADE,
  idx   bigint NOT NULL,
  data  bytea  NOT NULL,
  PRIMARY KEY (inode, idx)
);
-- File bytes rarely compress: store them out of line without trying.
ALTER TABLE sftpgate_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS sftpgate_meta (
  key   text PRIMARY KEY,
  value bigint NOT NULL
);
"""


def ensure_schema(cur, now):
    """Creates the tables and the top directory if missing (safe when many
    backends start at once); returns the top inode's id. Raises
    RuntimeError if the database holds data of another chunk size."""
    cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, SCHEMA_LOCK))
    cur.execute(_DDL)
    cur.execute("SELECT key, value FROM sftpgate_meta")
    meta = dict(cur.fetchall())
    if "top" not in meta:
        cur.execute("INSERT INTO sftpgate_inodes (mode, atime, mtime, nlink) "
                    "VALUES (%s, %s, %s, 2) RETURNING id", (S_IFDIR | 0o755, now, now))
        meta["top"] = cur.fetchone()[0]
        meta["chunk_size"] = CHUNK_SIZE
        cur.executemany("INSERT INTO sftpgate_meta (key, value) VALUES (%s, %s)",
                        sorted(meta.items()))
    if meta["chunk_size"] != CHUNK_SIZE:
        raise RuntimeError("database was written with %d-byte chunks, this backend uses %d"
                           % (meta["chunk_size"], CHUNK_SIZE))
    return meta["top"]
