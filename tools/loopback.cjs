// Preload (`node -r ./tools/loopback.cjs ...`) that keeps a Node server on the loopback interface.
//
// Why: Microsoft 365 Agents Playground listens on every interface and has no option to choose
// one. A local test client for an anonymous bot must not be reachable from the network, so every
// TCP `listen` in the process is forced onto 127.0.0.1 (override with LOOPBACK_HOST, which must
// itself be a loopback address). Unix sockets and inherited handles are left alone.
"use strict";

const net = require("net");

const host = process.env.LOOPBACK_HOST || "127.0.0.1";
if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) {
  throw new Error(`loopback.cjs: LOOPBACK_HOST must be a loopback address, got ${host}`);
}

const originalListen = net.Server.prototype.listen;

function isPort(value) {
  return typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first === undefined || typeof first === "function") {
    // listen() / listen(callback): a random port on every interface -> on loopback.
    args.unshift(0, host);
  } else if (isPort(first)) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === "string") {
      args[1] = host;
    } else {
      args.splice(1, 0, host);
    }
  } else if (first !== null && typeof first === "object" && first.path === undefined
             && first.fd === undefined && first._handle === undefined && !(first instanceof net.Server)) {
    // listen({ port, host, ... }[, callback])
    args[0] = { ...first, host };
  }
  return originalListen.apply(this, args);
};
