package io.tollgate.relay;

/** Which end of a relayed connection a handler sits on. */
enum Side {
  CLIENT,
  BACKEND
}
