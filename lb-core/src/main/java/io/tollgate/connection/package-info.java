/**
 * One client connection's record ({@link io.tollgate.connection.Connection}) and the reasons a
 * connection can end ({@link io.tollgate.connection.CloseReason}). Every stage of the data path
 * writes into the record; the listener logs and counts it when the client channel closes. A
 * stage that will not serve a connection ends it with {@link
 * io.tollgate.connection.Refusal#refuse}: reason, then {@link io.tollgate.connection.TlsAlert}
 * (if any), then close.
 */
package io.tollgate.connection;
