/**
 * The start-up warm-up: before a new process accepts its first client, it serves its own loopback
 * connections through the real data path, so the JIT has compiled it by then.
 */
package io.tollgate.warmup;
