/**
 * The access log: one JSON line per client connection when it closes ({@link
 * io.tollgate.accesslog.AccessLogLine}), written through the SLF4J logger {@code tollgate.access}
 * to the destination {@code access-log.path} names ({@link io.tollgate.accesslog.AccessLogOutput}).
 */
package io.tollgate.accesslog;
