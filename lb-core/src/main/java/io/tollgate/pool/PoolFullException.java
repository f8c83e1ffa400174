package io.tollgate.pool;

/** Every server a connection could try was at its {@code max-connections}: reason pool_full. */
public final class PoolFullException extends Exception {
  public PoolFullException(String message) {
    super(message, null, false, false);
  }
}
