/**
 * The admin endpoint ({@code tollgate.admin}): a small HTTP/1.1 server for operators, with {@code
 * GET /status}, {@code GET /metrics}, {@code POST /reload} and drain/enable per server. A small
 * Netty server on an event loop of its own, with two threads for the work, apart from the data
 * path's event loops: {@link io.tollgate.admin.AdminAccess} decides who may ask, {@link
 * io.tollgate.admin.AdminEndpoints} what each path does.
 */
package io.tollgate.admin;
