#!/usr/bin/env node
'use strict';
// node-memory: an in-memory sftpgate storage backend in Node.js, written
// straight against the gRPC contract (no SDK): @grpc/proto-loader loads
// proto/sftpgate/v1/backend.proto at run time and @grpc/grpc-js serves it,
// with grpc.health.v1 from grpc-health-check.
//
//   node server.js --listen 127.0.0.1:7000 [--proto DIR]
//       [--tls-cert PEM --tls-key PEM --tls-client-ca PEM] [--socket-mode 0600]
//
// With the three --tls-* files the backend serves mutual TLS: a caller
// without a certificate from --tls-client-ca gets nothing. A unix socket
// is created with --socket-mode (0600: this user only; 0660: its group).
//
// Prints "listening on ADDR" to stderr once bound (the real port when
// asked for port 0); SIGTERM or SIGINT shut it down (in-flight uploads are
// cancelled and discarded).

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const {HealthImplementation} = require('grpc-health-check');
const {MemoryFs} = require('./lib/memfs');
const {backendHandlers, MAX_CHUNK} = require('./lib/service');

// Flags as every sftpgate program takes them: names with '-' or '_' alike,
// --flag=value or --flag value; --help lists them with their defaults and
// exits 0; a usage error exits 2.
const FLAGS = {
  listen: {default: '127.0.0.1:7000', help: 'host:port (port 0 picks a free one) or unix:/path'},
  proto: {default: path.join(__dirname, '..', '..', 'proto'),
    help: 'folder holding sftpgate/v1/backend.proto'},
  tls_cert: {default: '', help: 'mutual TLS: this backend\'s certificate (PEM); with --tls-key ' +
    'and --tls-client-ca, callers without a certificate from that CA get nothing'},
  tls_key: {default: '', help: 'mutual TLS: the private key (PEM)'},
  tls_client_ca: {default: '', help: 'mutual TLS: the CA (PEM) callers\' certificates must chain to'},
  socket_mode: {default: '0600',
    help: 'permissions of a unix socket, octal: 0600 (this user) or 0660 (and its group)'},
};

function helpText() {
  const lines = ['Serves an in-memory filesystem to the sftpgate front end (Node.js).',
    'Usage: sftpgate-node-memory-backend [--listen ADDR] [--proto DIR]', '',
    "Flags (names take '-' or '_' alike; --flag=value or --flag value):"];
  for (const [name, flag] of Object.entries(FLAGS)) {
    lines.push(`  --${name} (default: "${flag.default}")`, `      ${flag.help}`);
  }
  lines.push('  --help', '      Print this help and exit.');
  return lines.join('\n');
}

function usageError(message) {
  console.error(`node-memory: ${message}\nRun 'sftpgate-node-memory-backend --help' for the flags.`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = Object.fromEntries(Object.entries(FLAGS).map(([n, f]) => [n, f.default]));
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const name = flag.replace(/^--?/, '').replace(/-/g, '_');
    if (name === 'help' || name === 'h') {
      console.log(helpText());
      process.exit(0);
    }
    if (!flag.startsWith('-') || !(name in FLAGS)) usageError(`unknown argument ${argv[i]}`);
    if (inline !== undefined) {
      args[name] = inline;
    } else if (i + 1 < argv.length) {
      args[name] = argv[++i];
    } else {
      usageError(`--${name} needs a value`);
    }
  }
  return args;
}

function readPem(file, flag, block) {
  let data;
  try {
    data = fs.readFileSync(file);
  } catch (error) {
    usageError(`${flag}: cannot read ${file}: ${error.message}`);
  }
  if (!data.includes('-----BEGIN ') || !data.includes(block)) {
    usageError(`${flag}: ${file} holds no PEM ${block} block`);
  }
  return data;
}

// Mutual TLS when the three files are given (client certificates are
// required and checked), plaintext when none are.
function serverCredentials(args) {
  const given = [args.tls_cert, args.tls_key, args.tls_client_ca].filter((f) => f);
  if (given.length === 0) return grpc.ServerCredentials.createInsecure();
  if (given.length !== 3) {
    usageError('mutual TLS needs all of --tls-cert, --tls-key and --tls-client-ca');
  }
  return grpc.ServerCredentials.createSsl(
      readPem(args.tls_client_ca, '--tls-client-ca', 'CERTIFICATE'),
      [{private_key: readPem(args.tls_key, '--tls-key', 'PRIVATE KEY'),
        cert_chain: readPem(args.tls_cert, '--tls-cert', 'CERTIFICATE')}],
      true);
}

// The WriteHeader.Flag values, read from the proto rather than repeated.
function writeFlags(packageDefinition) {
  const header = packageDefinition['sftpgate.v1.WriteHeader'].type;
  const flagEnum = header.enumType.find((e) => e.name === 'Flag');
  return Object.fromEntries(flagEnum.value.map((v) => [v.name, v.number]));
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const packageDefinition = protoLoader.loadSync('sftpgate/v1/backend.proto', {
    includeDirs: [args.proto],
    keepCase: true,
    longs: Number,
    enums: Number,
    defaults: false,
    oneofs: true,
  });
  const v1 = grpc.loadPackageDefinition(packageDefinition).sftpgate.v1;

  const messageLimit = MAX_CHUNK + 64 * 1024;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': messageLimit,
    'grpc.max_send_message_length': messageLimit,
  });
  server.addService(v1.Backend.service, backendHandlers(new MemoryFs(), writeFlags(packageDefinition)));
  const health = new HealthImplementation({'': 'SERVING', 'sftpgate.v1.Backend': 'SERVING'});
  health.addToServer(server);

  const socketMode = parseInt(args.socket_mode, 8);
  if (!/^[0-7]+$/.test(args.socket_mode) || (socketMode & ~0o770) !== 0) {
    usageError('--socket-mode must grant the owner and group only (0600 or 0660)');
  }
  const credentials = serverCredentials(args);
  // The socket file is created while binding: with this umask it is never
  // reachable by others, not even for a moment.
  const previousUmask = process.umask(0o777 & ~socketMode);
  server.bindAsync(args.listen, credentials, (error, port) => {
    process.umask(previousUmask);
    if (!error && args.listen.startsWith('unix:')) {
      fs.chmodSync(args.listen.slice('unix:'.length), socketMode);
    }
    if (error) {
      console.error(`node-memory: cannot listen on ${args.listen}: ${error.message}`);
      process.exit(1);
    }
    const bound = args.listen.startsWith('unix:') ? args.listen :
        `${args.listen.replace(/:[^:]*$/, '')}:${port}`;
    console.error(`listening on ${bound}`);
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    health.setStatus('', 'NOT_SERVING');
    health.setStatus('sftpgate.v1.Backend', 'NOT_SERVING');
    // Let short calls finish; cancel what is still running after 2 s.
    const force = setTimeout(() => server.forceShutdown(), 2000);
    server.tryShutdown(() => {
      clearTimeout(force);
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
