// Types of the vendored socket.io client (`socket.io.esm.min.js`, the
// browser build of the npm package `socket.io-client` at the version pinned
// in package.json, served by the server as /raclette/runtime/socket.io.esm.min.js).
export * from 'socket.io-client'
