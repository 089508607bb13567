'use strict';
// An in-memory filesystem tree with per-session roots, the storage of the
// node-memory backend. Every method takes the session (for its root) and
// normalized session-view paths, and throws FsError(code, message) with a
// gRPC status code on failure. Node runs it on one thread, so each method
// is atomic: no locks are needed as long as none awaits midway.

const {status} = require('@grpc/grpc-js');
const {components} = require('./paths');

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const MAX_SYMLINKS = 40;

class FsError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const fail = (code, message) => {
  throw new FsError(code, message);
};
const notFound = () => fail(status.NOT_FOUND, 'no such file or directory');
const now = () => Math.floor(Date.now() / 1000);

class Inode {
  constructor(kind, permissions, target) {
    this.kind = kind;
    this.mode = kind | (permissions & 0o7777);
    this.uid = 0;
    this.gid = 0;
    this.atime = this.mtime = now();
    this.nlink = 1;
    this.data = kind === S_IFREG ? Buffer.alloc(0) : null;
    this.children = kind === S_IFDIR ? new Map() : null;
    this.target = target === undefined ? null : target;
  }

  attributes() {
    let size = 0;
    let nlink = this.nlink;
    if (this.kind === S_IFREG) size = this.data.length;
    if (this.kind === S_IFLNK) size = Buffer.byteLength(this.target);
    if (this.kind === S_IFDIR) {
      nlink = 2;
      for (const child of this.children.values()) {
        if (child.kind === S_IFDIR) nlink++;
      }
    }
    return {size, uid: this.uid, gid: this.gid, mode: this.mode,
            atime: this.atime, mtime: this.mtime, nlink};
  }

  touch() {
    this.mtime = now();
  }
}

const has = (attributes, field) =>
  attributes != null && attributes[field] !== undefined && attributes[field] !== null;

function permissionsOf(attributes, fallback) {
  return has(attributes, 'mode') ? attributes.mode & 0o7777 : fallback;
}

// Resolves `path` from directory inode `root`: symlinks in every component
// but the last are followed, the last only with `followFinal`. Absolute
// targets restart at `root`; ".." above it is refused. Returns
// {parent, name, inode, path}: parent is null for the root itself; inode is
// null when the last name is missing (its parent exists).
function walk(root, path, followFinal) {
  const stack = [['', root]];
  const pending = components(path).reverse();
  const joined = (name) => '/' + stack.slice(1).map(([n]) => n).concat([name]).join('/');
  let expansions = 0;
  while (pending.length > 0) {
    const name = pending.pop();
    const last = pending.length === 0;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      if (stack.length === 1) fail(status.PERMISSION_DENIED, 'symlink leaves the root');
      stack.pop();
      continue;
    }
    const dir = stack[stack.length - 1][1];
    const inode = dir.children.get(name);
    if (inode === undefined) {
      if (last) return {parent: dir, name, inode: null, path: joined(name)};
      notFound();
    }
    if (inode.kind === S_IFLNK && (!last || followFinal)) {
      if (++expansions > MAX_SYMLINKS) {
        fail(status.FAILED_PRECONDITION, 'too many levels of symbolic links');
      }
      if (inode.target.startsWith('/')) stack.length = 1;
      pending.push(...inode.target.split('/').reverse());
      if (inode.target.replace(/\/+/g, '') === '') pending.push('.');
      continue;
    }
    if (last) return {parent: dir, name, inode, path: joined(name)};
    if (inode.kind !== S_IFDIR) fail(status.NOT_FOUND, 'not a directory');
    stack.push([name, inode]);
  }
  if (stack.length === 1) return {parent: null, name: '', inode: root, path: '/'};
  const [name, inode] = stack.pop();
  return {parent: stack[stack.length - 1][1], name, inode, path: joined(name)};
}

// rename(2)'s rules for replacing an existing target.
function checkReplace(moving, replaced) {
  if (replaced.kind === S_IFDIR) {
    if (moving.kind !== S_IFDIR) fail(status.FAILED_PRECONDITION, 'target is a directory');
    if (replaced.children.size > 0) fail(status.FAILED_PRECONDITION, 'directory not empty');
  } else if (moving.kind === S_IFDIR) {
    fail(status.FAILED_PRECONDITION, 'target is not a directory');
  }
}

function resize(inode, size) {
  if (inode.kind !== S_IFREG) fail(status.INVALID_ARGUMENT, 'size applies to files only');
  if (size === inode.data.length) return;
  const data = Buffer.alloc(size);
  inode.data.copy(data, 0, 0, Math.min(size, inode.data.length));
  inode.data = data;
  inode.touch();
}

function applyAttributes(inode, attributes) {
  if (has(attributes, 'size')) resize(inode, attributes.size);
  if (has(attributes, 'mode')) inode.mode = inode.kind | (attributes.mode & 0o7777);
  for (const field of ['uid', 'gid', 'atime', 'mtime']) {
    if (has(attributes, field)) inode[field] = attributes[field];
  }
}

class MemoryFs {
  constructor() {
    this.top = new Inode(S_IFDIR, 0o755);
  }

  // The session's root directory, created (mkdir -p) on first use.
  root(session) {
    let node = this.top;
    for (const name of components(session.root || '/')) {
      let child = node.children.get(name);
      if (child === undefined) {
        child = new Inode(S_IFDIR, 0o755);
        node.children.set(name, child);
      } else if (child.kind !== S_IFDIR) {
        fail(status.FAILED_PRECONDITION, 'session root is not a directory');
      }
      node = child;
    }
    return node;
  }

  walk(session, path, follow) {
    return walk(this.root(session), path, follow);
  }

  existing(session, path, follow) {
    const found = this.walk(session, path, follow);
    if (found.inode === null) notFound();
    return found;
  }

  file(session, path) {
    const {inode} = this.existing(session, path, true);
    if (inode.kind === S_IFDIR) fail(status.FAILED_PRECONDITION, 'is a directory');
    return inode;
  }

  create(session, path, inode) {
    const found = this.walk(session, path, false);
    if (found.inode !== null) fail(status.ALREADY_EXISTS, 'file exists');
    found.parent.children.set(found.name, inode);
    found.parent.touch();
  }

  stat(session, path, follow) {
    return this.existing(session, path, follow).inode.attributes();
  }

  makeDir(session, path, attributes) {
    this.create(session, path, new Inode(S_IFDIR, permissionsOf(attributes, 0o755)));
  }

  removeDir(session, path) {
    const found = this.existing(session, path, false);
    if (found.parent === null) fail(status.PERMISSION_DENIED, 'cannot remove the root');
    if (found.inode.kind !== S_IFDIR) fail(status.FAILED_PRECONDITION, 'not a directory');
    if (found.inode.children.size > 0) {
      fail(status.FAILED_PRECONDITION, 'directory not empty');
    }
    found.parent.children.delete(found.name);
    found.parent.touch();
  }

  remove(session, path) {
    const found = this.existing(session, path, false);
    if (found.inode.kind === S_IFDIR) fail(status.FAILED_PRECONDITION, 'is a directory');
    found.parent.children.delete(found.name);
    found.inode.nlink--;
    found.parent.touch();
  }

  rename(session, from, to, overwrite) {
    const source = this.existing(session, from, false);
    const target = this.walk(session, to, false);
    if (source.parent === null || target.parent === null) {
      fail(status.PERMISSION_DENIED, 'cannot move the root');
    }
    const moving = source.inode;
    if (target.inode !== null) {
      if (target.inode === moving) return;  // Same object: nothing to do.
      if (!overwrite) fail(status.ALREADY_EXISTS, 'target exists');
      checkReplace(moving, target.inode);
    }
    if (moving.kind === S_IFDIR && target.path.startsWith(source.path + '/')) {
      fail(status.INVALID_ARGUMENT, 'cannot move a directory beneath itself');
    }
    source.parent.children.delete(source.name);
    if (target.inode !== null) target.inode.nlink--;
    target.parent.children.set(target.name, moving);
    source.parent.touch();
    target.parent.touch();
  }

  setStat(session, path, attributes, follow) {
    applyAttributes(this.existing(session, path, follow).inode, attributes);
  }

  // Returns [{name, attributes}] for directory `path`.
  // The entries whose name sorts after `startAfter` ('' for all), in the
  // contract's order: ascending bytes of the UTF-8 name (JavaScript's own
  // string order compares UTF-16 units, which differs above U+FFFF).
  list(session, path, startAfter = '') {
    const {inode} = this.existing(session, path, true);
    if (inode.kind !== S_IFDIR) fail(status.FAILED_PRECONDITION, 'not a directory');
    const after = Buffer.from(startAfter, 'utf8');
    return Array.from(inode.children, ([name, child]) => ({name, key: Buffer.from(name, 'utf8'), child}))
        .filter((e) => Buffer.compare(e.key, after) > 0)
        .sort((a, b) => Buffer.compare(a.key, b.key))
        .map((e) => ({name: e.name, attributes: e.child.attributes()}));
  }

  symlink(session, linkPath, target) {
    this.create(session, linkPath, new Inode(S_IFLNK, 0o777, target));
  }

  readLink(session, path) {
    const {inode} = this.existing(session, path, false);
    if (inode.kind !== S_IFLNK) fail(status.INVALID_ARGUMENT, 'not a symbolic link');
    return inode.target;
  }

  link(session, existingPath, newPath) {
    const {inode} = this.existing(session, existingPath, false);
    if (inode.kind === S_IFDIR) fail(status.FAILED_PRECONDITION, 'cannot hard-link a directory');
    this.create(session, newPath, inode);
    inode.nlink++;
  }

  realPath(session, path) {
    return this.walk(session, path, true).path;
  }

  // Checks an upload's header; returns {path, initial} for Upload.
  openWrite(session, header, flags) {
    const found = this.walk(session, header.path, true);
    if (found.inode === null) {
      if (!(header.flags & flags.FLAG_CREATE)) notFound();
      return {path: found.path, initial: Buffer.alloc(0)};
    }
    if (header.flags & flags.FLAG_EXCLUSIVE) fail(status.ALREADY_EXISTS, 'file exists');
    if (found.inode.kind === S_IFDIR) fail(status.FAILED_PRECONDITION, 'is a directory');
    const truncate = header.flags & flags.FLAG_TRUNCATE;
    return {path: found.path, initial: truncate ? Buffer.alloc(0) : found.inode.data};
  }

  // Makes an upload's bytes the content of canonical `path`; returns the
  // size. Creates the file (with `permissions`) if it is missing now.
  publish(session, path, data, permissions, exclusive) {
    const found = this.walk(session, path, true);
    let inode = found.inode;
    if (inode === null) {
      inode = new Inode(S_IFREG, permissions);
      found.parent.children.set(found.name, inode);
      found.parent.touch();
    } else if (exclusive) {
      fail(status.ALREADY_EXISTS, 'file exists');
    } else if (inode.kind === S_IFDIR) {
      fail(status.FAILED_PRECONDITION, 'is a directory');
    }
    inode.data = data;
    inode.touch();
    return data.length;
  }
}

// An upload staged in a private growable buffer; writes may come at any
// offset (holes are zeros) and nothing is visible before publish().
class Upload {
  constructor(initial, append) {
    this.buffer = Buffer.alloc(Math.max(initial.length, 64 * 1024));
    initial.copy(this.buffer);
    this.size = initial.length;
    this.append = append;
  }

  write(offset, data) {
    const at = this.append ? this.size : offset;
    const end = at + data.length;
    if (end > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(end, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.size);
      this.buffer = grown;
    }
    if (at > this.size) this.buffer.fill(0, this.size, at);
    data.copy(this.buffer, at);
    this.size = Math.max(this.size, end);
  }

  // The staged bytes, trimmed to size (copied: the buffer may be larger).
  bytes() {
    return Buffer.from(this.buffer.subarray(0, this.size));
  }
}

module.exports = {MemoryFs, Upload, FsError, S_IFDIR, S_IFREG, S_IFLNK};
