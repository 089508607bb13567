'use strict';
// The sftpgate.v1.Backend gRPC handlers over a MemoryFs. Messages are the
// plain objects @grpc/proto-loader produces with keepCase, longs as Number
// (offsets and sizes stay below 2^53) and defaults off, so an unset
// optional field is `undefined` (SetStat relies on that).

const {status} = require('@grpc/grpc-js');
const {isNormalizedPath} = require('./paths');
const {FsError, Upload} = require('./memfs');

const PREFERRED_CHUNK = 256 * 1024;
const MAX_CHUNK = 1024 * 1024;
const LIST_BATCH = 512;

const invalid = (message) => new FsError(status.INVALID_ARGUMENT, message);

// Checks what the contract promises about every request, as the C++ host
// does: a session, a normalized root (empty reads "/"), normalized paths.
function checked(request, ...paths) {
  const session = request.session;
  if (!session) throw invalid('request has no session');
  if (!session.root) session.root = '/';
  if (!isNormalizedPath(session.root)) throw invalid('session root is not normalized');
  for (const path of paths) {
    if (typeof path !== 'string' || path.includes('\0')) {
      throw invalid('path contains a NUL byte');
    }
    if (!isNormalizedPath(path)) throw invalid('path is not absolute and normalized');
  }
  return session;
}

// `session`, if it may modify the store. The front end refuses modifying
// operations of read-only sessions itself; the data's owner checks again.
function writable(session) {
  if (session.read_only) throw new FsError(status.PERMISSION_DENIED, 'read-only session');
  return session;
}

// The gRPC error for an exception: FsError keeps its code; anything else
// is a bug, logged here and reported without details.
function toStatus(error) {
  if (error instanceof FsError) return {code: error.code, details: error.message};
  console.error('node-memory: internal error:', error);
  return {code: status.INTERNAL, details: 'internal backend error'};
}

// Wraps a synchronous unary handler `fn(request) -> response`.
function unary(fn) {
  return (call, callback) => {
    let response;
    try {
      response = fn(call.request);
    } catch (error) {
      callback(toStatus(error));
      return;
    }
    callback(null, response);
  };
}

// Writes `messages` (an iterator) to a server stream, honoring flow
// control ('drain') and stopping when the client cancels. Ends the stream
// with OK, or with the status of an error thrown by the iterator.
function pump(call, messages) {
  let cancelled = false;
  call.on('cancelled', () => {
    cancelled = true;
  });
  const next = () => {
    try {
      for (;;) {
        if (cancelled) return;
        const item = messages.next();
        if (item.done) {
          call.end();
          return;
        }
        if (!call.write(item.value)) {
          call.once('drain', next);
          return;
        }
      }
    } catch (error) {
      call.emit('error', toStatus(error));
    }
  };
  next();
}

function* listBatches(fs, request) {
  const session = checked(request, request.path);
  const entries = fs.list(session, request.path, request.start_after || '');
  for (let i = 0; i < entries.length; i += LIST_BATCH) {
    yield {entries: entries.slice(i, i + LIST_BATCH)};
  }
}

function* readChunks(fs, request) {
  const session = checked(request, request.path);
  const inode = fs.file(session, request.path);
  const chunkSize = Math.max(1, Math.min(request.chunk_size || PREFERRED_CHUNK, MAX_CHUNK));
  let offset = request.offset || 0;
  let remaining = request.length || Infinity;
  while (remaining > 0) {
    // Reads the inode's current bytes each time: a concurrent truncate or
    // commit shows up, as with a POSIX file descriptor.
    const end = Math.min(offset + chunkSize, offset + remaining, inode.data.length);
    if (end <= offset) return;
    const data = Buffer.from(inode.data.subarray(offset, end));
    yield {offset, data};
    remaining -= data.length;
    offset = end;
  }
}

// Client-streaming upload: the header, chunks, then an explicit commit
// message before the half-close. Only that message publishes; a stream
// that ends without it (cancelled, or cut off) discards the staged bytes.
function write(fs, flags, call, callback) {
  let upload = null;
  let target = null;
  let header = null;
  let session = null;
  let done = false;
  let committing = false;
  const finish = (error, response) => {
    if (done) return;
    done = true;
    upload = null;  // Discards the staged bytes unless published.
    if (error) {
      call.removeAllListeners('data');
      callback(toStatus(error));
    } else {
      callback(null, response);
    }
  };
  call.on('data', (message) => {
    if (done) return;
    try {
      if (header === null) {
        if (message.kind !== 'header') throw invalid('the first write message must carry the header');
        header = message.header;
        session = writable(checked(message, header.path));
        header.flags = header.flags || 0;
        target = fs.openWrite(session, header, flags);
        upload = new Upload(target.initial, (header.flags & flags.FLAG_APPEND) !== 0);
        return;
      }
      if (committing) throw invalid('write message after commit');
      if (message.kind === 'commit') {
        committing = true;
        return;
      }
      if (message.kind !== 'chunk') throw invalid('write header sent twice');
      const offset = message.chunk.offset || 0;
      const data = message.chunk.data || Buffer.alloc(0);
      upload.write(offset, data);
    } catch (error) {
      finish(error);
    }
  });
  const commit = () => {
    if (done) return;
    try {
      if (header === null) throw invalid('write stream is empty');
      if (!committing) throw new FsError(status.ABORTED, 'upload ended without a commit');
      const permissions = header.attributes && header.attributes.mode !== undefined ?
          header.attributes.mode & 0o7777 : 0o644;
      const exclusive = (header.flags & flags.FLAG_EXCLUSIVE) !== 0;
      const size = fs.publish(session, target.path, upload.bytes(), permissions, exclusive);
      finish(null, {committed_size: size});
    } catch (error) {
      finish(error);
    }
  };
  call.on('end', commit);
  // Cancelled by the client (or the deadline): nothing becomes visible.
  call.on('cancelled', () => finish(new FsError(status.CANCELLED, 'cancelled')));
  call.on('error', () => finish(new FsError(status.CANCELLED, 'stream error')));
}

// Returns the handler object for grpc.Server#addService.
function backendHandlers(fs, writeFlags) {
  return {
    Describe: unary(() => ({
      name: 'node-memory 1.0',
      symlinks: true,
      hard_links: true,
      stat_fs: false,
      // No Usage: the front end refuses uploads of users with a quota.
      usage: false,
      real_path: true,
      random_write: true,
      set_stat_no_follow: true,
      preferred_chunk_size: PREFERRED_CHUNK,
      max_chunk_size: MAX_CHUNK,
      max_list_batch: LIST_BATCH,
    })),
    Stat: unary((r) => ({attributes: fs.stat(checked(r, r.path), r.path, !!r.follow_symlinks)})),
    MakeDir: unary((r) => fs.makeDir(writable(checked(r, r.path)), r.path, r.attributes) || {}),
    RemoveDir: unary((r) => fs.removeDir(writable(checked(r, r.path)), r.path) || {}),
    Remove: unary((r) => fs.remove(writable(checked(r, r.path)), r.path) || {}),
    Rename: unary((r) =>
      fs.rename(writable(checked(r, r.from, r.to)), r.from, r.to, !!r.overwrite) || {}),
    SetStat: unary((r) => fs.setStat(writable(checked(r, r.path)), r.path, r.attributes,
                                     !!r.follow_symlinks) || {}),
    Symlink: unary((r) => {
      const session = writable(checked(r, r.link_path));
      if (!r.target) throw invalid('symlink target is empty');
      if (r.target.includes('\0')) throw invalid('symlink target contains a NUL byte');
      return fs.symlink(session, r.link_path, r.target) || {};
    }),
    ReadLink: unary((r) => ({target: fs.readLink(checked(r, r.path), r.path)})),
    Link: unary((r) => fs.link(writable(checked(r, r.existing_path, r.new_path)),
                               r.existing_path, r.new_path) || {}),
    RealPath: unary((r) => ({path: fs.realPath(checked(r, r.path), r.path)})),
    StatFs: unary(() => {
      throw new FsError(status.UNIMPLEMENTED, 'statvfs is not supported');
    }),
    Usage: unary(() => {
      throw new FsError(status.UNIMPLEMENTED, 'usage is not supported');
    }),
    ListDir: (call) => pump(call, listBatches(fs, call.request)),
    Read: (call) => pump(call, readChunks(fs, call.request)),
    Write: (call, callback) => write(fs, writeFlags, call, callback),
  };
}

module.exports = {backendHandlers, MAX_CHUNK};
