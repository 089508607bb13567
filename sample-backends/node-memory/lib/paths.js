'use strict';
// Lexical path helpers (the Node twin of backend-sdk/cpp's paths.h).
// A normalized path is absolute, with no empty, "." or ".." components, no
// trailing "/" (except "/" itself) and no NUL. Pure functions.

function isValidName(name) {
  return name.length > 0 && name !== '.' && name !== '..' &&
      !name.includes('/') && !name.includes('\0');
}

function isNormalizedPath(path) {
  if (typeof path !== 'string' || !path.startsWith('/')) return false;
  if (path === '/') return true;
  return path.slice(1).split('/').every(isValidName);
}

// "/a/b" -> ["a", "b"]; "/" -> [].
function components(path) {
  return path.split('/').filter((part) => part.length > 0);
}

module.exports = {isValidName, isNormalizedPath, components};
