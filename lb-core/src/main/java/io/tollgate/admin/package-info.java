/**
 * The admin endpoint ({@code tollgate.admin}): a small HTTP/1.1 server for operators, with
 * {@code GET /status}, {@code GET /metrics}, {@code POST /reload} and drain/enable per server.
 * Runs on the JDK's {@code com.sun.net.httpserver} with its own two threads, apart from the
 * data path's event loops.
 */
package io.tollgate.admin;
