/** Counters for connections, bytes and close reasons. */
package io.tollgate.metrics;
