/**
 * Running Tollgate on an edge node: reloading the config file ({@link io.tollgate.ops.Reloader}) on
 * SIGHUP, on {@code POST /reload} and when watched files change ({@link
 * io.tollgate.ops.ConfigWatcher}), and the graceful stop on SIGTERM ({@link
 * io.tollgate.ops.Signals}, {@link io.tollgate.ops.Lifecycle}).
 */
package io.tollgate.ops;
